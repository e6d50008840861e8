//! Static against dynamic (input-dependent) gating at equal cost: reads the runs.csv of sweeps
//! (e.g. `--placement hidden` and `--placement dynamic`), labels each run by gate kind and
//! placement, and plots test accuracy against the multiply-adds each example really executes.
//! Prints the points as a table. `make demo` runs it on breast cancer.
//!
//! Run: `cargo run --release --example static_vs_dynamic -- OUT.svg DIR [DIR...]`

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use stog::report::{plot_score_against, read_runs};
use stog::sweep::summarize;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, dirs)) = args.split_first().filter(|(_, d)| !d.is_empty()) else {
        bail!("usage: static_vs_dynamic OUT.svg SWEEP_DIR [SWEEP_DIR...]");
    };
    let mut records = Vec::new();
    for dir in dirs {
        let path = PathBuf::from(dir).join("runs.csv");
        let (runs, _) = read_runs(&path).with_context(|| format!("reading {}", path.display()))?;
        records.extend(
            runs.into_iter()
                .filter(|r| r.failure.is_empty())
                .map(|mut r| {
                    r.gate = format!("{} {}", r.gate, r.placement);
                    r
                }),
        );
    }
    let summary = summarize(&records);
    println!("| gates | lambda | test accuracy % | executed multiply-adds per example |");
    println!("|---|---|---|---|");
    for c in &summary.cells {
        println!(
            "| {} | {} | {:.1} +- {:.1} | {:.0} |",
            c.gate,
            c.lambda,
            100.0 * c.test_score.mean,
            100.0 * c.test_score.std,
            c.macs
        );
    }
    plot_score_against(
        Path::new(out),
        &summary,
        "multiply-adds executed per example",
        &|c| c.macs,
        "accuracy",
    )?;
    println!("wrote {out}");
    Ok(())
}
