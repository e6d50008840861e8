//! The `stog` command line: feature selection (`select`) and its model applied to new rows
//! (`predict`, `transform`), lambda sweeps (`sweep`, `merge`) on CSV, Parquet or NumPy data, and
//! gates in front of TorchScript models (`script`).
//!
//! Exit status: 0 on success, 2 on bad input (the message names the file, line, column or
//! argument), 1 on an internal failure.

mod apply;
mod common;
mod script;
mod select;
mod sweep;
mod sweep_args;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Differentiable feature selection and channel reduction with stochastic gates.
#[derive(Parser)]
#[command(name = "stog", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Select features of a data set with a gated MLP; lambda chosen for you.
    Select(select::SelectArgs),
    /// Apply a model written by `select` to the rows of a data file: predictions and, for
    /// classification, class probabilities (columns matched by name).
    Predict(apply::ApplyArgs),
    /// Write the columns a model written by `select` keeps (and the target, when present).
    Transform(apply::ApplyArgs),
    /// Sweep gate kinds x lambdas x seeds as batched ensembles; runs.csv, summary.json, figures.
    Sweep(sweep::SweepArgs),
    /// Merge the output folders of sweep shards into one sweep.
    Merge(sweep::MergeArgs),
    /// Gate the inputs or channels of a TorchScript model and export it pruned.
    Script(script::ScriptArgs),
    /// One shard of a sweep, for `stog sweep --jobs N` (not for direct use).
    #[command(hide = true)]
    Worker(sweep::WorkerArgs),
}

fn main() -> ExitCode {
    stog::reuse_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Select(args) => select::run(args),
        Command::Predict(args) => apply::predict(args),
        Command::Transform(args) => apply::transform(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Merge(args) => sweep::merge(args),
        Command::Script(args) => script::run(args),
        Command::Worker(args) => sweep::worker(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let internal = matches!(
                e.downcast_ref::<stog::Error>(),
                Some(stog::Error::Torch(_) | stog::Error::ReadBack { .. })
            );
            ExitCode::from(if internal { 1 } else { 2 })
        }
    }
}
