//! `stog sweep`, `stog merge` and the hidden `stog worker`: arguments mapped onto the library's
//! [`stog::sweep::Sweep`] (which writes config.json, runs.csv flushed per chunk, summary.json and
//! SVG figures), worker processes spawned and merged, progress shown.

use crate::common::prepare_out_dir;
pub use crate::sweep_args::SweepArgs;
use crate::sweep_args::{manifest, resolve_shard};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use stog::report::{RUNS, RunRecord, runs_written};
use stog::sweep::{
    FolderLayout, MANIFEST, Merged, Progress, Shard, ShardsWallTime, Sweep, SweepManifest,
    frontier_table, worker_dir,
};
use stog::train::{device_name, parse_device};

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
    let jobs = worker_count(&args, &sweep, shard, device)?;
    let groups = sweep.groups().len();
    if shard.is_none() && jobs > 1 && groups > 1 {
        return run_workers(&args, &sweep, jobs.min(groups));
    }
    prepare_out_dir(out)?;
    let start = std::time::Instant::now();
    // A shard (a cluster task, its output a log file) reports one line per chunk, not a bar.
    let log = resolved
        .filter(|_| !args.quiet)
        .map(|(s, from)| ShardLog::new(&sweep, s, from, start));
    let mut shown = Shown {
        quiet: args.quiet,
        out,
        device,
        bar: progress_bar(args.quiet || log.is_some(), 0, "runs")?,
        log,
    };
    let records = sweep.run(out, args.resume, device, &mut |p| shown.progress(p))?;
    shown.bar.finish_and_clear();
    if shard.is_some() {
        if let Some(log) = &shown.log {
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

/// The worker processes to run (`--jobs`, 0: one per core on CPU), after checking that a resume
/// finishes the same sweep: a resume keeps the layout of the interrupted sweep, as many workers
/// as it had shard folders, or one process when it ran in one.
fn worker_count(
    args: &SweepArgs,
    sweep: &Sweep,
    shard: Option<Shard>,
    device: tch::Device,
) -> Result<usize> {
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
    Ok(match FolderLayout::of(out)? {
        FolderLayout::Workers(n) if args.resume && shard.is_none() => n,
        FolderLayout::OneProcess if args.resume => 1,
        _ => jobs,
    })
}

/// What a sweep in this process shows as it runs: a progress bar, or a shard's log lines.
struct Shown<'a> {
    quiet: bool,
    out: &'a Path,
    device: tch::Device,
    bar: indicatif::ProgressBar,
    log: Option<ShardLog>,
}

impl Shown<'_> {
    /// Shows one step of the sweep; never stops it.
    fn progress(&mut self, p: Progress) -> ControlFlow<()> {
        match p {
            Progress::Planned {
                runs,
                groups,
                members,
                resumed,
            } => {
                if !self.quiet {
                    if let Some(r) = resumed {
                        let torn = if r.torn {
                            " (a torn last line was dropped)"
                        } else {
                            ""
                        };
                        eprintln!("resuming: {} finished runs kept{torn}", r.kept);
                    }
                    match &mut self.log {
                        Some(log) => log.planned(runs, self.out),
                        None => eprintln!(
                            "stog sweep: {runs} runs in {groups} chunks of up to {members} members, device {}",
                            device_name(self.device)
                        ),
                    }
                }
                self.bar.set_length(runs as u64);
            }
            Progress::Training { gate, seeds } => {
                let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
                self.bar
                    .set_message(format!("{gate} seed {}", seeds.join(",")));
            }
            Progress::Finished { records } => {
                self.bar.inc(records.len() as u64);
                if let Some(log) = &mut self.log {
                    log.finished(records);
                }
            }
        }
        ControlFlow::Continue(())
    }
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
