//! The arguments of `stog sweep` and the sweep they describe: the grid, the training settings
//! and the shard of a cluster task.

use crate::common::{DataArgs, gate_help, parse_fractions, parse_sizes};
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use stog::gates::{GateConfig, GateKind};
use stog::sweep::{
    AutoShard, Placement, Shard, SplitSource, SweepConfig, SweepData, SweepManifest,
};

/// Arguments of `stog sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Gate kinds with their default settings, comma-separated (--gate gives settings).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "stg,ste,gumbel,correlated,hard-concrete,l1"
    )]
    gates: Vec<GateKind>,
    /// One gate with its settings, KIND[:KEY=VALUE,...]; repeat the flag for more gates, e.g.
    /// --gate stg:sigma=0.25 --gate ste (replaces --gates; --help lists the settings).
    #[arg(
        long,
        value_name = "KIND[:KEY=VALUE,...]",
        conflicts_with = "gates",
        long_help = gate_help(
            "One gate with its settings; repeat the flag for more gates, e.g. --gate \
             stg:sigma=0.25 --gate ste (instead of --gates, at most one per kind)."
        )
    )]
    gate: Vec<GateConfig>,
    /// Lambdas, comma-separated (sum convention).
    #[arg(
        long,
        default_value = "0,0.001,0.005,0.01,0.02,0.03,0.05,0.1,0.5",
        allow_hyphen_values = true
    )]
    lambdas: String,
    /// Number of seeds (0..N; with --splits, the file's seeds).
    #[arg(long, default_value_t = 10)]
    seeds: u64,
    /// Where the gates go (`dynamic` goes with `--gates gumbel`; runs.csv's `macs` is then the
    /// mean executed per test row, gate networks included).
    #[arg(long, value_enum, default_value_t = Placement::Input)]
    placement: Placement,
    /// Hidden layer sizes.
    #[arg(long, default_value = "64,32")]
    hidden: String,
    /// Dropout per hidden layer, comma-separated; the last value repeats for deeper layers.
    #[arg(long, default_value = "0.3,0.2")]
    dropout: String,
    /// Hidden width of each conditional gate's network (`--placement dynamic`).
    #[arg(long, default_value_t = stog::sweep::default_bottleneck())]
    bottleneck: i64,
    /// Maximum epochs per run.
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Early-stopping patience in epochs.
    #[arg(long, default_value_t = 50)]
    patience: usize,
    /// Early stopping: the least fall of the validation objective that counts as an improvement.
    #[arg(long, default_value_t = stog::train::default_min_delta())]
    min_delta: f64,
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
    /// Train every gate layer towards this fraction of open units (target-rate loss, Herrmann
    /// et al. 2020) instead of penalising the expected count; lambda weighs it.
    #[arg(long, value_name = "T")]
    target_rate: Option<f64>,
    /// Run only share I of N of the grid (0 <= I < N): chunks I, I + N, ... (for clusters).
    /// `auto`: I from the scheduler (SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX of a Kubernetes
    /// Indexed Job), N from --shards or STOG_SHARDS.
    #[arg(long, value_name = "I/N|auto")]
    shard: Option<ShardArg>,
    /// With --shard auto: the number of shards (else STOG_SHARDS; never the size of the job
    /// array, which a task resubmitted alone gets wrong).
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    /// Finish an interrupted sweep in the same --out-dir: keep its finished runs, run the rest.
    #[arg(long)]
    pub(crate) resume: bool,
    /// Seeds trained together as one batched ensemble (0: 1 on CPU, all seeds on CUDA). Results
    /// depend on it (it changes the random streams); classification only, correlated gates
    /// always take one seed at a time.
    #[arg(long, default_value_t = 0)]
    seeds_per_chunk: usize,
    /// Worker processes on CPU (0: one per core); each runs a shard with one thread, then the
    /// shards are merged. Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub(crate) jobs: usize,
    /// Torch threads of this process (0: libtorch's default).
    #[arg(long, default_value_t = 0)]
    pub(crate) threads: usize,
    /// Print nothing but errors and the final table.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Output folder.
    #[arg(long)]
    pub(crate) out_dir: PathBuf,
}

/// `--shard`: a given share, or `auto` (from the scheduler's environment).
#[derive(Debug, Clone, Copy)]
enum ShardArg {
    Given(Shard),
    Auto,
}

impl std::str::FromStr for ShardArg {
    type Err = stog::Error;
    fn from_str(s: &str) -> stog::Result<ShardArg> {
        match s.trim() {
            "auto" => Ok(ShardArg::Auto),
            _ => s.parse().map(ShardArg::Given),
        }
    }
}

/// The shard `--shard` and `--shards` ask for, with where it came from for the log.
pub(crate) fn resolve_shard(args: &SweepArgs) -> Result<Option<(Shard, String)>> {
    match (args.shard, args.shards) {
        (None, None) => Ok(None),
        (None, Some(_)) => bail!("--shards N goes with --shard auto"),
        (Some(ShardArg::Given(s)), None) => Ok(Some((s, format!("--shard {s}")))),
        (Some(ShardArg::Given(s)), Some(n)) => bail!(
            "--shards {n} goes with --shard auto; --shard {s} already gives the count (drop one)"
        ),
        (Some(ShardArg::Auto), n) => {
            let auto = AutoShard::from_env(n)?;
            let Shard { index, count } = auto.shard;
            let count_from = match auto.count_from {
                Some(name) => format!("{name}={count}"),
                None => format!("--shards {count}"),
            };
            let from = format!("{}={index}, {count_from}", auto.index_from);
            Ok(Some((auto.shard, from)))
        }
    }
}

fn parse_list<T: std::str::FromStr>(flag: &str, s: &str) -> Result<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<T>()
                .map_err(|e| anyhow::anyhow!("--{flag} `{p}`: {e}"))
        })
        .collect()
}

/// One dropout per hidden layer from `--dropout`: cut to the layers, its last value repeated.
fn dropout_per_layer(s: &str, layers: usize) -> Result<Vec<f64>> {
    let list: Vec<f64> = parse_list("dropout", s)?;
    let Some(last) = list.last().copied() else {
        bail!("--dropout `{s}`: no value");
    };
    Ok(list
        .into_iter()
        .chain(std::iter::repeat(last))
        .take(layers)
        .collect())
}

/// The sweep the arguments describe.
pub(crate) fn manifest(
    args: &SweepArgs,
    shard: Option<Shard>,
    device: tch::Device,
) -> Result<SweepManifest> {
    let record = args.data.record()?;
    let data = SweepData {
        data: record.data,
        target: record.target,
        feature_names: record.feature_names,
        task: record.task,
        split: match &args.data.splits {
            Some(path) => SplitSource::File(path.clone()),
            None => SplitSource::Fractions(parse_fractions(&args.data.split)?),
        },
    };
    let lambdas: Vec<f64> = parse_list("lambdas", &args.lambdas)?;
    let gates: Vec<GateConfig> = if args.gate.is_empty() {
        args.gates.iter().map(|k| GateConfig::from(*k)).collect()
    } else {
        args.gate.clone()
    };
    let mut config = SweepConfig::paper_sweep(gates, lambdas, 0, args.placement);
    config.seeds = data.seeds(args.seeds as usize)?;
    config.hidden = parse_sizes(&args.hidden)?;
    config.dropout = dropout_per_layer(&args.dropout, config.hidden.len())?;
    config.bottleneck = args.bottleneck;
    config.train.epochs = args.epochs;
    config.train.patience = args.patience;
    config.train.min_delta = args.min_delta;
    config.train.warmup_epochs = args.warmup;
    config.train.batch_size = (args.batch_size > 0).then_some(args.batch_size);
    config.train.gate_lr = args.gate_lr;
    config.train.cost_aware = args.cost_aware;
    config.train.target_rate = args.target_rate;
    // Small chunks on CPU (every core busy, one worker each); every seed at once on a GPU.
    config.seeds_per_chunk = match args.seeds_per_chunk {
        0 if device == tch::Device::Cpu => 1,
        0 => config.seeds.len().max(1),
        k => k,
    };
    Ok(SweepManifest {
        data,
        sweep: config,
        shard,
    })
}
