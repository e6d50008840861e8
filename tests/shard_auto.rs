//! Sweeps on a cluster engine: `--shard auto` takes the shard index from Slurm's or Kubernetes'
//! variable and the count from `--shards` or `STOG_SHARDS`, with an error naming the variable when
//! one is missing or wrong; a resume refuses a shard folder made with another count; a shard's log
//! says which shard runs and its chunks done, the merge which shards it read. The job files of
//! examples/slurm run by plain bash and the commands of examples/kubernetes run as the pods would
//! (a dry run: no cluster), a restarted pod resuming; the merged runs equal one process's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use stog::Error;
use stog::report::{RunRecord, read_runs};
use stog::sweep::{AutoShard, Shard};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stog-shard-auto-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A small grid: stg and ste x 2 lambdas x `seeds` seeds, short fits.
fn grid(seeds: usize) -> String {
    format!(
        "--data data/breast_cancer.csv --splits data/splits_breast_cancer.csv --gates stg,ste \
         --lambdas 0,0.1 --seeds {seeds} --epochs 20 --patience 5 --warmup 5"
    )
}

/// A command with none of the scheduler's variables set (the test may run inside a job) and the
/// stog under test first on PATH.
fn command(program: &str) -> Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_stog")).parent().unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    let mut cmd = Command::new(program);
    cmd.env("PATH", std::env::join_paths(paths).unwrap())
        .env("OMP_NUM_THREADS", "1");
    for name in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "STOG_SHARDS"] {
        cmd.env_remove(name);
    }
    cmd
}

/// `stog sweep` of `grid` with `extra` flags and `env` into `out`.
fn sweep(grid: &str, extra: &[&str], env: &[(&str, &str)], out: &Path) -> Output {
    command(env!("CARGO_BIN_EXE_stog"))
        .arg("sweep")
        .args(grid.split_whitespace())
        .args(["--device", "auto", "--threads", "1"])
        .args(extra)
        .envs(env.iter().copied())
        .arg("--out-dir")
        .arg(out)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The runs of `dir/runs.csv` without their timing, the only field allowed to differ.
fn runs(dir: &Path) -> Vec<RunRecord> {
    let (mut runs, torn) = read_runs(&dir.join("runs.csv")).unwrap();
    assert!(!torn, "{}", dir.display());
    for r in &mut runs {
        r.fit_seconds = 0.0;
    }
    runs
}

/// The runs of `grid` swept by one process.
fn one_process(grid: &str, name: &str) -> Vec<RunRecord> {
    let out = tmp(name);
    let o = sweep(grid, &["--jobs", "1", "--quiet"], &[], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = runs(&out);
    let _ = std::fs::remove_dir_all(out);
    r
}

fn auto(count: Option<usize>, vars: &[(&str, &str)]) -> stog::Result<AutoShard> {
    AutoShard::from_vars(count, |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

fn refused(r: stog::Result<AutoShard>) -> String {
    match r {
        Err(Error::SchedulerShard(m)) => m,
        r => panic!("expected SchedulerShard, got {r:?}"),
    }
}

#[test]
fn auto_shards_come_from_either_schedulers_index_and_an_explicit_count() {
    let slurm = auto(None, &[("SLURM_ARRAY_TASK_ID", "2"), ("STOG_SHARDS", "4")]).unwrap();
    assert_eq!(slurm.shard, Shard::new(2, 4).unwrap());
    assert_eq!(
        (slurm.index_from, slurm.count_from),
        ("SLURM_ARRAY_TASK_ID", Some("STOG_SHARDS"))
    );
    // A Kubernetes Indexed Job's pod; a count given wins over STOG_SHARDS.
    let k8s = auto(
        Some(8),
        &[("JOB_COMPLETION_INDEX", "7"), ("STOG_SHARDS", "3")],
    )
    .unwrap();
    assert_eq!(k8s.shard, Shard::new(7, 8).unwrap());
    assert_eq!(
        (k8s.index_from, k8s.count_from),
        ("JOB_COMPLETION_INDEX", None)
    );
    // Both set and equal is one index; the size of the submission is never read.
    let both = auto(
        None,
        &[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("JOB_COMPLETION_INDEX", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("STOG_SHARDS", " 4 "),
        ],
    )
    .unwrap();
    assert_eq!(both.shard, Shard::new(2, 4).unwrap());

    // The errors name what is wrong.
    let m = refused(auto(Some(4), &[("SLURM_ARRAY_TASK_ID", "")]));
    assert!(
        m.contains("no task index") && m.contains("JOB_COMPLETION_INDEX"),
        "{m}"
    );
    let m = refused(auto(
        None,
        &[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ],
    ));
    assert!(
        m.contains("no shard count") && m.contains("STOG_SHARDS"),
        "{m}"
    );
    let m = refused(auto(
        None,
        &[("JOB_COMPLETION_INDEX", "8"), ("STOG_SHARDS", "8")],
    ));
    assert!(
        m.contains("JOB_COMPLETION_INDEX=8 is out of range for 8 shards"),
        "{m}"
    );
    let m = refused(auto(Some(4), &[("SLURM_ARRAY_TASK_ID", "4")]));
    assert!(
        m.contains("SLURM_ARRAY_TASK_ID=4 is out of range for 4 shards"),
        "{m}"
    );
    let m = refused(auto(Some(0), &[("SLURM_ARRAY_TASK_ID", "0")]));
    assert!(m.contains("0 shards: need at least 1"), "{m}");
    let m = refused(auto(
        None,
        &[("SLURM_ARRAY_TASK_ID", "1"), ("STOG_SHARDS", "four")],
    ));
    assert!(
        m.contains("STOG_SHARDS=`four` is not a whole number"),
        "{m}"
    );
    let m = refused(auto(Some(4), &[("SLURM_ARRAY_TASK_ID", "-1")]));
    assert!(m.contains("SLURM_ARRAY_TASK_ID=`-1`"), "{m}");
    let m = refused(auto(
        Some(4),
        &[("SLURM_ARRAY_TASK_ID", "1"), ("JOB_COMPLETION_INDEX", "2")],
    ));
    assert!(
        m.contains("SLURM_ARRAY_TASK_ID=1 and JOB_COMPLETION_INDEX=2 disagree"),
        "{m}"
    );
}

#[test]
fn shard_auto_logs_its_chunks_refuses_another_count_and_merges_to_one_process() {
    let grid = grid(2);
    let whole = one_process(&grid, "whole");
    assert_eq!(whole.len(), 2 * 2 * 2);
    let (s0, s1, merged) = (tmp("s0"), tmp("s1"), tmp("merged"));

    // Task 1 of a Slurm array: 2 of the 4 chunks (gate x seed), 2 runs each, one log line each.
    let slurm = [("SLURM_ARRAY_TASK_ID", "1"), ("STOG_SHARDS", "2")];
    let o = sweep(&grid, &["--shard", "auto", "--resume"], &slurm, &s1);
    let log = stderr(&o);
    assert!(o.status.success(), "{log}");
    for line in [
        "stog sweep: shard 1/2 (SLURM_ARRAY_TASK_ID=1, STOG_SHARDS=2) into",
        ": 0 of its 2 chunks done, 2 to run (4 runs)",
        "shard 1/2: chunk 1/2 done (stg seed 1)",
        "shard 1/2: chunk 2/2 done (ste seed 1)",
        "shard 1/2: finished, 2/2 chunks, 4 runs in",
    ] {
        assert!(log.contains(line), "missing `{line}` in\n{log}");
    }
    // Resubmitted with the same count it has nothing left; with another it is refused, untouched.
    let o = sweep(&grid, &["--shard", "auto", "--resume"], &slurm, &s1);
    assert!(
        stderr(&o).contains("2 of its 2 chunks done, 0 to run"),
        "{}",
        stderr(&o)
    );
    let before = std::fs::read(s1.join("runs.csv")).unwrap();
    let three = [("SLURM_ARRAY_TASK_ID", "1"), ("STOG_SHARDS", "3")];
    let o = sweep(&grid, &["--shard", "auto", "--resume"], &three, &s1);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("was made for shard 1/2, this run is shard 1/3"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(s1.join("runs.csv")).unwrap(), before);
    // So is a whole-grid resume of a shard folder.
    let o = sweep(&grid, &["--jobs", "1", "--resume"], &[], &s1);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("made for shard 1/2, this run is the whole grid"));

    // Pod 0 of a Kubernetes Indexed Job; --shards wins over STOG_SHARDS.
    let k8s = [("JOB_COMPLETION_INDEX", "0"), ("STOG_SHARDS", "5")];
    let o = sweep(&grid, &["--shard", "auto", "--shards", "2"], &k8s, &s0);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("shard 0/2 (JOB_COMPLETION_INDEX=0, --shards 2)"),
        "{}",
        stderr(&o)
    );

    // The merge names each shard with its runs and gives the one-process sweep.
    let merge = |dirs: &[&PathBuf]| {
        command(env!("CARGO_BIN_EXE_stog"))
            .arg("merge")
            .args(dirs)
            .arg("--out-dir")
            .arg(&merged)
            .output()
            .unwrap()
    };
    let o = merge(&[&s0, &s1]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (s, dir) in [("0/2", &s0), ("1/2", &s1)] {
        let line = format!("stog merge: read shard {s} ({}): 4 runs", dir.display());
        assert!(
            stderr(&o).contains(&line),
            "missing `{line}` in\n{}",
            stderr(&o)
        );
    }
    assert_eq!(runs(&merged), whole);
    let o = merge(&[&s1]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("shard 0/2 missing: the folders given hold 1 of 2 shards"),
        "{}",
        stderr(&o)
    );

    // Errors of --shard auto, exit status 2, naming the variable.
    let no_index = sweep(&grid, &["--shard", "auto", "--shards", "2"], &[], &s0);
    assert_eq!(no_index.status.code(), Some(2));
    assert!(stderr(&no_index).contains("neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX"));
    let late = [("SLURM_ARRAY_TASK_ID", "2"), ("STOG_SHARDS", "2")];
    let o = sweep(&grid, &["--shard", "auto"], &late, &s0);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("SLURM_ARRAY_TASK_ID=2 is out of range for 2 shards"));
    let o = sweep(&grid, &["--shard", "0/2", "--shards", "2"], &[], &s0);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--shards 2 goes with --shard auto"));
    for d in [s0, s1, merged] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn the_slurm_job_files_run_by_plain_bash_as_a_one_task_array() {
    let grid = grid(2);
    let out = tmp("slurm");
    let bash = |file: &str, env: &[(&str, &str)]| {
        command("bash")
            .arg(file)
            .env("STOG_OUT", &out)
            .env("STOG_GRID", &grid)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let o = bash("examples/slurm/sweep.sbatch", &[]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("submit as a job array"),
        "{}",
        stderr(&o)
    );

    let one = [("SLURM_ARRAY_TASK_ID", "0"), ("STOG_SHARDS", "1")];
    let o = bash("examples/slurm/sweep.sbatch", &one);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("shard 0/1: finished, 4/4 chunks, 8 runs"));
    let o = bash("examples/slurm/merge.sbatch", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(runs(&out), one_process(&grid, "slurm-whole"));
    // The same folder resubmitted as a task of a 4-shard array is refused.
    let o = bash(
        "examples/slurm/sweep.sbatch",
        &[("SLURM_ARRAY_TASK_ID", "0"), ("STOG_SHARDS", "4")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("was made for shard 0/1, this run is shard 0/4"));
    let _ = std::fs::remove_dir_all(out);
}

/// The lines of the block scalar after `args:` / `- |` in a manifest, dedented.
fn manifest_script(yaml: &str) -> String {
    let lines: Vec<&str> = yaml.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let start = lines
        .iter()
        .position(|l| l.trim() == "- |")
        .expect("an args block `- |`");
    let body: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > indent(lines[start]))
        .copied()
        .collect();
    let cut = body.iter().map(|l| indent(l)).min().unwrap_or(0);
    body.iter()
        .map(|l| l.get(cut..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The number after `key:` in a manifest (a comment after it allowed).
fn manifest_number(yaml: &str, key: &str) -> usize {
    let line = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key}"));
    line.split('#').next().unwrap().trim().parse().unwrap()
}

/// The value of the environment variable `name` in a manifest's `{ name: N, value: V }` lines.
fn manifest_env(yaml: &str, name: &str) -> String {
    let line = yaml
        .lines()
        .find(|l| l.contains(&format!("name: {name},")))
        .unwrap_or_else(|| panic!("no env {name}"));
    let value = line.split("value:").nth(1).unwrap();
    value
        .trim()
        .trim_end_matches('}')
        .trim()
        .trim_matches('"')
        .to_string()
}

#[test]
fn the_kubernetes_commands_dry_run_as_pods_with_a_restart_and_merge_to_one_process() {
    let sweep_yaml = std::fs::read_to_string("examples/kubernetes/sweep-job.yaml").unwrap();
    let merge_yaml = std::fs::read_to_string("examples/kubernetes/merge-job.yaml").unwrap();
    let pods = manifest_number(&sweep_yaml, "completions");
    assert_eq!(manifest_env(&sweep_yaml, "STOG_SHARDS"), pods.to_string());
    assert!(sweep_yaml.contains("completionMode: Indexed"));
    // The manifests' STOG_OUT is on the shared volume; here it is a local folder.
    assert_eq!(
        manifest_env(&sweep_yaml, "STOG_OUT"),
        manifest_env(&merge_yaml, "STOG_OUT")
    );
    let out = tmp("k8s");
    let grid = grid(pods);
    let pod = |script: &str, index: Option<usize>| {
        let mut cmd = command("sh");
        cmd.args(["-c", script])
            .env("STOG_SHARDS", pods.to_string())
            .env("STOG_OUT", &out)
            .env("STOG_GRID", &grid);
        if let Some(i) = index {
            cmd.env("JOB_COMPLETION_INDEX", i.to_string());
        }
        cmd.output().unwrap()
    };
    let shard_script = manifest_script(&sweep_yaml);
    for i in 0..pods {
        let o = pod(&shard_script, Some(i));
        assert!(o.status.success(), "pod {i}: {}", stderr(&o));
        let done = format!("shard {i}/{pods}: finished, 2/2 chunks, 4 runs");
        assert!(stderr(&o).contains(&done), "{}", stderr(&o));
    }
    // Pod 3 died after its first chunk, mid-write, and was restarted with the same index.
    let runs_csv = out.join("shards/3/runs.csv");
    let text = std::fs::read_to_string(&runs_csv).unwrap();
    let kept: Vec<&str> = text.lines().take(1 + 2).collect();
    std::fs::write(&runs_csv, kept.join("\n") + "\nste,0.1,").unwrap();
    let o = pod(&shard_script, Some(3));
    assert!(o.status.success(), "{}", stderr(&o));
    for line in [
        "resuming: 2 finished runs kept (a torn last line was dropped)",
        &format!("shard 3/{pods}: chunk 2/2 done"),
    ] {
        assert!(
            stderr(&o).contains(line),
            "missing `{line}` in\n{}",
            stderr(&o)
        );
    }
    let o = pod(&manifest_script(&merge_yaml), None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("stog merge: read shard").count(), pods);
    assert_eq!(runs(&out), one_process(&grid, "k8s-whole"));
    let _ = std::fs::remove_dir_all(out);
}
