//! The `stog select` contract: files written, keys present, exit codes on bad input, every
//! input format read end to end.

mod common;

use common::{f8, npy, stog};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    common::tmp("cli", name)
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn select_with_a_fixed_lambda_writes_the_contract() {
    let dir = tmp("fixed");
    let d = dir.to_str().unwrap();
    let (code, text) = stog(&[
        "select",
        "--data",
        "data/breast_cancer.csv",
        "--splits",
        "data/splits_breast_cancer.csv",
        "--gate",
        "stg",
        "--lambda",
        "0.05",
        "--epochs",
        "80",
        "--device",
        "cpu",
        "--quiet",
        "--out-dir",
        d,
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(dir.join("config.json").exists() && dir.join("model.safetensors").exists());
    let r = read_json(&dir.join("result.json"));
    assert_eq!(r["task"], "classification");
    assert_eq!(r["gate"], "stg");
    assert_eq!(r["lambda"], 0.05);
    // result.json reads back as the library's type.
    let text = std::fs::read_to_string(dir.join("result.json")).unwrap();
    let typed: stog::selector::SelectReport = serde_json::from_str(&text).unwrap();
    assert_eq!(typed.lambda, 0.05);
    assert_eq!(
        typed.selected_indices.len(),
        r["selected_indices"].as_array().unwrap().len()
    );
    assert!(typed.path.is_none() && typed.metrics.val.is_some());
    // config.json reads back as the library's type: the data as resolved, the params as fitted.
    let config: stog::report::SelectConfigRecord<stog::selector::SelectorParams> =
        stog::report::read_json(&dir.join("config.json")).unwrap();
    assert_eq!(config.command, "select");
    assert_eq!(config.data.target, "target");
    assert_eq!(config.data.task, stog::data::Task::Classification);
    assert_eq!(
        config.params.lambda,
        stog::selector::LambdaChoice::Fixed(0.05)
    );
    assert_eq!(config.params.train.epochs, 80);
    assert_eq!(r["n_features"], 30);
    assert_eq!(r["feature_names"].as_array().unwrap().len(), 30);
    let selected = r["selected"].as_array().unwrap();
    let indices = r["selected_indices"].as_array().unwrap();
    assert_eq!(selected.len(), indices.len());
    assert!(!selected.is_empty() && selected.len() < 30);
    let importance = r["importance"].as_array().unwrap();
    assert_eq!(importance.len(), 30);
    for (j, v) in importance.iter().enumerate() {
        let kept = indices.iter().any(|i| i.as_u64() == Some(j as u64));
        assert_eq!(v.as_f64().unwrap() > 0.0, kept, "feature {j}");
    }
    for part in ["train", "val", "test"] {
        assert!(
            r["metrics"][part]["accuracy"].as_f64().unwrap() > 0.85,
            "{part}"
        );
        assert!(r["metrics"][part]["loss"].as_f64().is_some());
    }
    assert!(r.get("path").is_none());
    // 341 training rows x 30 features: one thread (threads chosen from the work).
    assert_eq!(r["threads"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn select_with_auto_lambda_reports_its_path() {
    let dir = tmp("auto");
    let d = dir.to_str().unwrap();
    let (code, text) = stog(&[
        "select",
        "--data",
        "data/wine.csv",
        "--split",
        "0.6,0.2,0.2",
        "--epochs",
        "60",
        "--max-features",
        "4",
        "--device",
        "cpu",
        "--quiet",
        "--out-dir",
        d,
    ]);
    assert_eq!(code, 0, "{text}");
    let r = read_json(&dir.join("result.json"));
    let path = r["path"].as_array().unwrap();
    assert!(path.len() >= 3);
    assert_eq!(path[0]["lambda"], 0.0);
    let lambda = r["lambda"].as_f64().unwrap();
    let chosen = path
        .iter()
        .find(|p| p["lambda"].as_f64() == Some(lambda))
        .expect("chosen lambda is on the path");
    let n = r["selected"].as_array().unwrap().len();
    // 142 training + validation rows: cross-validated, then refitted on all of them, within the
    // budget; the chosen point's count is the path's (fitted on the training rows).
    assert_eq!(r["fitted_on_train_and_val"], true);
    assert!(r["metrics"]["val"].is_null());
    assert!((1..=4).contains(&chosen["n_selected"].as_u64().unwrap()));
    assert!((1..=4).contains(&n));
    assert!(r["metrics"]["test"]["accuracy"].as_f64().unwrap() > 0.8);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `stog select` of regression `csv` (target `y`) at lambda 0.01 on the CPU with `extra`
/// arguments into `out`; its result.json.
fn select_regression(csv: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "select",
        "--data",
        csv.to_str().unwrap(),
        "--target",
        "y",
        "--task",
        "regression",
        "--lambda",
        "0.01",
        "--device",
        "cpu",
        "--quiet",
        "--out-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, msg) = stog(&args);
    assert_eq!(code, 0, "{msg}");
    read_json(&out.join("result.json"))
}

#[test]
fn regression_reports_r2_and_mse() {
    let dir = tmp("regression");
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("r.csv");
    let mut text = String::from("a,b,c,y\n");
    for i in 0..80 {
        let (a, b, c) = ((i % 7) as f64, (i % 5) as f64 * 0.5, (i % 3) as f64);
        text.push_str(&format!("{a},{b},{c},{}\n", 2.0 * a - b));
    }
    std::fs::write(&csv, text).unwrap();
    let r = select_regression(
        &csv,
        &dir.join("out"),
        &["--epochs", "150", "--batch-size", "0"],
    );
    assert!(
        r["metrics"]["test"]["r2"].as_f64().unwrap() > 0.8,
        "{}",
        r["metrics"]
    );
    assert!(r["metrics"]["test"]["mse"].as_f64().is_some());
    assert!(r.get("ridge_alpha").is_none(), "a network has no ridge fit");
    // A linear model ends with the ridge fit unless told to keep the trained one.
    for (fit, ridge) in [("ridge", true), ("trained", false)] {
        let out = dir.join(fit);
        let args = ["--hidden", "", "--linear-fit", fit, "--epochs", "20"];
        let r = select_regression(&csv, &out, &args);
        assert_eq!(r["ridge_alpha"].as_f64().is_some(), ridge, "{fit}: {r}");
        let config = read_json(&out.join("config.json"));
        assert_eq!(config["params"]["ridge"].as_bool(), Some(ridge));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_exits_2_naming_the_problem_and_writes_no_result() {
    let dir = tmp("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let ragged = dir.join("ragged.csv");
    std::fs::write(&ragged, "a,b,target\n1,2,0\n3,4\n5,6,1\n7,8,0\n").unwrap();
    let nan = dir.join("nan.csv");
    std::fs::write(&nan, "a,b,target\n1,2,0\n3,NaN,1\n5,6,1\n7,8,0\n").unwrap();
    let inf = dir.join("inf.csv");
    std::fs::write(&inf, "a,b,target\n1,2,0\n3,4,1\n5,-inf,1\n7,8,0\n").unwrap();
    let word = dir.join("word.csv");
    std::fs::write(&word, "a,b,target\n1,2,0\nthree,4,1\n5,6,1\n7,8,0\n").unwrap();
    let one_class = dir.join("one.csv");
    std::fs::write(&one_class, "a,b,target\n1,2,0\n3,4,0\n5,6,0\n7,8,0\n").unwrap();
    let header_only = dir.join("header.csv");
    std::fs::write(&header_only, "a,b,target\n").unwrap();
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let tiny = dir.join("tiny.csv");
    std::fs::write(&tiny, "a,b,target\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n").unwrap();
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--data", "no/such/file.csv"], "no/such/file.csv"),
        (vec!["--data", ragged.to_str().unwrap()], "line 3"),
        (vec!["--data", nan.to_str().unwrap()], "column `b`"),
        (vec!["--data", one_class.to_str().unwrap()], "one class"),
        (
            vec!["--data", inf.to_str().unwrap()],
            "line 4, column `b`: `-inf` is not a finite number",
        ),
        (
            vec!["--data", word.to_str().unwrap()],
            "line 3, column `a`: `three` is not a number",
        ),
        (vec!["--data", "data/wine.csv", "--lambda", "nan"], "lambda"),
        (
            vec!["--data", "data/wine.csv", "--target", "label"],
            "no target column `label`",
        ),
        (vec!["--data", "data/wine.csv", "--lambda", "-1"], "lambda"),
        (
            vec!["--data", "data/wine.csv", "--lambda", "abc"],
            "--lambda `abc`",
        ),
        (
            vec!["--data", "data/wine.csv", "--gate", "magic"],
            "possible values: stg, ste, gumbel, correlated, hard-concrete, l1",
        ),
        (
            vec!["--data", "data/wine.csv", "--threads", "two"],
            "`threads` `two`: expected auto, 0 or a number of threads",
        ),
        (
            vec!["--data", "data/wine.csv", "--split", "0.5,0.2,0.2"],
            "sum to",
        ),
        (
            vec!["--data", "data/wine.csv", "--device", "tpu"],
            "unknown device",
        ),
        (
            vec![
                "--data",
                "data/wine.csv",
                "--out-dir",
                "/proc/stog-not-writable",
            ],
            "--out-dir",
        ),
    ];
    for (args, needle) in cases {
        let mut full = vec!["select", "--epochs", "2"];
        full.extend(&args);
        for (flag, value) in [("--device", "cpu"), ("--out-dir", o)] {
            if !args.contains(&flag) {
                full.extend([flag, value]);
            }
        }
        let (code, text) = stog(&full);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(text.contains(needle), "{args:?}: {text}");
        // The cause is said once (the error chain used to repeat the OS message).
        assert!(text.matches("os error").count() <= 1, "{args:?}: {text}");
        assert!(!out.join("result.json").exists(), "{args:?} wrote a result");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn constant_and_duplicated_columns_are_handled_by_every_gate() {
    // Wine with a constant column and a copy of `alcohol` appended.
    let dir = tmp("degenerate");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string("data/wine.csv").unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .replace(",target", ",constant,alcohol_copy,target");
    let mut csv = header + "\n";
    for line in lines {
        let (features, target) = line.rsplit_once(',').unwrap();
        let alcohol = features.split(',').next().unwrap();
        csv.push_str(&format!("{features},7,{alcohol},{target}\n"));
    }
    let path = dir.join("wine_degenerate.csv");
    std::fs::write(&path, csv).unwrap();
    for gate in ["correlated", "stg"] {
        let out = dir.join(gate);
        let (code, text) = stog(&[
            "select",
            "--data",
            path.to_str().unwrap(),
            "--gate",
            gate,
            "--lambda",
            "0.02",
            "--epochs",
            "60",
            "--device",
            "cpu",
            "--quiet",
            "--out-dir",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{gate}: {text}");
        let r = read_json(&out.join("result.json"));
        assert!(
            r["metrics"]["test"]["accuracy"].as_f64().unwrap() > 0.8,
            "{gate}"
        );
        assert_eq!(r["n_features"], 15);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rows_without_a_target_and_an_unlabeled_file_feed_pretraining() {
    let dir = tmp("unlabeled");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string("data/wine.csv").unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Blank the target of every third data row.
    for (i, line) in lines.iter_mut().enumerate().skip(1) {
        if i % 3 == 0 {
            let (features, _) = line.rsplit_once(',').unwrap();
            *line = format!("{features},");
        }
    }
    let data = dir.join("partly_labeled.csv");
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let extra = dir.join("extra.csv");
    std::fs::write(
        &extra,
        text.lines().take(21).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let out = dir.join("out");
    let (code, msg) = stog(&[
        "select",
        "--data",
        data.to_str().unwrap(),
        "--unlabeled",
        extra.to_str().unwrap(),
        "--pretrain-epochs",
        "20",
        "--lambda",
        "0.02",
        "--epochs",
        "60",
        "--device",
        "cpu",
        "--quiet",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{msg}");
    let r = read_json(&out.join("result.json"));
    assert_eq!(r["unlabeled_rows"], 59 + 20);
    assert!(r["metrics"]["test"]["accuracy"].as_f64().unwrap() > 0.8);
    let config = read_json(&out.join("config.json"));
    assert_eq!(config["params"]["pretrain"]["epochs"], 20);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_lists_the_gate_kinds_and_placements_and_every_fitting_command_has_quiet_and_threads() {
    for (command, values) in [
        (
            "select",
            vec!["stg", "ste", "gumbel", "correlated", "hard-concrete", "l1"],
        ),
        ("script", vec!["hard-concrete", "input:", "inside:"]),
        ("sweep", vec!["hard-concrete", "hidden:", "dynamic:"]),
    ] {
        let (code, text) = stog(&[command, "--help"]);
        assert_eq!(code, 0, "{text}");
        for v in values {
            assert!(text.contains(v), "{command} --help lacks {v}: {text}");
        }
        for flag in ["--quiet", "--threads"] {
            assert!(text.contains(flag), "{command} --help lacks {flag}");
        }
    }
    let (code, text) = stog(&["script", "--placement", "middle", "--model", "m.pt"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("possible values: input, inside"), "{text}");
}

#[test]
fn select_takes_the_threads_it_is_given() {
    let dir = tmp("threads");
    let (code, text) = stog(&[
        "select",
        "--data",
        "data/wine.csv",
        "--lambda",
        "0.05",
        "--epochs",
        "3",
        "--threads",
        "2",
        "--device",
        "cpu",
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("device cpu (2 threads)"), "{text}");
    assert_eq!(read_json(&dir.join("result.json"))["threads"], 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_gate_setting_on_the_command_line_reaches_the_saved_gate() {
    use stog::gates::GateConfig;
    let dir = tmp("sigma");
    let d = dir.to_str().unwrap();
    let (code, text) = stog(&[
        "select",
        "--data",
        "data/wine.csv",
        "--gate",
        "stg:sigma=0.25",
        "--lambda",
        "0.05",
        "--hidden",
        "8",
        "--epochs",
        "10",
        "--device",
        "cpu",
        "--quiet",
        "--out-dir",
        d,
    ]);
    assert_eq!(code, 0, "{text}");
    let r = read_json(&dir.join("result.json"));
    assert_eq!(r["gate"], "stg");
    assert_eq!(r["gate_config"]["sigma"], 0.25);
    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["params"]["gate"]["kind"], "stg");
    assert_eq!(config["params"]["gate"]["sigma"], 0.25);
    // The saved network records the gate it was fitted with (its values are folded into the
    // pruned first layer).
    let fitted = stog::selector::FittedSelector::load(&dir, tch::Device::Cpu).unwrap();
    match fitted.info.network.input_gate {
        Some(GateConfig::Stg(c)) => assert_eq!(c.sigma, 0.25),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_gate_setting_names_the_key_and_exits_2() {
    for (spec, want) in [
        ("stg:sgma=0.5", "unknown key `sgma`"),
        ("stg:sigma=zero", "`sigma=zero`"),
        ("hard-concrete:beta=0", "`beta` must be positive"),
    ] {
        let (code, text) = stog(&[
            "select",
            "--data",
            "data/wine.csv",
            "--gate",
            spec,
            "--out-dir",
            "unused",
        ]);
        assert_eq!(code, 2, "{text}");
        assert!(text.contains(want), "{spec}: {text}");
    }
}

/// `stog select` on a Parquet file and on a `.npy` file with sidecar names: 120 rows, the label
/// set by the first of four features.
#[test]
fn select_reads_parquet_and_npy_end_to_end() {
    let dir = tmp("formats");
    std::fs::create_dir_all(&dir).unwrap();
    let mut seed = 12345u64;
    let mut uniform = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let n = 120;
    let rows: Vec<[f64; 5]> = (0..n)
        .map(|_| {
            let f = [uniform(), uniform(), uniform(), uniform()];
            [f[0], f[1], f[2], f[3], f64::from(u8::from(f[0] > 0.0))]
        })
        .collect();
    let m: Vec<f64> = rows.iter().flatten().copied().collect();
    let pq = dir.join("tiny.parquet");
    let names: Vec<String> = ["f0", "f1", "f2", "f3", "target"]
        .map(String::from)
        .to_vec();
    let values = stog::ndarray::ArrayView2::from_shape((n, 5), &m).unwrap();
    stog::data::write_columns(&pq, &names, values).unwrap();
    let np = dir.join("tiny.npy");
    std::fs::write(&np, npy("<f8", false, &[n, 5], &f8(&m))).unwrap();
    std::fs::write(dir.join("tiny.npy.names"), "f0\nf1\nf2\nf3\nlabel\n").unwrap();
    for (data, target) in [(&pq, None), (&np, Some("-1"))] {
        let out = dir.join(format!(
            "out-{}",
            data.extension().unwrap().to_str().unwrap()
        ));
        let mut args = vec!["select", "--data", data.to_str().unwrap()];
        args.extend(target.iter().flat_map(|t| ["--target", t]));
        args.extend(["--gate", "stg", "--lambda", "0.05", "--epochs", "40"]);
        args.extend([
            "--device",
            "cpu",
            "--quiet",
            "--out-dir",
            out.to_str().unwrap(),
        ]);
        let (code, text) = stog(&args);
        assert_eq!(code, 0, "{}: {text}", data.display());
        let r = read_json(&out.join("result.json"));
        assert_eq!(r["n_features"], 4, "{}", data.display());
        assert_eq!(
            r["feature_names"],
            serde_json::json!(["f0", "f1", "f2", "f3"])
        );
        // The target recorded is the one read: given, or the format's default.
        let config = read_json(&out.join("config.json"));
        assert_eq!(config["data"]["target"], target.unwrap_or("target"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
