//! `stog script`: gates in front of or inside a TorchScript model; writes result.json, pruned.pt
//! and the test rows with the inference outputs (for checking pruned.pt elsewhere).

use crate::common::{DataArgs, parse_sizes, prepare_out_dir};
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use stog::gates::GateKind;
use stog::report::write_json;
use stog::script::{Layout, ScriptFitConfig, gated_script, gated_stages};
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
    /// Where the gates go: `input` (in front of forward) or `inside` (between the exported
    /// stage0..stageK methods, or where the model's gate_dims / forward_gates protocol says).
    #[arg(long, default_value = "input")]
    placement: String,
    /// Gate kind: stg, ste, gumbel, correlated, hard-concrete or l1.
    #[arg(long, default_value = "stg")]
    gate: String,
    /// Penalty weight (sum convention).
    #[arg(long, default_value_t = 0.05, allow_hyphen_values = true)]
    lambda: f64,
    /// Epochs over which lambda ramps up from 0.
    #[arg(long, default_value_t = 30)]
    warmup_epochs: usize,
    /// Epochs of gate training (the backbone stays frozen unless --train-backbone).
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Mini-batch size (0: full batch).
    #[arg(long, default_value_t = 0)]
    batch_size: usize,
    /// Gate learning rate.
    #[arg(long, default_value_t = 0.05)]
    gate_lr: f64,
    /// Fine-tune the backbone with the gates (its own learning rate, --backbone-lr).
    #[arg(long)]
    train_backbone: bool,
    /// Learning rate of the backbone with --train-backbone.
    #[arg(long, default_value_t = 1e-3)]
    backbone_lr: f64,
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
    let n_features = table.n_features() as i64;
    let mut g = match args.placement.as_str() {
        "input" => gated_script(&args.model, kind, n_features, shape.as_deref(), device)?,
        "inside" => gated_stages(&args.model, kind, &data.train.x, shape.as_deref(), device)?,
        other => anyhow::bail!("--placement `{other}`: expected input or inside"),
    };
    prepare_out_dir(&args.out_dir)?;
    write_json(
        &args.out_dir.join("config.json"),
        &json!({ "command": "script", "model": args.model, "data": args.data, "gate": kind, "lambda": args.lambda, "warmup_epochs": args.warmup_epochs, "epochs": args.epochs, "gate_lr": args.gate_lr, "train_backbone": args.train_backbone, "backbone_lr": args.backbone_lr, "batch_size": args.batch_size, "seed": args.seed, "input_shape": shape }),
    )?;
    eprintln!(
        "stog script: {} on {} rows, gate {kind}, device {}",
        args.model.display(),
        table.n_rows(),
        device_name(device)
    );
    if args.train_backbone {
        g.train_backbone()?;
    }
    let best_epoch = g.fit(
        &data,
        &ScriptFitConfig {
            lambda: args.lambda,
            epochs: args.epochs,
            warmup: args.warmup_epochs,
            gate_lr: args.gate_lr,
            backbone_lr: args.backbone_lr,
            batch_size: (args.batch_size > 0).then_some(args.batch_size),
        },
    )?;
    // Gates inside a model export when each goes straight into a linear layer (checked on the
    // validation rows); otherwise result.json says why and no pruned.pt is written.
    let (pruned, not_exported) = match g.export_pruned(args.out_dir.join("pruned.pt"), &data.val.x)
    {
        Ok(carriers) => (Some(carriers), None),
        Err(e) if g.layout != Layout::Input => (None, Some(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let test = g.score(data.task, &data.test)?;
    // The test rows as the model sees them and the inference network's outputs, so that
    // pruned.pt can be checked outside stog (examples/digits_cnn/check_pruned.py).
    write_rows(&args.out_dir.join("test_inputs.csv"), &data.test.x)?;
    let outputs = tch::no_grad(|| g.forward(&data.test.x, false))?;
    write_rows(&args.out_dir.join("test_outputs.csv"), &outputs)?;
    let gates: Vec<_> = g
        .gate_names()
        .into_iter()
        .zip(g.selected())
        .zip(&g.gates)
        .map(|((name, selected), gate)| json!({ "name": name, "units_total": gate.units(), "selected": selected }))
        .collect();
    write_json(
        &args.out_dir.join("result.json"),
        &json!({
            "gates": gates,
            "metrics": { "test": test },
            "best_epoch": best_epoch,
            "pruned_parameters": pruned,
            "not_exported": not_exported,
        }),
    )
    .context("writing result.json")?;
    for (name, selected) in g.gate_names().iter().zip(g.selected()) {
        println!("{name}: kept {} units: {selected:?}", selected.len());
    }
    println!("test {}", serde_json::to_string(&test)?);
    match (&pruned, &not_exported) {
        (Some(_), _) => println!("wrote {}", args.out_dir.join("pruned.pt").display()),
        (None, Some(why)) => println!("no pruned.pt: {why}"),
        (None, None) => {}
    }
    Ok(())
}

/// Writes the rows of a `[N, ...]` tensor as CSV lines without a header, each value exactly.
fn write_rows(path: &Path, t: &tch::Tensor) -> Result<()> {
    let t = t
        .to_device(tch::Device::Cpu)
        .to_kind(tch::Kind::Double)
        .flatten(1, -1);
    let cols = t.size()[1].max(1) as usize;
    let values = Vec::<f64>::try_from(t.flatten(0, -1))?;
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    for row in values.chunks(cols) {
        w.write_record(row.iter().map(|v| v.to_string()))?;
    }
    w.flush()?;
    Ok(())
}
