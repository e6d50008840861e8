//! The race of architectures of an automatic fit: a network against a linear model, on the
//! rows that choose (training + validation). The simpler model wins what those rows cannot tell
//! apart.
//!
//! Two guards. First, a network enters the race only where there are rows enough to see an
//! interaction: [`NETWORK_MIN_CLASS_ROWS`] in the smallest class, [`NETWORK_MIN_ROWS`] for a
//! regression. With a few dozen rows a network fits every fold, its cross-validated loss sits
//! near zero at dozens of points of its path, and which architecture wins is chance (on a
//! microarray set of a few dozen rows the network won 2 of 5 splits and scored 95 and 80 % where
//! the linear model scored 100 and 95 %). Second, where it races, the network is kept only when
//! its best score beats the linear model's best by more than the standard error of a difference
//! of two scores ([`network_wins`]).

use crate::data::{Split, Table, Task};
use serde::{Deserialize, Serialize};

/// Fewest rows of the smallest class (training + validation) for a network to race a linear
/// classifier.
pub const NETWORK_MIN_CLASS_ROWS: usize = 30;

/// Fewest training + validation rows for a network to race a linear regression.
pub const NETWORK_MIN_ROWS: usize = 100;

/// How the architecture of an automatic fit was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Race {
    /// Both architectures were fitted and scored; the better one (see [`network_wins`]) was kept.
    Raced,
    /// Too few rows for the network to race: only the linear model was fitted.
    TooFewRows {
        /// Rows of the smallest class (classification) or all rows (regression) that choose.
        rows: usize,
        /// The rows a race needs.
        needed: usize,
    },
}

impl Race {
    /// Whether a network may race a linear model on the training and validation rows of
    /// `split`.
    pub fn of(table: &Table, split: &Split) -> Race {
        let rows: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
        let (count, needed) = match (table.task, table.labels()) {
            (Task::Classification, Some(labels)) => {
                let classes = labels.iter().max().map_or(0, |m| m + 1);
                let mut counts = vec![0; classes];
                for r in &rows {
                    counts[labels[*r]] += 1;
                }
                let smallest = counts.into_iter().filter(|c| *c > 0).min().unwrap_or(0);
                (smallest, NETWORK_MIN_CLASS_ROWS)
            }
            _ => (rows.len(), NETWORK_MIN_ROWS),
        };
        if count >= needed {
            Race::Raced
        } else {
            Race::TooFewRows {
                rows: count,
                needed,
            }
        }
    }
}

/// Whether the network's best score `network` (with its standard error) beats the linear
/// model's best `linear` by more than the standard error of a difference of two scores
/// (`sqrt(2)` times the network's). `None`: no point qualified (e.g. within a feature budget).
pub fn network_wins(network: Option<(f64, f64)>, linear: Option<(f64, f64)>) -> bool {
    match (network, linear) {
        (Some((n, se)), Some((l, _))) => n - std::f64::consts::SQRT_2 * se > l,
        (Some(_), None) => true,
        _ => false,
    }
}
