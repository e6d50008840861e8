//! CSV loading, splits and standardisation, with every bad input giving its error.

use std::path::Path;
use stog::Error;
use stog::data::*;

fn parse(text: &str) -> stog::Result<Table> {
    Table::from_bytes(
        Path::new("t.csv"),
        text.as_bytes(),
        "target",
        Task::Classification,
    )
}

fn data_error(text: &str) -> (Option<usize>, Option<String>, String) {
    match parse(text) {
        Err(Error::Data {
            line,
            column,
            reason,
            file,
            ..
        }) => {
            assert_eq!(file, Path::new("t.csv"));
            (line, column, reason)
        }
        other => panic!("expected a data error for {text:?}, got {other:?}"),
    }
}

const GOOD: &str = "a,b,target\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n";

#[test]
fn a_good_file_loads() {
    let t = parse(GOOD).unwrap();
    assert_eq!(t.feature_names, vec!["a", "b"]);
    assert_eq!(t.x, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(t.y, vec![0.0, 1.0, 0.0, 1.0]);
    assert_eq!(t.n_classes(), 2);
    // The target can be anywhere; labels are mapped to 0..K.
    let t = Table::from_bytes(
        Path::new("t.csv"),
        b"target,a\n5,1\n9,2\n5,3\n9,4\n",
        "target",
        Task::Classification,
    )
    .unwrap();
    assert_eq!(
        (t.y.clone(), t.classes.clone()),
        (vec![0.0, 1.0, 0.0, 1.0], vec![5, 9])
    );
    let r = Table::from_bytes(
        Path::new("t.csv"),
        b"a,target\n1,0.5\n2,1.5\n3,2\n4,3\n",
        "target",
        Task::Regression,
    )
    .unwrap();
    assert_eq!(r.y, vec![0.5, 1.5, 2.0, 3.0]);
}

#[test]
fn every_bad_cell_names_its_line_and_column() {
    for (cell, why) in [
        ("x", "not a number"),
        ("", "empty cell"),
        ("NaN", "not a finite"),
        ("inf", "not a finite"),
        ("-inf", "not a finite"),
    ] {
        let text = format!("a,b,target\n1,2,0\n3,{cell},1\n5,6,0\n7,8,1\n");
        let (line, column, reason) = data_error(&text);
        assert_eq!((line, column.as_deref()), (Some(3), Some("b")), "{cell}");
        assert!(reason.contains(why), "{cell}: {reason}");
    }
}

#[test]
fn structural_problems_are_reported() {
    let (line, _, reason) = data_error("a,b,target\n1,2,0\n3,4\n5,6,0\n7,8,1\n");
    assert_eq!(line, Some(3));
    assert!(reason.contains("2 cells"), "{reason}");
    let (line, column, _) = data_error("a,b,label\n1,2,0\n");
    assert_eq!((line, column.as_deref()), (Some(1), Some("target")));
    assert!(data_error("").2.contains("empty"));
    assert!(data_error("a,b,target\n").2.contains("0 data rows"));
    assert!(
        data_error("a,b,target\n1,2,0\n3,4,1\n")
            .2
            .contains("at least")
    );
    let (_, column, reason) = data_error("a,b,target\n1,2,1\n3,4,1\n5,6,1\n7,8,1\n");
    assert_eq!(column.as_deref(), Some("target"));
    assert!(reason.contains("one class"), "{reason}");
    let (line, _, reason) = data_error("a,b,target\n1,2,0\n3,4,0.5\n5,6,0\n7,8,1\n");
    assert_eq!(line, Some(3));
    assert!(reason.contains("not an integer"));
    assert!(data_error("a,a,target\n1,2,0\n").2.contains("twice"));
    let msg = parse("a,b,target\n1,2,0\n3,x,1\n5,6,0\n7,8,1\n")
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "t.csv, line 3, column `b`: `x` is not a number");
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = Table::from_csv("no/such.csv", "target", Task::Classification).unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert!(err.to_string().starts_with("no/such.csv"));
}

#[test]
fn stratified_split_keeps_class_shares_and_is_seeded() {
    let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 4 == 0)).collect();
    let s = Split::stratified(100, Some(&labels), [0.6, 0.2, 0.2], 3).unwrap();
    assert_eq!((s.train.len(), s.val.len(), s.test.len()), (60, 20, 20));
    let ones = |rows: &[usize]| rows.iter().filter(|r| labels[**r] == 1).count();
    assert_eq!((ones(&s.train), ones(&s.val), ones(&s.test)), (15, 5, 5));
    let mut all: Vec<usize> = s
        .train
        .iter()
        .chain(&s.val)
        .chain(&s.test)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert_eq!(
        s,
        Split::stratified(100, Some(&labels), [0.6, 0.2, 0.2], 3).unwrap()
    );
    assert_ne!(
        s,
        Split::stratified(100, Some(&labels), [0.6, 0.2, 0.2], 4).unwrap()
    );
    assert!(Split::stratified(100, None, [0.6, 0.2, 0.3], 0).is_err());
    assert!(Split::stratified(100, None, [-0.1, 0.6, 0.5], 0).is_err());
    assert!(Split::stratified(4, None, [0.8, 0.1, 0.1], 0).is_err());
}

#[test]
fn split_file_round_trips_and_reads_the_reference_splits() {
    let dir = std::env::temp_dir().join(format!("stog-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = Split::stratified(30, None, [0.6, 0.2, 0.2], 1).unwrap();
    let b = Split::stratified(30, None, [0.5, 0.25, 0.25], 2).unwrap();
    let path = dir.join("splits.csv");
    Split::write_file(&path, &[(1, &a), (2, &b)]).unwrap();
    assert_eq!(Split::from_file(&path, 1, 30).unwrap(), a);
    assert_eq!(Split::from_file(&path, 2, 30).unwrap(), b);
    assert_eq!(Split::seeds_in_file(&path).unwrap(), vec![1, 2]);
    assert!(
        Split::from_file(&path, 3, 30)
            .unwrap_err()
            .to_string()
            .contains("no rows for seed 3")
    );
    assert!(
        Split::from_file(&path, 1, 20)
            .unwrap_err()
            .to_string()
            .contains("out of range")
    );
    std::fs::write(&path, "seed,row,split\n0,0,train\n0,1,validation\n").unwrap();
    let err = Split::from_file(&path, 0, 2).unwrap_err().to_string();
    assert!(
        err.contains("line 3") && err.contains("`validation`"),
        "{err}"
    );

    let reference = Split::from_file("data/splits_breast_cancer.csv", 0, 569).unwrap();
    assert_eq!(
        (
            reference.train.len(),
            reference.val.len(),
            reference.test.len()
        ),
        (341, 114, 114)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn standardisation_uses_training_rows_only() {
    let x = vec![1.0, 5.0, 3.0, 5.0, 100.0, 5.0];
    let s = Standardizer::fit_values(&x, 2, &[0, 1]);
    assert_eq!(s.mean, vec![2.0, 5.0]);
    assert_eq!(s.scale, vec![1.0, 1.0]); // population std of {1, 3}; constant column gets 1
    assert_eq!(s.transform(&x, &[2]), vec![98.0f32, 0.0]);
}

/// Standardisation divides by the population std of the training rows (a column constant on
/// them gets scale 1), and a table of float32 or float64 values gives the same numbers.
#[test]
fn standardisation_divides_by_the_population_std_of_the_training_rows_in_either_precision() {
    // Column 0 on rows 1 and 2: {5, 11}, mean 8, std 3; column 1 is constant there.
    let x = [2.0, 0.0, 5.0, 7.0, 11.0, 7.0, 14.0, 3.0];
    let s = Standardizer::fit_values(&x, 2, &[1, 2]);
    assert_eq!(s.mean, vec![8.0, 7.0]);
    assert_eq!(s.scale, vec![3.0, 1.0]);
    let want = vec![-2.0f32, -7.0, 2.0, -4.0];
    assert_eq!(s.transform(&x, &[0, 3]), want);
    let y = stog::ndarray::Array1::from(vec![0.0, 1.0, 0.0, 1.0]);
    let x64 = stog::ndarray::Array2::from_shape_vec((4, 2), x.to_vec()).unwrap();
    let x32 = x64.mapv(|v| v as f32);
    let tables = [
        Table::from_arrays(x64.view(), y.view(), Task::Regression).unwrap(),
        Table::from_arrays(x32.view(), y.view(), Task::Regression).unwrap(),
    ];
    for table in tables {
        let fitted = Standardizer::fit(&table, &[1, 2]);
        assert_eq!(fitted, s);
        assert_eq!(fitted.transform_values(&table.x, &[0, 3]), want);
    }
}

#[test]
fn the_bundled_breast_cancer_file_loads() {
    let t = Table::from_csv("data/breast_cancer.csv", "target", Task::Classification).unwrap();
    assert_eq!((t.n_rows(), t.n_features(), t.n_classes()), (569, 30, 2));
    assert_eq!(t.feature_names[0], "mean radius");
    assert_eq!(t.y.iter().filter(|v| **v == 1.0).count(), 357);
}

proptest::proptest! {
    /// Arbitrary bytes give data or an error, never a panic.
    #[test]
    fn the_csv_loader_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        for task in [Task::Classification, Task::Regression] {
            if let Ok(t) = Table::from_bytes(Path::new("fuzz.csv"), &bytes, "target", task) {
                proptest::prop_assert_eq!(t.x.len(), t.n_rows() * t.n_features());
                proptest::prop_assert!(t.x.iter().chain(t.y.iter().copied()).all(|v| v.is_finite()));
            }
        }
    }

    /// CSV-shaped text (digits, commas, newlines, a target header) parses or errors cleanly.
    #[test]
    fn csv_shaped_text_never_panics(body in "[0-9a-z.,\\-\n ]{0,300}") {
        let text = format!("a,b,target\n{body}");
        let _ = Table::from_bytes(Path::new("fuzz.csv"), text.as_bytes(), "target", Task::Classification);
    }
}
