//! The sweep engine through the library API: a sweep stopped part-way and resumed (with a torn
//! last line) repeats no run and loses none; two shards merged equal the unsharded sweep; every
//! file a sweep writes reads back into its type; a resume into another sweep's folder names the
//! differing fields; dropout and shards are checked.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use stog::Error;
use stog::data::Task;
use stog::gates::GateKind;
use stog::report::{
    RunRecord, SHARD_TIMING, ShardTiming, SweepSummary, read_json, read_runs,
    runs_are_classification,
};
use stog::sweep::{
    Chunk, Merged, Placement, Progress, Shard, ShardsWallTime, SplitSource, Sweep, SweepConfig,
    SweepData, SweepManifest, finished_chunk, finished_group,
};
use tch::Device;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stog-sweep-api-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// 90 rows, 4 features, label `x0 + x1 > 0`.
fn data_file(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("data.csv");
    let mut text = String::from("x0,x1,x2,x3,target\n");
    for i in 0..90u32 {
        let v = |k: u32| (((i * 37 + k * 11) % 29) as f64 - 14.0) / 7.0;
        let y = u8::from(v(0) + v(1) > 0.0);
        text += &format!("{},{},{},{},{y}\n", v(0), v(1), v(2), v(3));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn manifest(data: PathBuf, shard: Option<Shard>) -> SweepManifest {
    let mut sweep = SweepConfig::paper_sweep(
        vec![GateKind::Stg, GateKind::Ste],
        vec![0.0, 0.1],
        3,
        Placement::Input,
    );
    sweep.hidden = vec![8];
    sweep.dropout = vec![0.0];
    sweep.train.epochs = 4;
    sweep.train.patience = 4;
    sweep.train.warmup_epochs = 1;
    SweepManifest {
        data: SweepData {
            data,
            target: "target".into(),
            feature_names: None,
            task: Task::Classification,
            split: SplitSource::Fractions([0.6, 0.2, 0.2]),
        },
        sweep,
        shard,
    }
}

/// Runs without their timing, the only field allowed to differ between runs of one sweep.
fn untimed(mut runs: Vec<RunRecord>) -> Vec<RunRecord> {
    for r in &mut runs {
        r.fit_seconds = 0.0;
    }
    runs
}

fn go(_: Progress) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

#[test]
fn a_sweep_resumes_shards_and_merges_through_the_library() {
    tch::set_num_threads(1);
    let root = tmp("root");
    let data = data_file(&root);
    let whole = Sweep::plan(manifest(data.clone(), None)).unwrap();
    assert_eq!(
        whole.groups().len(),
        6,
        "2 gates x 3 seeds, one seed per group"
    );

    // The whole sweep in one go; its files read back into their types.
    let full = root.join("full");
    let runs = untimed(whole.run(&full, false, Device::Cpu, &mut go).unwrap());
    assert_eq!(runs.len(), 12);
    let summary = whole
        .manifest()
        .write_outputs(&full, &runs, Some(1.5), "cpu")
        .unwrap();
    assert_eq!(&SweepManifest::read(&full).unwrap(), whole.manifest());
    assert_eq!(untimed(read_runs(&full.join("runs.csv")).unwrap().0), runs);
    assert!(runs_are_classification(&full.join("runs.csv")).unwrap());
    let stored: SweepSummary = read_json(&full.join("summary.json")).unwrap();
    assert_eq!(
        (stored.wall_seconds, stored.device.as_str()),
        (Some(1.5), "cpu")
    );
    assert_eq!(stored.summary.cells.len(), summary.cells.len());

    // Stopped after two groups, a torn line added, then resumed: the other four groups train.
    let part = root.join("part");
    let mut finished = 0;
    let first = whole
        .run(&part, false, Device::Cpu, &mut |p| match p {
            Progress::Finished { .. } => {
                finished += 1;
                if finished == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            }
            _ => ControlFlow::Continue(()),
        })
        .unwrap();
    assert_eq!(first.len(), 4);
    std::fs::OpenOptions::new()
        .append(true)
        .open(part.join("runs.csv"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"ste,0.1,2,inp"))
        .unwrap();
    let (mut resumed, mut trained) = (None, Vec::new());
    let all = whole
        .run(&part, true, Device::Cpu, &mut |p| {
            match p {
                Progress::Planned { resumed: r, .. } => resumed = r,
                Progress::Training { gate, seeds } => trained.push((gate, seeds.to_vec())),
                Progress::Finished { .. } => {}
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    let resumed = resumed.expect("a resume reports what it kept");
    assert_eq!((resumed.kept, resumed.torn), (4, true));
    assert_eq!(trained.len(), 4, "no group trained twice: {trained:?}");
    assert_eq!(untimed(all), runs);
    assert_eq!(untimed(read_runs(&part.join("runs.csv")).unwrap().0), runs);

    // Two shards run apart, then merged: the runs of the unsharded sweep, in grid order.
    let dirs: Vec<PathBuf> = (0..2).map(|i| root.join(format!("shard{i}"))).collect();
    for (i, dir) in dirs.iter().enumerate() {
        let shard = Sweep::plan(manifest(data.clone(), Some(Shard::new(i, 2).unwrap()))).unwrap();
        assert_eq!(shard.groups().len(), 3);
        assert_eq!(
            shard.run(dir, false, Device::Cpu, &mut go).unwrap().len(),
            6
        );
        let t: ShardTiming = read_json(&dir.join(SHARD_TIMING)).unwrap();
        assert!(t.finished_unix >= t.started_unix);
        assert_eq!(
            SweepManifest::read(dir).unwrap().shard,
            Some(Shard::new(i, 2).unwrap())
        );
    }
    let merged = Merged::read(&dirs).unwrap();
    assert_eq!(&merged.manifest, whole.manifest());
    assert_eq!(untimed(merged.records.clone()), runs);
    let read: Vec<String> = merged.shards.iter().map(|s| s.to_string()).collect();
    let name = |i: usize| format!("shard {i}/2 ({}): 6 runs", dirs[i].display());
    assert_eq!(read, [name(0), name(1)]);
    assert!(ShardsWallTime::read(&dirs).unwrap().seconds.is_some());
    let out = root.join("merged");
    merged.write(&out, None, "merged shards").unwrap();
    assert_eq!(untimed(read_runs(&out.join("runs.csv")).unwrap().0), runs);
    assert!(runs_are_classification(&out.join("runs.csv")).unwrap());
    let stored: SweepSummary = read_json(&out.join("summary.json")).unwrap();
    assert_eq!(stored.wall_seconds, None);
    // One shard alone is not the sweep: the shard missing is named. A shard twice repeats runs.
    match Merged::read(&dirs[..1]) {
        Err(Error::Merge(m)) => assert!(m.starts_with("shard 1/2 missing"), "{m}"),
        r => panic!(
            "expected a missing shard, got {:?}",
            r.map(|m| m.records.len())
        ),
    }
    match Merged::read(&dirs[1..]) {
        Err(Error::Merge(m)) => assert!(m.starts_with("shard 0/2 missing"), "{m}"),
        r => panic!(
            "expected a missing shard, got {:?}",
            r.map(|m| m.records.len())
        ),
    }
    let twice = [dirs[0].clone(), dirs[0].clone(), dirs[1].clone()];
    assert!(matches!(Merged::read(&twice), Err(Error::Merge(m)) if m.contains("twice")));

    // A resume into another sweep's folder is refused, naming what differs.
    let mut other = manifest(data, None);
    other.sweep.train.epochs = 5;
    let other = Sweep::plan(other).unwrap();
    match other.run(&part, true, Device::Cpu, &mut go) {
        Err(Error::OtherSweep { differences, .. }) => {
            assert_eq!(differences, ["sweep.train.epochs: 4 -> 5"])
        }
        r => panic!("expected OtherSweep, got {:?}", r.map(|v| v.len())),
    }

    // Dropout comes from the config, one per hidden layer; shards are I/N with I < N.
    let mut bad = manifest(root.join("data.csv"), None);
    bad.sweep.dropout = vec![0.1, 0.2];
    assert!(
        matches!(Sweep::plan(bad), Err(Error::InvalidConfig { field, .. }) if field == "dropout")
    );
    assert!("2/2".parse::<Shard>().is_err() && "1/2".parse::<Shard>().is_ok());
    let _ = std::fs::remove_dir_all(root);
}

/// A run of `gate` with `seed` at `lambda`, its other fields arbitrary.
fn record(gate: &str, seed: u64, lambda: f64) -> RunRecord {
    RunRecord {
        gate: gate.into(),
        lambda,
        seed,
        placement: "input".into(),
        n_selected: 1,
        units_kept: "1".into(),
        units_total: "4".into(),
        macs: 10,
        macs_full: 40,
        val_score: 0.5,
        test_score: 0.5,
        val_loss: 0.7,
        test_loss: 0.7,
        epochs: 4,
        best_epoch: 3,
        fit_seconds: 0.1,
        selected: "0".into(),
        failure: String::new(),
    }
}

/// A resume keeps a chunk (one gate and seed over every lambda) only when each of its lambdas
/// has its run; runs of another gate or seed at those lambdas do not count. Its runs come back in
/// the config's lambda order, and a group of chunks is finished only when each chunk is.
#[test]
fn a_chunk_is_finished_only_when_every_lambda_of_it_has_its_run() {
    let config = SweepConfig::paper_sweep(
        vec![GateKind::Stg, GateKind::Ste],
        vec![0.0, 0.1, 0.5],
        2,
        Placement::Input,
    );
    let stg0 = Chunk {
        gate: GateKind::Stg,
        seed: 0,
    };
    let ste1 = Chunk {
        gate: GateKind::Ste,
        seed: 1,
    };
    let key = |rows: &[RunRecord]| -> Vec<(String, u64, f64)> {
        rows.iter()
            .map(|r| (r.gate.clone(), r.seed, r.lambda))
            .collect()
    };
    // stg seed 0 lacks lambda 0.1; ste seed 0 and stg seed 1 have it.
    let mut records = vec![
        record("stg", 0, 0.5),
        record("ste", 0, 0.1),
        record("stg", 1, 0.1),
        record("stg", 0, 0.0),
    ];
    assert_eq!(finished_chunk(&config, &stg0, &records), None);
    records.push(record("stg", 0, 0.1));
    let rows = finished_chunk(&config, &stg0, &records).expect("every lambda has its run");
    let stg0_rows = vec![
        ("stg".to_string(), 0, 0.0),
        ("stg".to_string(), 0, 0.1),
        ("stg".to_string(), 0, 0.5),
    ];
    assert_eq!(key(&rows), stg0_rows);
    // The group waits for its last chunk, then gives the chunks' runs in chunk order.
    records.extend([record("ste", 1, 0.5), record("ste", 1, 0.0)]);
    assert_eq!(finished_group(&config, &[stg0, ste1], &records), None);
    records.push(record("ste", 1, 0.1));
    let group = finished_group(&config, &[stg0, ste1], &records).expect("both chunks finished");
    let mut want = stg0_rows;
    want.extend([0.0, 0.1, 0.5].map(|l| ("ste".to_string(), 1, l)));
    assert_eq!(key(&group), want);
}

/// The wall time of a sweep run as shards spans the first shard's start to the last one's end
/// (not the sum of their times), and is unknown when a shard did not record it.
#[test]
fn the_wall_time_of_shards_spans_the_first_start_to_the_last_end() {
    let root = tmp("wall");
    let dirs: Vec<PathBuf> = (0..3).map(|i| root.join(format!("shard{i}"))).collect();
    let spans = [(105.0, 130.0), (100.0, 110.0), (101.0, 120.0)];
    for (dir, (start, end)) in dirs.iter().zip(spans) {
        std::fs::create_dir_all(dir).unwrap();
        let timing = format!(r#"{{"started_unix": {start}, "finished_unix": {end}}}"#);
        std::fs::write(dir.join(SHARD_TIMING), timing).unwrap();
    }
    let wall = ShardsWallTime::read(&dirs).unwrap();
    assert_eq!((wall.seconds, wall.untimed.len()), (Some(30.0), 0));
    std::fs::remove_file(dirs[2].join(SHARD_TIMING)).unwrap();
    let wall = ShardsWallTime::read(&dirs).unwrap();
    assert_eq!((wall.seconds, wall.untimed), (None, vec![dirs[2].clone()]));
    let _ = std::fs::remove_dir_all(root);
}
