//! How the adaptive lambda path advances ([`PathConfig`]) and where each point's refit starts
//! ([`RefitStart`]).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// How the path advances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathConfig {
    /// First penalised lambda; `None`: `start_scale` divided by the number of gated units.
    pub start: Option<f64>,
    /// The first lambda times the number of gated units, when `start` is `None`.
    pub start_scale: f64,
    /// Factor between consecutive lambdas where the count changes at a normal pace.
    pub growth: f64,
    /// Largest factor between consecutive lambdas (reached where the count barely changes).
    pub max_growth: f64,
    /// A step is refined when the kept units fall by more than this fraction (and by more than
    /// one unit) between neighbours.
    pub max_drop: f64,
    /// Steps are not refined below this factor.
    pub min_growth: f64,
    /// Fewest epochs per point.
    pub min_epochs: usize,
    /// Most epochs per point.
    pub max_epochs: usize,
    /// A point ends when the selected set has not changed for this many epochs.
    pub stable_epochs: usize,
    /// Most penalised points (refined steps that were undone count too).
    pub max_points: usize,
    /// Score each point after refitting the network with its input gates frozen (models whose
    /// only gate layer is at the input; started as `refit_start` says); the refit weights become
    /// that point's state.
    pub refit: bool,
    /// Most epochs of a refit.
    pub refit_epochs: usize,
    /// Early-stopping patience of a refit.
    pub refit_patience: usize,
    /// Where a point's refit starts from.
    #[serde(default)]
    pub refit_start: RefitStart,
}

/// The weights a point's refit starts from.
///
/// Warm is the default, chosen on `make bench-real`: a fresh start scores the points of a wide,
/// noisy path by better-calibrated networks (MADELON-style, split 0: validation losses 0.48-0.55
/// at 3-100 features, against 0.51-2.7 warm), but it chose worse points (MADELON splits 0-1:
/// 77.0 and 75.5 % against 78.3 and 76.0 %; genes <= 20, splits 0-2: 85, 90, 85 % against a
/// 93.0 % mean warm).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefitStart {
    /// The path's current weights (trained while earlier gates were open).
    #[default]
    Warm,
    /// A fresh initialisation from the members' seeds: only the selection carries over.
    Fresh,
}

impl Default for PathConfig {
    fn default() -> Self {
        PathConfig {
            start: None,
            start_scale: 0.03,
            growth: 1.5,
            max_growth: 2.0,
            max_drop: 1.0 / 3.0,
            min_growth: 1.05,
            min_epochs: 20,
            max_epochs: 200,
            stable_epochs: 15,
            max_points: 80,
            refit: true,
            refit_epochs: 150,
            refit_patience: 25,
            refit_start: RefitStart::Warm,
        }
    }
}

impl PathConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !self.start.is_none_or(positive) || !positive(self.start_scale) {
            return Err(Error::config("path", "the start lambda must be > 0"));
        }
        if !(self.growth > 1.0 && self.max_growth >= self.growth && self.min_growth > 1.0) {
            return Err(Error::config(
                "path",
                "growth factors must satisfy 1 < min_growth, 1 < growth <= max_growth",
            ));
        }
        if !(self.max_drop > 0.0 && self.max_drop < 1.0) {
            return Err(Error::config("path", "max_drop must lie in (0, 1)"));
        }
        if self.max_epochs == 0 || self.max_points == 0 {
            return Err(Error::config(
                "path",
                "max_epochs and max_points must be >= 1",
            ));
        }
        Ok(())
    }

    /// The first penalised lambda for a model with `units` gated units.
    pub fn first_lambda(&self, units: i64) -> f64 {
        self.start.unwrap_or(self.start_scale / units.max(1) as f64)
    }
}
