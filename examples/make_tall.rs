//! Writes the tall benchmark of issue 16 as Parquet: `n` rows of `d` standard-normal float32
//! features `x0..x{d-1}` and an int32 column `label`, 1 where `x0 + x1 - x2 + sin(2 x3) + x4^2`
//! is above 1 (47 % of rows), else 0; only x0..x4 are relevant. Row groups of 65 536 rows,
//! snappy-compressed, written one group at a time (memory stays at one group).
//!
//! `cargo run --release --example make_tall -- OUT.parquet N D [SEED]`

use anyhow::{Context, Result, bail};
use parquet::basic::Compression;
use parquet::data_type::{FloatType, Int32Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};
use std::sync::Arc;

/// Rows per row group.
const GROUP: usize = 65_536;

/// The label's threshold: the mean of `x0 + x1 - x2 + sin(2 x3) + x4^2` for standard-normal
/// inputs (its median is about 0.85, so 47 % of rows are positive: nearly balanced classes).
const THRESHOLD: f32 = 1.0;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(3..=4).contains(&args.len()) {
        bail!("usage: make_tall OUT.parquet N D [SEED]");
    }
    let n: usize = args[1].parse().context("N")?;
    let d: usize = args[2].parse().context("D")?;
    let seed: u64 = args.get(3).map_or(Ok(0), |s| s.parse()).context("SEED")?;
    if d < 5 {
        bail!("D must be at least 5 (x0..x4 set the label)");
    }
    let fields: String = (0..d).map(|j| format!("required float x{j};")).collect();
    let schema = parse_message_type(&format!(
        "message tall {{ {fields} required int32 label; }}"
    ))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let file = std::fs::File::create(&args[0]).with_context(|| args[0].clone())?;
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props))?;
    let mut rng = StdRng::seed_from_u64(seed);
    for start in (0..n).step_by(GROUP) {
        let rows = GROUP.min(n - start);
        // Column-major group: feature j of row i at j * rows + i.
        let x: Vec<f32> = (0..rows * d)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let label: Vec<i32> = (0..rows)
            .map(|i| {
                let v = |j: usize| x[j * rows + i];
                let f = v(0) + v(1) - v(2) + (2.0 * v(3)).sin() + v(4) * v(4);
                i32::from(f > THRESHOLD)
            })
            .collect();
        let mut group = writer.next_row_group()?;
        for j in 0..d {
            let mut column = group.next_column()?.context("a feature column")?;
            column
                .typed::<FloatType>()
                .write_batch(&x[j * rows..(j + 1) * rows], None, None)?;
            column.close()?;
        }
        let mut column = group.next_column()?.context("the label column")?;
        column
            .typed::<Int32Type>()
            .write_batch(&label, None, None)?;
        column.close()?;
        group.close()?;
    }
    writer.close()?;
    Ok(())
}
