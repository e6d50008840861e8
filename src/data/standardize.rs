//! Standardisation `(x - mean) / std` fitted on training rows only (population std, as
//! scikit-learn's `StandardScaler`); a column constant on the training rows gets scale 1.

use super::Table;
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
        Standardizer::fit_values(&table.x, table.n_features(), rows)
    }

    /// Fits on `rows` of a row-major matrix with `d` columns.
    pub fn fit_values(x: &[f64], d: usize, rows: &[usize]) -> Standardizer {
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0; d];
        for &i in rows {
            for j in 0..d {
                mean[j] += x[i * d + j] / n;
            }
        }
        let mut var = vec![0.0; d];
        for &i in rows {
            for j in 0..d {
                var[j] += (x[i * d + j] - mean[j]).powi(2) / n;
            }
        }
        let scale = var
            .iter()
            .map(|v| if *v > 1e-24 { v.sqrt() } else { 1.0 })
            .collect();
        Standardizer { mean, scale }
    }

    /// Standardised copy of `rows` of a row-major matrix, as `f32` row-major.
    pub fn transform(&self, x: &[f64], rows: &[usize]) -> Vec<f32> {
        let d = self.mean.len();
        let mut out = Vec::with_capacity(rows.len() * d);
        for &i in rows {
            for j in 0..d {
                out.push(((x[i * d + j] - self.mean[j]) / self.scale[j]) as f32);
            }
        }
        out
    }
}
