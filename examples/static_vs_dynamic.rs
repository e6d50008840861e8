//! Static against dynamic (input-dependent) gating at equal cost: reads the runs.csv of sweeps
//! (e.g. `--placement hidden` and `--placement dynamic`), labels each run by gate kind and
//! placement, and plots test accuracy against the multiply-adds each example really executes.
//! Prints the points as a table. `make demo` runs it on breast cancer.
//!
//! With `--relative`, runs are labelled by their folder too and the cost is a percentage of the
//! unpruned network's multiply-adds, so that different networks share one figure (the
//! breast-cancer MLP and the digits CNN of `examples/digits_native_cnn.rs`).
//!
//! Run: `cargo run --release --example static_vs_dynamic -- [--relative] OUT.svg DIR [DIR...]`

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use stog::report::{Scale, plot_score_against, read_runs};
use stog::sweep::summarize;

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let relative = args.first().is_some_and(|a| a == "--relative");
    if relative {
        args.remove(0);
    }
    let Some((out, dirs)) = args.split_first().filter(|(_, d)| !d.is_empty()) else {
        bail!("usage: static_vs_dynamic [--relative] OUT.svg SWEEP_DIR [SWEEP_DIR...]");
    };
    let mut records = Vec::new();
    for dir in dirs {
        let path = PathBuf::from(dir).join("runs.csv");
        let (runs, _) = read_runs(&path).with_context(|| format!("reading {}", path.display()))?;
        let name = PathBuf::from(dir)
            .file_name()
            .map_or(dir.clone(), |n| n.to_string_lossy().to_string());
        records.extend(
            runs.into_iter()
                .filter(|r| r.failure.is_empty())
                .map(|mut r| {
                    r.gate = format!("{} {}", r.gate, r.placement);
                    if relative {
                        r.gate = format!("{name}: {}", r.gate);
                        // In basis points of the unpruned network, so that the summary's mean works.
                        r.macs = (1e4 * r.macs as f64 / r.macs_full.max(1) as f64).round() as i64;
                    }
                    r
                }),
        );
    }
    let summary = summarize(&records);
    type Cost<'a> = (&'a str, &'a dyn Fn(&stog::sweep::Cell) -> f64, Scale);
    let (cost_name, cost, scale): Cost = if relative {
        (
            "% of the unpruned network's multiply-adds executed per example",
            &|c| c.macs / 100.0,
            Scale::Linear,
        )
    } else {
        (
            "multiply-adds executed per example",
            &|c| c.macs,
            Scale::Log,
        )
    };
    println!("| gates | lambda | test accuracy % | {cost_name} |");
    println!("|---|---|---|---|");
    for c in &summary.cells {
        println!(
            "| {} | {} | {:.1} +- {:.1} | {:.1} |",
            c.gate,
            c.lambda,
            100.0 * c.test_score.mean,
            100.0 * c.test_score.std,
            cost(c)
        );
    }
    plot_score_against(Path::new(out), &summary, cost_name, cost, "accuracy", scale)?;
    println!("wrote {out}");
    Ok(())
}
