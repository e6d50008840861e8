//! Summaries of a sweep: mean and spread per gate and lambda, and the accuracy at a feature
//! budget: per seed, among that seed's runs with at most `k` features, the one with the best
//! validation score (ties to fewer features); then the mean of their test scores over seeds.

use crate::report::{Cell, FrontierPoint, RunRecord, Stat, Summary};
use std::collections::BTreeMap;

/// The feature budgets of the SToG report's table; `None` is "no budget".
pub const BUDGETS: [Option<usize>; 5] = [Some(3), Some(5), Some(10), Some(15), None];

/// Summarises the records of a sweep.
pub fn summarize(records: &[RunRecord]) -> Summary {
    let mut groups: BTreeMap<(String, u64), Vec<&RunRecord>> = BTreeMap::new();
    let mut gates: Vec<String> = Vec::new();
    for r in records {
        groups
            .entry((r.gate.clone(), r.lambda.to_bits()))
            .or_default()
            .push(r);
        if !gates.contains(&r.gate) {
            gates.push(r.gate.clone());
        }
    }
    let mut cells: Vec<Cell> = groups
        .into_values()
        .map(|runs| {
            let stat = |f: &dyn Fn(&RunRecord) -> f64| {
                stat_of(&runs.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            let layers = runs[0].units_kept_list().len();
            let units_kept = (0..layers)
                .map(|l| {
                    runs.iter()
                        .map(|r| r.units_kept_list().get(l).copied().unwrap_or(0) as f64)
                        .sum::<f64>()
                        / runs.len() as f64
                })
                .collect();
            Cell {
                gate: runs[0].gate.clone(),
                lambda: runs[0].lambda,
                runs: runs.len(),
                val_score: stat(&|r| r.val_score),
                test_score: stat(&|r| r.test_score),
                test_loss: stat(&|r| r.test_loss),
                n_selected: stat(&|r| r.n_selected as f64),
                units_kept,
                macs: stat(&|r| r.macs as f64).mean,
                epochs: stat(&|r| r.epochs as f64).mean,
                failures: runs.iter().filter(|r| !r.failure.is_empty()).count(),
            }
        })
        .collect();
    cells.sort_by(|a, b| {
        (gates.iter().position(|g| *g == a.gate), a.lambda)
            .partial_cmp(&(gates.iter().position(|g| *g == b.gate), b.lambda))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut frontier = Vec::new();
    for gate in gates.iter().map(String::as_str).chain(["any"]) {
        let runs: Vec<&RunRecord> = records
            .iter()
            .filter(|r| gate == "any" || r.gate == gate)
            .collect();
        for budget in BUDGETS {
            frontier.push(frontier_point(gate, &runs, budget));
        }
    }
    Summary {
        cells,
        frontier,
        fit_seconds: records.iter().map(|r| r.fit_seconds).sum(),
    }
}

/// The accuracy at `budget` over the seeds of `runs`.
pub fn frontier_point(gate: &str, runs: &[&RunRecord], budget: Option<usize>) -> FrontierPoint {
    let mut by_seed: BTreeMap<u64, Vec<&RunRecord>> = BTreeMap::new();
    for r in runs
        .iter()
        .filter(|r| r.failure.is_empty() && budget.is_none_or(|k| r.n_selected <= k))
    {
        by_seed.entry(r.seed).or_default().push(r);
    }
    let chosen: Vec<&RunRecord> = by_seed
        .values()
        .filter_map(|rs| {
            rs.iter().copied().max_by(|a, b| {
                a.val_score
                    .total_cmp(&b.val_score)
                    .then(b.n_selected.cmp(&a.n_selected))
            })
        })
        .collect();
    FrontierPoint {
        gate: gate.to_string(),
        budget,
        test_score: stat_of(&chosen.iter().map(|r| r.test_score).collect::<Vec<_>>()),
        features: chosen.iter().map(|r| r.n_selected as f64).sum::<f64>()
            / chosen.len().max(1) as f64,
        seeds: chosen.len(),
    }
}

/// The mean and spread of `values` (NaN for none).
fn stat_of(values: &[f64]) -> Stat {
    let (mean, std) = crate::stats::mean_and_population_std(values);
    Stat { mean, std }
}

/// The frontier as a Markdown table (test score in %, mean features in brackets).
pub fn frontier_table(summary: &Summary) -> String {
    let mut out = String::from(
        "| gate | <= 3 | <= 5 | <= 10 | <= 15 | no budget |\n|---|---|---|---|---|---|\n",
    );
    let mut gates: Vec<&str> = Vec::new();
    for p in &summary.frontier {
        if !gates.contains(&p.gate.as_str()) {
            gates.push(&p.gate);
        }
    }
    for gate in gates {
        out.push_str(&format!("| {gate} |"));
        for p in summary.frontier.iter().filter(|p| p.gate == gate) {
            if p.seeds == 0 {
                out.push_str(" - |");
            } else {
                out.push_str(&format!(
                    " {:.1} +- {:.1} ({:.1}) |",
                    100.0 * p.test_score.mean,
                    100.0 * p.test_score.std,
                    p.features
                ));
            }
        }
        out.push('\n');
    }
    out
}
