//! Input gates in front of a TorchScript model made by PyTorch in the test run (the setup venv).

mod common;

use common::serial;
use std::path::PathBuf;
use stog::data::{Split, Table, Task};
use stog::gates::GateKind;
use stog::script::{ScriptFitConfig, gated_script};
use stog::train::Prepared;
use tch::{Device, Tensor};

/// Runs a fixture script of tests/fixtures with the setup venv's Python, unless `out` exists.
fn python_fixture(script: &str, out: &std::path::Path, args: &[&std::ffi::OsStr]) {
    if out.exists() {
        return;
    }
    let python = std::env::var("STOG_PYTHON")
        .expect("STOG_PYTHON is set by scripts/setup.sh in .cargo/config.toml");
    let status = std::process::Command::new(python)
        .arg(format!("tests/fixtures/{script}"))
        .arg(out)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "{script} failed");
}

/// The units kept by the first gate layer of a `stog script` result.json.
fn input_gate_selected(r: &serde_json::Value) -> Vec<i64> {
    r["gates"][0]["selected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

/// Runs tests/fixtures/make_script_mlp.py with the setup venv's Python.
/// Made once per test process: tests run in parallel, and a model rewritten while another test
/// reloads it for export would mix two models.
fn fixture() -> (PathBuf, PathBuf) {
    static FIXTURE: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("stog-script-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let (model, data) = (dir.join("mlp.pt"), dir.join("mlp.csv"));
            python_fixture("make_script_mlp.py", &model, &[data.as_os_str()]);
            (model, data)
        })
        .clone()
}

/// The fixture's rows, split 60/20/20 (stratified, `seed`) and standardised.
fn prepared(data: &std::path::Path, seed: u64) -> Prepared {
    let table = Table::from_csv(data, "target", Task::Classification).unwrap();
    let split = Split::of(&table, [0.6, 0.2, 0.2], seed).unwrap();
    Prepared::new(&table, &split, Device::Cpu).unwrap()
}

/// The protocol CNN of `make_script_cnn.py` with STE gates between its stages, and the digits
/// rows (64 pixels reshaped to [1, 8, 8], 10 classes) it reads.
fn digits_cnn_with_ste_gates() -> (Prepared, stog::script::GatedScript) {
    let (mlp, _) = fixture();
    let cnn = mlp.with_file_name("cnn.pt");
    python_fixture("make_script_cnn.py", &cnn, &[]);
    let data = prepared(std::path::Path::new("data/digits.csv"), 0);
    let probe = data.train.x.narrow(0, 0, 4);
    let g = stog::script::gated_stages(&cnn, GateKind::Ste, &probe, Some(&[1, 8, 8]), Device::Cpu)
        .unwrap();
    (data, g)
}

#[test]
fn gates_in_front_of_a_frozen_torchscript_model_find_the_inputs_it_needs() {
    let _serial = serial();
    tch::manual_seed(0);
    let (model, data) = fixture();
    let prepared = prepared(&data, 0);
    let mut g = gated_script(&model, GateKind::Stg, 6, None, Device::Cpu).unwrap();
    let before = g
        .score(Task::Classification, &prepared.test)
        .unwrap()
        .score();
    // Gradients reach the gate through the loaded model.
    let out = g.forward(&prepared.train.x, true).unwrap();
    out.sum(tch::Kind::Float).backward();
    assert!(
        g.gates[0].parameters()[0]
            .grad()
            .abs()
            .sum(tch::Kind::Float)
            .double_value(&[])
            > 0.0
    );
    g.gates[0].parameters()[0].zero_grad();
    // x0 and x1 are needed jointly: the warm-up lets the task loss hold them open.
    g.fit(&prepared, &ScriptFitConfig::default()).unwrap();
    assert_eq!(g.selected().unwrap(), vec![vec![0, 1]]);
    let after = g
        .score(Task::Classification, &prepared.test)
        .unwrap()
        .score();
    assert!(
        after > 0.9 && after >= before - 0.05,
        "test accuracy {before} -> {after}"
    );
}

/// Fits the gates of the 8 + 12-channel CNN fixture with a strong penalty, which closes some.
fn close_some_channels(g: &mut stog::script::GatedScript, data: &Prepared) {
    g.fit(
        data,
        &ScriptFitConfig {
            lambda: 1.0,
            epochs: 60,
            warmup: 5,
            gate_lr: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    let kept: usize = g.selected().unwrap().iter().map(Vec::len).sum();
    assert!(kept < 20, "kept {kept} of 20 channels");
}

#[test]
fn model_errors_name_the_model() {
    let (model, _) = fixture();
    let not_a_model =
        std::env::temp_dir().join(format!("stog-not-a-model-{}.pt", std::process::id()));
    std::fs::write(&not_a_model, b"not a zip file").unwrap();
    let err = gated_script(&not_a_model, GateKind::Stg, 6, None, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not-a-model") && err.contains("not a TorchScript model"),
        "{err}"
    );
    assert!(
        gated_script("no/such/model.pt", GateKind::Stg, 6, None, Device::Cpu)
            .unwrap_err()
            .to_string()
            .contains("no/such/model.pt")
    );
    // Rows of the wrong width: a shape error naming the gate, not a panic.
    let g = gated_script(&model, GateKind::Stg, 6, None, Device::Cpu).unwrap();
    let err = g
        .forward(
            &tch::Tensor::zeros([4, 5], (tch::Kind::Float, Device::Cpu)),
            false,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("5 units"), "{err}");
    assert!(gated_script(&model, GateKind::Stg, 6, Some(&[2, 2, 2]), Device::Cpu).is_err());
}

#[test]
fn stog_script_writes_the_result_and_the_pruned_model() {
    let (model, data) = fixture();
    let out = model.with_file_name("cli-out");
    let run = |m: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stog"))
            .env("OMP_NUM_THREADS", "1")
            .args([
                "script",
                "--model",
                m.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
                "--device",
                "cpu",
                "--out-dir",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let o = run(&model);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    assert_eq!(r["gates"][0]["units_total"], 6);
    assert_eq!(r["gates"][0]["selected"], serde_json::json!([0, 1]));
    assert!(r["metrics"]["test"]["accuracy"].as_f64().unwrap() > 0.9);
    assert!(tch::CModule::load(out.join("pruned.pt")).is_ok());
    // This model exports no macs method: its multiply-adds are unknown.
    assert!(r["macs_before"].is_null() && r["macs_after"].is_null());
    let o = run(&data);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a TorchScript model"));
    // A refit trains the backbone, so it needs --train-backbone.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_stog"))
        .args(["script", "--model", model.to_str().unwrap(), "--data"])
        .args([data.to_str().unwrap(), "--refit-epochs", "3", "--out-dir"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--train-backbone"));
}

#[test]
fn stog_script_lambda_auto_fits_the_grid_and_keeps_the_sparsest_good_point() {
    let (model, data) = fixture();
    let out = model.with_file_name("cli-auto");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_stog"))
        .env("OMP_NUM_THREADS", "1")
        .args(["script", "--model", model.to_str().unwrap(), "--data"])
        .args([
            data.to_str().unwrap(),
            "--device",
            "cpu",
            "--lambda",
            "auto",
        ])
        .args(["--lambdas", "0,0.05,3", "--out-dir", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |p: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let path = read(out.join("path.json"));
    let kept: Vec<i64> = path["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kept"].as_i64().unwrap())
        .collect();
    // Along the warm-started path the kept inputs only shrink: about all 6 without penalty,
    // none with a huge one; the choice keeps the two inputs the label needs and little else.
    assert!(kept.windows(2).all(|w| w[1] <= w[0]), "{kept:?}");
    assert!(kept[0] >= 4 && kept[2] == 0, "{kept:?}");
    assert_eq!(path["chosen_lambda"], 0.05);
    let r = read(out.join("result.json"));
    let selected = input_gate_selected(&r);
    assert!(
        selected.starts_with(&[0, 1]) && selected.len() <= 3,
        "{selected:?}"
    );
    assert!(out.join("lambda_3").join("result.json").exists());
    // Both files read back into their types.
    let typed: stog::report::ScriptPathReport =
        stog::report::read_json(&out.join("path.json")).unwrap();
    assert_eq!(typed.chosen_lambda, Some(0.05));
    assert_eq!(typed.path.len(), 3);
    let typed: stog::report::ScriptReport =
        stog::report::read_json(&out.join("result.json")).unwrap();
    assert_eq!(typed.gates[0].selected, selected);
    // And so does config.json: the grid fitted and the settings given.
    let config: stog::report::ScriptConfigRecord =
        stog::report::read_json(&out.join("config.json")).unwrap();
    assert_eq!(config.command, "script");
    assert_eq!(config.lambda, "auto");
    assert_eq!(config.lambdas, vec![0.0, 0.05, 3.0]);
    assert_eq!(config.placement, "input");
    // The placement is recorded by the name serde gives it.
    for p in [
        stog::script::ScriptPlacement::Input,
        stog::script::ScriptPlacement::Inside,
    ] {
        assert_eq!(serde_json::to_value(p).unwrap(), p.name());
    }
    assert_eq!(config.model, vec![model]);
}

/// Issue 13: an untrained CNN whose label is the XOR of input channels 3 and 11 (of 16). At the
/// defaults the path starts unpenalised, so the backbone learns the XOR before the penalty
/// closes the 14 noise channels (a single fit at lambda 0.05 from epoch 0 closed all 16).
#[test]
fn stog_script_defaults_let_an_untrained_backbone_learn_before_the_penalty_bites() {
    let (mlp, _) = fixture();
    let (model, data) = (mlp.with_file_name("xor.pt"), mlp.with_file_name("xor.csv"));
    python_fixture("make_xor_channels.py", &model, &[data.as_os_str()]);
    // Three seeds of the split and of the gate noise, one process each, one thread each.
    let runs: Vec<_> = (0..3)
        .map(|seed: u64| {
            let (model, data) = (model.clone(), data.clone());
            let out = mlp.with_file_name(format!("cli-xor-{seed}"));
            std::thread::spawn(move || {
                let o = std::process::Command::new(env!("CARGO_BIN_EXE_stog"))
                    .env("OMP_NUM_THREADS", "1")
                    .args(["script", "--model", model.to_str().unwrap(), "--data"])
                    .args([data.to_str().unwrap(), "--input-shape", "16,4,4"])
                    .args(["--train-backbone", "--device", "cpu", "--threads", "1"])
                    .args([
                        "--seed",
                        &seed.to_string(),
                        "--split-seed",
                        &seed.to_string(),
                    ])
                    .args(["--quiet", "--out-dir", out.to_str().unwrap()])
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                let r: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(out.join("result.json")).unwrap(),
                )
                .unwrap();
                let selected = input_gate_selected(&r);
                (selected, r["metrics"]["test"]["accuracy"].as_f64().unwrap())
            })
        })
        .collect();
    let results: Vec<(Vec<i64>, f64)> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    let good = results
        .iter()
        .filter(|(selected, accuracy)| *selected == [3, 11] && *accuracy > 0.85)
        .count();
    assert!(good >= 2, "(selected, test accuracy) per seed: {results:?}");
}

#[test]
fn stog_script_quiet_prints_nothing_and_a_regression_path_has_standard_errors() {
    let (model, data) = fixture();
    let out = model.with_file_name("cli-regression");
    // The 0/1 label read as a regression target (both outputs of the MLP fit it): enough to
    // check that the 1-SE rule gets a real standard error for regression, not 0.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_stog"))
        .args(["script", "--model", model.to_str().unwrap(), "--data"])
        .args([
            data.to_str().unwrap(),
            "--task",
            "regression",
            "--device",
            "cpu",
        ])
        .args(["--lambda", "auto", "--lambdas", "0,0.05", "--epochs", "15"])
        .args([
            "--warmup-epochs",
            "5",
            "--threads",
            "1",
            "--quiet",
            "--out-dir",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let path: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("path.json")).unwrap()).unwrap();
    let points = path["path"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for p in points {
        let se = p["val_score_se"].as_f64().unwrap();
        assert!(se > 0.0 && se.is_finite(), "{p}");
        assert!(p["val"]["r2"].as_f64().is_some(), "{p}");
    }
}

#[test]
fn gates_between_stages_and_through_the_gate_protocol_train_and_name_their_errors() {
    let _serial = serial();
    tch::manual_seed(0);
    let (data, stages) = digits_cnn_with_ste_gates();
    let (mlp, _) = fixture();
    let cnn = mlp.with_file_name("cnn.pt");
    let probe = data.train.x.narrow(0, 0, 4);
    // The CNN exports gate_dims, so the protocol wins over its stage methods.
    assert_eq!(stages.layout, stog::script::Layout::Protocol);
    assert_eq!(
        stages.gates.iter().map(|g| g.units()).collect::<Vec<_>>(),
        vec![8, 12]
    );
    let out = stages.forward(&data.train.x, true).unwrap();
    assert_eq!(out.size(), vec![data.train.len(), 10]);
    out.sum(tch::Kind::Float).backward();
    for g in &stages.gates {
        assert!(
            g.parameters()[0]
                .grad()
                .abs()
                .sum(tch::Kind::Float)
                .double_value(&[])
                > 0.0
        );
    }
    // A strong penalty closes channels inside the model.
    let mut closing =
        stog::script::gated_stages(&cnn, GateKind::Ste, &probe, Some(&[1, 8, 8]), Device::Cpu)
            .unwrap();
    close_some_channels(&mut closing, &data);
    // The model counts its own multiply-adds for given channel counts (9 * 64 * (8 + 8 * 12) +
    // 10 * 12 unpruned).
    assert_eq!(closing.macs(&[8, 12]).unwrap(), Some(60_024));
    assert_eq!(closing.macs(&[2, 3]).unwrap(), Some(4_638));
    // The method counts the model's inside units: for an input gate the count is unknown.
    let input = gated_script(&cnn, GateKind::Stg, 64, Some(&[1, 8, 8]), Device::Cpu).unwrap();
    assert_eq!(input.macs(&[1]).unwrap(), None);
    // The export removes the dropped channels: the layer writing them loses its rows (and bias),
    // the layer reading them its columns; the pruned model computes the gated one.
    let pruned = cnn.with_file_name("cnn_pruned.pt");
    let export = closing.export_pruned(&pruned, &data.val.x).unwrap();
    assert_eq!(
        export.carriers,
        vec![vec!["conv2.weight"], vec!["head.weight"]]
    );
    assert_eq!(
        export.producers,
        vec![Some("conv1.weight".into()), Some("conv2.weight".into())]
    );
    assert_eq!(export.inputs_kept, None);
    let exported = tch::CModule::load(&pruned).unwrap();
    let params: std::collections::HashMap<String, tch::Tensor> =
        exported.named_parameters().unwrap().into_iter().collect();
    // A gate that drops every channel leaves one, read with a zero column.
    let kept: Vec<i64> = closing
        .selected()
        .unwrap()
        .iter()
        .map(|s| (s.len() as i64).max(1))
        .collect();
    assert_eq!(params["conv1.weight"].size(), [kept[0], 1, 3, 3]);
    assert_eq!(params["conv1.bias"].size(), [kept[0]]);
    assert_eq!(params["conv2.weight"].size(), [kept[1], kept[0], 3, 3]);
    assert_eq!(params["conv2.bias"].size(), [kept[1]]);
    assert_eq!(params["head.weight"].size(), [10, kept[1]]);
    let count = |k: &[i64]| 9 * k[0] + k[0] + 9 * k[0] * k[1] + k[1] + 10 * k[1] + 10;
    assert_eq!(export.parameters_before, count(&[8, 12]));
    assert_eq!(export.parameters_after, count(&kept));
    assert!(export.bytes_after < export.bytes_before, "{export:?}");
    let ours = tch::no_grad(|| closing.forward(&data.test.x, false).unwrap());
    let theirs = tch::no_grad(|| {
        exported
            .forward_ts(&[data.test.x.view([-1, 1, 8, 8])])
            .unwrap()
    });
    assert!((ours - theirs).abs().max().double_value(&[]) < 1e-5);
    // Stage methods only: gates go between the three stages, sized by the probe forward.
    let staged = mlp.with_file_name("cnn_stages.pt");
    python_fixture(
        "make_script_cnn.py",
        &staged,
        &[std::ffi::OsStr::new("--stages-only")],
    );
    let s = stog::script::gated_stages(
        &staged,
        GateKind::Stg,
        &probe,
        Some(&[1, 8, 8]),
        Device::Cpu,
    )
    .unwrap();
    assert_eq!(s.layout, stog::script::Layout::Stages(3));
    assert_eq!(
        s.gates.iter().map(|g| g.units()).collect::<Vec<_>>(),
        vec![8, 12]
    );
    assert_eq!(s.forward(&probe, false).unwrap().size(), vec![4, 10]);
    // Without a macs method the multiply-adds are unknown, not an error.
    assert_eq!(s.macs(&[8, 12]).unwrap(), None);
    // gate_dims that do not match what forward_gates multiplies: refused when the gates are
    // built, naming the model and the method.
    let wrong = mlp.with_file_name("cnn_wrong_dims.pt");
    python_fixture(
        "make_script_cnn.py",
        &wrong,
        &[std::ffi::OsStr::new("--wrong-gate-dims")],
    );
    let err =
        stog::script::gated_stages(&wrong, GateKind::Stg, &probe, Some(&[1, 8, 8]), Device::Cpu)
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("cnn_wrong_dims.pt") && err.contains("do its gates match gate_dims"),
        "{err}"
    );
    // A model with neither stages nor the protocol is refused, naming it.
    let err = stog::script::gated_stages(
        &mlp,
        GateKind::Stg,
        &tch::Tensor::zeros([2, 6], (tch::Kind::Float, Device::Cpu)),
        None,
        Device::Cpu,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("mlp.pt") && err.contains("stage0"), "{err}");
}

#[test]
fn a_fine_tuned_backbone_is_what_the_export_contains() {
    let _serial = serial();
    tch::manual_seed(0);
    let (model, data) = fixture();
    let prepared = prepared(&data, 1);
    let mut g = gated_script(&model, GateKind::Stg, 6, None, Device::Cpu).unwrap();
    let first =
        |g: &stog::script::GatedScript| g.modules[0].named_parameters().unwrap()[0].1.copy();
    let before = first(&g);
    g.train_backbone().unwrap();
    g.fit(
        &prepared,
        &ScriptFitConfig {
            epochs: 20,
            warmup: 5,
            backbone_lr: 0.01,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        (first(&g) - before).abs().max().double_value(&[]) > 1e-4,
        "the backbone did not move"
    );
    let pruned = model.with_file_name("pruned_tuned.pt");
    let export = g.export_pruned(&pruned, &prepared.val.x).unwrap();
    // An input gate: the exported model reads the kept columns of the full rows.
    let selected = g.selected().unwrap().remove(0);
    assert_eq!(export.inputs_kept.as_ref(), Some(&selected));
    let exported = tch::CModule::load(&pruned).unwrap();
    let first = &exported.named_parameters().unwrap()[0];
    assert_eq!(
        first.1.size()[1],
        selected.len().max(1) as i64,
        "{}",
        first.0
    );
    let (ours, theirs) = tch::no_grad(|| {
        (
            g.forward(&prepared.test.x, false).unwrap(),
            exported.forward_ts(&[&prepared.test.x]).unwrap(),
        )
    });
    let diff = (&ours - &theirs).abs().max().double_value(&[]);
    let scale = ours.abs().max().double_value(&[]);
    // Equal up to float rounding: (W z) x against W (z x) may differ in the last bits, and this
    // model's logits reach about 77, where one f32 step is 7.6e-6. Two steps at most.
    let ulp = f64::from(f32::EPSILON) * scale.max(1.0);
    assert!(
        diff <= 2.0 * ulp,
        "outputs differ by {diff} (largest output {scale})"
    );
}

#[test]
fn a_refit_trains_the_backbone_under_fixed_gates_and_never_ends_worse() {
    let _serial = serial();
    tch::manual_seed(0);
    let (model, data) = fixture();
    let prepared = prepared(&data, 2);
    let mut g = gated_script(&model, GateKind::Stg, 6, None, Device::Cpu).unwrap();
    let refit = ScriptFitConfig {
        epochs: 10,
        warmup: 0,
        backbone_lr: 0.01,
        refit: true,
        ..Default::default()
    };
    let err = g.fit(&prepared, &refit).unwrap_err().to_string();
    assert!(err.contains("train_backbone"), "{err}");
    g.train_backbone().unwrap();
    g.fit(
        &prepared,
        &ScriptFitConfig {
            epochs: 30,
            warmup: 5,
            ..Default::default()
        },
    )
    .unwrap();
    let gate = g.gates[0].parameters()[0].copy();
    let selected = g.selected().unwrap();
    let backbone = g.modules[0].named_parameters().unwrap()[0].1.copy();
    let val_loss = |g: &stog::script::GatedScript| {
        g.score(Task::Classification, &prepared.val).unwrap().loss()
    };
    let before = val_loss(&g);
    let best_epoch = g.fit(&prepared, &refit).unwrap();
    let moved = |a: &tch::Tensor, b: &tch::Tensor| (a - b).abs().max().double_value(&[]);
    assert_eq!(moved(&g.gates[0].parameters()[0], &gate), 0.0);
    assert_eq!(g.selected().unwrap(), selected);
    assert!(val_loss(&g) <= before, "{} > {before}", val_loss(&g));
    // The backbone moved exactly when a refit epoch beat the starting state.
    let backbone_moved = moved(&g.modules[0].named_parameters().unwrap()[0].1, &backbone) > 0.0;
    assert_eq!(backbone_moved, best_epoch > 0, "best epoch {best_epoch}");
}

#[test]
fn a_non_finite_loss_in_a_script_fit_is_a_typed_error_that_names_its_seed() {
    let _serial = serial();
    tch::manual_seed(0);
    let (model, data) = fixture();
    let mut prepared = prepared(&data, 0);
    prepared.train.x = prepared.train.x.copy();
    let _ = prepared.train.x.get(0).get(0).fill_(f64::NAN);
    let mut g = gated_script(&model, GateKind::Stg, 6, None, Device::Cpu).unwrap();
    let config = ScriptFitConfig {
        epochs: 3,
        warmup: 0,
        seed: 7,
        ..Default::default()
    };
    match g.fit(&prepared, &config).unwrap_err() {
        stog::Error::NonFinite {
            gate, seed, epoch, ..
        } => assert_eq!((gate.as_str(), seed, epoch), ("stg", 7, 1)),
        other => panic!("not a non-finite loss error: {other}"),
    }
}

#[test]
fn gates_between_stage_files_export_one_pruned_file_per_stage() {
    let _serial = serial();
    tch::manual_seed(0);
    let (mlp, _) = fixture();
    let dir = mlp.with_file_name("cnn_stage_files");
    python_fixture(
        "make_script_cnn.py",
        &dir,
        &[std::ffi::OsStr::new("--stage-files")],
    );
    let files: Vec<PathBuf> = (0..3).map(|k| dir.join(format!("stage{k}.pt"))).collect();
    let data = prepared(std::path::Path::new("data/digits.csv"), 0);
    let probe = data.train.x.narrow(0, 0, 4);
    let shape: &[i64] = &[1, 8, 8];
    let mut g =
        stog::script::gated_stage_files(&files, GateKind::Ste, &probe, Some(shape), Device::Cpu)
            .unwrap();
    assert_eq!(g.layout, stog::script::Layout::StageFiles);
    assert_eq!(
        g.gates.iter().map(|gate| gate.units()).collect::<Vec<_>>(),
        vec![8, 12]
    );
    close_some_channels(&mut g, &data);
    // Each gate is carried by the first layer of the next stage; one pruned file per stage.
    let out = dir.join("pruned.pt");
    let export = g.export_pruned(&out, &data.val.x).unwrap();
    assert_eq!(
        export.carriers,
        vec![
            vec!["stage1.pt:conv2.weight"],
            vec!["stage2.pt:head.weight"]
        ]
    );
    assert_eq!(
        export.producers,
        vec![
            Some("stage0.pt:conv1.weight".into()),
            Some("stage1.pt:conv2.weight".into())
        ]
    );
    assert!(export.parameters_after < export.parameters_before);
    let written = g.export_paths(&out);
    let names: Vec<_> = written.iter().map(|p| p.file_name().unwrap()).collect();
    assert_eq!(
        names,
        ["pruned_stage0.pt", "pruned_stage1.pt", "pruned_stage2.pt"]
    );
    let mut h = data.test.x.view([-1, 1, 8, 8]);
    for file in &written {
        h = tch::no_grad(|| tch::CModule::load(file).unwrap().forward_ts(&[&h]).unwrap());
    }
    let ours = tch::no_grad(|| g.forward(&data.test.x, false).unwrap());
    assert!((ours - h).abs().max().double_value(&[]) < 1e-5);
    // Stage files in the wrong order fail in the probe forward, naming the file.
    let swapped = [files[1].clone(), files[0].clone(), files[2].clone()];
    let err =
        stog::script::gated_stage_files(&swapped, GateKind::Stg, &probe, Some(shape), Device::Cpu)
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("stage1.pt") && err.contains("forward"),
        "{err}"
    );
    let err = stog::script::gated_stage_files(
        &files[..1],
        GateKind::Stg,
        &probe,
        Some(shape),
        Device::Cpu,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("at least two"), "{err}");
}

#[test]
fn every_gate_kind_trains_in_front_of_between_stages_and_through_the_protocol() {
    let _serial = serial();
    tch::manual_seed(0);
    let (mlp, mlp_data) = fixture();
    let cnn = mlp.with_file_name("cnn.pt");
    python_fixture("make_script_cnn.py", &cnn, &[]);
    let staged = mlp.with_file_name("cnn_stages.pt");
    python_fixture(
        "make_script_cnn.py",
        &staged,
        &[std::ffi::OsStr::new("--stages-only")],
    );
    let features = prepared(&mlp_data, 0).train.x.narrow(0, 0, 16);
    let images = prepared(std::path::Path::new("data/digits.csv"), 0)
        .train
        .x
        .narrow(0, 0, 16);
    let shape: &[i64] = &[1, 8, 8];
    for kind in GateKind::ALL {
        let layouts = [
            (
                gated_script(&mlp, kind, 6, None, Device::Cpu).unwrap(),
                &features,
            ),
            (
                stog::script::gated_stages(&staged, kind, &images, Some(shape), Device::Cpu)
                    .unwrap(),
                &images,
            ),
            (
                stog::script::gated_stages(&cnn, kind, &images, Some(shape), Device::Cpu).unwrap(),
                &images,
            ),
        ];
        for (g, rows) in layouts {
            // A few noisy passes: a gate clamped at 1 by one draw has no gradient in that pass.
            for _ in 0..3 {
                let out = g.forward(rows, true).unwrap();
                assert_eq!(out.size()[0], 16, "{kind} {:?}", g.layout);
                out.log_softmax(-1, tch::Kind::Float)
                    .select(1, 0)
                    .sum(tch::Kind::Float)
                    .backward();
            }
            for gate in &g.gates {
                let grad = gate.parameters()[0]
                    .grad()
                    .abs()
                    .sum(tch::Kind::Float)
                    .double_value(&[]);
                assert!(
                    grad.is_finite() && grad > 0.0,
                    "{kind} {:?}: gradient {grad}",
                    g.layout
                );
            }
        }
    }
}

/// Issue 15: a fitted point scored by the library, as `stog script` writes it: the report's
/// kept units are the gates' selection, pruning lowers the multiply-adds the model counts, the
/// path's entry agrees with the report, and the point's files copy up.
#[test]
fn a_scored_point_reports_the_selection_the_multiply_adds_and_its_files() {
    let _serial = serial();
    tch::manual_seed(0);
    let (mlp, _) = fixture();
    let (data, mut g) = digits_cnn_with_ste_gates();
    close_some_channels(&mut g, &data);
    let dir = mlp.with_file_name("point-lambda-1");
    std::fs::create_dir_all(&dir).unwrap();
    let stog::script::ScriptPoint { report, point } = g.point_report(&data, 1.0, 7, &dir).unwrap();
    let selected = g.selected().unwrap();
    assert_eq!((report.lambda, report.best_epoch), (1.0, 7));
    assert_eq!(
        report
            .gates
            .iter()
            .map(|r| (r.name.as_str(), r.units_total, r.selected.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("gate0", 8, selected[0].clone()),
            ("gate1", 12, selected[1].clone())
        ]
    );
    let kept: Vec<i64> = selected.iter().map(|s| s.len() as i64).collect();
    assert_eq!(point.kept as i64, kept.iter().sum::<i64>());
    // The model's own count: 9 * 64 * (8 + 8 * 12) + 10 * 12 unpruned, fewer once gates close.
    assert_eq!(report.macs_before, Some(60_024));
    assert_eq!(
        report.macs_after,
        Some(9 * 64 * (kept[0] + kept[0] * kept[1]) + 10 * kept[1])
    );
    assert!(report.macs_after < report.macs_before, "{report:?}");
    assert_eq!(point.macs, report.macs_after);
    // The protocol CNN's gates go straight into conv2 and the head: it exports.
    let export = report.pruned.as_ref().expect("exported");
    assert_eq!(
        export.carriers,
        vec![vec!["conv2.weight"], vec!["head.weight"]]
    );
    assert!(export.parameters_after < export.parameters_before);
    assert_eq!(report.not_exported, None);
    assert!(dir.join(stog::script::PRUNED_FILE).exists());
    // The path's entry: the report's scores, and the smoothed binomial standard error of the
    // validation accuracy.
    let val = g.score(Task::Classification, &data.val).unwrap();
    assert_eq!(
        (point.lambda, point.val, point.test),
        (1.0, val, report.metrics.test)
    );
    assert_eq!(report.metrics.val, val);
    let se = stog::train::accuracy_se(val.score(), data.val.len() as usize);
    assert!(
        se > 0.0 && (point.val_score_se - se).abs() < 1e-12,
        "{point:?}"
    );
    // The test rows: one line per row, the rows as the model sees them and its 10 outputs.
    g.write_test_rows(&data.test.x, &dir).unwrap();
    let lines = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let outputs = lines(stog::script::TEST_OUTPUTS_FILE);
    assert_eq!(outputs.lines().count() as i64, data.test.len());
    assert!(outputs.lines().all(|l| l.split(',').count() == 10));
    assert_eq!(
        lines(stog::script::TEST_INPUTS_FILE).lines().count() as i64,
        data.test.len()
    );
    // The chosen point's files copy up, byte for byte.
    stog::report::write_json(&dir.join(stog::script::RESULT_FILE), &report).unwrap();
    let up = mlp.with_file_name("point-up");
    std::fs::create_dir_all(&up).unwrap();
    g.copy_point_files(&dir, &up).unwrap();
    for file in g.point_files(&dir) {
        let name = file.file_name().unwrap();
        assert_eq!(
            std::fs::read(&file).unwrap(),
            std::fs::read(up.join(name)).unwrap()
        );
    }
}

/// Issue 15: the path's choice on hand-made points keeps the sparsest point whose validation
/// score is within one standard error (of a difference: sqrt(2) times one) of the best.
#[test]
fn the_script_path_keeps_the_sparsest_point_within_one_standard_error() {
    use stog::report::ScriptPathPoint;
    use stog::script::{DEFAULT_SCRIPT_LAMBDAS, choose_script_point, script_point_dir};
    use stog::train::Metrics;
    let point = |lambda: f64, kept: usize, accuracy: f64| ScriptPathPoint {
        lambda,
        kept,
        macs: None,
        val: Metrics::Classification {
            accuracy,
            loss: 0.0,
        },
        val_score_se: 0.02,
        test: Metrics::Classification {
            accuracy,
            loss: 0.0,
        },
    };
    // The best is 0.92; within 0.92 - sqrt(2) * 0.02 = 0.8917 are 0.92, 0.91 and 0.90.
    let points = [
        point(0.0, 6, 0.92),
        point(0.01, 4, 0.91),
        point(0.1, 2, 0.90),
        point(0.3, 1, 0.89),
        point(1.0, 0, 0.50),
    ];
    assert_eq!(choose_script_point(&points), Some(2));
    // Only the best is within reach when the others fall further behind.
    let points = [point(0.0, 6, 0.92), point(0.1, 2, 0.85)];
    assert_eq!(choose_script_point(&points), Some(0));
    assert_eq!(choose_script_point(&[]), None);
    // The default grid starts unpenalised and increases; each point has its own folder.
    assert_eq!(DEFAULT_SCRIPT_LAMBDAS[0], 0.0);
    assert!(DEFAULT_SCRIPT_LAMBDAS.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        script_point_dir(std::path::Path::new("out"), 0.003),
        std::path::Path::new("out/lambda_0.003")
    );
}

/// The exported digits model `file` gives the gated model's outputs on the test rows.
fn assert_export_computes_the_gated_model(
    g: &stog::script::GatedScript,
    file: &std::path::Path,
    data: &Prepared,
) {
    let (ours, theirs) = gated_and_exported_outputs(g, file, data);
    assert!((ours - theirs).abs().max().double_value(&[]) < 1e-4);
}

/// The gated model's and the exported digits model `file`'s outputs on the test rows.
fn gated_and_exported_outputs(
    g: &stog::script::GatedScript,
    file: &std::path::Path,
    data: &Prepared,
) -> (Tensor, Tensor) {
    let exported = tch::CModule::load(file).unwrap();
    tch::no_grad(|| {
        (
            g.forward(&data.test.x, false).unwrap(),
            exported
                .forward_ts(&[data.test.x.view([-1, 1, 8, 8])])
                .unwrap(),
        )
    })
}

/// The digits model that `script` (a fixture) writes as `file` with `args`, STE gates through its
/// gate protocol, fitted until channels close.
fn closed_protocol_model(
    script: &str,
    file: &str,
    args: &[&str],
    data: &Prepared,
) -> (PathBuf, stog::script::GatedScript) {
    let path = fixture().0.with_file_name(file);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    python_fixture(script, &path, &args);
    let probe = data.train.x.narrow(0, 0, 4);
    let mut g =
        stog::script::gated_stages(&path, GateKind::Ste, &probe, Some(&[1, 8, 8]), Device::Cpu)
            .unwrap();
    assert_eq!(g.layout, stog::script::Layout::Protocol);
    close_some_channels(&mut g, data);
    (path, g)
}

/// Units each gate of `g` keeps, as the export writes them (at least one).
fn kept_units(g: &stog::script::GatedScript) -> Vec<i64> {
    g.selected()
        .unwrap()
        .iter()
        .map(|s| (s.len() as i64).max(1))
        .collect()
}

#[test]
fn the_export_removes_dropped_channels_with_their_batch_norm_entries_and_loads_in_pytorch() {
    let _serial = serial();
    tch::manual_seed(0);
    let data = prepared(std::path::Path::new("data/digits.csv"), 0);
    let (cnn, mut g) =
        closed_protocol_model("make_script_cnn.py", "cnn_bn.pt", &["--batch-norm"], &data);
    let kept = kept_units(&g);
    let pruned = cnn.with_file_name("cnn_bn_pruned.pt");
    let export = g.export_pruned(&pruned, &data.val.x).unwrap();
    assert_eq!(
        export.producers,
        vec![Some("conv1.weight".into()), Some("conv2.weight".into())]
    );
    assert_eq!(export.norms, vec![vec!["bn1"], vec!["bn2"]]);
    // Shapes as PyTorch sees them, without stog.
    let shapes = pytorch_shapes(&pruned);
    let (a, b) = (kept[0], kept[1]);
    for (name, want) in [
        ("conv1.weight", format!("[{a}, 1, 3, 3]")),
        ("conv1.bias", format!("[{a}]")),
        ("bn1.weight", format!("[{a}]")),
        ("bn1.bias", format!("[{a}]")),
        ("bn1.running_mean", format!("[{a}]")),
        ("bn1.running_var", format!("[{a}]")),
        ("conv2.weight", format!("[{b}, {a}, 3, 3]")),
        ("bn2.running_var", format!("[{b}]")),
        ("head.weight", format!("[10, {b}]")),
        ("head.bias", "[10]".to_string()),
    ] {
        assert_eq!(shapes[name], want, "{name}");
    }
    // The pruned model computes the gated one on the test rows.
    assert_export_computes_the_gated_model(&g, &pruned, &data);
    // A fine-tuned backbone trains its BatchNorms' running statistics too: the export has them.
    g.train_backbone().unwrap();
    g.fit(
        &data,
        &ScriptFitConfig {
            lambda: 0.1,
            epochs: 3,
            warmup: 1,
            backbone_lr: 0.01,
            ..Default::default()
        },
    )
    .unwrap();
    let tuned = cnn.with_file_name("cnn_bn_tuned.pt");
    g.export_pruned(&tuned, &data.val.x).unwrap();
    assert_export_computes_the_gated_model(&g, &tuned, &data);
}

#[test]
fn gates_inside_residual_blocks_export_by_the_data_flow_and_gates_after_the_residual_sums_are_refused()
 {
    let _serial = serial();
    tch::manual_seed(0);
    let data = prepared(std::path::Path::new("data/digits.csv"), 0);
    let (inside, g) = closed_protocol_model("make_script_resnet.py", "resnet.pt", &[], &data);
    let pruned = inside.with_file_name("resnet_pruned.pt");
    let export = g.export_pruned(&pruned, &data.val.x).unwrap();
    // Every conv maps 16 channels to 16: only the graph tells the blocks' first convs (which
    // write the gated channels) from their second (which read them).
    assert_eq!(
        export.producers,
        vec![
            Some("blocks.0.conv1.weight".into()),
            Some("blocks.1.conv1.weight".into())
        ]
    );
    assert_eq!(
        export.carriers,
        vec![vec!["blocks.0.conv2.weight"], vec!["blocks.1.conv2.weight"]]
    );
    assert_eq!(
        export.norms,
        vec![vec!["blocks.0.bn1"], vec!["blocks.1.bn1"]]
    );
    let kept = kept_units(&g);
    let exported = tch::CModule::load(&pruned).unwrap();
    let params: std::collections::HashMap<String, tch::Tensor> =
        exported.named_parameters().unwrap().into_iter().collect();
    for (b, k) in kept.iter().enumerate() {
        assert_eq!(
            params[&format!("blocks.{b}.conv1.weight")].size(),
            [*k, 16, 3, 3]
        );
        assert_eq!(
            params[&format!("blocks.{b}.conv2.weight")].size(),
            [16, *k, 3, 3]
        );
        assert_eq!(params[&format!("blocks.{b}.bn1.weight")].size(), [*k]);
        assert_eq!(params[&format!("blocks.{b}.bn2.weight")].size(), [16]);
    }
    assert_eq!(params["stem.weight"].size(), [16, 1, 3, 3]);
    assert_export_computes_the_gated_model(&g, &pruned, &data);
    // Gates on the blocks' outputs, after the sums (one of whose operands they do not multiply):
    // refused, naming the sum, and no file written.
    let (stream, g) = closed_protocol_model(
        "make_script_resnet.py",
        "resnet_stream.pt",
        &["--residual"],
        &data,
    );
    let out = stream.with_file_name("resnet_stream_pruned.pt");
    let err = g.export_pruned(&out, &data.val.x).unwrap_err().to_string();
    assert!(err.contains("aten::add"), "{err}");
    assert!(!out.exists());
}

/// Parameter and buffer shapes of the TorchScript file `file` as PyTorch sees them, without stog.
fn pytorch_shapes(file: &std::path::Path) -> std::collections::HashMap<String, String> {
    let python = std::env::var("STOG_PYTHON").unwrap();
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(
            "import sys, torch\n\
             m = torch.jit.load(sys.argv[1])\n\
             for n, t in list(m.named_parameters()) + list(m.named_buffers()):\n\
             \x20   print(n, list(t.shape))\n",
        )
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect()
}

/// Largest difference between the gated model's outputs and the exported file's on the test
/// rows, relative to 1 + the largest output.
fn export_difference(
    g: &stog::script::GatedScript,
    file: &std::path::Path,
    data: &Prepared,
) -> f64 {
    let (ours, theirs) = gated_and_exported_outputs(g, file, data);
    let scale = 1.0 + ours.abs().max().double_value(&[]);
    (ours - theirs).abs().max().double_value(&[]) / scale
}

#[test]
fn a_gate_on_a_residual_stream_cuts_every_layer_that_writes_or_reads_the_stream() {
    let _serial = serial();
    tch::manual_seed(0);
    let data = prepared(std::path::Path::new("data/digits.csv"), 0);
    let path = fixture().0.with_file_name("resnet_coupled.pt");
    python_fixture("make_script_resnet.py", &path, &["--stream".as_ref()]);
    let probe = data.train.x.narrow(0, 0, 4);
    for kind in [GateKind::Ste, GateKind::Stg] {
        let g =
            stog::script::gated_stages(&path, kind, &probe, Some(&[1, 8, 8]), Device::Cpu).unwrap();
        // Gates 0 and 1 are the two stages' streams (8 and 12 channels), 2 to 4 inside blocks.
        // Each closes every third unit; STG's open ones are fractions (0.8 down to 0.5), which
        // the export folds into the layers that read them.
        for (j, gate) in g.gates.iter().enumerate() {
            let values: Vec<f32> = (0..gate.units())
                .map(|u| match ((u + j as i64) % 3, kind) {
                    (0, _) => -1.0,
                    (_, GateKind::Stg) => 0.3 - 0.1 * (u % 4) as f32,
                    _ => 1.0,
                })
                .collect();
            tch::no_grad(|| gate.parameters()[0].copy_(&Tensor::from_slice(&values)));
        }
        let kept = kept_units(&g);
        assert_eq!(kept, [5, 8, 5, 8, 8]);
        let pruned = path.with_file_name(format!("resnet_coupled_{kind:?}.pt"));
        let export = g.export_pruned(&pruned, &data.val.x).unwrap();
        // Writers of the streams: the stem and each block's last conv, and the downsample.
        assert_eq!(
            export.stream_writers,
            vec![
                vec!["stem.weight", "blocks.0.conv2.weight"],
                vec![
                    "blocks.1.downsample.0.weight",
                    "blocks.1.conv2.weight",
                    "blocks.2.conv2.weight"
                ],
                vec![],
                vec![],
                vec![],
            ]
        );
        assert_eq!(export.producers[..2], [None, None]);
        assert_eq!(
            export.norms[..2],
            [
                vec!["bn", "blocks.0.bn2"],
                vec!["blocks.1.downsample.1", "blocks.1.bn2", "blocks.2.bn2"]
            ]
        );
        // Readers: each block's first conv and the downsample conv, the head.
        assert_eq!(
            export.carriers[..2],
            [
                vec![
                    "blocks.0.conv1.weight",
                    "blocks.1.conv1.weight",
                    "blocks.1.downsample.0.weight"
                ],
                vec!["blocks.2.conv1.weight", "head.weight"]
            ]
        );
        let shapes = pytorch_shapes(&pruned);
        let (a, b) = (kept[0], kept[1]);
        let (i0, i1, i2) = (kept[2], kept[3], kept[4]);
        let mut want: Vec<(String, String)> = [
            ("stem.weight", format!("[{a}, 1, 3, 3]")),
            ("blocks.0.conv1.weight", format!("[{i0}, {a}, 3, 3]")),
            ("blocks.0.conv2.weight", format!("[{a}, {i0}, 3, 3]")),
            ("blocks.1.conv1.weight", format!("[{i1}, {a}, 3, 3]")),
            ("blocks.1.downsample.0.weight", format!("[{b}, {a}, 1, 1]")),
            ("blocks.1.conv2.weight", format!("[{b}, {i1}, 3, 3]")),
            ("blocks.2.conv1.weight", format!("[{i2}, {b}, 3, 3]")),
            ("blocks.2.conv2.weight", format!("[{b}, {i2}, 3, 3]")),
            ("head.weight", format!("[10, {b}]")),
            ("head.bias", "[10]".to_string()),
        ]
        .map(|(n, s)| (n.to_string(), s))
        .into();
        for (norm, n) in [
            ("bn", a),
            ("blocks.0.bn1", i0),
            ("blocks.0.bn2", a),
            ("blocks.1.bn1", i1),
            ("blocks.1.bn2", b),
            ("blocks.1.downsample.1", b),
            ("blocks.2.bn1", i2),
            ("blocks.2.bn2", b),
        ] {
            for entry in ["weight", "bias", "running_mean", "running_var"] {
                want.push((format!("{norm}.{entry}"), format!("[{n}]")));
            }
        }
        for (name, want) in want {
            assert_eq!(shapes[&name], want, "{kind:?} {name}");
        }
        assert!(export_difference(&g, &pruned, &data) < 1e-5, "{kind:?}");
    }
}
