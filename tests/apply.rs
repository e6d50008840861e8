//! `stog predict` and `stog transform`: a model from `stog select` applied to a data file whose
//! columns are matched by name; only the selected columns are needed; exit 2 naming a missing
//! one.

mod common;

use common::stog;
use std::path::{Path, PathBuf};
use stog::data::{Source, Task};
use stog::selector::FittedSelector;

fn tmp(name: &str) -> PathBuf {
    let dir = common::tmp("apply", name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `stog predict` (or `transform`) of `model` on `data` into `out`.
fn apply(command: &str, model: &str, data: &str, out: &str) -> (i32, String) {
    stog(&[
        command, "--model", model, "--data", data, "--out", out, "--device", "cpu",
    ])
}

/// A quick model of breast cancer in `dir/model`.
fn select(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    let (code, text) = stog(&[
        "select",
        "--data",
        "data/breast_cancer.csv",
        "--lambda",
        "0.05",
        "--hidden",
        "16",
        "--epochs",
        "60",
        "--device",
        "cpu",
        "--quiet",
        "--out-dir",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    model
}

/// The rows of a CSV file as text cells, header first.
fn cells(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// `data/breast_cancer.csv` with its columns in the order `order` gives (by index), written to
/// `path`.
fn reordered(path: &Path, order: &[usize]) {
    let rows = cells(Path::new("data/breast_cancer.csv"));
    let mut out = csv::Writer::from_path(path).unwrap();
    for row in rows {
        out.write_record(order.iter().map(|j| &row[*j])).unwrap();
    }
    out.flush().unwrap();
}

#[test]
fn predict_matches_columns_by_name_and_writes_probabilities() {
    let dir = tmp("predict");
    let model = select(&dir);
    let m = model.to_str().unwrap();
    let out = dir.join("p.csv");
    let (code, text) = apply(
        "predict",
        m,
        "data/breast_cancer.csv",
        out.to_str().unwrap(),
    );
    assert_eq!(code, 0, "{text}");
    let rows = cells(&out);
    assert_eq!(rows[0], ["prediction", "proba_0", "proba_1"]);
    assert_eq!(rows.len(), 570);
    // Each row: probabilities summing to 1 and the label of the larger.
    for row in &rows[1..] {
        let v: Vec<f64> = row.iter().map(|c| c.parse().unwrap()).collect();
        assert!((v[1] + v[2] - 1.0).abs() < 1e-9, "{row:?}");
        assert_eq!(v[0], if v[2] > v[1] { 1.0 } else { 0.0 }, "{row:?}");
    }
    // The same as the library's predictions on the table.
    let fitted = FittedSelector::load(&model, tch::Device::Cpu).unwrap();
    let table = Source::new("data/breast_cancer.csv", Task::Classification)
        .read()
        .unwrap();
    let labels = fitted.predict_table(&table).unwrap();
    for (row, label) in rows[1..].iter().zip(&labels) {
        assert_eq!(row[0].parse::<f64>().unwrap(), *label);
    }
    // Columns shuffled (target first, features reversed): identical output, byte for byte.
    let shuffled = dir.join("shuffled.csv");
    let order: Vec<usize> = std::iter::once(30).chain((0..30).rev()).collect();
    reordered(&shuffled, &order);
    let again = dir.join("p2.csv");
    let (code, text) = apply(
        "predict",
        m,
        shuffled.to_str().unwrap(),
        again.to_str().unwrap(),
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
    // Parquet out holds the same numbers.
    let parquet = dir.join("p.parquet");
    let (code, text) = apply(
        "predict",
        m,
        shuffled.to_str().unwrap(),
        parquet.to_str().unwrap(),
    );
    assert_eq!(code, 0, "{text}");
    let names: Vec<String> = rows[0].clone();
    let back = Source::new(&parquet, Task::Classification)
        .read_columns(&names)
        .unwrap();
    for (row, expected) in back.rows().into_iter().zip(&rows[1..]) {
        let expected: Vec<f64> = expected.iter().map(|c| c.parse().unwrap()).collect();
        assert_eq!(row.to_vec(), expected);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The names of the features `stog select` kept, from its `result.json`.
fn selected(model: &Path) -> Vec<String> {
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("result.json")).unwrap()).unwrap();
    result["selected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn only_the_selected_columns_are_needed_and_a_missing_one_exits_2_naming_it() {
    let dir = tmp("missing");
    let model = select(&dir);
    let m = model.to_str().unwrap();
    let kept = selected(&model);
    assert!(!kept.is_empty() && kept.len() < 30, "{kept:?}");
    let header = &cells(Path::new("data/breast_cancer.csv"))[0];
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    // A file of the selected columns only (the dropped ones absent): the same output, byte for
    // byte, as from every column.
    let only = dir.join("only.csv");
    reordered(&only, &kept.iter().map(|n| column(n)).collect::<Vec<_>>());
    for command in ["predict", "transform"] {
        let (full, part) = (dir.join("full.csv"), dir.join("part.csv"));
        let (code, text) = apply(command, m, "data/breast_cancer.csv", full.to_str().unwrap());
        assert_eq!(code, 0, "{text}");
        let (code, text) = apply(command, m, only.to_str().unwrap(), part.to_str().unwrap());
        assert_eq!(code, 0, "{text}");
        let (full, part) = (cells(&full), cells(&part));
        assert_eq!(full.len(), part.len());
        match command {
            "predict" => assert_eq!(full, part),
            // Without a target in the file, no target column.
            _ => assert!(
                full.iter()
                    .zip(&part)
                    .all(|(f, p)| f[..kept.len()] == p[..])
            ),
        }
    }
    // Every column but the first selected one.
    let missing = &kept[0];
    let dropped = dir.join("dropped.csv");
    let order: Vec<usize> = (0..31).filter(|j| *j != column(missing)).collect();
    reordered(&dropped, &order);
    let out = dir.join("p.csv");
    for command in ["predict", "transform"] {
        let (code, text) = apply(command, m, dropped.to_str().unwrap(), out.to_str().unwrap());
        assert_eq!(code, 2, "{text}");
        assert!(
            text.contains(&format!("`{missing}`")) && text.contains("missing"),
            "{text}"
        );
        assert!(!out.exists());
    }
    let (code, text) = apply(
        "predict",
        dir.join("none").to_str().unwrap(),
        "data/breast_cancer.csv",
        out.to_str().unwrap(),
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("selector.json"), "{text}");
    let (code, text) = apply(
        "predict",
        m,
        "data/breast_cancer.csv",
        dir.join("p.txt").to_str().unwrap(),
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(".csv or .parquet"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn transform_writes_exactly_the_selected_columns() {
    let dir = tmp("transform");
    let model = select(&dir);
    let selected = selected(&model);
    assert!(!selected.is_empty() && selected.len() < 30);
    let source = cells(Path::new("data/breast_cancer.csv"));
    let column = |name: &str| source[0].iter().position(|h| h == name).unwrap();
    // With the target in the file: the kept columns, then the target.
    let out = dir.join("t.csv");
    let (code, text) = apply(
        "transform",
        model.to_str().unwrap(),
        "data/breast_cancer.csv",
        out.to_str().unwrap(),
    );
    assert_eq!(code, 0, "{text}");
    let rows = cells(&out);
    let mut header = selected.clone();
    header.push("target".into());
    assert_eq!(rows[0], header);
    for (row, original) in rows[1..].iter().zip(&source[1..]) {
        for (cell, name) in row.iter().zip(&header) {
            let want: f64 = original[column(name)].parse().unwrap();
            assert_eq!(cell.parse::<f64>().unwrap(), want, "{name}");
        }
    }
    // Without a target column: the kept columns only.
    let features = dir.join("features.csv");
    reordered(&features, &(0..30).collect::<Vec<_>>());
    let (code, text) = apply(
        "transform",
        model.to_str().unwrap(),
        features.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(cells(&out)[0], selected);
    let _ = std::fs::remove_dir_all(&dir);
}
