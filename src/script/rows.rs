//! The test rows as a [`GatedScript`] sees them and its inference outputs, as CSV: with them
//! the pruned export can be checked outside stog (`examples/digits_cnn/check_pruned.py`).

use super::GatedScript;
use crate::{Error, Result};
use std::path::Path;
use tch::Tensor;

/// File name of the rows as the model sees them.
pub const TEST_INPUTS_FILE: &str = "test_inputs.csv";
/// File name of the inference network's outputs for those rows.
pub const TEST_OUTPUTS_FILE: &str = "test_outputs.csv";

impl GatedScript {
    /// Writes the rows `x` ([`TEST_INPUTS_FILE`]) and the inference network's outputs for them
    /// ([`TEST_OUTPUTS_FILE`]) into `dir`, one CSV line per row without a header, each value
    /// exactly.
    pub fn write_test_rows(&self, x: &Tensor, dir: &Path) -> Result<()> {
        write_rows(&dir.join(TEST_INPUTS_FILE), x)?;
        let outputs = tch::no_grad(|| self.forward(x, false))?;
        write_rows(&dir.join(TEST_OUTPUTS_FILE), &outputs)
    }
}

/// Writes the rows of a `[N, ...]` tensor as CSV lines without a header, each value exactly.
fn write_rows(path: &Path, t: &Tensor) -> Result<()> {
    let t = t
        .to_device(tch::Device::Cpu)
        .to_kind(tch::Kind::Double)
        .flatten(1, -1);
    let cols = t.size()[1].max(1) as usize;
    let values = Vec::<f64>::try_from(t.flatten(0, -1))?;
    let csv_error = |e: csv::Error| Error::io(path, std::io::Error::other(e));
    let mut w = csv::Writer::from_path(path).map_err(csv_error)?;
    for row in values.chunks(cols) {
        w.write_record(row.iter().map(|v| v.to_string()))
            .map_err(csv_error)?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}
