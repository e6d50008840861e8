//! Parquet, .npy and .npz input: the same values read the same as CSV, every bad input gives the
//! data error naming its place, and no bytes make a reader panic (the command line on these
//! formats: tests/cli.rs).

mod common;

use common::{f8, npy};
use parquet::basic::Compression;
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DoubleType, FloatType, Int32Type, Int64Type,
};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::parser::parse_message_type;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stog::Error;
use stog::data::*;

// ---------- writers for the test files ----------

/// A Parquet column for the test writer.
#[derive(Clone)]
enum Col {
    /// Nullable doubles.
    F64(Vec<Option<f64>>),
    /// Required floats (float32).
    F32(Vec<f32>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
    /// A string column: not numeric.
    Str(Vec<&'static str>),
    /// Days since 1970 (a DATE): not a number to learn from.
    Date(Vec<i32>),
}

impl Col {
    fn len(&self) -> usize {
        match self {
            Col::F64(v) => v.len(),
            Col::F32(v) => v.len(),
            Col::I32(v) | Col::Date(v) => v.len(),
            Col::I64(v) => v.len(),
            Col::Bool(v) => v.len(),
            Col::Str(v) => v.len(),
        }
    }

    fn schema(&self, name: &str) -> String {
        match self {
            Col::F64(_) => format!("optional double {name};"),
            Col::F32(_) => format!("required float {name};"),
            Col::I32(_) => format!("required int32 {name};"),
            Col::I64(_) => format!("required int64 {name};"),
            Col::Bool(_) => format!("required boolean {name};"),
            Col::Str(_) => format!("required binary {name} (UTF8);"),
            Col::Date(_) => format!("required int32 {name} (DATE);"),
        }
    }

    fn write(&self, w: &mut SerializedColumnWriter<'_>, rows: std::ops::Range<usize>) {
        match self {
            Col::F64(v) => {
                let v = &v[rows];
                let defs: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                let vals: Vec<f64> = v.iter().flatten().copied().collect();
                w.typed::<DoubleType>()
                    .write_batch(&vals, Some(&defs), None)
                    .unwrap();
            }
            Col::F32(v) => {
                w.typed::<FloatType>()
                    .write_batch(&v[rows], None, None)
                    .unwrap();
            }
            Col::I32(v) | Col::Date(v) => {
                w.typed::<Int32Type>()
                    .write_batch(&v[rows], None, None)
                    .unwrap();
            }
            Col::I64(v) => {
                w.typed::<Int64Type>()
                    .write_batch(&v[rows], None, None)
                    .unwrap();
            }
            Col::Bool(v) => {
                w.typed::<BoolType>()
                    .write_batch(&v[rows], None, None)
                    .unwrap();
            }
            Col::Str(v) => {
                let vals: Vec<ByteArray> = v[rows].iter().map(|s| ByteArray::from(*s)).collect();
                w.typed::<ByteArrayType>()
                    .write_batch(&vals, None, None)
                    .unwrap();
            }
        }
    }
}

/// A Parquet file of `cols`, `rows_per_group` rows per row group, snappy-compressed.
fn parquet(cols: &[(&str, Col)], rows_per_group: usize) -> Vec<u8> {
    parquet_with(cols, rows_per_group, None)
}

/// [`parquet`] with `pandas` metadata (its JSON text), as pandas writes.
fn parquet_with(cols: &[(&str, Col)], rows_per_group: usize, pandas: Option<&str>) -> Vec<u8> {
    let kv = pandas.map(|json| vec![KeyValue::new("pandas".into(), json.to_string())]);
    let n = cols[0].1.len();
    let fields: String = cols.iter().map(|(name, c)| c.schema(name)).collect();
    let schema = Arc::new(parse_message_type(&format!("message m {{ {fields} }}")).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(kv)
            .build(),
    );
    let mut buf = Vec::new();
    let mut w = SerializedFileWriter::new(&mut buf, schema, props).unwrap();
    for start in (0..n).step_by(rows_per_group) {
        let mut group = w.next_row_group().unwrap();
        for (_, c) in cols {
            let mut col = group.next_column().unwrap().unwrap();
            c.write(&mut col, start..(start + rows_per_group).min(n));
            col.close().unwrap();
        }
        group.close().unwrap();
    }
    w.close().unwrap();
    buf
}

fn f4(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect()
}

/// A `.npz` archive of `arrays` (name without `.npy`, file bytes), deflated or stored.
fn npz(arrays: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in arrays {
        w.start_file(format!("{name}.npy"), options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

// ---------- one small table in every format ----------

const A: [f64; 6] = [1.5, 2.0, -3.0, 4.25, 5.0, 6.0];
const B: [i32; 6] = [10, 20, 30, 40, 50, 60];
const T: [i64; 6] = [3, 7, 3, 7, 7, 3];

fn csv_text() -> String {
    let mut s = "a,b,target\n".to_string();
    for i in 0..6 {
        s += &format!("{},{},{}\n", A[i], B[i], T[i]);
    }
    s
}

fn parquet_good() -> Vec<u8> {
    parquet(
        &[
            ("a", Col::F64(A.iter().map(|v| Some(*v)).collect())),
            ("b", Col::I32(B.to_vec())),
            ("target", Col::I64(T.to_vec())),
        ],
        4, // two row groups
    )
}

/// Row-major `[a, b, target]` values.
fn matrix() -> Vec<f64> {
    (0..6)
        .flat_map(|i| [A[i], f64::from(B[i]), T[i] as f64])
        .collect()
}

fn npy_good() -> Vec<u8> {
    npy("<f8", false, &[6, 3], &f8(&matrix()))
}

fn names() -> Option<Vec<String>> {
    Some(vec!["a".into(), "b".into(), "target".into()])
}

fn npz_good(deflate: bool) -> Vec<u8> {
    let x: Vec<f64> = (0..6).flat_map(|i| [A[i], f64::from(B[i])]).collect();
    let y: Vec<u8> = T.iter().map(|v| *v as i8 as u8).collect();
    npz(
        &[
            ("x", npy("<f4", false, &[6, 2], &f4(&x))),
            ("target", npy("|i1", false, &[6], &y)),
        ],
        deflate,
    )
}

fn from_csv(task: Task) -> Table {
    Table::from_bytes(Path::new("t.csv"), csv_text().as_bytes(), "target", task).unwrap()
}

fn from_parquet(bytes: Vec<u8>, target: &str, task: Task) -> stog::Result<Table> {
    Table::from_parquet_bytes(Path::new("t.parquet"), bytes.into(), target, task)
}

fn from_npy(bytes: &[u8], target: &str, names: Option<Vec<String>>) -> stog::Result<Table> {
    Table::from_npy_bytes(
        Path::new("t.npy"),
        bytes,
        target,
        Task::Classification,
        names,
    )
}

fn from_npz(bytes: &[u8], target: &str, names: Option<Vec<String>>) -> stog::Result<Table> {
    Table::from_npz_bytes(
        Path::new("t.npz"),
        bytes,
        target,
        Task::Classification,
        names,
    )
}

type Content = (Vec<f64>, Vec<f64>, Vec<String>, String, Task, Vec<i64>);

fn content(t: &Table) -> Content {
    (
        t.x.as_f64().into_owned(),
        t.y.clone(),
        t.feature_names.clone(),
        t.target_name.clone(),
        t.task,
        t.classes.clone(),
    )
}

#[test]
fn the_same_values_read_the_same_from_every_format() {
    for task in [Task::Classification, Task::Regression] {
        let csv = content(&from_csv(task));
        let pq = content(&from_parquet(parquet_good(), "target", task).unwrap());
        assert_eq!(pq, csv, "parquet, {task:?}");
        for target in ["target", "2", "-1"] {
            let t = Table::from_npy_bytes(Path::new("t.npy"), &npy_good(), target, task, names());
            assert_eq!(content(&t.unwrap()), csv, "npy --target {target}, {task:?}");
        }
        let named = Some(vec!["a".to_string(), "b".to_string()]);
        for deflate in [false, true] {
            let t = Table::from_npz_bytes(
                Path::new("t.npz"),
                &npz_good(deflate),
                "target",
                task,
                named.clone(),
            );
            assert_eq!(
                content(&t.unwrap()),
                csv,
                "npz, deflate {deflate}, {task:?}"
            );
        }
    }
    assert_eq!(from_csv(Task::Classification).classes, vec![3, 7]);
    // A column-major (Fortran-order) .npy and .npz read the same.
    let m = matrix();
    let columns: Vec<f64> = (0..3)
        .flat_map(|j| (0..6).map(move |i| (i, j)))
        .map(|(i, j)| m[i * 3 + j])
        .collect();
    let csv = content(&from_csv(Task::Classification));
    let t = from_npy(&npy("<f8", true, &[6, 3], &f8(&columns)), "target", names()).unwrap();
    assert_eq!(content(&t), csv);
    let x: Vec<f64> = columns[..12].to_vec();
    let y = npy(
        "<i8",
        false,
        &[6],
        &T.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(),
    );
    let named = Some(vec!["a".to_string(), "b".to_string()]);
    let t = from_npz(
        &npz(
            &[("x", npy("<f8", true, &[6, 2], &f8(&x))), ("target", y)],
            true,
        ),
        "target",
        named,
    )
    .unwrap();
    assert_eq!(content(&t), csv);
}

#[test]
fn float32_data_is_kept_as_f32_and_everything_else_as_f64() {
    // float32 features: .npz of `<f4` x, Parquet FLOAT columns.
    let t = from_npz(&npz_good(false), "target", None).unwrap();
    assert!(t.x.is_f32());
    let a32: Vec<f32> = A.iter().map(|v| *v as f32).collect();
    let b32: Vec<f32> = B.iter().map(|v| *v as f32).collect();
    let pq = parquet(
        &[
            ("a", Col::F32(a32)),
            ("b", Col::F32(b32)),
            ("target", Col::I64(T.to_vec())),
        ],
        4,
    );
    let t = from_parquet(pq, "target", Task::Classification).unwrap();
    assert!(t.x.is_f32());
    assert_eq!(content(&t), content(&from_csv(Task::Classification)));
    // One double or integer feature among them, doubles, CSV: f64.
    assert!(
        !from_parquet(parquet_good(), "target", Task::Classification)
            .unwrap()
            .x
            .is_f32()
    );
    assert!(!from_npy(&npy_good(), "target", names()).unwrap().x.is_f32());
    assert!(!from_csv(Task::Classification).x.is_f32());
    // Standardised the same from either precision.
    let csv = from_csv(Task::Classification);
    let rows: Vec<usize> = (0..6).collect();
    let scaler = Standardizer::fit(&csv, &rows);
    assert_eq!(
        scaler.transform_values(&t.x, &rows),
        scaler.transform_values(&csv.x, &rows)
    );
}

#[test]
fn numpy_columns_default_to_x0_x1_and_other_dtypes_read_as_numbers() {
    let t = from_npy(&npy_good(), "2", None).unwrap();
    assert_eq!(
        (t.feature_names.clone(), t.target_name.as_str()),
        (vec!["x0".to_string(), "x1".into()], "x2")
    );
    // Big-endian 32-bit integers, unsigned bytes and booleans.
    let m: Vec<i32> = vec![1, -2, 0, 3, 4, 1, 5, -6, 0, 7, 8, 1];
    let be: Vec<u8> = m.iter().flat_map(|v| v.to_be_bytes()).collect();
    let t = from_npy(&npy(">i4", false, &[4, 3], &be), "-1", None).unwrap();
    assert_eq!(t.x, vec![1.0, -2.0, 3.0, 4.0, 5.0, -6.0, 7.0, 8.0]);
    assert_eq!(t.y, vec![0.0, 1.0, 0.0, 1.0]);
    let t = from_npy(
        &npy("|u1", false, &[4, 2], &[200, 0, 3, 1, 4, 0, 5, 1]),
        "1",
        None,
    )
    .unwrap();
    assert_eq!(t.x, vec![200.0, 3.0, 4.0, 5.0]);
    let t = from_npy(
        &npy("|b1", false, &[4, 2], &[1, 0, 0, 1, 1, 0, 0, 1]),
        "1",
        None,
    )
    .unwrap();
    assert_eq!(t.x, vec![1.0, 0.0, 1.0, 0.0]);
    // Parquet booleans and the default y of .npz.
    let p = parquet(
        &[
            ("flag", Col::Bool(vec![true, false, true, false])),
            ("target", Col::I32(vec![0, 1, 1, 0])),
        ],
        10,
    );
    assert_eq!(
        from_parquet(p, "target", Task::Classification).unwrap().x,
        vec![1.0, 0.0, 1.0, 0.0]
    );
    assert_eq!(Format::Npz.default_target(), "y");
}

#[test]
fn a_constant_column_loads_in_every_format_as_in_csv() {
    // CSV keeps constant columns (standardisation gives them scale 1); so does every format.
    let csv = Table::from_bytes(
        Path::new("t.csv"),
        b"a,c,target\n1,5,0\n2,5,1\n3,5,0\n4,5,1\n",
        "target",
        Task::Classification,
    )
    .unwrap();
    let p = parquet(
        &[
            (
                "a",
                Col::F64(vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0)]),
            ),
            ("c", Col::I64(vec![5; 4])),
            ("target", Col::I32(vec![0, 1, 0, 1])),
        ],
        3,
    );
    let pq = from_parquet(p, "target", Task::Classification).unwrap();
    let m = [1.0, 5.0, 0.0, 2.0, 5.0, 1.0, 3.0, 5.0, 0.0, 4.0, 5.0, 1.0];
    let names = Some(vec!["a".into(), "c".into(), "target".into()]);
    let np = from_npy(&npy("<f8", false, &[4, 3], &f8(&m)), "target", names).unwrap();
    assert_eq!(content(&pq), content(&csv));
    assert_eq!(content(&np), content(&csv));
    assert_eq!(csv.constant_columns(&[0, 1, 2, 3]), vec![1]);
}

// ---------- bad inputs ----------

/// The parts of a data error, checking that it names `file`.
fn data_error(r: stog::Result<Table>, file: &str) -> (Option<usize>, Option<String>, String) {
    match r {
        Err(Error::Data {
            file: f,
            line,
            row,
            column,
            reason,
        }) => {
            assert_eq!(f, Path::new(file));
            assert_eq!(line, None, "{file} has no lines: {reason}");
            (row, column, reason)
        }
        other => panic!("expected a data error for {file}, got {other:?}"),
    }
}

#[test]
fn bad_parquet_files_name_file_row_and_column() {
    let err = |cols: &[(&str, Col)], target: &str| {
        data_error(
            from_parquet(parquet(cols, 3), target, Task::Classification),
            "t.parquet",
        )
    };
    let a = |v: Vec<Option<f64>>| ("a", Col::F64(v));
    let target = ("target", Col::I32(vec![0, 1, 0, 1, 1]));
    let fine = vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(5.0)];

    // NaN, infinity and null in the second row group: the row index counts across groups.
    for (bad, why) in [
        (f64::NAN, "`NaN` is not a finite"),
        (f64::INFINITY, "`inf` is not a finite"),
    ] {
        let mut v = fine.clone();
        v[4] = Some(bad);
        let (row, column, reason) = err(&[a(v), target.clone()], "target");
        assert_eq!((row, column.as_deref()), (Some(4), Some("a")));
        assert!(reason.contains(why), "{reason}");
    }
    let mut v = fine.clone();
    v[1] = None;
    let (row, column, reason) = err(&[a(v), target.clone()], "target");
    assert_eq!((row, column.as_deref()), (Some(1), Some("a")));
    assert!(reason.contains("missing value"), "{reason}");

    // Column types that are not numbers.
    let words = ("w", Col::Str(vec!["x"; 5]));
    let (_, column, reason) = err(&[a(fine.clone()), words, target.clone()], "target");
    assert_eq!(column.as_deref(), Some("w"));
    assert!(reason.contains("not numeric"), "{reason}");
    let (_, column, reason) = err(
        &[
            a(fine.clone()),
            ("day", Col::Date(vec![1; 5])),
            target.clone(),
        ],
        "target",
    );
    assert_eq!(column.as_deref(), Some("day"));
    assert!(reason.contains("Date"), "{reason}");

    // A missing target, one class, a label that is not an integer.
    let (_, column, reason) = err(&[a(fine.clone()), target.clone()], "label");
    assert_eq!(column.as_deref(), Some("label"));
    assert!(reason.contains("no target column"), "{reason}");
    let (_, column, reason) = err(
        &[a(fine.clone()), ("target", Col::I32(vec![2; 5]))],
        "target",
    );
    assert_eq!(column.as_deref(), Some("target"));
    assert!(reason.contains("one class"), "{reason}");
    let (row, column, reason) = err(
        &[
            ("b", Col::I64(vec![1, 2, 3, 4, 5])),
            a(vec![Some(0.0), Some(1.0), Some(0.0), Some(0.5), Some(1.0)]),
        ],
        "a",
    );
    assert_eq!((row, column.as_deref()), (Some(3), Some("a")));
    assert!(reason.contains("not an integer"), "{reason}");
    // Too few rows, and the same message as CSV.
    let (_, _, reason) = err(
        &[
            a(vec![Some(1.0), Some(2.0)]),
            ("target", Col::I32(vec![0, 1])),
        ],
        "target",
    );
    assert!(reason.contains("at least 4"), "{reason}");

    // A truncated file and bytes that are not Parquet.
    let good = parquet_good();
    for cut in [good.len() - 1, good.len() / 2, 10, 0] {
        let (_, _, reason) = data_error(
            from_parquet(good[..cut].to_vec(), "target", Task::Classification),
            "t.parquet",
        );
        assert!(reason.contains("Parquet"), "{cut}: {reason}");
    }
    let msg = from_parquet(csv_text().into_bytes(), "target", Task::Classification)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("t.parquet: not a readable Parquet file"),
        "{msg}"
    );
}

#[test]
fn columns_pandas_wrote_for_the_index_are_not_features() {
    let cols = [
        ("a", Col::I32(vec![1, 2, 3, 4])),
        ("__index_level_0__", Col::I64(vec![10, 11, 12, 13])),
        ("target", Col::I32(vec![0, 1, 0, 1])),
    ];
    let read = |pandas: &str| {
        from_parquet(
            parquet_with(&cols, 10, Some(pandas)),
            "target",
            Task::Classification,
        )
    };
    let t = read(r#"{"index_columns": ["__index_level_0__"], "columns": []}"#).unwrap();
    assert_eq!(
        (t.feature_names.clone(), t.x.as_f64().into_owned()),
        (vec!["a".to_string()], vec![1.0, 2.0, 3.0, 4.0])
    );
    // A RangeIndex is metadata only: every column is data.
    let t = read(r#"{"index_columns": [{"kind": "range", "start": 0, "stop": 4, "step": 1}]}"#)
        .unwrap();
    assert_eq!(t.n_features(), 2);
    let (_, _, reason) = data_error(read("{not json"), "t.parquet");
    assert!(reason.contains("pandas metadata"), "{reason}");
}

#[test]
fn null_parquet_targets_are_unlabeled_rows_when_asked() {
    let dir = std::env::temp_dir().join(format!("stog-formats-{}-semi", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("semi.parquet");
    let y = vec![Some(0.0), None, Some(1.0), Some(0.0), None, Some(1.0)];
    let bytes = parquet(
        &[
            ("a", Col::I32(vec![1, 2, 3, 4, 5, 6])),
            ("b", Col::I64(vec![10, 20, 30, 40, 50, 60])),
            ("target", Col::F64(y)),
        ],
        4,
    );
    std::fs::write(&path, bytes).unwrap();
    let (t, unlabeled) =
        Table::from_parquet_semi_supervised(&path, "target", Task::Classification).unwrap();
    assert_eq!(t.x, vec![1.0, 10.0, 3.0, 30.0, 4.0, 40.0, 6.0, 60.0]);
    assert_eq!(t.y, vec![0.0, 1.0, 0.0, 1.0]);
    assert_eq!(unlabeled, vec![2.0, 20.0, 5.0, 50.0]);
    let (row, column, reason) = data_error(
        Table::from_parquet(&path, "target", Task::Classification),
        path.to_str().unwrap(),
    );
    assert_eq!((row, column.as_deref()), (Some(1), Some("target")));
    assert!(reason.contains("missing value"), "{reason}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_npy_files_name_file_row_and_column() {
    let err = |bytes: &[u8], target: &str, names: Option<Vec<String>>| {
        data_error(from_npy(bytes, target, names), "t.npy")
    };
    let good = npy_good();
    // NaN at row 2 of column b.
    let mut m = matrix();
    m[2 * 3 + 1] = f64::NAN;
    let (row, column, reason) = err(&npy("<f8", false, &[6, 3], &f8(&m)), "target", names());
    assert_eq!((row, column.as_deref()), (Some(2), Some("b")));
    assert!(reason.contains("`NaN` is not a finite"), "{reason}");
    // Truncated: in the values, in the header; too many bytes.
    for cut in [good.len() - 3, 70, 9, 0] {
        let (_, _, reason) = err(&good[..cut], "target", names());
        assert!(reason.contains("truncated"), "{cut}: {reason}");
    }
    let mut long = good.clone();
    long.push(0);
    assert!(err(&long, "target", names()).2.contains("bytes after"));
    // Bad magic, wrong dtypes, wrong shapes, Fortran order.
    let mut magic = good.clone();
    magic[1] = b'X';
    assert!(err(&magic, "target", names()).2.contains("magic"));
    for descr in ["<U3", "<c16", "<f2", "|O", "<M8[D]"] {
        let (_, _, reason) = err(&npy(descr, false, &[2, 2], &[0; 64]), "0", None);
        assert!(
            reason.contains(&format!("dtype `{descr}`")),
            "{descr}: {reason}"
        );
    }
    let (_, _, reason) = err(
        &npy_header_text("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }"),
        "0",
        None,
    );
    assert!(reason.contains("structured"), "{reason}");
    for shape in [&[6][..], &[2, 3, 1], &[6, 0]] {
        let (_, _, reason) = err(&npy("<f8", false, shape, &[]), "0", None);
        assert!(reason.contains("not a 2-D"), "{shape:?}: {reason}");
    }
    // Fortran order (what np.save writes for a pandas to_numpy()): a NaN is placed by row and
    // column as in C order.
    let m = matrix();
    let mut columns: Vec<f64> = (0..3)
        .flat_map(|j| (0..6).map(move |i| (i, j)))
        .map(|(i, j)| m[i * 3 + j])
        .collect();
    columns[3] = f64::NAN; // row 3 of column a
    let (row, column, _) = err(&npy("<f8", true, &[6, 3], &f8(&columns)), "target", names());
    assert_eq!((row, column.as_deref()), (Some(3), Some("a")));
    let (_, _, reason) = err(
        &npy("<f8", true, &[6, 3], &f8(&columns))[..128 + 8 * 8],
        "target",
        names(),
    );
    assert!(reason.contains("truncated"), "{reason}");
    // Names: wrong count, a target that is neither a name nor an index, a duplicate name.
    let (_, _, reason) = err(&good, "target", Some(vec!["a".into(), "b".into()]));
    assert!(reason.contains("2 feature names for 3 columns"), "{reason}");
    for target in ["target", "3", "-4"] {
        let (_, column, reason) = err(&good, target, None);
        assert_eq!(column.as_deref(), Some(target));
        assert!(reason.contains("column index (0 to 2"), "{reason}");
    }
    let (_, column, reason) = err(&good, "-1", Some(vec!["a".into(), "a".into(), "t".into()]));
    assert_eq!(column.as_deref(), Some("a"));
    assert!(reason.contains("twice"), "{reason}");
    // One class, as in CSV.
    let m: Vec<f64> = (0..6).flat_map(|i| [i as f64, 1.0]).collect();
    assert!(
        err(&npy("<f8", false, &[6, 2], &f8(&m)), "1", None)
            .2
            .contains("one class")
    );
}

/// A `.npy` header with the given dict text and no values.
fn npy_header_text(dict: &str) -> Vec<u8> {
    let mut header = dict.to_string();
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out
}

#[test]
fn bad_npz_files_name_file_and_array() {
    let err = |bytes: &[u8], names: Option<Vec<String>>| {
        data_error(from_npz(bytes, "target", names), "t.npz")
    };
    let x = f8(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let y = f8(&[0.0, 1.0, 0.0, 1.0]);
    let x_arr = npy("<f8", false, &[4, 2], &x);
    let y_arr = npy("<f8", false, &[4], &y);
    assert!(
        from_npz(
            &npz(&[("x", x_arr.clone()), ("target", y_arr.clone())], true),
            "target",
            None
        )
        .is_ok()
    );
    // A missing array lists the arrays there are.
    let (_, _, reason) = err(
        &npz(&[("x", x_arr.clone()), ("y", y_arr.clone())], false),
        None,
    );
    assert!(
        reason.contains("array `target`") && reason.contains("arrays: x, y"),
        "{reason}"
    );
    // Wrong shapes and lengths.
    let (_, column, reason) = err(
        &npz(
            &[
                ("x", npy("<f8", false, &[8], &x)),
                ("target", y_arr.clone()),
            ],
            false,
        ),
        None,
    );
    assert_eq!(column.as_deref(), Some("x"));
    assert!(reason.contains("not a 2-D"), "{reason}");
    let (_, column, reason) = err(
        &npz(
            &[
                ("x", x_arr.clone()),
                ("target", npy("<f8", false, &[2, 2], &y)),
            ],
            false,
        ),
        None,
    );
    assert_eq!(column.as_deref(), Some("target"));
    assert!(reason.contains("not 1-D"), "{reason}");
    let (_, _, reason) = err(
        &npz(
            &[
                ("x", x_arr.clone()),
                ("target", npy("<f8", false, &[3], &y[..24])),
            ],
            false,
        ),
        None,
    );
    assert!(reason.contains("3 target values for 4 rows"), "{reason}");
    // NaN in the target, a truncated array inside the archive, a wrong dtype, wrong names count.
    let (row, column, reason) = err(
        &npz(
            &[
                ("x", x_arr.clone()),
                (
                    "target",
                    npy("<f8", false, &[4], &f8(&[0.0, 1.0, f64::NAN, 1.0])),
                ),
            ],
            true,
        ),
        None,
    );
    assert_eq!((row, column.as_deref()), (Some(2), Some("target")));
    assert!(reason.contains("not a finite"), "{reason}");
    let (_, column, reason) = err(
        &npz(
            &[
                ("x", x_arr[..x_arr.len() - 8].to_vec()),
                ("target", y_arr.clone()),
            ],
            false,
        ),
        None,
    );
    assert_eq!(column.as_deref(), Some("x"));
    assert!(reason.contains("truncated"), "{reason}");
    let (_, _, reason) = err(
        &npz(
            &[
                ("x", npy("<c8", false, &[4, 2], &x)),
                ("target", y_arr.clone()),
            ],
            false,
        ),
        None,
    );
    assert!(reason.contains("dtype `<c8`"), "{reason}");
    let (_, _, reason) = err(
        &npz(&[("x", x_arr.clone()), ("target", y_arr.clone())], false),
        Some(vec!["a".into()]),
    );
    assert!(reason.contains("1 feature names for 2 columns"), "{reason}");
    // A truncated archive.
    let good = npz_good(true);
    let (_, _, reason) = err(&good[..good.len() / 2], None);
    assert!(reason.contains("zip"), "{reason}");
}

// ---------- dispatch by extension ----------

#[test]
fn files_are_read_by_extension_with_sidecar_names() {
    let dir = std::env::temp_dir().join(format!("stog-formats-{}-ext", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let csv = content(&from_csv(Task::Classification));
    let read = |p: &Path, target: Option<&str>| {
        Source {
            target: target.map(str::to_string),
            ..Source::new(p, Task::Classification)
        }
        .read()
    };
    let p = file("t.csv", csv_text().as_bytes());
    assert_eq!(content(&read(&p, None).unwrap()), csv);
    for name in ["t.parquet", "t.PQ"] {
        let p = file(name, &parquet_good());
        assert_eq!(content(&read(&p, None).unwrap()), csv, "{name}");
    }
    let p = file("t.npy", &npy_good());
    file("t.npy.names", b"a\nb\ntarget\n");
    assert_eq!(content(&read(&p, None).unwrap()), csv);
    assert_eq!(
        content(&Table::from_path(&p, "-1", Task::Classification).unwrap()),
        csv
    );
    // --feature-names overrides the sidecar; its count must match.
    let names = file("names.txt", b"a\nb\n");
    let src = Source {
        feature_names: Some(names.clone()),
        ..Source::new(&p, Task::Classification)
    };
    assert!(
        src.read()
            .unwrap_err()
            .to_string()
            .contains("2 feature names for 3 columns")
    );
    // .npz: the target array defaults to `y`.
    let x: Vec<f64> = (0..6).flat_map(|i| [A[i], f64::from(B[i])]).collect();
    let y: Vec<f64> = T.iter().map(|v| *v as f64).collect();
    let p = file(
        "t.npz",
        &npz(
            &[
                ("x", npy("<f8", false, &[6, 2], &f8(&x))),
                ("y", npy("<f8", false, &[6], &f8(&y))),
            ],
            true,
        ),
    );
    file("t.npz.names", b"a\nb\n");
    let t = read(&p, None).unwrap();
    assert_eq!(
        (
            t.x.as_f64().into_owned(),
            t.feature_names.clone(),
            t.target_name.as_str()
        ),
        (csv.0.clone(), csv.2.clone(), "y")
    );
    // NumPy data has no unlabeled rows; the semi-supervised read is the plain read.
    let (t2, unlabeled) = Source::new(&p, Task::Classification)
        .read_semi_supervised()
        .unwrap();
    assert_eq!((content(&t2), unlabeled.len()), (content(&t), 0));
    // Unknown extensions and names for a format that has its own.
    let p = file("t.txt", csv_text().as_bytes());
    assert!(
        read(&p, None)
            .unwrap_err()
            .to_string()
            .contains("expected a .csv, .parquet")
    );
    let p = dir.join("t.csv");
    let src = Source {
        feature_names: Some(names),
        ..Source::new(&p, Task::Classification)
    };
    assert!(matches!(src.read(), Err(Error::InvalidConfig { .. })));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------- no bytes make a reader panic ----------

/// `bytes` with the `edits` (position modulo the length, new byte) applied, cut to `keep` of
/// its length when `keep` is below 1.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], keep: f64) -> Vec<u8> {
    if !bytes.is_empty() {
        for (at, b) in edits {
            let n = bytes.len();
            bytes[at % n] = *b;
        }
    }
    let keep = ((bytes.len() as f64) * keep.min(1.0)) as usize;
    bytes.truncate(keep);
    bytes
}

fn check(t: stog::Result<Table>) -> Result<(), proptest::test_runner::TestCaseError> {
    if let Ok(t) = t {
        proptest::prop_assert_eq!(t.x.len(), t.n_rows() * t.n_features());
        proptest::prop_assert!(t.x.iter().chain(t.y.iter().copied()).all(|v| v.is_finite()));
    }
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Arbitrary bytes give a table or an error from every reader, never a panic.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        check(from_parquet(bytes.clone(), "target", Task::Classification))?;
        check(from_npy(&bytes, "0", None))?;
        check(from_npz(&bytes, "y", None))?;
    }

    /// Valid files with a few bytes changed and perhaps cut short give a table or an error.
    #[test]
    fn mutated_files_never_panic(
        edits in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 1..6),
        keep in 0.0f64..1.5,
    ) {
        for task in [Task::Classification, Task::Regression] {
            check(from_parquet(mutate(parquet_good(), &edits, keep), "target", task))?;
        }
        check(from_npy(&mutate(npy_good(), &edits, keep), "-1", None))?;
        check(from_npz(&mutate(npz_good(false), &edits, keep), "target", None))?;
        check(from_npz(&mutate(npz_good(true), &edits, keep), "target", None))?;
    }

    /// Mutations aimed at the .npy header text (where the dict parser works).
    #[test]
    fn mutated_npy_headers_never_panic(
        edits in proptest::collection::vec((0usize..128, proptest::num::u8::ANY), 1..4),
    ) {
        check(from_npy(&mutate(npy_good(), &edits, 1.0), "-1", None))?;
    }
}

#[test]
fn named_columns_read_the_same_from_every_format_and_a_missing_one_is_named() {
    let dir = std::env::temp_dir().join(format!("stog-formats-{}-columns", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let want: Vec<String> = vec!["b".into(), "a".into()];
    let expected: Vec<f64> = (0..6).flat_map(|i| [f64::from(B[i]), A[i]]).collect();
    let mut npz_source = Source::new(file("t.npz", &npz_good(true)), Task::Classification);
    npz_source.target = Some("target".into());
    npz_source.feature_names = Some(file("t.npz.names", b"a\nb\n"));
    let sources = [
        Source::new(file("t.csv", csv_text().as_bytes()), Task::Classification),
        Source::new(file("t.parquet", &parquet_good()), Task::Classification),
        {
            let p = file("t.npy", &npy_good());
            file("t.npy.names", b"a\nb\ntarget\n");
            Source::new(p, Task::Classification)
        },
        npz_source,
    ];
    for source in &sources {
        let name = source.path.display().to_string();
        let x = source.read_columns(&want).unwrap();
        assert_eq!(x.dim(), (6, 2), "{name}");
        let got: Vec<f64> = x.iter().copied().collect();
        assert_eq!(got, expected, "{name}");
        assert!(
            source
                .column_names()
                .unwrap()
                .contains(&"target".to_string()),
            "{name}"
        );
        let target = source.read_columns(&["target".to_string()]).unwrap();
        let t: Vec<f64> = target.iter().copied().collect();
        assert_eq!(t, T.iter().map(|v| *v as f64).collect::<Vec<_>>(), "{name}");
        let e = source.read_columns(&["a".into(), "c".into()]).unwrap_err();
        assert!(
            matches!(&e, stog::Error::Data { column: Some(c), .. } if c == "c"),
            "{name}: {e}"
        );
    }
    // CSV columns the model does not read may hold text.
    let p = file("text.csv", b"id,a,b\nfirst,1.5,2\nsecond,3,4\n");
    let x = Source::new(p, Task::Classification)
        .read_columns(&want)
        .unwrap();
    assert_eq!(x.iter().copied().collect::<Vec<_>>(), [2.0, 1.5, 4.0, 3.0]);
    let _ = std::fs::remove_dir_all(&dir);
}
