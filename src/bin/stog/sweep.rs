//! `stog sweep`, `stog merge` and the hidden `stog worker`: arguments mapped onto the library's
//! [`stog::sweep::Sweep`] (which writes config.json, runs.csv flushed per chunk, summary.json and
//! SVG figures), worker processes spawned and merged, progress shown.

use crate::common::{DataArgs, gate_help, parse_fractions, parse_sizes, prepare_out_dir};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use stog::gates::{GateConfig, GateKind};
use stog::report::{RUNS, RunRecord, runs_written};
use stog::sweep::{
    AutoShard, FolderLayout, MANIFEST, Merged, Placement, Progress, Shard, ShardsWallTime,
    SplitSource, Sweep, SweepConfig, SweepData, SweepManifest, frontier_table, worker_dir,
};
use stog::train::{device_name, parse_device};

/// Arguments of `stog sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    data: DataArgs,
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
    resume: bool,
    /// Seeds trained together as one batched ensemble (0: 1 on CPU, all seeds on CUDA). Results
    /// depend on it (it changes the random streams); classification only, correlated gates
    /// always take one seed at a time.
    #[arg(long, default_value_t = 0)]
    seeds_per_chunk: usize,
    /// Worker processes on CPU (0: one per core); each runs a shard with one thread, then the
    /// shards are merged. Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Torch threads of this process (0: libtorch's default).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print nothing but errors and the final table.
    #[arg(long)]
    quiet: bool,
    /// Output folder.
    #[arg(long)]
    out_dir: PathBuf,
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
fn resolve_shard(args: &SweepArgs) -> Result<Option<(Shard, String)>> {
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
fn manifest(args: &SweepArgs, shard: Option<Shard>, device: tch::Device) -> Result<SweepManifest> {
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

/// A progress bar in `unit`s (hidden when `quiet`).
fn progress_bar(quiet: bool, len: usize, unit: &str) -> Result<indicatif::ProgressBar> {
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(len as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} {{msg}}"
        ))
        .context("progress style")?,
    );
    Ok(bar)
}

pub fn run(args: SweepArgs) -> Result<()> {
    if args.threads > 0 {
        tch::set_num_threads(args.threads as i32);
    }
    let device = parse_device(&args.data.device)?;
    let resolved = resolve_shard(&args)?;
    let shard = resolved.as_ref().map(|(s, _)| *s);
    let sweep = Sweep::plan(manifest(&args, shard, device)?)?;
    let out = &args.out_dir;
    let jobs = match args.jobs {
        0 if device == tch::Device::Cpu => {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
        0 => 1,
        j => j,
    };
    if args.resume && out.join(MANIFEST).exists() {
        sweep.manifest().check_same_as_in(out)?;
        if shard.is_some() {
            sweep.manifest().check_same_shard_as_in(out)?;
        }
    }
    // A resume keeps the layout of the interrupted sweep: as many workers as it had shard
    // folders, or one process when it ran in one.
    let jobs = match FolderLayout::of(out)? {
        FolderLayout::Workers(n) if args.resume && shard.is_none() => n,
        FolderLayout::OneProcess if args.resume => 1,
        _ => jobs,
    };
    let groups = sweep.groups().len();
    if shard.is_none() && jobs > 1 && groups > 1 {
        return run_workers(&args, &sweep, jobs.min(groups));
    }
    prepare_out_dir(out)?;
    let start = std::time::Instant::now();
    // A shard (a cluster task, its output a log file) reports one line per chunk, not a bar.
    let mut log = resolved
        .filter(|_| !args.quiet)
        .map(|(s, from)| ShardLog::new(&sweep, s, from, start));
    let bar = progress_bar(args.quiet || log.is_some(), 0, "runs")?;
    let records = sweep.run(out, args.resume, device, &mut |p| match p {
        Progress::Planned {
            runs,
            groups,
            members,
            resumed,
        } => {
            if !args.quiet {
                if let Some(r) = resumed {
                    let torn = if r.torn {
                        " (a torn last line was dropped)"
                    } else {
                        ""
                    };
                    eprintln!("resuming: {} finished runs kept{torn}", r.kept);
                }
                match &mut log {
                    Some(log) => log.planned(runs, out),
                    None => eprintln!(
                        "stog sweep: {runs} runs in {groups} chunks of up to {members} members, device {}",
                        device_name(device)
                    ),
                }
            }
            bar.set_length(runs as u64);
            ControlFlow::Continue(())
        }
        Progress::Training { gate, seeds } => {
            let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
            bar.set_message(format!("{gate} seed {}", seeds.join(",")));
            ControlFlow::Continue(())
        }
        Progress::Finished { records } => {
            bar.inc(records.len() as u64);
            if let Some(log) = &mut log {
                log.finished(records);
            }
            ControlFlow::Continue(())
        }
    })?;
    bar.finish_and_clear();
    if shard.is_some() {
        if let Some(log) = &log {
            log.done(records.len(), out);
        }
        return Ok(());
    }
    finish(
        out,
        sweep.manifest(),
        &records,
        Some(start.elapsed().as_secs_f64()),
        &device_name(device),
    )
}

/// The log lines of a shard: which shard, then its chunks done out of its total, one line each.
struct ShardLog {
    name: String,
    from: String,
    lambdas: usize,
    total: usize,
    done: usize,
    start: std::time::Instant,
}

impl ShardLog {
    fn new(sweep: &Sweep, shard: Shard, from: String, start: std::time::Instant) -> ShardLog {
        ShardLog {
            name: format!("shard {shard}"),
            from,
            lambdas: sweep.manifest().sweep.lambdas.len().max(1),
            total: sweep.groups().iter().map(Vec::len).sum(),
            done: 0,
            start,
        }
    }

    /// `runs` runs are left to train.
    fn planned(&mut self, runs: usize, out: &Path) {
        let todo = runs / self.lambdas;
        self.done = self.total.saturating_sub(todo);
        eprintln!(
            "stog sweep: {} ({}) into {}: {} of its {} chunks done, {todo} to run ({runs} runs)",
            self.name,
            self.from,
            out.display(),
            self.done,
            self.total
        );
    }

    /// A group's runs are on disk.
    fn finished(&mut self, records: &[RunRecord]) {
        self.done += records.len() / self.lambdas;
        let what = records.first().map_or_else(String::new, |r| {
            let mut seeds: Vec<String> = records.iter().map(|r| r.seed.to_string()).collect();
            seeds.dedup();
            format!(" ({} seed {})", r.gate, seeds.join(","))
        });
        eprintln!(
            "{}: chunk {}/{} done{what}, {:.1} s",
            self.name,
            self.done,
            self.total,
            self.start.elapsed().as_secs_f64()
        );
    }

    /// The shard is finished with `runs` runs in `out`.
    fn done(&self, runs: usize, out: &Path) {
        eprintln!(
            "{}: finished, {}/{} chunks, {runs} runs in {}, {:.1} s",
            self.name,
            self.done,
            self.total,
            out.display(),
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// Writes summary and figures and prints the frontier.
fn finish(
    out: &Path,
    manifest: &SweepManifest,
    records: &[RunRecord],
    wall: Option<f64>,
    device: &str,
) -> Result<()> {
    let summary = manifest.write_outputs(out, records, wall, device)?;
    print_frontier(out, records.len(), &summary, wall, device);
    Ok(())
}

/// Prints the run count and wall time, the frontier and where the outputs are.
fn print_frontier(
    out: &Path,
    runs: usize,
    summary: &stog::sweep::Summary,
    wall: Option<f64>,
    device: &str,
) {
    match wall {
        Some(wall) => println!("{runs} runs in {wall:.1} s ({device})"),
        None => println!("{runs} runs, wall time unknown ({device})"),
    }
    println!("{}", frontier_table(summary));
    println!("wrote {}", out.display());
}

/// Runs the grid as `jobs` worker processes (`stog worker`: one shard each, one thread each) and
/// merges them.
fn run_workers(args: &SweepArgs, sweep: &Sweep, jobs: usize) -> Result<()> {
    let out = &args.out_dir;
    prepare_out_dir(out)?;
    sweep.manifest().write(out)?;
    let exe = std::env::current_exe().context("cannot find the stog executable")?;
    let start = std::time::Instant::now();
    let shard_dirs: Vec<PathBuf> = (0..jobs).map(|i| worker_dir(out, i)).collect();
    let mut children = Vec::new();
    for (i, dir) in shard_dirs.iter().enumerate() {
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("worker")
            .arg("--manifest")
            .arg(out.join(MANIFEST))
            .arg("--shard")
            .arg(Shard::new(i, jobs)?.to_string())
            .args(["--device", &args.data.device, "--out-dir"])
            .arg(dir);
        if args.resume {
            cmd.arg("--resume");
        }
        children.push(
            cmd.stdout(std::process::Stdio::null())
                .spawn()
                .context("cannot start a worker process")?,
        );
    }
    let config = &sweep.manifest().sweep;
    let bar = progress_bar(
        args.quiet,
        config.chunks().len() * config.lambdas.len(),
        "runs",
    )?;
    bar.set_message(format!("({jobs} worker processes)"));
    let mut failed = None;
    loop {
        let mut running = 0;
        for (i, child) in children.iter_mut().enumerate() {
            match child.try_wait()? {
                None => running += 1,
                Some(status) if !status.success() && failed.is_none() => failed = Some((i, status)),
                Some(_) => {}
            }
        }
        let mut finished = 0;
        for d in &shard_dirs {
            finished += runs_written(&d.join(RUNS))?;
        }
        bar.set_position(finished as u64);
        if running == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    bar.finish_and_clear();
    if let Some((i, status)) = failed {
        bail!(
            "worker {i} failed ({status}); its output is in {}; rerun with --resume to finish",
            shard_dirs[i].display()
        );
    }
    let merged = Merged::read(&shard_dirs)?;
    let differences = sweep.manifest().differences(&merged.manifest);
    if !differences.is_empty() {
        return Err(stog::Error::OtherSweep {
            manifest: shard_dirs[0].join(MANIFEST),
            differences,
        }
        .into());
    }
    let wall = Some(start.elapsed().as_secs_f64());
    let device = format!("cpu ({jobs} processes x 1 thread)");
    let summary = merged.write(out, wall, &device)?;
    print_frontier(out, merged.records.len(), &summary, wall, &device);
    Ok(())
}

/// Arguments of `stog worker` (hidden): one shard of a sweep whose manifest is written, for
/// `stog sweep --jobs N`.
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The sweep's `config.json`.
    #[arg(long)]
    manifest: PathBuf,
    /// The share of the grid to run.
    #[arg(long, value_name = "I/N")]
    shard: Shard,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Finish this shard's folder instead of starting afresh.
    #[arg(long)]
    resume: bool,
    /// The shard's folder.
    #[arg(long)]
    out_dir: PathBuf,
}

/// `stog worker`: runs one shard with one thread, quietly.
pub fn worker(args: WorkerArgs) -> Result<()> {
    tch::set_num_threads(1);
    let manifest: SweepManifest = stog::report::read_json(&args.manifest)?;
    let sweep = Sweep::plan(SweepManifest {
        shard: Some(args.shard),
        ..manifest
    })?;
    prepare_out_dir(&args.out_dir)?;
    sweep.run(
        &args.out_dir,
        args.resume,
        parse_device(&args.device)?,
        &mut |_| ControlFlow::Continue(()),
    )?;
    Ok(())
}

/// Arguments of `stog merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Output folders of the shards of one sweep (`stog sweep --shard I/N`).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where the merged runs.csv, summary.json and figures go.
    #[arg(long)]
    out_dir: PathBuf,
}

/// `stog merge`: combines shard outputs into one sweep, refusing mismatched configs, duplicate
/// or missing runs.
pub fn merge(args: MergeArgs) -> Result<()> {
    let merged = Merged::read(&args.dirs)?;
    for s in &merged.shards {
        eprintln!("stog merge: read {s}");
    }
    let wall = ShardsWallTime::read(&args.dirs)?;
    if !wall.untimed.is_empty() {
        let dirs: Vec<String> = wall
            .untimed
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        eprintln!(
            "wall time unknown: no timing.json in {} (shard folders of an older stog do not record it)",
            dirs.join(", ")
        );
    }
    prepare_out_dir(&args.out_dir)?;
    let device = "merged shards";
    let summary = merged.write(&args.out_dir, wall.seconds, device)?;
    print_frontier(
        &args.out_dir,
        merged.records.len(),
        &summary,
        wall.seconds,
        device,
    );
    Ok(())
}
