//! `stog select`: one selector fit; writes config.json, model.safetensors and result.json.

use crate::common::{DataArgs, gate_help, parse_sizes, prepare_out_dir};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use stog::data::{Format, Split, Table};
use stog::gates::GateConfig;
use stog::report::{SelectConfigRecord, write_json};
use stog::selector::{
    Criterion, FitEvent, FittedSelector, LambdaChoice, Race, Rule, Screen, SelectReport, Selector,
    SelectorParams, Validation, architecture_name,
};
use stog::train::{PretrainConfig, device_name, parse_device, parse_threads, set_threads};

/// Arguments of `stog select`.
#[derive(Args, Debug)]
pub struct SelectArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Gate at the input: KIND[:KEY=VALUE,...], e.g. stg:sigma=0.25 (--help lists the settings).
    #[arg(
        long,
        value_name = "KIND[:KEY=VALUE,...]",
        default_value = "hard-concrete",
        long_help = gate_help("Gate at the input (hard-concrete: see the README for the choice).")
    )]
    gate: GateConfig,
    /// `auto` (a warm-started path chosen on validation) or a number >= 0.
    #[arg(long, default_value = "auto", allow_hyphen_values = true)]
    lambda: String,
    /// Feature budget: the best validation point with at most K features.
    #[arg(long, value_name = "K")]
    max_features: Option<usize>,
    /// Hidden layer sizes (empty: a linear model), or `auto`: a 64,32 network and a linear
    /// model, each with its path, keeping the one that scores better (automatic lambda).
    #[arg(long, default_value = "auto")]
    hidden: String,
    /// Maximum epochs of a fit (and of the unpenalised start of the path).
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Mini-batch size: auto (train rows / 16 within [32, 1024]), 0 (full batch) or a number.
    #[arg(long, default_value = "auto")]
    batch_size: String,
    /// Rows of one epoch, drawn afresh each epoch, or `all`: on tall data the path, warm-up and
    /// early stopping then cost the same from this many training rows up.
    #[arg(long, default_value = "65536")]
    epoch_rows: String,
    /// Dropout after each hidden layer.
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// Weight decay of the network (not the gates).
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Which rows choose the point of the path: auto (5-fold cross-validation over train+val
    /// below 300 such rows, else the validation rows), holdout, or a number of folds.
    #[arg(long, default_value = "auto")]
    validation: String,
    /// The score that chooses the point: loss (validation cross-entropy), brier (Brier score,
    /// bounded) or accuracy (smoothed); regression uses the squared error for all three.
    #[arg(long, value_enum, default_value = "loss")]
    criterion: CriterionArg,
    /// The rule: best (the best score) or one-se (the sparsest point within one standard error).
    #[arg(long, value_enum, default_value = "best")]
    rule: RuleArg,
    /// The final model after cross-validation: all (the path rerun on training and validation
    /// rows together, to the chosen lambda) or train (the path's point, fitted on training rows).
    #[arg(long, value_enum, default_value = "all")]
    refit_rows: RefitRowsArg,
    /// The final fit of a linear regression model: ridge (closed form on the kept features, its
    /// penalty chosen on the validation rows) or trained (the path's early-stopped refit).
    #[arg(long, value_enum, default_value = "ridge")]
    linear_fit: LinearFitArg,
    /// Screening of very wide data before the gates: auto (from 5000 features, keep n / ln n of
    /// them, within 100-1000, n training rows: those of highest mutual information with the
    /// target on the training rows), off, or a number to keep.
    #[arg(long, default_value = "auto")]
    screen: String,
    /// Seed of initialisation and noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A CSV of unlabeled rows (same feature columns): SEFS self-supervised pretraining on them.
    /// Rows of --data with an empty target are used the same way.
    #[arg(long)]
    unlabeled: Option<PathBuf>,
    /// Epochs of the pretext task (0: no pretraining; default 300 when there are unlabeled rows).
    #[arg(long)]
    pretrain_epochs: Option<usize>,
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

/// `--criterion` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum CriterionArg {
    Loss,
    Brier,
    Accuracy,
}

/// `--refit-rows` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum RefitRowsArg {
    All,
    Train,
}

/// `--linear-fit` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LinearFitArg {
    Ridge,
    Trained,
}

/// `--rule` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum RuleArg {
    Best,
    OneSe,
}

fn parse_validation(s: &str) -> Result<Validation> {
    Ok(match s {
        "auto" => Validation::Auto,
        "holdout" => Validation::Holdout,
        k => Validation::Folds(k.parse().with_context(|| {
            format!("--validation `{k}`: expected auto, holdout or a number of folds")
        })?),
    })
}

pub fn run(args: SelectArgs) -> Result<()> {
    let gate = args.gate;
    let threads = parse_threads(&args.threads)?;
    let mut params = selector_params(&args)?;
    let device = parse_device(&args.data.device)?;
    let (table, split, unlabeled) = load_rows(&args)?;
    let epochs = args
        .pretrain_epochs
        .unwrap_or(if unlabeled.is_empty() { 0 } else { 300 });
    params.pretrain = (epochs > 0).then(|| PretrainConfig {
        epochs,
        ..Default::default()
    });
    let auto_threads = threads.is_none();
    // The network sees the screened columns only (very wide data).
    let inputs = params
        .screen
        .keep(table.n_features(), split.train.len())
        .unwrap_or(table.n_features());
    let threads = set_threads(threads, split.train.len(), inputs, device);
    prepare_out_dir(&args.out_dir)?;
    write_json(
        &args.out_dir.join("config.json"),
        &SelectConfigRecord::new(args.data.record()?, params.clone()),
    )?;
    if !args.quiet {
        eprintln!(
            "stog select: {} rows x {} features, gate {gate}, device {}{}",
            table.n_rows(),
            table.n_features(),
            device_name(device),
            if auto_threads && device == tch::Device::Cpu {
                " (threads chosen from training rows x features)"
            } else {
                ""
            }
        );
    }
    let start = std::time::Instant::now();
    let mut progress = Progress::new(args.quiet);
    let fitted = params.fit_observed(&table, &split, &unlabeled, device, &mut |e| {
        progress.event(e)
    });
    progress.bar.finish_and_clear();
    let fitted = fitted?;
    fitted.save(&args.out_dir)?;
    let result = fitted.report(
        start.elapsed().as_secs_f64(),
        threads,
        unlabeled.len() / table.n_features(),
    )?;
    write_json(&args.out_dir.join("result.json"), &result)?;
    if !args.quiet {
        print_summary(&args, &fitted, &result, table.n_features())?;
    }
    Ok(())
}

/// The selector's parameters from the arguments, validated (the pretraining is set once the
/// unlabeled rows are known).
fn selector_params(args: &SelectArgs) -> Result<SelectorParams> {
    let mut params = Selector::params()
        .gate(args.gate)
        .epochs(args.epochs)
        .seed(args.seed);
    if args.hidden != "auto" {
        params = params.hidden(parse_sizes(&args.hidden)?);
    }
    if let Some(b) = count_or(&args.batch_size, "--batch-size", "auto")? {
        params = params.batch_size((b > 0).then_some(b));
    }
    params = params.epoch_rows(count_or(&args.epoch_rows, "--epoch-rows", "all")?);
    params.lambda = match args.lambda.as_str() {
        "auto" => LambdaChoice::Auto,
        s => LambdaChoice::Fixed(
            s.parse::<f64>()
                .with_context(|| format!("--lambda `{s}`: expected auto or a number"))?,
        ),
    };
    params.max_features = args.max_features;
    params.dropout = args.dropout;
    params.train.weight_decay = args.weight_decay;
    params.validation = parse_validation(&args.validation)?;
    params.criterion = match args.criterion {
        CriterionArg::Loss => Criterion::Loss,
        CriterionArg::Brier => Criterion::Brier,
        CriterionArg::Accuracy => Criterion::Accuracy,
    };
    params.rule = match args.rule {
        RuleArg::Best => Rule::Best,
        RuleArg::OneSe => Rule::OneStandardError,
    };
    params.refit_on_all = matches!(args.refit_rows, RefitRowsArg::All);
    params.ridge = matches!(args.linear_fit, LinearFitArg::Ridge);
    params.screen = match args.screen.as_str() {
        "auto" => Screen::Auto,
        "off" => Screen::Off,
        k => Screen::Keep(k.parse().with_context(|| {
            format!("--screen `{k}`: expected auto, off or a number of features")
        })?),
    };
    params.validate()?;
    Ok(params)
}

/// The table, its split and the unlabeled rows (those of --data with an empty target, then
/// those of --unlabeled).
fn load_rows(args: &SelectArgs) -> Result<(Table, Split, Vec<f64>)> {
    let (table, split, mut unlabeled) = args.data.load_semi_supervised()?;
    if let Some(path) = &args.unlabeled {
        if Format::of(path)? != Format::Csv {
            anyhow::bail!(
                "--unlabeled {}: unlabeled rows are read from CSV only (or give them in --data \
                 with an empty CSV cell or a Parquet null as target)",
                path.display()
            );
        }
        unlabeled.extend(Table::features_from_csv(path, &table.feature_names)?);
    }
    Ok((table, split, unlabeled))
}

/// Prints the chosen lambda with the selected features, the test metrics and where the result is.
fn print_summary(
    args: &SelectArgs,
    fitted: &FittedSelector,
    result: &SelectReport,
    n_features: usize,
) -> Result<()> {
    println!(
        "lambda {:.4}: {} of {} features selected: {}",
        fitted.info.lambda,
        fitted.selected().len(),
        n_features,
        fitted.selected_names().join(", ")
    );
    match &result.metrics.test {
        Some(test) => println!("test {}", serde_json::to_string(test)?),
        None => println!("test: no test rows (--split with a test fraction of 0)"),
    }
    println!("wrote {}", args.out_dir.join("result.json").display());
    Ok(())
}

/// `None` for the word `word`, else the number `value` gives (an error naming `flag` otherwise).
fn count_or(value: &str, flag: &str, word: &str) -> Result<Option<usize>> {
    if value == word {
        return Ok(None);
    }
    let n = value
        .parse()
        .with_context(|| format!("{flag} `{value}`: expected {word} or a number"))?;
    Ok(Some(n))
}

/// The progress of a fit: one line that updates (the stage, the path point with its lambda and
/// feature count, the elapsed time) on a terminal, and a summary line per stage when it ends,
/// on a terminal or in a log.
struct Progress {
    bar: indicatif::ProgressBar,
    quiet: bool,
    stage_start: std::time::Instant,
    /// The running stage, as the line names it.
    stage: String,
    points: usize,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        // indicatif draws nothing when stderr is not a terminal.
        let bar = if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::new_spinner()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress {
            bar,
            quiet,
            stage_start: std::time::Instant::now(),
            stage: String::new(),
            points: 0,
        }
    }

    fn event(&mut self, event: &FitEvent) {
        match event {
            FitEvent::Started { hidden, stage } => {
                self.stage_start = std::time::Instant::now();
                self.points = 0;
                self.stage = format!("{}, {stage}", architecture_name(hidden));
                self.bar.set_message(self.stage.clone());
            }
            FitEvent::Point { lambda, n_selected } => {
                self.points += 1;
                self.bar.set_message(format!(
                    "{}: point {}, lambda {lambda:.3e}, {n_selected} features",
                    self.stage, self.points
                ));
            }
            FitEvent::Finished {
                hidden,
                stage,
                points,
                n_selected,
            } => self.line(format!(
                "{}, {stage}: {points} point{}, {n_selected} features at the last, {:.1} s",
                architecture_name(hidden),
                if *points == 1 { "" } else { "s" },
                self.stage_start.elapsed().as_secs_f64()
            )),
            FitEvent::Kept { hidden, race } => self.line(match race {
                Race::Raced => format!(
                    "kept the {} (the better score on the rows that choose)",
                    architecture_name(hidden)
                ),
                Race::TooFewRows { rows, needed } => format!(
                    "fitted the {} only: {rows} rows where a network needs {needed} to race it",
                    architecture_name(hidden)
                ),
            }),
        }
    }

    fn line(&self, line: String) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }
}
