//! Train / validation / test splits: stratified from fractions and a seed, or read from a split
//! file `seed,row,split` (rows 0-based, header excluded; split `train`, `val` or `test`).

use crate::{Error, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Row indices of the three parts of a data set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Split {
    /// Rows the model is fitted on (and the standardisation).
    pub train: Vec<usize>,
    /// Rows for early stopping and choosing lambda.
    pub val: Vec<usize>,
    /// Rows for the final score only.
    pub test: Vec<usize>,
}

impl Split {
    /// The stratified split of `table`'s rows, by its class labels for classification: what
    /// `stog` makes from `--split` and `--split-seed`.
    pub fn of(table: &super::Table, fractions: [f64; 3], seed: u64) -> Result<Split> {
        Split::stratified(table.n_rows(), table.labels().as_deref(), fractions, seed)
    }

    /// `k` cross-validation folds over the training and validation rows together: fold `f`
    /// validates on every `k`-th row of each class (rows shuffled with `seed`) and trains on the
    /// rest; the test rows stay as they are. `labels` (per row of the table) stratify the folds.
    pub fn folds(&self, labels: Option<&[usize]>, k: usize, seed: u64) -> Result<Vec<Split>> {
        let mut pool: Vec<usize> = self.train.iter().chain(&self.val).copied().collect();
        if k < 2 || pool.len() < 2 * k {
            return Err(Error::config(
                "folds",
                format!(
                    "{k} folds need k >= 2 and at least {} training and validation rows, got {}",
                    2 * k,
                    pool.len()
                ),
            ));
        }
        pool.sort_unstable();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        pool.shuffle(&mut rng);
        // Stable by class: within a class the shuffled order is kept, and dealing the classes out
        // in turn gives every fold its share of each class.
        pool.sort_by_key(|r| labels.map_or(0, |l| l[*r]));
        let mut folds = vec![Vec::new(); k];
        for (i, r) in pool.iter().enumerate() {
            folds[i % k].push(*r);
        }
        Ok((0..k)
            .map(|f| {
                let mut train: Vec<usize> = (0..k)
                    .filter(|g| *g != f)
                    .flat_map(|g| folds[g].iter().copied())
                    .collect();
                train.sort_unstable();
                let mut val = folds[f].clone();
                val.sort_unstable();
                Split {
                    train,
                    val,
                    test: self.test.clone(),
                }
            })
            .collect())
    }

    /// A stratified split of `n` rows (by `labels` when given) into fractions `[train, val, test]`.
    ///
    /// Within each class the rows are shuffled with `seed` and cut by rounding, so every part gets
    /// its share of every class.
    pub fn stratified(
        n: usize,
        labels: Option<&[usize]>,
        fractions: [f64; 3],
        seed: u64,
    ) -> Result<Split> {
        check_fractions(fractions)?;
        let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for i in 0..n {
            groups
                .entry(labels.map_or(0, |l| l[i]))
                .or_default()
                .push(i);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut split = Split::default();
        for rows in groups.values_mut() {
            rows.shuffle(&mut rng);
            let m = rows.len() as f64;
            let n_test = (m * fractions[2]).round() as usize;
            let n_val = ((m * fractions[1]).round() as usize).min(rows.len() - n_test);
            split.test.extend(&rows[..n_test]);
            split.val.extend(&rows[n_test..n_test + n_val]);
            split.train.extend(&rows[n_test + n_val..]);
        }
        for part in [&mut split.train, &mut split.val, &mut split.test] {
            part.sort_unstable();
        }
        for (name, part, f) in [
            ("train", &split.train, fractions[0]),
            ("val", &split.val, fractions[1]),
            ("test", &split.test, fractions[2]),
        ] {
            if part.is_empty() && f > 0.0 {
                return Err(Error::config(
                    "split",
                    format!(
                        "too few rows ({n}) for the fractions {fractions:?}: the {name} part is empty"
                    ),
                ));
            }
        }
        if split.train.len() < 2 {
            return Err(Error::config(
                "split",
                format!(
                    "too few rows ({n}): the train part has {} row(s)",
                    split.train.len()
                ),
            ));
        }
        Ok(split)
    }

    /// Reads the split of `seed` from a split file for a table of `n_rows` rows.
    pub fn from_file(path: impl AsRef<Path>, seed: u64, n_rows: usize) -> Result<Split> {
        let path = path.as_ref();
        let err = |line: Option<usize>, column: Option<&str>, reason: String| {
            Error::data(path, line, column, reason)
        };
        let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(io) => Error::io(path, io),
            other => err(None, None, format!("{other:?}")),
        })?;
        let header = reader
            .headers()
            .map_err(|e| err(Some(1), None, e.to_string()))?
            .clone();
        if header.iter().map(str::trim).collect::<Vec<_>>() != ["seed", "row", "split"] {
            return Err(err(
                Some(1),
                None,
                "the header must be `seed,row,split`".into(),
            ));
        }
        let mut split = Split::default();
        let mut seen = vec![false; n_rows];
        let mut seeds = std::collections::BTreeSet::new();
        for record in reader.records() {
            let record = record
                .map_err(|e| err(e.position().map(|p| p.line() as usize), None, e.to_string()))?;
            let line = record.position().map(|p| p.line() as usize);
            let field = |i: usize| record.get(i).unwrap_or("").trim();
            let s: u64 = field(0)
                .parse()
                .map_err(|_| err(line, Some("seed"), format!("`{}` is not a seed", field(0))))?;
            seeds.insert(s);
            if s != seed {
                continue;
            }
            let row: usize = field(1).parse().map_err(|_| {
                err(
                    line,
                    Some("row"),
                    format!("`{}` is not a row index", field(1)),
                )
            })?;
            if row >= n_rows {
                return Err(err(
                    line,
                    Some("row"),
                    format!("row {row} is out of range: the data has {n_rows} rows"),
                ));
            }
            if std::mem::replace(&mut seen[row], true) {
                return Err(err(
                    line,
                    Some("row"),
                    format!("row {row} appears twice for seed {seed}"),
                ));
            }
            match field(2) {
                "train" => split.train.push(row),
                "val" => split.val.push(row),
                "test" => split.test.push(row),
                other => {
                    return Err(err(
                        line,
                        Some("split"),
                        format!("`{other}` is not train, val or test"),
                    ));
                }
            }
        }
        if !seeds.contains(&seed) {
            return Err(err(
                None,
                Some("seed"),
                format!("no rows for seed {seed}; the file has seeds {seeds:?}"),
            ));
        }
        if split.train.len() < 2 || split.val.is_empty() {
            return Err(err(
                None,
                None,
                format!(
                    "seed {seed} has {} train and {} val rows",
                    split.train.len(),
                    split.val.len()
                ),
            ));
        }
        Ok(split)
    }

    /// The seeds present in a split file.
    pub fn seeds_in_file(path: impl AsRef<Path>) -> Result<Vec<u64>> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut seeds: Vec<u64> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next()?.trim().parse().ok())
            .collect();
        seeds.sort_unstable();
        seeds.dedup();
        Ok(seeds)
    }

    /// Writes splits as a split file `seed,row,split`, rows in increasing order per seed.
    pub fn write_file(path: impl AsRef<Path>, splits: &[(u64, &Split)]) -> Result<()> {
        let path = path.as_ref();
        let mut out = String::from("seed,row,split\n");
        for (seed, split) in splits {
            let mut rows: Vec<(usize, &str)> = Vec::new();
            rows.extend(split.train.iter().map(|r| (*r, "train")));
            rows.extend(split.val.iter().map(|r| (*r, "val")));
            rows.extend(split.test.iter().map(|r| (*r, "test")));
            rows.sort_unstable();
            for (r, s) in rows {
                out.push_str(&format!("{seed},{r},{s}\n"));
            }
        }
        std::fs::write(path, out).map_err(|e| Error::io(path, e))
    }
}

/// Checks that split fractions sum to 1, train and validation in (0, 1] and test in [0, 1]: a
/// fit without test rows (fraction 0) reports no test score.
pub fn check_fractions(f: [f64; 3]) -> Result<()> {
    let bad = |v: f64, low_ok: bool| !v.is_finite() || v < 0.0 || (v == 0.0 && !low_ok) || v > 1.0;
    if bad(f[0], false) || bad(f[1], false) || bad(f[2], true) {
        return Err(Error::config(
            "split",
            format!(
                "fractions {f:?}: train and validation must lie in (0, 1], test in [0, 1] (0: no test rows)"
            ),
        ));
    }
    let sum: f64 = f.iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return Err(Error::config(
            "split",
            format!("fractions {f:?} sum to {sum}, not 1"),
        ));
    }
    Ok(())
}
