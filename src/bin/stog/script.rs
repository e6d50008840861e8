//! `stog script`: gates in front of or inside a TorchScript model; writes result.json and
//! pruned.pt (and on request the test rows with the inference outputs, to check pruned.pt).

use crate::common::{DataArgs, gate_help, parse_sizes, prepare_out_dir};
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use stog::gates::GateConfig;
use stog::report::{ScriptConfigRecord, ScriptPathPoint, ScriptPathReport, write_json};
use stog::script::{
    DEFAULT_SCRIPT_LAMBDAS, GatedScript, PRUNED_FILE, RESULT_FILE, ScriptFitConfig,
    ScriptPlacement, ScriptPoint, choose_script_point, gated_script, gated_stage_files,
    gated_stages, script_point_dir,
};
use stog::train::{Prepared, check_lambdas, device_name, parse_device, parse_threads, set_threads};

/// `println!` unless `--quiet`.
macro_rules! say {
    ($args:expr, $($t:tt)*) => {
        if !$args.quiet {
            println!($($t)*);
        }
    };
}

/// Arguments of `stog script`.
#[derive(Args, Debug)]
pub struct ScriptArgs {
    /// TorchScript model (`torch.jit.script` or `trace`, saved with `.save`), or a
    /// comma-separated list of stage files (each one stage's forward, in order) for
    /// `--placement inside`.
    #[arg(long, value_delimiter = ',', required = true)]
    model: Vec<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Reshape each row to C,H,W; the gate then acts on the C input channels.
    #[arg(long)]
    input_shape: Option<String>,
    /// Where the gates go.
    #[arg(long, value_enum, default_value_t = ScriptPlacement::Input)]
    placement: ScriptPlacement,
    /// Gate: KIND[:KEY=VALUE,...], e.g. stg:sigma=0.25 (--help lists the settings).
    #[arg(
        long,
        value_name = "KIND[:KEY=VALUE,...]",
        default_value = "stg",
        long_help = gate_help("Gate of every gate layer.")
    )]
    gate: GateConfig,
    /// `auto` (the default): fit every lambda of --lambdas as a warm-started path (the default
    /// one starts unpenalised, so that the network learns before the penalty bites) and keep the
    /// sparsest point whose validation score is within one standard error of the best; or a
    /// penalty weight (sum convention) for one fit.
    #[arg(long, default_value = "auto", allow_hyphen_values = true)]
    lambda: String,
    /// Lambdas to fit as a warm-started path (increasing; each starts from the previous
    /// solution), one subfolder `lambda_L` of --out-dir each, and path.json; with --lambda auto
    /// the default is 0,0.001,0.003,0.01,0.03,0.1,0.3 (with --lambda X the path is only fitted,
    /// no point is chosen).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    lambdas: Option<Vec<f64>>,
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
    /// After each lambda's selection, epochs of training the backbone alone with the gates fixed
    /// at their inference values (needs --train-backbone); the best validation state is kept.
    #[arg(long, default_value_t = 0, requires = "train_backbone")]
    refit_epochs: usize,
    /// Also write test_inputs.csv and test_outputs.csv: the test rows as the model sees them and
    /// the inference network's outputs, to check pruned.pt outside stog.
    #[arg(long)]
    write_test_rows: bool,
    /// Seed of the gate noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Intra-op threads on CPU: auto or 0 (one up to 6,000,000 training values, rows x
    /// features, else every core), or a number.
    #[arg(long, default_value = "auto")]
    threads: String,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
    /// Output folder.
    #[arg(long)]
    out_dir: PathBuf,
}

pub fn run(args: ScriptArgs) -> Result<()> {
    let gate = args.gate;
    let threads = parse_threads(&args.threads)?;
    let device = parse_device(&args.data.device)?;
    let shape = args.input_shape.as_deref().map(parse_sizes).transpose()?;
    let auto = args.lambda == "auto";
    let grid = lambda_grid(&args, auto)?;
    let (table, split) = args.data.load()?;
    if split.test.is_empty() {
        anyhow::bail!(
            "--split {}: stog script scores the pruned model on test rows; give them a fraction > 0",
            args.data.split
        );
    }
    let data = Prepared::new(&table, &split, device)?;
    set_threads(threads, split.train.len(), table.n_features(), device);
    prepare_out_dir(&args.out_dir)?;
    write_json(
        &args.out_dir.join("config.json"),
        &config_record(&args, &grid, shape.clone())?,
    )?;
    if !args.quiet {
        eprintln!(
            "stog script: {} on {} rows, gate {gate}, device {}",
            args.model
                .iter()
                .map(|m| m.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
            table.n_rows(),
            device_name(device)
        );
    }
    tch::manual_seed(args.seed as i64);
    let mut g = gated_model(&args, &data, shape.as_deref())?;
    let config = ScriptFitConfig {
        lambda: grid[0],
        epochs: args.epochs,
        warmup: args.warmup_epochs,
        gate_lr: args.gate_lr,
        backbone_lr: args.backbone_lr,
        batch_size: (args.batch_size > 0).then_some(args.batch_size),
        refit: false,
        seed: args.seed,
    };
    if grid.len() == 1 && !auto {
        g.warm_path(
            &data,
            &grid,
            &config,
            args.refit_epochs,
            |g, lambda, best_epoch| write_point(&args, g, &data, lambda, best_epoch, &args.out_dir),
        )?;
        return Ok(());
    }
    let points = g.warm_path(
        &data,
        &grid,
        &config,
        args.refit_epochs,
        |g, lambda, best_epoch| {
            let dir = script_point_dir(&args.out_dir, lambda);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            say!(args, "== lambda {lambda}");
            write_point(&args, g, &data, lambda, best_epoch, &dir)
        },
    )?;
    finish_path(&args, &g, &points, auto)
}

/// The lambdas to fit: --lambdas, else the one --lambda gives, else (auto) the default path.
fn lambda_grid(args: &ScriptArgs, auto: bool) -> Result<Vec<f64>> {
    let lambda: Option<f64> =
        if auto {
            None
        } else {
            Some(args.lambda.parse().with_context(|| {
                format!("--lambda `{}`: expected auto or a number", args.lambda)
            })?)
        };
    let grid = match (&args.lambdas, lambda) {
        (Some(l), _) => l.clone(),
        (None, Some(l)) => vec![l],
        (None, None) => DEFAULT_SCRIPT_LAMBDAS.to_vec(),
    };
    check_lambdas(&grid)?;
    Ok(grid)
}

/// The config.json record of this run.
fn config_record(
    args: &ScriptArgs,
    grid: &[f64],
    shape: Option<Vec<i64>>,
) -> Result<ScriptConfigRecord> {
    Ok(ScriptConfigRecord {
        command: "script".into(),
        model: args.model.clone(),
        data: args.data.record()?,
        gate: args.gate,
        placement: args.placement.name().into(),
        lambda: args.lambda.clone(),
        lambdas: grid.to_vec(),
        warmup_epochs: args.warmup_epochs,
        epochs: args.epochs,
        gate_lr: args.gate_lr,
        train_backbone: args.train_backbone,
        backbone_lr: args.backbone_lr,
        refit_epochs: args.refit_epochs,
        batch_size: args.batch_size,
        seed: args.seed,
        input_shape: shape,
    })
}

/// The model with its gates where --placement puts them (its backbone trainable with
/// --train-backbone), on the device of the prepared rows.
fn gated_model(args: &ScriptArgs, data: &Prepared, shape: Option<&[i64]>) -> Result<GatedScript> {
    let gate = args.gate;
    let device = data.train.x.device();
    let mut g = match (args.placement, args.model.as_slice()) {
        (ScriptPlacement::Input, [model]) => {
            gated_script(model, gate, data.train.x.size()[1], shape, device)?
        }
        (ScriptPlacement::Inside, [model]) => {
            gated_stages(model, gate, &data.train.x, shape, device)?
        }
        (ScriptPlacement::Inside, files) => {
            gated_stage_files(files, gate, &data.train.x, shape, device)?
        }
        (ScriptPlacement::Input, files) => anyhow::bail!(
            "--model lists {} stage files: gates between stage files need --placement inside",
            files.len()
        ),
    };
    if args.train_backbone {
        g.train_backbone()?;
    }
    Ok(g)
}

/// After a path: writes path.json, prints its table and, with --lambda auto, makes the chosen
/// point's files the folder's own.
fn finish_path(
    args: &ScriptArgs,
    g: &GatedScript,
    points: &[ScriptPathPoint],
    auto: bool,
) -> Result<()> {
    let chosen = auto.then(|| choose_script_point(points)).flatten();
    write_json(
        &args.out_dir.join("path.json"),
        &ScriptPathReport {
            path: points.to_vec(),
            chosen_lambda: chosen.map(|i| points[i].lambda),
        },
    )?;
    say!(
        args,
        "| lambda | kept units | multiply-adds | val | test |\n|---|---|---|---|---|"
    );
    for p in points {
        say!(
            args,
            "| {} | {} | {} | {:.4} | {:.4} |",
            p.lambda,
            p.kept,
            p.macs.map_or("-".to_string(), |m| m.to_string()),
            p.val.score(),
            p.test.score()
        );
    }
    if let Some(i) = chosen {
        // The chosen point's files are also the folder's own.
        g.copy_point_files(
            &script_point_dir(&args.out_dir, points[i].lambda),
            &args.out_dir,
        )?;
        say!(
            args,
            "chose lambda {} (the sparsest within one standard error of the best validation score)",
            points[i].lambda
        );
    }
    Ok(())
}

/// Scores the fitted `g` at `lambda` and writes result.json, pruned.pt and (on request) the test
/// rows with their outputs into `dir`; prints what it found.
fn write_point(
    args: &ScriptArgs,
    g: &GatedScript,
    data: &Prepared,
    lambda: f64,
    best_epoch: usize,
    dir: &Path,
) -> Result<ScriptPathPoint> {
    let ScriptPoint { report, point } = g.point_report(data, lambda, best_epoch, dir)?;
    if args.write_test_rows {
        g.write_test_rows(&data.test.x, dir)?;
    }
    write_json(&dir.join(RESULT_FILE), &report).context("writing result.json")?;
    for gate in &report.gates {
        say!(
            args,
            "{}: kept {} units: {:?}",
            gate.name,
            gate.selected.len(),
            gate.selected
        );
    }
    say!(
        args,
        "test {}",
        serde_json::to_string(&report.metrics.test)?
    );
    match (&report.pruned, &report.not_exported) {
        (Some(p), _) => {
            for file in g.export_paths(dir.join(PRUNED_FILE)) {
                say!(args, "wrote {}", file.display());
            }
            say!(
                args,
                "pruned: {} -> {} parameters, {} -> {} bytes{}",
                p.parameters_before,
                p.parameters_after,
                p.bytes_before,
                p.bytes_after,
                match &p.inputs_kept {
                    Some(k) => format!(", reads {} input columns of the full rows", k.len()),
                    None => String::new(),
                }
            );
        }
        (None, Some(why)) => say!(args, "no pruned.pt: {why}"),
        (None, None) => {}
    }
    if let (Some(before), Some(after)) = (report.macs_before, report.macs_after) {
        say!(args, "multiply-adds per example: {before} -> {after}");
    }
    Ok(point)
}
