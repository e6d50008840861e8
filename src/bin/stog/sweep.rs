//! `stog sweep`: gate kinds x lambdas x seeds as batched ensembles; writes config.json, runs.csv
//! (a row per run, flushed per chunk), summary.json and SVG figures.

use crate::common::{DataArgs, parse_sizes, prepare_out_dir};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use stog::data::{Split, Table, Task};
use stog::gates::GateKind;
use stog::report::{RunsWriter, read_runs, write_json, write_sweep_outputs};
use stog::sweep::{Chunk, Placement, RunRecord, SweepConfig, frontier_table, run_group};
use stog::train::{device_name, parse_device};

/// Arguments of `stog sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Gate kinds, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "stg,ste,gumbel,correlated,hard-concrete,l1"
    )]
    gates: Vec<GateKind>,
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
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
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

/// A sweep ready to run: its config, data and splits.
struct Plan {
    config: SweepConfig,
    table: Table,
    splits: Vec<Split>,
    /// What `config.json` holds (besides the shard), compared on resume and merge.
    identity: Value,
}

fn plan(args: &SweepArgs) -> Result<Plan> {
    let gates = args.gates.clone();
    let lambdas: Vec<f64> = parse_list("lambdas", &args.lambdas)?;
    let placement = args.placement;
    let (table, _) = args.data.load()?;
    let seeds: Vec<u64> = match &args.data.splits {
        Some(path) => Split::seeds_in_file(path)?
            .into_iter()
            .take(args.seeds as usize)
            .collect(),
        None => (0..args.seeds).collect(),
    };
    if seeds.len() < args.seeds as usize {
        bail!(
            "--seeds {}: the split file has only {} seeds",
            args.seeds,
            seeds.len()
        );
    }
    let mut config = SweepConfig::report(gates, lambdas, 0, placement);
    config.seeds = seeds;
    config.hidden = parse_sizes(&args.hidden)?;
    config.bottleneck = args.bottleneck;
    config.dropout = [0.3, 0.2]
        .into_iter()
        .chain(std::iter::repeat(0.2))
        .take(config.hidden.len())
        .collect();
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
        0 if parse_device(&args.data.device)? == tch::Device::Cpu => 1,
        0 => config.seeds.len().max(1),
        k => k,
    };
    config.validate()?;
    let fractions = crate::common::parse_fractions(&args.data.split)?;
    let splits: Vec<Split> = config
        .seeds
        .iter()
        .map(|s| match &args.data.splits {
            Some(path) => Split::from_file(path, *s, table.n_rows()),
            None => Split::of(&table, fractions, *s),
        })
        .collect::<Result<_, _>>()?;
    let mut data = serde_json::to_value(args.data.resolved()?)?;
    data["device"] = Value::Null; // results do not depend on where they ran
    let identity = json!({ "command": "sweep", "data": data, "sweep": config });
    Ok(Plan {
        config,
        table,
        splits,
        identity,
    })
}

/// Parses `I/N` with 0 <= I < N.
fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let (i, n) = s
        .split_once('/')
        .with_context(|| format!("--shard `{s}`: expected I/N"))?;
    let (i, n): (usize, usize) = (
        i.trim()
            .parse()
            .with_context(|| format!("--shard `{s}`: I is not a number"))?,
        n.trim()
            .parse()
            .with_context(|| format!("--shard `{s}`: N is not a number"))?,
    );
    if n == 0 || i >= n {
        bail!("--shard `{s}`: need 0 <= I < N");
    }
    Ok((i, n))
}

/// Paths where two JSON values differ, as `path: stored -> new` lines.
fn differences(stored: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    match (stored, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                differences(
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        _ if stored != new => out.push(format!(
            "{}: {stored} -> {new}",
            path.trim_start_matches('.')
        )),
        _ => {}
    }
}

/// The stored `config.json` of a sweep folder, without its shard.
fn read_identity(dir: &Path) -> Result<Value> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let mut stored: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    if let Some(o) = stored.as_object_mut() {
        o.remove("shard");
    }
    Ok(stored)
}

/// Refuses when the stored `config.json` of `dir` describes another sweep.
fn check_same_sweep(dir: &Path, identity: &Value) -> Result<()> {
    let path = dir.join("config.json");
    let stored = read_identity(dir)?;
    let mut diff = Vec::new();
    differences(&stored, identity, "", &mut diff);
    if !diff.is_empty() {
        bail!(
            "{} describes another sweep:\n  {}",
            path.display(),
            diff.join("\n  ")
        );
    }
    Ok(())
}

/// The finished runs of a group of chunks among `records`, when all of them are there.
fn complete_group(
    config: &SweepConfig,
    group: &[Chunk],
    records: &[RunRecord],
) -> Option<Vec<RunRecord>> {
    let rows: Option<Vec<Vec<RunRecord>>> = group
        .iter()
        .map(|c| complete_chunk(config, c, records))
        .collect();
    rows.map(|r| r.concat())
}

/// The finished runs of `chunk` among `records`, when all its lambdas are there.
fn complete_chunk(
    config: &SweepConfig,
    chunk: &Chunk,
    records: &[RunRecord],
) -> Option<Vec<RunRecord>> {
    let rows: Vec<RunRecord> = config
        .lambdas
        .iter()
        .filter_map(|l| {
            records
                .iter()
                .find(|r| r.gate == chunk.gate.name() && r.seed == chunk.seed && r.lambda == *l)
                .cloned()
        })
        .collect();
    (rows.len() == config.lambdas.len()).then_some(rows)
}

pub fn run(args: SweepArgs) -> Result<()> {
    if args.threads > 0 {
        tch::set_num_threads(args.threads as i32);
    }
    let device = parse_device(&args.data.device)?;
    let plan = plan(&args)?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let jobs = match args.jobs {
        0 if device == tch::Device::Cpu => {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
        0 => 1,
        j => j,
    };
    if args.resume && args.out_dir.join("config.json").exists() {
        check_same_sweep(&args.out_dir, &plan.identity)?;
    }
    // A resume keeps the layout of the interrupted sweep: as many workers as it had shard
    // folders, or one process when it ran in one.
    let jobs = match std::fs::read_dir(args.out_dir.join("shards")) {
        Ok(dirs) if args.resume && shard.is_none() => dirs.count().max(1),
        Err(_) if args.resume && args.out_dir.join("runs.csv").exists() => 1,
        _ => jobs,
    };
    let groups = plan.config.groups();
    if shard.is_none() && jobs > 1 && groups.len() > 1 {
        return run_workers(&args, &plan, jobs.min(groups.len()));
    }
    let mine: Vec<Vec<Chunk>> = groups
        .into_iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|(s, n)| i % n == s))
        .map(|(_, g)| g)
        .collect();
    let out = &args.out_dir;
    let classification = plan.table.task == Task::Classification;
    let runs_path = out.join("runs.csv");
    let mut done: Vec<RunRecord> = Vec::new();
    let mut writer = if args.resume && runs_path.exists() {
        check_same_sweep(out, &plan.identity)?;
        let (old, torn) = read_runs(&runs_path)?;
        // Keep whole groups only, in order, and rewrite the file with them.
        done = mine
            .iter()
            .filter_map(|g| complete_group(&plan.config, g, &old))
            .flatten()
            .collect();
        let mut w = RunsWriter::create(&runs_path, classification)?;
        w.append(&done)?;
        if !args.quiet {
            eprintln!(
                "resuming: {} finished runs kept{}",
                done.len(),
                if torn {
                    " (a torn last line was dropped)"
                } else {
                    ""
                }
            );
        }
        w
    } else {
        prepare_out_dir(out)?;
        let mut config_json = plan.identity.clone();
        config_json["shard"] = json!(args.shard);
        write_json(&out.join("config.json"), &config_json)?;
        RunsWriter::create(&runs_path, classification)?
    };
    let todo: Vec<Vec<Chunk>> = mine
        .into_iter()
        .filter(|g| complete_group(&plan.config, g, &done).is_none())
        .collect();
    if !args.quiet {
        let runs: usize = todo
            .iter()
            .map(|g| g.len() * plan.config.lambdas.len())
            .sum();
        eprintln!(
            "stog sweep: {runs} runs in {} chunks of up to {} members, device {}",
            todo.len(),
            plan.config.seeds_per_chunk * plan.config.lambdas.len(),
            device_name(device)
        );
    }
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new((todo.len() * plan.config.train.epochs) as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} epochs {msg}",
        )
        .context("progress style")?,
    );
    let start = std::time::Instant::now();
    let started = unix_seconds()?;
    for group in &todo {
        let seeds: Vec<String> = group.iter().map(|c| c.seed.to_string()).collect();
        bar.set_message(format!("{} seed {}", group[0].gate, seeds.join(",")));
        let splits: Vec<&Split> = group
            .iter()
            .map(|c| {
                &plan.splits[plan
                    .config
                    .seeds
                    .iter()
                    .position(|s| *s == c.seed)
                    .unwrap_or(0)]
            })
            .collect();
        let rows = run_group(
            &plan.config,
            group,
            &plan.table,
            &splits,
            device,
            Some(&bar),
        )?;
        writer.append(&rows)?;
        done.extend(rows);
    }
    bar.finish_and_clear();
    if shard.is_some() {
        // For `stog merge`: the sweep's wall time spans its shards' own.
        let timing = ShardTiming {
            started_unix: started,
            finished_unix: unix_seconds()?,
        };
        return Ok(write_json(&out.join(TIMING), &timing)?);
    }
    finish(
        out,
        &plan.config,
        classification,
        &done,
        Some(start.elapsed().as_secs_f64()),
        &device_name(device),
    )
}

/// The file in which a shard records when it ran.
const TIMING: &str = "timing.json";

/// When a shard ran (seconds since the Unix epoch), written to `timing.json` of its folder.
#[derive(serde::Serialize, serde::Deserialize)]
struct ShardTiming {
    started_unix: f64,
    finished_unix: f64,
}

fn unix_seconds() -> Result<f64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs_f64())
}

/// The wall time of a sweep run as the shards in `dirs`: from the first shard's start to the
/// last one's end; `None` (with the folders named on stderr) when a shard has no `timing.json`.
fn merged_wall_seconds(dirs: &[PathBuf]) -> Result<Option<f64>> {
    let mut spans = Vec::new();
    let mut missing = Vec::new();
    for dir in dirs {
        let path = dir.join(TIMING);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let t: ShardTiming = serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a shard timing", path.display()))?;
                spans.push((t.started_unix, t.finished_unix));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing.push(dir.display().to_string())
            }
            Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "wall time unknown: no {TIMING} in {} (shard folders of an older stog do not record it)",
            missing.join(", ")
        );
        return Ok(None);
    }
    let first = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let last = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    Ok(Some(last - first))
}

/// Writes summary and figures and prints the frontier.
fn finish(
    out: &Path,
    config: &SweepConfig,
    classification: bool,
    records: &[RunRecord],
    wall: Option<f64>,
    device: &str,
) -> Result<()> {
    let summary = write_sweep_outputs(
        out,
        records,
        config.placement,
        config.hidden.len(),
        classification,
        wall,
        device,
    )?;
    match wall {
        Some(wall) => println!("{} runs in {wall:.1} s ({device})", records.len()),
        None => println!("{} runs, wall time unknown ({device})", records.len()),
    }
    println!("{}", frontier_table(&summary));
    println!("wrote {}", out.display());
    Ok(())
}

/// Runs the grid as `jobs` worker processes (one shard each, one thread each) and merges them.
fn run_workers(args: &SweepArgs, plan: &Plan, jobs: usize) -> Result<()> {
    let out = &args.out_dir;
    prepare_out_dir(out)?;
    write_json(&out.join("config.json"), &plan.identity)?;
    let exe = std::env::current_exe().context("cannot find the stog executable")?;
    let passed = forwarded_args();
    let start = std::time::Instant::now();
    let shard_dirs: Vec<PathBuf> = (0..jobs)
        .map(|i| out.join("shards").join(i.to_string()))
        .collect();
    let mut children = Vec::new();
    for (i, dir) in shard_dirs.iter().enumerate() {
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("sweep")
            .args(&passed)
            .arg("--shard")
            .arg(format!("{i}/{jobs}"))
            .args(["--jobs", "1", "--threads", "1", "--quiet", "--out-dir"])
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
    let total = plan.config.chunks().len() * plan.config.lambdas.len();
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(total as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} runs ({msg})",
        )
        .context("progress style")?,
    );
    bar.set_message(format!("{jobs} worker processes"));
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
        let finished: usize = shard_dirs
            .iter()
            .map(|d| {
                std::fs::read_to_string(d.join("runs.csv"))
                    .map_or(0, |t| t.lines().count().saturating_sub(1))
            })
            .sum();
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
    let records = merge_dirs(&shard_dirs, &plan.config, &plan.identity)?;
    let mut writer = RunsWriter::create(
        &out.join("runs.csv"),
        plan.table.task == Task::Classification,
    )?;
    writer.append(&records)?;
    let device = format!("cpu ({jobs} processes x 1 thread)");
    finish(
        out,
        &plan.config,
        plan.table.task == Task::Classification,
        &records,
        Some(start.elapsed().as_secs_f64()),
        &device,
    )
}

/// The arguments of this invocation minus those a worker gets its own value of.
fn forwarded_args() -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in std::env::args().skip(2) {
        if skip {
            skip = false;
            continue;
        }
        let name = a.split('=').next().unwrap_or("");
        match name {
            "--out-dir" | "--jobs" | "--threads" | "--shard" => skip = !a.contains('='),
            "--quiet" | "--resume" => {}
            _ => out.push(a),
        }
    }
    out
}

/// Reads shard folders of one sweep and returns all its runs in grid order; refuses other
/// sweeps, duplicates and missing runs.
fn merge_dirs(dirs: &[PathBuf], config: &SweepConfig, identity: &Value) -> Result<Vec<RunRecord>> {
    let mut all: Vec<RunRecord> = Vec::new();
    for dir in dirs {
        check_same_sweep(dir, identity)?;
        let (records, torn) = read_runs(&dir.join("runs.csv"))?;
        if torn {
            bail!(
                "{}: the last line is torn; finish that shard with --resume",
                dir.join("runs.csv").display()
            );
        }
        for r in records {
            if all
                .iter()
                .any(|o| o.gate == r.gate && o.seed == r.seed && o.lambda == r.lambda)
            {
                bail!(
                    "{}: run gate {} lambda {} seed {} appears twice",
                    dir.display(),
                    r.gate,
                    r.lambda,
                    r.seed
                );
            }
            all.push(r);
        }
    }
    let mut ordered = Vec::new();
    for chunk in config.chunks() {
        match complete_chunk(config, &chunk, &all) {
            Some(rows) => ordered.extend(rows),
            None => bail!(
                "runs of gate {} seed {} are missing",
                chunk.gate,
                chunk.seed
            ),
        }
    }
    if ordered.len() != all.len() {
        bail!(
            "{} runs are not part of this sweep's grid",
            all.len() - ordered.len()
        );
    }
    Ok(ordered)
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
    let path = args.dirs[0].join("config.json");
    let identity = read_identity(&args.dirs[0])?;
    let config: SweepConfig = serde_json::from_value(identity["sweep"].clone())
        .with_context(|| format!("{}: not a sweep config", path.display()))?;
    let records = merge_dirs(&args.dirs, &config, &identity)?;
    let runs = args.dirs[0].join("runs.csv");
    let header = std::fs::read_to_string(&runs)
        .with_context(|| format!("{}: cannot read", runs.display()))?;
    let classification = header
        .lines()
        .next()
        .is_some_and(|h| h.contains("val_accuracy"));
    prepare_out_dir(&args.out_dir)?;
    write_json(&args.out_dir.join("config.json"), &identity)?;
    RunsWriter::create(&args.out_dir.join("runs.csv"), classification)?.append(&records)?;
    let wall = merged_wall_seconds(&args.dirs)?;
    finish(
        &args.out_dir,
        &config,
        classification,
        &records,
        wall,
        "merged shards",
    )
}
