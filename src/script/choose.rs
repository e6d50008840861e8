//! The lambda path of `stog script --lambda auto`: its default grid, the point it keeps (the
//! sparsest within one standard error of the best validation score) and where each point's
//! files go.

use super::{GatedScript, PRUNED_FILE, RESULT_FILE, TEST_INPUTS_FILE, TEST_OUTPUTS_FILE};
use crate::report::ScriptPathPoint;
use crate::train::{Candidate, Choice, choose};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The default grid, warm-started in this order: it starts unpenalised, so that a network that
/// still has to learn (an untrained backbone) learns before the penalty bites.
pub const DEFAULT_SCRIPT_LAMBDAS: [f64; 7] = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3];

/// Index of the point of `points` to keep: the sparsest (fewest kept units over all gate layers)
/// whose validation score is within one standard error of the best; `None` for no points.
pub fn choose_script_point(points: &[ScriptPathPoint]) -> Option<usize> {
    let candidates: Vec<Candidate> = points
        .iter()
        .map(|p| Candidate {
            kept: p.kept,
            score: p.val.score(),
            score_se: p.val_score_se,
        })
        .collect();
    choose(&candidates, Choice::OneStandardError)
}

/// The folder of the path's point at `lambda` under `out_dir`: `lambda_{lambda}`.
pub fn script_point_dir(out_dir: &Path, lambda: f64) -> PathBuf {
    out_dir.join(format!("lambda_{lambda}"))
}

impl GatedScript {
    /// The files a point's folder `dir` may hold: the pruned export (one file per stage for
    /// stage files), [`RESULT_FILE`] and the test rows.
    pub fn point_files(&self, dir: &Path) -> Vec<PathBuf> {
        let names = [RESULT_FILE, TEST_INPUTS_FILE, TEST_OUTPUTS_FILE];
        self.export_paths(dir.join(PRUNED_FILE))
            .into_iter()
            .chain(names.map(|n| dir.join(n)))
            .collect()
    }

    /// Copies the [`point_files`](GatedScript::point_files) of `from` that exist into `to`, so
    /// that the chosen point's files are also the output folder's own.
    pub fn copy_point_files(&self, from: &Path, to: &Path) -> Result<()> {
        for file in self.point_files(from) {
            if let (true, Some(name)) = (file.exists(), file.file_name()) {
                std::fs::copy(&file, to.join(name)).map_err(|e| Error::io(&file, e))?;
            }
        }
        Ok(())
    }
}
