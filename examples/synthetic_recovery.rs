//! `Selector` with default settings on three problems with a known answer: an interaction-only
//! label among nuisance features, a nonlinear regression with a purely quadratic feature, and
//! groups of near-duplicate features (correlated gate). Prints what was found over 5 data seeds.
//!
//! Run: `cargo run --release --example synthetic_recovery`

use anyhow::Result;
use stog::data::{Split, Synthetic, duplicate_groups, interaction, nonlinear_regression};
use stog::gates::GateKind;
use stog::selector::Selector;

fn run(name: &str, make: &dyn Fn(u64) -> Synthetic, gate: GateKind) -> Result<()> {
    let mut hits = 0;
    let seeds = 5;
    for seed in 0..seeds {
        let p = make(seed);
        let split = Split::of(&p.table, [0.6, 0.2, 0.2], seed)?;
        let t = std::time::Instant::now();
        let fitted =
            Selector::params()
                .gate(gate)
                .seed(seed)
                .fit(&p.table, &split, tch::Device::Cpu)?;
        let sel = fitted.selected();
        let ok = p.recovered(&sel);
        hits += usize::from(ok);
        let test = fitted
            .metrics()
            .and_then(|m| m.test)
            .map_or(f64::NAN, |m| m.score());
        println!(
            "{name} seed {seed}: selected {sel:?} (lambda {:.4}), test {test:.3}, {} {:.1} s",
            fitted.info.lambda,
            if ok { "recovered" } else { "MISSED" },
            t.elapsed().as_secs_f64()
        );
    }
    println!("{name}: {hits}/{seeds} recovered\n");
    Ok(())
}

fn main() -> Result<()> {
    run(
        "interaction (600 x 50)",
        &|s| interaction(600, 50, s),
        GateKind::Stg,
    )?;
    run(
        "regression (600 x 50)",
        &|s| nonlinear_regression(600, 50, s),
        GateKind::Stg,
    )?;
    run(
        "duplicate groups (600 x 35)",
        &|s| duplicate_groups(600, 5, 20, s),
        GateKind::Correlated,
    )?;
    Ok(())
}
