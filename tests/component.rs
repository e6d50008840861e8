//! stog as a component: tables from arrays with the readers' checks, fits without test rows,
//! a fit applied to new rows (arrays, or a table matched by name), the saved format's version
//! (the network pruned to the selected features; version-1 files still load), fits on several
//! threads, and the events a fit reports.

use stog::Error;
use stog::data::{Source, Table, Task};
use stog::ndarray::{Array1, Array2, ArrayView1, Axis, s};
use stog::selector::{FitEvent, FittedSelector, Selector, SelectorParams, Stage, Validation};
use tch::Device;

/// `n` rows of `d` uniform features in [-1, 1] from a seeded generator; the label is
/// `1[x0 + x1 > 0]` (classes coded `labels`).
fn linear(n: usize, d: usize, seed: u64, labels: [f64; 2]) -> (Array2<f64>, Array1<f64>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((n, d), || rng.random_range(-1.0..1.0));
    let y = x
        .axis_iter(Axis(0))
        .map(|r| labels[usize::from(r[0] + r[1] > 0.0)])
        .collect();
    (x, y)
}

/// A fast fit: a small network at a fixed lambda, on one intra-op thread (the command line's
/// choice for data this small; two threads on a machine busy with other tests oversubscribe it).
fn quick() -> SelectorParams {
    tch::set_num_threads(1);
    Selector::params().hidden(vec![8]).lambda(0.05).epochs(40)
}

fn fitted(seed: u64) -> (FittedSelector, Array2<f64>) {
    fit_with(quick(), seed)
}

/// A fit long and strong enough to drop features (x0 and x1 carry the label).
fn sparse(seed: u64) -> (FittedSelector, Array2<f64>) {
    fit_with(quick().lambda(0.2).epochs(100), seed)
}

fn fit_with(params: SelectorParams, seed: u64) -> (FittedSelector, Array2<f64>) {
    let (x, y) = linear(200, 6, seed, [3.0, 7.0]);
    let table = Table::from_arrays(x.view(), y.view(), Task::Classification).unwrap();
    (params.fit_table(&table, Device::Cpu).unwrap(), x)
}

#[test]
fn from_arrays_makes_the_readers_checks_with_typed_errors() {
    let (x, y) = linear(20, 3, 0, [0.0, 1.0]);
    let t = Table::from_arrays(x.view(), y.view(), Task::Classification).unwrap();
    assert_eq!(
        (t.n_rows(), t.n_features(), t.source.clone()),
        (20, 3, None)
    );
    assert_eq!(t.feature_names, ["x0", "x1", "x2"]);
    assert_eq!(t.x.get(3 * 3 + 2), x[[3, 2]]);
    let mut bad = x.clone();
    bad[[4, 1]] = f64::INFINITY;
    let e = Table::from_arrays(bad.view(), y.view(), Task::Classification).unwrap_err();
    assert!(
        matches!(&e, Error::Array { row: Some(4), column: Some(c), .. } if c == "x1"),
        "{e}"
    );
    let mut y_nan = y.clone();
    y_nan[2] = f64::NAN;
    let e = Table::from_arrays(x.view(), y_nan.view(), Task::Regression).unwrap_err();
    assert!(matches!(e, Error::Array { row: Some(2), .. }), "{e}");
    let e = Table::from_arrays(x.view(), y.slice(s![..19]), Task::Classification).unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e}");
    let e = Table::from_arrays(x.slice(s![..3, ..]), y.slice(s![..3]), Task::Regression);
    assert!(e.unwrap_err().to_string().contains("at least 4"));
    let one_class = Array1::from_elem(20, 1.0);
    let e = Table::from_arrays(x.view(), one_class.view(), Task::Classification).unwrap_err();
    assert!(e.to_string().contains("only one class"), "{e}");
    let mut half = y.clone();
    half[0] = 0.5;
    let e = Table::from_arrays(x.view(), half.view(), Task::Classification).unwrap_err();
    assert!(e.to_string().contains("not an integer"), "{e}");
    let e = Table::from_arrays(x.slice(s![.., ..0]), y.view(), Task::Classification);
    assert!(matches!(e.unwrap_err(), Error::Shape { .. }));
    // Labels keep their values; f32 features stay f32.
    let labels = [3.0, 7.0];
    let coded: Array1<f64> = y.mapv(|v| labels[v as usize]);
    let t = Table::from_arrays(
        x.mapv(|v| v as f32).view(),
        coded.view(),
        Task::Classification,
    )
    .unwrap();
    assert_eq!(t.classes, [3, 7]);
    assert!(t.x.is_f32());
}

#[test]
fn feature_names_are_checked() {
    let (x, y) = linear(20, 3, 0, [0.0, 1.0]);
    let t = Table::from_arrays(x.view(), y.view(), Task::Classification).unwrap();
    let named = t.clone().with_feature_names(["a", "b", "c"]).unwrap();
    assert_eq!(named.feature_names, ["a", "b", "c"]);
    assert!(matches!(
        t.clone().with_feature_names(["a", "b"]),
        Err(Error::Shape { .. })
    ));
    for names in [["a", "a", "c"], ["a", "", "c"], ["a", "target", "c"]] {
        assert!(t.clone().with_feature_names(names).is_err(), "{names:?}");
    }
}

#[test]
fn a_fit_applies_to_new_rows_from_arrays() {
    let (f, _) = sparse(1);
    let (new_x, new_y) = linear(300, 6, 99, [3.0, 7.0]);
    let support = f.support();
    assert_eq!(support.len(), 6);
    let kept: Vec<usize> = (0..6).filter(|j| support[*j]).collect();
    assert_eq!(kept, f.selected());
    assert!(kept.len() < 6, "{kept:?}");
    assert!(support[0] && support[1], "{support:?}");
    let labels = f.predict(new_x.view()).unwrap();
    assert!(labels.iter().all(|l| *l == 3.0 || *l == 7.0));
    let right = labels.iter().zip(&new_y).filter(|(p, t)| p == t).count();
    assert!(right > 255, "{right} of 300");
    let proba = f.predict_proba(new_x.view()).unwrap();
    assert_eq!(proba.dim(), (300, 2));
    assert_eq!(f.classes(), [3, 7]);
    for (row, label) in proba.rows().into_iter().zip(&labels) {
        assert!((row.sum() - 1.0).abs() < 1e-12);
        assert_eq!(*label, if row[1] > row[0] { 7.0 } else { 3.0 });
    }
    let columns = f.transform(new_x.view()).unwrap();
    assert_eq!(columns, new_x.select(Axis(1), &kept));
    // The selected columns alone predict the same.
    assert_eq!(f.predict_selected(columns.view()).unwrap(), labels);
    assert_eq!(f.predict_proba_selected(columns.view()).unwrap(), proba);
    // Wrong shapes and bad values are errors, never a panic.
    for call in [
        f.predict(new_x.slice(s![.., 1..])).map(|_| ()),
        f.predict_proba(new_x.slice(s![..0, ..])).map(|_| ()),
        f.transform(new_x.slice(s![.., ..5])).map(|_| ()),
        f.predict_selected(new_x.view()).map(|_| ()),
    ] {
        assert!(matches!(call, Err(Error::Shape { .. })), "{call:?}");
    }
    let mut nan = new_x.clone();
    nan[[7, 4]] = f64::NAN;
    let e = f.predict(nan.view()).unwrap_err();
    assert!(
        matches!(&e, Error::Array { row: Some(7), column: Some(c), .. } if c == "x4"),
        "{e}"
    );
}

#[test]
fn a_table_is_matched_by_column_name() {
    let (f, x) = sparse(2);
    let y = Array1::from_iter((0..x.nrows()).map(|i| (i % 2) as f64));
    // The same columns in reverse order, renamed to match, and one extra column.
    let order = [5, 4, 3, 2, 1, 0];
    let mut shuffled = x.select(Axis(1), &order);
    shuffled
        .push_column(ArrayView1::from(&vec![0.5; x.nrows()]))
        .unwrap();
    let mut names: Vec<String> = order.iter().map(|j| format!("x{j}")).collect();
    names.push("extra".into());
    let table = Table::from_arrays(shuffled.view(), y.view(), Task::Classification)
        .unwrap()
        .with_feature_names(names.clone())
        .unwrap();
    assert_eq!(
        f.predict_table(&table).unwrap(),
        f.predict(x.view()).unwrap()
    );
    assert_eq!(
        f.predict_proba_table(&table).unwrap(),
        f.predict_proba(x.view()).unwrap()
    );
    assert_eq!(
        f.transform_table(&table).unwrap(),
        f.transform(x.view()).unwrap()
    );
    // Only the selected columns are read: a table without the dropped features predicts the
    // same.
    let selected = f.selected();
    assert!(selected.len() < 6, "{selected:?}");
    let only = Table::from_arrays(
        x.select(Axis(1), &selected).view(),
        y.view(),
        Task::Classification,
    )
    .unwrap()
    .with_feature_names(f.selected_names())
    .unwrap();
    assert_eq!(
        f.predict_proba_table(&only).unwrap(),
        f.predict_proba(x.view()).unwrap()
    );
    // Without a selected column (x1, at index 4 of the shuffled table): an error naming it.
    assert!(selected.contains(&1), "{selected:?}");
    let without: Vec<usize> = (0..7).filter(|j| *j != 4).collect();
    let dropped = Table::from_arrays(
        shuffled.select(Axis(1), &without).view(),
        y.view(),
        Task::Classification,
    )
    .unwrap()
    .with_feature_names(without.iter().map(|j| names[*j].clone()))
    .unwrap();
    let e = f.predict_table(&dropped).unwrap_err();
    assert!(
        matches!(&e, Error::Array { column: Some(c), .. } if c == "x1"),
        "{e}"
    );
}

#[test]
fn a_regression_model_predicts_values_and_has_no_probabilities() {
    let (x, _) = linear(120, 4, 3, [0.0, 1.0]);
    let y: Array1<f64> = x.axis_iter(Axis(0)).map(|r| 2.0 * r[0] + 10.0).collect();
    let t = Table::from_arrays(x.view(), y.view(), Task::Regression).unwrap();
    let f = quick().hidden(vec![]).fit_table(&t, Device::Cpu).unwrap();
    let p = f.predict(x.view()).unwrap();
    let error = (&p - &y).mapv(f64::abs).mean().unwrap();
    assert!(error < 0.3, "mean absolute error {error}");
    assert!(matches!(
        f.predict_proba(x.view()),
        Err(Error::NotApplicable { .. })
    ));
    assert!(f.classes().is_empty());
}

#[test]
fn a_fit_without_test_rows_reports_no_test_score() {
    let (f, _) = fitted(4);
    let m = f.metrics().unwrap();
    assert!(m.test.is_none() && m.val.is_some());
    let (x, y) = linear(120, 4, 5, [0.0, 1.0]);
    let t = Table::from_arrays(x.view(), y.view(), Task::Classification).unwrap();
    // Automatic lambda, cross-validated below 300 rows: the final model saw every row.
    tch::set_num_threads(1);
    let f = Selector::params()
        .hidden(vec![8])
        .epochs(30)
        .fit_table(&t, Device::Cpu)
        .unwrap();
    assert!(f.info.fitted_on_train_and_val);
    assert!(f.info.path.iter().all(|p| p.test.is_none()));
    assert!(f.metrics().unwrap().test.is_none());
}

/// A temporary folder for this test process.
fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("stog-component-{name}-{}", std::process::id()))
}

#[test]
fn the_saved_format_has_a_version_and_an_unknown_one_is_refused() {
    let (f, x) = fitted(6);
    let dir = tmp("version");
    f.save(&dir).unwrap();
    let path = dir.join("selector.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["format_version"], 2);
    let loaded = FittedSelector::load(&dir, Device::Cpu).unwrap();
    assert_eq!(
        loaded.predict_proba(x.view()).unwrap(),
        f.predict_proba(x.view()).unwrap()
    );
    json["format_version"] = 3.into();
    std::fs::write(&path, json.to_string()).unwrap();
    let e = FittedSelector::load(&dir, Device::Cpu).unwrap_err();
    assert!(matches!(e, Error::ModelFormat { supported: 2, .. }), "{e}");
    assert!(e.to_string().contains("format version 3"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_saved_network_has_only_the_selected_inputs() {
    let (f, x) = sparse(7);
    let k = f.selected().len() as i64;
    assert!((1..6).contains(&k), "{:?}", f.selected());
    let dir = tmp("pruned");
    f.save(&dir).unwrap();
    let mut shapes: Vec<(String, Vec<i64>)> =
        tch::Tensor::read_safetensors(dir.join("model.safetensors"))
            .unwrap()
            .into_iter()
            .map(|(n, t)| (n, t.size()))
            .collect();
    shapes.sort();
    let expected: Vec<(String, Vec<i64>)> = [
        ("net.linear0.bias", vec![1, 8]),
        ("net.linear0.weight", vec![1, k, 8]),
        ("net.linear1.bias", vec![1, 2]),
        ("net.linear1.weight", vec![1, 8, 2]),
        ("net.norm0.bias", vec![1, 8]),
        ("net.norm0.running_mean", vec![1, 8]),
        ("net.norm0.running_var", vec![1, 8]),
        ("net.norm0.weight", vec![1, 8]),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s))
    .collect();
    assert_eq!(shapes, expected);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("selector.json")).unwrap()).unwrap();
    assert_eq!(json["scaler"]["mean"].as_array().unwrap().len() as i64, k);
    assert_eq!(json["kept"]["inputs"], serde_json::json!(f.selected()));
    let loaded = FittedSelector::load(&dir, Device::Cpu).unwrap();
    assert!(f.gated_model().is_some() && loaded.gated_model().is_none());
    assert_eq!(loaded.usage(), f.usage());
    assert_eq!(loaded.selected(), f.selected());
    assert_eq!(
        loaded.pruned().parameter_count(),
        f.pruned().parameter_count()
    );
    assert_eq!(
        loaded.predict(x.view()).unwrap(),
        f.predict(x.view()).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Class probabilities of `tests/fixtures/<name>/predicted.csv`, written by `stog predict` from
/// the gated network of a version-1 file.
fn fixture_probabilities(name: &str) -> Array2<f64> {
    Source::new(
        format!("tests/fixtures/{name}/predicted.csv"),
        Task::Classification,
    )
    .read_columns(&["proba_0".to_string(), "proba_1".to_string()])
    .unwrap()
}

#[test]
fn a_version_1_file_loads_pruned_and_predicts_what_its_gated_network_did() {
    let rows = Source::new("tests/fixtures/selector_v1/rows.csv", Task::Classification)
        .read()
        .unwrap();
    // 3 of 6 features kept, and none kept (a constant model).
    for (name, kept) in [("selector_v1", 3), ("selector_v1_none", 0)] {
        let dir = format!("tests/fixtures/{name}");
        let f = FittedSelector::load(&dir, Device::Cpu).unwrap();
        assert_eq!(f.selected().len(), kept, "{name}");
        assert!(f.gated_model().is_some());
        let proba = f.predict_proba_table(&rows).unwrap();
        let expected = fixture_probabilities(name);
        let diff = (&proba - &expected)
            .mapv(f64::abs)
            .fold(0.0, |a: f64, b| a.max(*b));
        assert!(diff < 1e-5, "{name}: {diff}");
        // Saved again it is a version-2 file of the pruned network, with the same outputs.
        let out = tmp(name);
        f.save(&out).unwrap();
        let again = FittedSelector::load(&out, Device::Cpu).unwrap();
        assert_eq!(again.predict_proba_table(&rows).unwrap(), proba);
        // A file from before the version was recorded reads as version 1.
        let old = tmp(&format!("{name}-unversioned"));
        std::fs::create_dir_all(&old).unwrap();
        std::fs::copy(
            format!("{dir}/model.safetensors"),
            old.join("model.safetensors"),
        )
        .unwrap();
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}/selector.json")).unwrap())
                .unwrap();
        assert_eq!(json["format_version"], 1);
        json.as_object_mut().unwrap().remove("format_version");
        std::fs::write(old.join("selector.json"), json.to_string()).unwrap();
        let unversioned = FittedSelector::load(&old, Device::Cpu).unwrap();
        assert_eq!(unversioned.predict_proba_table(&rows).unwrap(), proba);
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&old);
    }
    // With no feature kept, rows of no columns predict the constant.
    let none = FittedSelector::load("tests/fixtures/selector_v1_none", Device::Cpu).unwrap();
    let p = none
        .predict_proba_selected(Array2::zeros((2, 0)).view())
        .unwrap();
    let expected = fixture_probabilities("selector_v1_none");
    assert!((p[[1, 0]] - expected[[0, 0]]).abs() < 1e-5, "{p}");
}

#[test]
fn fits_on_two_threads_give_what_each_gives_alone() {
    // Dropout and mini-batches make every fit draw random numbers throughout its training.
    let mut params = quick();
    params.dropout = 0.2;
    let tables: Vec<Table> = (0..2)
        .map(|seed| {
            let (x, y) = linear(160, 5, 10 + seed, [0.0, 1.0]);
            Table::from_arrays(x.view(), y.view(), Task::Classification).unwrap()
        })
        .collect();
    let probe = linear(50, 5, 77, [0.0, 1.0]).0;
    let fit = |t: &Table| {
        let f = params.fit_table(t, Device::Cpu).unwrap();
        (f.selected(), f.predict_proba(probe.view()).unwrap())
    };
    let alone: Vec<_> = tables.iter().map(fit).collect();
    for _ in 0..2 {
        let together: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = tables.iter().map(|t| s.spawn(|| fit(t))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(together, alone);
    }
}

#[test]
fn a_fit_reports_its_stages_and_points() {
    let (x, y) = linear(120, 4, 8, [0.0, 1.0]);
    let t = Table::from_arrays(x.view(), y.view(), Task::Classification).unwrap();
    let split = stog::data::Split::of(&t, [0.8, 0.2, 0.0], 0).unwrap();
    tch::set_num_threads(1);
    let mut params = Selector::params().hidden(vec![8]).epochs(20);
    params.validation = Validation::Folds(3);
    let mut events = Vec::new();
    let f = params
        .fit_observed(&t, &split, &[], Device::Cpu, &mut |e| {
            events.push(e.clone())
        })
        .unwrap();
    let stages: Vec<Stage> = events
        .iter()
        .filter_map(|e| match e {
            FitEvent::Started { stage, .. } => Some(stage.clone()),
            _ => None,
        })
        .collect();
    // A classification's folds train together, as one ensemble.
    assert_eq!(
        stages,
        [Stage::Path, Stage::Folds { folds: 3 }, Stage::Final]
    );
    // Every stage ends with its count of points, and the path's points are the reported path.
    let mut points = 0;
    for e in &events {
        match e {
            FitEvent::Point { .. } => points += 1,
            FitEvent::Finished { points: n, .. } => {
                assert_eq!(*n, points);
                points = 0;
            }
            _ => {}
        }
    }
    let path_points = events
        .iter()
        .find_map(|e| match e {
            FitEvent::Finished {
                stage: Stage::Path,
                points,
                ..
            } => Some(*points),
            _ => None,
        })
        .unwrap();
    assert_eq!(path_points, f.info.path.len());
}
