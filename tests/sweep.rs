//! `stog sweep`: the files it writes, and that shards, worker processes and a resume after
//! SIGKILL all give exactly the runs of one uninterrupted sweep.

mod common;

use common::stog;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    common::tmp("sweep", name)
}

const GRID: [&str; 18] = [
    "--data",
    "data/breast_cancer.csv",
    "--splits",
    "data/splits_breast_cancer.csv",
    "--gates",
    "stg,ste",
    "--lambdas",
    "0,0.01,0.1",
    "--seeds",
    "3",
    "--epochs",
    "40",
    "--patience",
    "10",
    "--device",
    "cpu",
    "--threads",
    "1",
];

fn sweep(extra: &[&str], out: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_stog"))
        .env("OMP_NUM_THREADS", "1")
        .arg("sweep")
        .args(GRID)
        .args(extra)
        .arg("--quiet")
        .arg("--out-dir")
        .arg(out)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr),
    )
}

/// runs.csv without the timing column, which is the only one allowed to differ.
fn runs_without_time(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let t = header.iter().position(|h| *h == "fit_seconds").unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != t)
                .map(|(_, v)| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// The sweep of `GRID` run once by one process, shared by the tests that compare other ways of
/// running it: its folder, its output and its runs.
struct Reference {
    dir: PathBuf,
    text: String,
    runs: Vec<String>,
}

fn reference() -> &'static Reference {
    static REFERENCE: std::sync::OnceLock<Reference> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(|| {
        let dir = tmp("reference");
        let (code, text) = sweep(&["--jobs", "1"], &dir);
        assert_eq!(code, 0, "{text}");
        let runs = runs_without_time(&dir);
        Reference { dir, text, runs }
    })
}

/// The two shards (0/2 and 1/2) of the sweep of `GRID`, run once.
fn shards() -> &'static (PathBuf, PathBuf) {
    static SHARDS: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    SHARDS.get_or_init(|| {
        let (s0, s1) = (tmp("s0"), tmp("s1"));
        assert_eq!(sweep(&["--shard", "0/2"], &s0).0, 0);
        assert_eq!(sweep(&["--shard", "1/2"], &s1).0, 0);
        (s0, s1)
    })
}

fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_sweep_writes_runs_summary_figures_and_a_table() {
    let base = reference();
    let csv = std::fs::read_to_string(base.dir.join("runs.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for col in [
        "gate",
        "lambda",
        "seed",
        "placement",
        "n_selected",
        "units_kept",
        "units_total",
        "val_accuracy",
        "test_accuracy",
        "val_loss",
        "test_loss",
        "epochs",
        "best_epoch",
        "fit_seconds",
        "selected",
    ] {
        assert!(header.split(',').any(|h| h == col), "missing column {col}");
    }
    assert_eq!(base.runs.len(), 2 * 3 * 3);
    let summary = json(base.dir.join("summary.json"));
    let frontier = summary["summary"]["frontier"].as_array().unwrap();
    assert_eq!(frontier.len(), 3 * 5, "stg, ste and any at five budgets");
    for fig in ["lambda_panels.svg", "frontier.svg"] {
        assert!(
            std::fs::read_to_string(base.dir.join(fig))
                .unwrap()
                .contains("<svg")
        );
    }
    assert!(base.text.contains("| stg |"), "{}", base.text);
}

#[test]
fn the_same_sweep_again_gives_bit_identical_runs_and_resuming_it_changes_nothing() {
    let again = tmp("again");
    assert_eq!(sweep(&["--jobs", "1"], &again).0, 0);
    assert_eq!(runs_without_time(&again), reference().runs);
    // Resumed with the default job count: the single-process layout is kept.
    let (code, text) = sweep(&["--resume"], &again);
    assert_eq!(code, 0, "{text}");
    assert_eq!(runs_without_time(&again), reference().runs);
    let _ = std::fs::remove_dir_all(again);
}

#[test]
fn worker_processes_give_the_runs_of_one_process_and_resuming_changes_nothing() {
    let jobs = tmp("jobs");
    let (code, text) = sweep(&["--jobs", "2"], &jobs);
    assert_eq!(code, 0, "{text}");
    assert_eq!(runs_without_time(&jobs), reference().runs);
    let (code, text) = sweep(&["--resume"], &jobs);
    assert_eq!(code, 0, "{text}");
    assert_eq!(runs_without_time(&jobs), reference().runs);
    let _ = std::fs::remove_dir_all(jobs);
}

#[test]
fn two_shards_merge_into_the_runs_of_one_sweep() {
    let (s0, s1) = shards();
    let merged = tmp("merged");
    let (code, text) = stog(&[
        "merge",
        s0.to_str().unwrap(),
        s1.to_str().unwrap(),
        "--out-dir",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(runs_without_time(&merged), reference().runs);
    for dir in [s0, s1] {
        let t = json(dir.join("timing.json"));
        assert!(t["finished_unix"].as_f64().unwrap() >= t["started_unix"].as_f64().unwrap());
    }
    let _ = std::fs::remove_dir_all(merged);
}

/// The merged wall time spans the shards' own runs: from the first start to the last end (not
/// the sum of the fit times), and is unknown (null) when a shard did not record it.
#[test]
fn a_merge_reports_the_wall_time_from_the_first_shard_start_to_the_last_end() {
    let (s0, s1) = shards();
    // Copies, whose timing.json this test rewrites.
    let copy = |from: &Path, name: &str| {
        let to = tmp(name);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
            }
        }
        to
    };
    let (c0, c1) = (copy(s0, "timed-s0"), copy(s1, "timed-s1"));
    let merge = |out: &str| {
        let out = tmp(out);
        let (code, text) = stog(&[
            "merge",
            c0.to_str().unwrap(),
            c1.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{text}");
        let wall = json(out.join("summary.json"))["wall_seconds"].clone();
        let _ = std::fs::remove_dir_all(out);
        wall
    };
    std::fs::write(
        c0.join("timing.json"),
        r#"{"started_unix": 100.0, "finished_unix": 110.0}"#,
    )
    .unwrap();
    std::fs::write(
        c1.join("timing.json"),
        r#"{"started_unix": 105.0, "finished_unix": 130.0}"#,
    )
    .unwrap();
    assert_eq!(merge("timed"), serde_json::json!(30.0));
    std::fs::remove_file(c1.join("timing.json")).unwrap();
    assert!(merge("untimed").is_null());
    for d in [c0, c1] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_merge_with_runs_missing_or_repeated_is_refused() {
    let (s0, s1) = shards();
    let (s0, s1) = (s0.to_str().unwrap(), s1.to_str().unwrap());
    let half = tmp("half");
    let (code, text) = stog(&["merge", s0, "--out-dir", half.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(text.contains("missing"), "{text}");
    let dup = tmp("dup");
    let (code, text) = stog(&["merge", s0, s0, s1, "--out-dir", dup.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(text.contains("twice"), "{text}");
}

#[test]
fn a_sweep_killed_part_way_and_resumed_gives_the_runs_of_one_sweep() {
    let killed = tmp("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stog"))
        .env("OMP_NUM_THREADS", "1")
        .arg("sweep")
        .args(GRID)
        .args(["--jobs", "1", "--quiet", "--out-dir"])
        .arg(&killed)
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        let lines =
            std::fs::read_to_string(killed.join("runs.csv")).map_or(0, |t| t.lines().count());
        if lines > 1 + 3 || start.elapsed().as_secs() > 120 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Simulate a write torn by the crash.
    std::fs::OpenOptions::new()
        .append(true)
        .open(killed.join("runs.csv"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"stg,0.1,2,inp"))
        .unwrap();
    let (code, text) = sweep(&["--jobs", "1", "--resume"], &killed);
    assert_eq!(code, 0, "{text}");
    assert_eq!(runs_without_time(&killed), reference().runs);
    let _ = std::fs::remove_dir_all(killed);
}

#[test]
fn a_resume_with_another_config_is_refused_naming_the_difference() {
    let dir = reference().dir.to_str().unwrap();
    let mut args = vec!["sweep"];
    args.extend(GRID);
    args.extend(["--jobs", "1", "--resume", "--warmup", "5"]);
    args.extend(["--quiet", "--out-dir", dir]);
    let (code, text) = stog(&args);
    assert_eq!(code, 2);
    assert!(text.contains("warmup_epochs: 30 -> 5"), "{text}");
}

#[test]
fn a_grid_with_a_repeated_lambda_is_refused() {
    let out = tmp("dup-lambda");
    let (code, text) = stog(&[
        "sweep",
        "--data",
        "data/wine.csv",
        "--lambdas",
        "0.1,0.1",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(text.contains("0.1 appears twice"), "{text}");
}

#[test]
fn a_dynamic_sweep_reports_the_multiply_adds_rows_execute() {
    let out = tmp("dynamic");
    let run = |gates: &str| {
        Command::new(env!("CARGO_BIN_EXE_stog"))
            .env("OMP_NUM_THREADS", "1")
            .args(["sweep", "--data", "data/breast_cancer.csv", "--splits"])
            .args([
                "data/splits_breast_cancer.csv",
                "--gates",
                gates,
                "--placement",
            ])
            .args([
                "dynamic",
                "--lambdas",
                "0,0.05",
                "--seeds",
                "1",
                "--epochs",
                "60",
            ])
            .args([
                "--patience",
                "10",
                "--device",
                "cpu",
                "--jobs",
                "1",
                "--threads",
                "1",
            ])
            .args(["--quiet", "--out-dir"])
            .arg(&out)
            .output()
            .unwrap()
    };
    // Dynamic gates are binary concrete: another kind is refused.
    let o = run("stg");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dynamic placement"));
    let o = run("gumbel");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (runs, _) = stog::report::read_runs(&out.join("runs.csv")).unwrap();
    assert_eq!(runs.len(), 2);
    for r in &runs {
        assert_eq!(
            (r.placement.as_str(), r.units_total.as_str()),
            ("dynamic", "64;32")
        );
        assert_eq!(r.n_selected, 30);
    }
    // The penalty makes rows run fewer units: fewer multiply-adds than without it, and than the
    // whole network (4032), gate networks included.
    assert_eq!(runs[1].lambda, 0.05);
    assert!(
        runs[1].macs < runs[0].macs && runs[1].macs < runs[1].macs_full,
        "{} / {} / {}",
        runs[0].macs,
        runs[1].macs,
        runs[1].macs_full
    );
    // A short run, far above the majority class (63 %).
    assert!(runs[1].test_score > 0.85, "{}", runs[1].test_score);
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn seeds_trained_together_give_one_row_per_run() {
    let grouped = tmp("grouped");
    let (code, log) = sweep(&["--seeds-per-chunk", "3", "--jobs", "1"], &grouped);
    assert_eq!(code, 0, "{log}");
    let (runs, _) = stog::report::read_runs(&grouped.join("runs.csv")).unwrap();
    let mut keys: Vec<(String, u64, String)> = runs
        .iter()
        .map(|r| (r.gate.clone(), r.seed, r.lambda.to_string()))
        .collect();
    keys.sort();
    keys.dedup();
    // stg and ste x 3 seeds x 3 lambdas, each once, each fit on its own split.
    assert_eq!((runs.len(), keys.len()), (18, 18));
    // A short run: far above the majority class (63 %) everywhere, better without penalty.
    assert!(
        runs.iter()
            .all(|r| r.failure.is_empty() && r.test_score > 0.75)
    );
    assert!(
        runs.iter()
            .filter(|r| r.lambda == 0.0)
            .all(|r| r.test_score > 0.9)
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(grouped.join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["sweep"]["seeds_per_chunk"], 3, "{config}");
    let _ = std::fs::remove_dir_all(grouped);
}

#[test]
fn gate_settings_reach_the_manifest_and_a_resume_with_other_settings_is_refused() {
    let out = tmp("settings");
    let run = |gates: &[&str], extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--data",
            "data/breast_cancer.csv",
            "--splits",
            "data/splits_breast_cancer.csv",
            "--lambdas",
            "0.1",
            "--seeds",
            "1",
            "--epochs",
            "5",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--jobs",
            "1",
            "--quiet",
        ];
        for g in gates {
            args.extend(["--gate", g]);
        }
        args.extend(extra);
        let o = Command::new(env!("CARGO_BIN_EXE_stog"))
            .env("OMP_NUM_THREADS", "1")
            .args(&args)
            .arg("--out-dir")
            .arg(&out)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, text) = run(&["stg:sigma=0.25", "ste"], &[]);
    assert_eq!(code, 0, "{text}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    let gates = manifest["sweep"]["gates"].as_array().unwrap();
    assert_eq!(gates[0]["kind"], "stg");
    assert_eq!(gates[0]["sigma"], 0.25);
    assert_eq!(gates[1]["kind"], "ste");
    let runs = runs_without_time(&out);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(
        runs[0].starts_with("stg,") && runs[1].starts_with("ste,"),
        "{runs:?}"
    );
    // The manifest holds the settings: resuming with another sigma is another sweep.
    let (code, text) = run(&["stg", "ste"], &["--resume"]);
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("describes another sweep") && text.contains("sigma"),
        "{text}"
    );
    // Two configurations of one kind would give runs of one name: refused.
    let (code, text) = run(&["stg", "stg:sigma=1"], &[]);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("stg appears twice"), "{text}");
    let _ = std::fs::remove_dir_all(&out);
}
