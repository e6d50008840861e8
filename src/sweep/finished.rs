//! Which parts of a grid a set of runs finishes: a resume keeps whole groups only, and a merge
//! puts runs back in grid order.

use super::{Chunk, SweepConfig};
use crate::report::RunRecord;

/// The runs of `chunk` among `records`, one per lambda in the config's order, when all its
/// lambdas are there.
pub fn finished_chunk(
    config: &SweepConfig,
    chunk: &Chunk,
    records: &[RunRecord],
) -> Option<Vec<RunRecord>> {
    let rows: Vec<RunRecord> = config
        .lambdas
        .iter()
        .filter_map(|l| {
            records
                .iter()
                .find(|r| r.gate == chunk.gate.name() && r.seed == chunk.seed && r.lambda == *l)
                .cloned()
        })
        .collect();
    (rows.len() == config.lambdas.len()).then_some(rows)
}

/// The runs of a group of chunks among `records`, in chunk order, when all of them are there.
pub fn finished_group(
    config: &SweepConfig,
    group: &[Chunk],
    records: &[RunRecord],
) -> Option<Vec<RunRecord>> {
    let rows: Option<Vec<Vec<RunRecord>>> = group
        .iter()
        .map(|c| finished_chunk(config, c, records))
        .collect();
    rows.map(|r| r.concat())
}
