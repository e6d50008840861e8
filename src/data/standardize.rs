//! Standardisation `(x - mean) / std` fitted on training rows only (population std, as
//! scikit-learn's `StandardScaler`); a column constant on the training rows gets scale 1.

use super::{Table, Values};
use serde::{Deserialize, Serialize};

/// Per-column mean and scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Column means over the fitted rows.
    pub mean: Vec<f64>,
    /// Column standard deviations over the fitted rows (1 where constant).
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Fits on `rows` of `table`'s features.
    pub fn fit(table: &Table, rows: &[usize]) -> Standardizer {
        let d = table.n_features();
        match &table.x {
            Values::F32(x) => Standardizer::fit_values(x, d, rows),
            Values::F64(x) => Standardizer::fit_values(x, d, rows),
        }
    }

    /// Fits on `rows` of a row-major matrix with `d` columns.
    pub fn fit_values<T: Copy + Into<f64>>(x: &[T], d: usize, rows: &[usize]) -> Standardizer {
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0; d];
        for &i in rows {
            for j in 0..d {
                mean[j] += x[i * d + j].into() / n;
            }
        }
        let mut var = vec![0.0; d];
        for &i in rows {
            for j in 0..d {
                var[j] += (x[i * d + j].into() - mean[j]).powi(2) / n;
            }
        }
        let scale = var
            .iter()
            .map(|v| if *v > 1e-24 { v.sqrt() } else { 1.0 })
            .collect();
        Standardizer { mean, scale }
    }

    /// Standardised copy of `rows` of a row-major matrix, as `f32` row-major.
    pub fn transform<T: Copy + Into<f64>>(&self, x: &[T], rows: &[usize]) -> Vec<f32> {
        let d = self.mean.len();
        let mut out = Vec::with_capacity(rows.len() * d);
        for &i in rows {
            for j in 0..d {
                out.push(((x[i * d + j].into() - self.mean[j]) / self.scale[j]) as f32);
            }
        }
        out
    }

    /// [`Standardizer::transform`] of rows of a table's values, whatever their precision.
    pub fn transform_values(&self, x: &Values, rows: &[usize]) -> Vec<f32> {
        match x {
            Values::F32(x) => self.transform(x, rows),
            Values::F64(x) => self.transform(x, rows),
        }
    }
}
