//! `stog script`: input gates in front of a TorchScript model; writes result.json and pruned.pt.

use crate::common::{DataArgs, parse_sizes, prepare_out_dir};
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use stog::gates::GateKind;
use stog::report::write_json;
use stog::script::gated_script;
use stog::train::{Prepared, device_name, parse_device};

/// Arguments of `stog script`.
#[derive(Args, Debug)]
pub struct ScriptArgs {
    /// TorchScript model (`torch.jit.script` or `trace`, saved with `.save`).
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Reshape each row to C,H,W; the gate then acts on the C input channels.
    #[arg(long)]
    input_shape: Option<String>,
    /// Gate kind: stg, ste, gumbel, correlated, hard-concrete or l1.
    #[arg(long, default_value = "stg")]
    gate: String,
    /// Penalty weight (sum convention).
    #[arg(long, default_value_t = 0.05, allow_hyphen_values = true)]
    lambda: f64,
    /// Epochs over which lambda ramps up from 0.
    #[arg(long, default_value_t = 30)]
    warmup_epochs: usize,
    /// Full-batch epochs of gate training (the backbone stays frozen).
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Gate learning rate.
    #[arg(long, default_value_t = 0.05)]
    gate_lr: f64,
    /// Seed of the gate noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder.
    #[arg(long)]
    out_dir: PathBuf,
}

pub fn run(args: ScriptArgs) -> Result<()> {
    let kind: GateKind = args.gate.parse()?;
    let device = parse_device(&args.data.device)?;
    let shape = args.input_shape.as_deref().map(parse_sizes).transpose()?;
    let (table, split) = args.data.load()?;
    let data = Prepared::new(&table, &split, device)?;
    tch::manual_seed(args.seed as i64);
    let mut g = gated_script(
        &args.model,
        kind,
        table.n_features() as i64,
        shape.as_deref(),
        device,
    )?;
    prepare_out_dir(&args.out_dir)?;
    write_json(
        &args.out_dir.join("config.json"),
        &json!({ "command": "script", "model": args.model, "data": args.data, "gate": kind, "lambda": args.lambda, "warmup_epochs": args.warmup_epochs, "epochs": args.epochs, "gate_lr": args.gate_lr, "seed": args.seed, "input_shape": shape }),
    )?;
    eprintln!(
        "stog script: {} on {} rows, gate {kind}, device {}",
        args.model.display(),
        table.n_rows(),
        device_name(device)
    );
    g.fit(
        &data,
        args.lambda,
        args.epochs,
        args.warmup_epochs,
        args.gate_lr,
    )?;
    let parameter = g.export_pruned(args.out_dir.join("pruned.pt"))?;
    let test = g.score(data.task, &data.test)?;
    let selected = g.selected();
    write_json(
        &args.out_dir.join("result.json"),
        &json!({
            "gates": [{ "name": "input", "units_total": g.gate.units(), "selected": selected }],
            "metrics": { "test": test },
            "pruned_parameter": parameter,
        }),
    )
    .context("writing result.json")?;
    println!(
        "kept {} of {} inputs: {selected:?}; test {}",
        selected.len(),
        g.gate.units(),
        serde_json::to_string(&test)?
    );
    println!("wrote {}", args.out_dir.join("pruned.pt").display());
    Ok(())
}
