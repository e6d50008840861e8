//! Row-major feature values in the precision they were read in: `f32` when every feature column
//! of the file is `f32` (a `.npy` of float32, Parquet FLOAT columns), which halves the table's
//! memory on large data, `f64` otherwise (CSV, doubles, integers).

use std::borrow::Cow;

/// Feature values of a [`Table`](super::Table), `n_rows * n_features`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Read from `f32` data.
    F32(Vec<f32>),
    /// Read from anything else.
    F64(Vec<f64>),
}

impl Values {
    /// `len` zeros of `f32` (`single`) or `f64`, or `None` when the memory cannot be had.
    pub(crate) fn try_zeros(len: usize, single: bool) -> Option<Values> {
        fn zeros<T: Clone + Default>(len: usize) -> Option<Vec<T>> {
            let mut v = Vec::new();
            v.try_reserve_exact(len).ok()?;
            v.resize(len, T::default());
            Some(v)
        }
        Some(if single {
            Values::F32(zeros(len)?)
        } else {
            Values::F64(zeros(len)?)
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the values are stored as `f32`.
    pub fn is_f32(&self) -> bool {
        matches!(self, Values::F32(_))
    }

    /// Value `i`.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Values::F32(v) => f64::from(v[i]),
            Values::F64(v) => v[i],
        }
    }

    /// Sets value `i` (rounded to `f32` in an `f32` table: readers of `f32` data only store
    /// values that were `f32`).
    pub fn set(&mut self, i: usize, value: f64) {
        match self {
            Values::F32(v) => v[i] = value as f32,
            Values::F64(v) => v[i] = value,
        }
    }

    /// Grows or shrinks to `len` values (new ones 0).
    pub fn resize(&mut self, len: usize) {
        match self {
            Values::F32(v) => v.resize(len, 0.0),
            Values::F64(v) => v.resize(len, 0.0),
        }
    }

    /// Reserves room for `additional` more values, if the memory can be had (a hint).
    pub(crate) fn try_reserve_exact(&mut self, additional: usize) {
        // Failing leaves the values as they are; they then grow as rows are read.
        let _ = match self {
            Values::F32(v) => v.try_reserve_exact(additional),
            Values::F64(v) => v.try_reserve_exact(additional),
        };
    }

    /// The values as `f64`: borrowed when stored so, converted (a copy) from `f32`.
    pub fn as_f64(&self) -> Cow<'_, [f64]> {
        match self {
            Values::F32(v) => Cow::Owned(v.iter().map(|x| f64::from(*x)).collect()),
            Values::F64(v) => Cow::Borrowed(v),
        }
    }

    /// Every value as `f64`, in order.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Columns `columns` of every row of `d` values (the row-major sub-table), in the same
    /// precision.
    pub fn select_columns(&self, d: usize, columns: &[usize]) -> Values {
        fn pick<T: Copy>(v: &[T], d: usize, columns: &[usize]) -> Vec<T> {
            v.chunks(d)
                .flat_map(|row| columns.iter().map(|j| row[*j]))
                .collect()
        }
        match self {
            Values::F32(v) => Values::F32(pick(v, d, columns)),
            Values::F64(v) => Values::F64(pick(v, d, columns)),
        }
    }
}

impl From<Vec<f64>> for Values {
    fn from(v: Vec<f64>) -> Values {
        Values::F64(v)
    }
}

impl From<Vec<f32>> for Values {
    fn from(v: Vec<f32>) -> Values {
        Values::F32(v)
    }
}

/// Equal when every value is (as `f64`), whatever the precision stored.
impl PartialEq<Vec<f64>> for Values {
    fn eq(&self, other: &Vec<f64>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == *b)
    }
}
