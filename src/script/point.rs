//! One point of `stog script`: a fitted [`GatedScript`] scored at its lambda, with its pruned
//! export, as the [`ScriptReport`] of `result.json` and the [`ScriptPathPoint`] of `path.json`.

use super::{GatedScript, Layout};
use crate::Result;
use crate::report::{ScriptGateReport, ScriptPathPoint, ScriptReport, ValTest};
use crate::train::{Prepared, metrics, score_se};
use std::path::Path;

/// File name of the pruned export in a point's folder (stage files: `pruned_stage{k}.pt`, see
/// [`GatedScript::export_paths`]).
pub const PRUNED_FILE: &str = "pruned.pt";
/// File name of a point's [`ScriptReport`].
pub const RESULT_FILE: &str = "result.json";

/// A scored point: what `result.json` and `path.json` record of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptPoint {
    /// The point's `result.json`.
    pub report: ScriptReport,
    /// The point's entry of `path.json`.
    pub point: ScriptPathPoint,
}

impl GatedScript {
    /// Scores the model as fitted at `lambda` (its fit restored the state of `best_epoch`):
    /// exports it pruned into `dir` ([`PRUNED_FILE`]), and measures the validation and test
    /// scores, the validation score's standard error (which the one-standard-error choice
    /// needs), the units each gate keeps and the multiply-adds before and after pruning (when the
    /// model reports them, [`GatedScript::macs`]).
    ///
    /// Gates inside a model export only when each goes straight into a linear layer (checked on
    /// the validation rows); otherwise the report says why (`not_exported`) and nothing is
    /// written. An input gate always exports: its export errors are errors.
    pub fn point_report(
        &self,
        data: &Prepared,
        lambda: f64,
        best_epoch: usize,
        dir: &Path,
    ) -> Result<ScriptPoint> {
        let (pruned, not_exported) = match self.export_pruned(dir.join(PRUNED_FILE), &data.val.x) {
            Ok(export) => (Some(export), None),
            Err(e) if self.layout != Layout::Input => (None, Some(e.to_string())),
            Err(e) => return Err(e),
        };
        // One inference pass over the validation rows gives both the metrics and the standard
        // error (one member, so one of each).
        let val_out = tch::no_grad(|| self.forward(&data.val.x, false))?.unsqueeze(0);
        let val = metrics(data.task, &val_out, &data.val.y, 1.0)?[0];
        let val_score_se = score_se(data.task, &val_out, &data.val.y)?[0];
        let test = self.score(data.task, &data.test)?;
        let units_total: Vec<i64> = self.gates.iter().map(|gate| gate.units()).collect();
        let selected = self.selected()?;
        let kept: Vec<i64> = selected.iter().map(|s| s.len() as i64).collect();
        let (macs_before, macs_after) = (self.macs(&units_total)?, self.macs(&kept)?);
        let gates = self
            .gate_names()
            .into_iter()
            .zip(selected)
            .zip(units_total)
            .map(|((name, selected), units_total)| ScriptGateReport {
                name,
                units_total,
                selected,
            })
            .collect();
        Ok(ScriptPoint {
            report: ScriptReport {
                lambda,
                gates,
                metrics: ValTest { val, test },
                best_epoch,
                macs_before,
                macs_after,
                pruned,
                not_exported,
            },
            point: ScriptPathPoint {
                lambda,
                kept: kept.iter().sum::<i64>() as usize,
                macs: macs_after,
                val,
                val_score_se,
                test,
            },
        })
    }
}
