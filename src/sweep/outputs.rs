//! Everything a finished sweep writes besides `runs.csv`: `summary.json` and (with the `plots`
//! feature) the figures.

use super::{Placement, SweepManifest, summarize};
use crate::Result;
use crate::data::Task;
use crate::report::{RunRecord, Summary, SweepSummary, write_json};
use std::path::Path;

/// The file of a finished sweep's summary.
pub const SUMMARY: &str = "summary.json";

impl SweepManifest {
    /// Writes what a finished sweep holds besides `runs.csv` into `dir`: `summary.json` (with
    /// its wall time, `None` when unknown, and where it ran) and the figures.
    pub fn write_outputs(
        &self,
        dir: &Path,
        records: &[RunRecord],
        wall_seconds: Option<f64>,
        device: &str,
    ) -> Result<Summary> {
        write_sweep_outputs(
            dir,
            records,
            self.sweep.placement,
            self.sweep.hidden.len(),
            self.data.task == Task::Classification,
            wall_seconds,
            device,
        )
    }
}

/// Summarises `records` into `dir/summary.json` and draws the figures; returns the summary.
fn write_sweep_outputs(
    dir: &Path,
    records: &[RunRecord],
    placement: Placement,
    hidden_layers: usize,
    classification: bool,
    wall_seconds: Option<f64>,
    device: &str,
) -> Result<Summary> {
    let file = SweepSummary {
        wall_seconds,
        device: device.to_string(),
        summary: summarize(records),
    };
    write_json(&dir.join(SUMMARY), &file)?;
    let summary = file.summary;
    #[cfg(feature = "plots")]
    draw_figures(dir, &summary, placement, hidden_layers, classification)?;
    #[cfg(not(feature = "plots"))]
    let _ = (placement, hidden_layers, classification);
    Ok(summary)
}

/// The SToG report's panels and frontier, and for channel reduction the units per layer and the
/// score against multiply-adds.
#[cfg(feature = "plots")]
fn draw_figures(
    dir: &Path,
    summary: &Summary,
    placement: Placement,
    hidden_layers: usize,
    classification: bool,
) -> Result<()> {
    use crate::report::{Scale, plot_lambda_panels, plot_score_against, plot_units_per_layer};
    let score = if classification { "accuracy" } else { "r2" };
    plot_lambda_panels(&dir.join("lambda_panels.svg"), summary, score)?;
    plot_score_against(
        &dir.join("frontier.svg"),
        summary,
        "selected features",
        &|c| c.n_selected.mean,
        score,
        Scale::Linear,
    )?;
    if placement != Placement::Input {
        let mut names = Vec::new();
        if placement == Placement::All {
            names.push("input".to_string());
        }
        names.extend((1..=hidden_layers).map(|h| format!("hidden{h}")));
        plot_units_per_layer(&dir.join("units_per_layer.svg"), summary, &names)?;
        plot_score_against(
            &dir.join("accuracy_vs_macs.svg"),
            summary,
            "multiply-adds",
            &|c| c.macs,
            score,
            Scale::Log,
        )?;
    }
    Ok(())
}
