//! Screening of very wide data before the gates (sure independence screening, Fan & Lv 2008,
//! with mutual information so that nonlinear signals pass): each feature's mutual information
//! with the target is estimated on the training rows from quantile bins, and only the features
//! of highest information enter the network. At 100 000 features and 600 rows the path cannot
//! run over every column in minutes; the screen costs a sort per column.

use crate::data::{Table, Task};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Whether and how far the features are screened before the gates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Screen {
    /// [`AUTO_SCREEN_ABOVE`] features or more: keep [`auto_screen_keep`] of them (by the
    /// training rows), those of highest mutual information; fewer: no screen.
    Auto,
    /// Every feature enters the network.
    Off,
    /// Keep this many features (all when there are fewer).
    Keep(usize),
}

/// The automatic screen applies from this many features on.
pub const AUTO_SCREEN_ABOVE: usize = 5000;

/// Features the automatic screen keeps for `rows` training rows: Fan & Lv's `n / ln n`, within
/// [100, 1000]. On the wide benchmark (600 training rows) keeping 1000 left the network too many
/// noise inputs to learn x4^2 and sin(2 x3); keeping 100 found exactly x0..x4.
pub fn auto_screen_keep(rows: usize) -> usize {
    let n = rows.max(2) as f64;
    ((n / n.ln()).round() as usize).clamp(100, 1000)
}

impl Screen {
    /// How many of `features` features to keep with `rows` training rows, or `None` for no
    /// screen.
    pub fn keep(self, features: usize, rows: usize) -> Option<usize> {
        match self {
            Screen::Auto => (features >= AUTO_SCREEN_ABOVE).then(|| auto_screen_keep(rows)),
            Screen::Off => None,
            Screen::Keep(k) => (k < features).then_some(k),
        }
    }
}

/// The result of a screen: which columns of the data the network sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screened {
    /// Columns kept, in increasing order.
    pub columns: Vec<usize>,
    /// Features of the data.
    pub of: usize,
    /// Quantile bins per feature of the estimate.
    pub bins: usize,
}

/// Quantile bins for `n` rows: about 30 rows per bin, between 3 and 10.
pub fn screen_bins(n: usize) -> usize {
    (n / 30).clamp(3, 10)
}

/// The `keep` columns of highest mutual information with the target on `rows` (ties: the
/// lower column), in increasing order.
pub fn screen(table: &Table, rows: &[usize], keep: usize) -> Result<Screened> {
    let d = table.n_features();
    if keep == 0 {
        return Err(Error::config("screen", "must keep at least 1 feature"));
    }
    let bins = screen_bins(rows.len());
    let info = mutual_information(table, rows, bins)?;
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|a, b| info[*b].total_cmp(&info[*a]).then(a.cmp(b)));
    let mut columns: Vec<usize> = order.into_iter().take(keep).collect();
    columns.sort_unstable();
    Ok(Screened {
        columns,
        of: d,
        bins,
    })
}

/// Plug-in mutual information (nats) between each feature and the target on `rows`, the
/// feature cut at its `bins` quantiles (equal values share a bin) and the target by class, or
/// at its quantiles for regression.
pub fn mutual_information(table: &Table, rows: &[usize], bins: usize) -> Result<Vec<f64>> {
    let n = rows.len();
    if n < 2 || bins < 2 {
        return Err(Error::config(
            "screen",
            format!("needs >= 2 rows and bins, got {n} rows and {bins} bins"),
        ));
    }
    let d = table.n_features();
    let target: Vec<f64> = rows.iter().map(|r| table.y[*r]).collect();
    let (labels, classes) = match table.task {
        Task::Classification => (
            target.iter().map(|v| *v as usize).collect::<Vec<_>>(),
            table.n_classes(),
        ),
        Task::Regression => (quantile_bins(&target, bins), bins),
    };
    let mut class_count = vec![0usize; classes];
    for c in &labels {
        class_count[*c] += 1;
    }
    let mut column = vec![0.0; n];
    let mut joint = vec![0usize; bins * classes];
    let mut info = Vec::with_capacity(d);
    for j in 0..d {
        for (v, r) in column.iter_mut().zip(rows) {
            *v = table.x.get(r * d + j);
        }
        let cut = quantile_bins(&column, bins);
        joint.iter_mut().for_each(|c| *c = 0);
        let mut bin_count = vec![0usize; bins];
        for (b, c) in cut.iter().zip(&labels) {
            joint[b * classes + c] += 1;
            bin_count[*b] += 1;
        }
        let nf = n as f64;
        let mut mi = 0.0;
        for b in 0..bins {
            for c in 0..classes {
                let k = joint[b * classes + c];
                if k > 0 {
                    let k = k as f64;
                    mi += k / nf * (k * nf / (bin_count[b] as f64 * class_count[c] as f64)).ln();
                }
            }
        }
        info.push(mi);
    }
    Ok(info)
}

/// The bin of each value among `bins` quantile bins (thresholds at the sorted values of ranks
/// `b n / bins`; equal values fall in the same bin).
fn quantile_bins(values: &[f64], bins: usize) -> Vec<usize> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let thresholds: Vec<f64> = (1..bins).map(|b| sorted[b * n / bins]).collect();
    values
        .iter()
        .map(|v| thresholds.partition_point(|t| t <= v))
        .collect()
}
