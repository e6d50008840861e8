//! Everything a finished sweep writes besides `runs.csv`: `summary.json` and the figures.

use super::{plot_lambda_panels, plot_score_against, plot_units_per_layer, write_json};
use crate::Result;
use crate::sweep::{Placement, RunRecord, Summary, summarize};
use serde_json::json;
use std::path::Path;

/// Summarises `records` into `dir/summary.json` and draws the figures; returns the summary.
/// `wall_seconds` is the sweep's wall time (`null` in the file when unknown).
pub fn write_sweep_outputs(
    dir: &Path,
    records: &[RunRecord],
    placement: Placement,
    hidden_layers: usize,
    classification: bool,
    wall_seconds: Option<f64>,
    device: &str,
) -> Result<Summary> {
    let summary = summarize(records);
    write_json(
        &dir.join("summary.json"),
        &json!({ "wall_seconds": wall_seconds, "device": device, "summary": summary }),
    )?;
    let score = if classification { "accuracy" } else { "r2" };
    plot_lambda_panels(&dir.join("lambda_panels.svg"), &summary, score)?;
    plot_score_against(
        &dir.join("frontier.svg"),
        &summary,
        "selected features",
        &|c| c.n_selected.mean,
        score,
    )?;
    if placement != Placement::Input {
        let mut names = Vec::new();
        if placement == Placement::All {
            names.push("input".to_string());
        }
        names.extend((1..=hidden_layers).map(|h| format!("hidden{h}")));
        plot_units_per_layer(&dir.join("units_per_layer.svg"), &summary, &names)?;
        plot_score_against(
            &dir.join("accuracy_vs_macs.svg"),
            &summary,
            "multiply-adds",
            &|c| c.macs,
            score,
        )?;
    }
    Ok(summary)
}
