//! `stog sweep`: gate kinds x lambdas x seeds as batched ensembles; writes config.json, runs.csv
//! (a row per run, flushed per chunk), summary.json and SVG figures.

use crate::common::{DataArgs, parse_sizes, prepare_out_dir};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use stog::data::{Split, Task};
use stog::gates::GateKind;
use stog::report::{RunsWriter, plot_lambda_panels, plot_score_against, plot_units_per_layer, write_json};
use stog::sweep::{Placement, SweepConfig, frontier_table, run_chunk, summarize};
use stog::train::{device_name, parse_device};

/// Arguments of `stog sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Gate kinds, comma-separated.
    #[arg(long, default_value = "stg,ste,gumbel,correlated,hard-concrete,l1")]
    gates: String,
    /// Lambdas, comma-separated (sum convention).
    #[arg(long, default_value = "0,0.001,0.005,0.01,0.02,0.03,0.05,0.1,0.5", allow_hyphen_values = true)]
    lambdas: String,
    /// Number of seeds (0..N; with --splits, the file's seeds).
    #[arg(long, default_value_t = 10)]
    seeds: u64,
    /// Gates at the input (feature selection), after hidden layers, or both.
    #[arg(long, default_value = "input")]
    placement: String,
    /// Hidden layer sizes.
    #[arg(long, default_value = "64,32")]
    hidden: String,
    /// Maximum epochs per run.
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Early-stopping patience in epochs.
    #[arg(long, default_value_t = 50)]
    patience: usize,
    /// Epochs of the lambda warm-up.
    #[arg(long, default_value_t = 30)]
    warmup: usize,
    /// Mini-batch size (0: full batch).
    #[arg(long, default_value_t = 0)]
    batch_size: usize,
    /// Gate learning rate (default: per gate kind).
    #[arg(long)]
    gate_lr: Option<f64>,
    /// Weight each unit's penalty by the multiply-adds it saves.
    #[arg(long)]
    cost_aware: bool,
    /// Print nothing but errors and the final table.
    #[arg(long)]
    quiet: bool,
    /// Output folder.
    #[arg(long)]
    out_dir: PathBuf,
}

fn parse_list<T: std::str::FromStr>(flag: &str, s: &str) -> Result<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    s.split(',').map(|p| p.trim().parse::<T>().map_err(|e| anyhow::anyhow!("--{flag} `{p}`: {e}"))).collect()
}

pub fn run(args: SweepArgs) -> Result<()> {
    let gates: Vec<GateKind> = parse_list("gates", &args.gates)?;
    let lambdas: Vec<f64> = parse_list("lambdas", &args.lambdas)?;
    let placement: Placement = args.placement.parse()?;
    let device = parse_device(&args.data.device)?;
    let (table, _) = args.data.load()?;
    let seeds: Vec<u64> = match &args.data.splits {
        Some(path) => Split::seeds_in_file(path)?.into_iter().take(args.seeds as usize).collect(),
        None => (0..args.seeds).collect(),
    };
    if seeds.len() < args.seeds as usize {
        bail!("--seeds {}: the split file has only {} seeds", args.seeds, seeds.len());
    }
    let mut config = SweepConfig::report(gates, lambdas, 0, placement);
    config.seeds = seeds;
    config.hidden = parse_sizes(&args.hidden)?;
    config.dropout = [0.3, 0.2].into_iter().chain(std::iter::repeat(0.2)).take(config.hidden.len()).collect();
    config.train.epochs = args.epochs;
    config.train.patience = args.patience;
    config.train.warmup_epochs = args.warmup;
    config.train.batch_size = (args.batch_size > 0).then_some(args.batch_size);
    config.train.gate_lr = args.gate_lr;
    config.train.cost_aware = args.cost_aware;
    config.validate()?;
    let fractions = crate::common::parse_fractions(&args.data.split)?;
    let splits: Vec<Split> = config
        .seeds
        .iter()
        .map(|s| match &args.data.splits {
            Some(path) => Split::from_file(path, *s, table.n_rows()),
            None => Split::stratified(table.n_rows(), table.labels().as_deref(), fractions, *s),
        })
        .collect::<Result<_, _>>()?;

    prepare_out_dir(&args.out_dir)?;
    write_json(&args.out_dir.join("config.json"), &json!({ "command": "sweep", "data": args.data, "sweep": config }))?;
    let classification = table.task == Task::Classification;
    let mut writer = RunsWriter::create(&args.out_dir.join("runs.csv"), classification)?;
    let chunks = config.chunks();
    if !args.quiet {
        eprintln!("stog sweep: {} runs in {} chunks of {} members, device {}", chunks.len() * config.lambdas.len(), chunks.len(), config.lambdas.len(), device_name(device));
    }
    let bar = if args.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new((chunks.len() * config.train.epochs) as u64) };
    bar.set_style(indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} epochs {msg}").context("progress style")?);
    let start = std::time::Instant::now();
    let mut records = Vec::new();
    for chunk in &chunks {
        bar.set_message(format!("{} seed {}", chunk.gate, chunk.seed));
        let split = &splits[config.seeds.iter().position(|s| *s == chunk.seed).unwrap_or(0)];
        let rows = run_chunk(&config, *chunk, &table, split, device, Some(&bar))?;
        writer.append(&rows)?;
        records.extend(rows);
    }
    bar.finish_and_clear();
    let wall = start.elapsed().as_secs_f64();
    let summary = summarize(&records);
    write_json(&args.out_dir.join("summary.json"), &json!({ "wall_seconds": wall, "device": device_name(device), "summary": summary }))?;
    let score = if classification { "accuracy" } else { "r2" };
    plot_lambda_panels(&args.out_dir.join("lambda_panels.svg"), &summary, score)?;
    plot_score_against(&args.out_dir.join("frontier.svg"), &summary, "selected features", &|c| c.n_selected.mean, score)?;
    if placement != Placement::Input {
        let names: Vec<String> = stog_layer_names(placement, config.hidden.len());
        plot_units_per_layer(&args.out_dir.join("units_per_layer.svg"), &summary, &names)?;
        plot_score_against(&args.out_dir.join("accuracy_vs_macs.svg"), &summary, "multiply-adds", &|c| c.macs, score)?;
    }
    println!("{} runs in {wall:.1} s ({})", records.len(), device_name(device));
    println!("{}", frontier_table(&summary));
    println!("wrote {}", args.out_dir.display());
    Ok(())
}

fn stog_layer_names(placement: Placement, hidden: usize) -> Vec<String> {
    let mut names = Vec::new();
    if placement == Placement::All {
        names.push("input".to_string());
    }
    names.extend((1..=hidden).map(|h| format!("hidden{h}")));
    names
}
