//! The lambda path of a [`GatedScript`]: the shared [`warm_path`] over a grid, each point a fit
//! and an optional refit of the backbone.

use super::{GatedScript, ScriptFitConfig};
use crate::train::{Prepared, warm_path};
use crate::{Error, Result};

impl GatedScript {
    /// Fits with `config` and then, when `refit_epochs > 0`, refits the backbone under the chosen
    /// gates for that many epochs; returns the best epoch of the fit.
    pub fn fit_and_refit(
        &mut self,
        data: &Prepared,
        config: &ScriptFitConfig,
        refit_epochs: usize,
    ) -> Result<usize> {
        let best_epoch = self.fit(data, config)?;
        if refit_epochs > 0 {
            let refit = ScriptFitConfig {
                epochs: refit_epochs,
                warmup: 0,
                refit: true,
                ..config.clone()
            };
            self.fit(data, &refit)?;
        }
        Ok(best_epoch)
    }

    /// [`fit_and_refit`](GatedScript::fit_and_refit) at each of `lambdas` as a
    /// [`warm_path`]: in increasing order, from the previous point's state, the warm-up of
    /// `config` at the first point only. After each point `visit(model, lambda, best_epoch)`
    /// scores and records it (and may write its files); its results come back in lambda order.
    pub fn warm_path<T, E: From<Error>>(
        &mut self,
        data: &Prepared,
        lambdas: &[f64],
        config: &ScriptFitConfig,
        refit_epochs: usize,
        visit: impl FnMut(&mut GatedScript, f64, usize) -> std::result::Result<T, E>,
    ) -> std::result::Result<Vec<T>, E> {
        let fit_point = |g: &mut GatedScript, lambda: f64, first: bool| {
            let point = ScriptFitConfig {
                lambda,
                warmup: if first { config.warmup } else { 0 },
                ..config.clone()
            };
            Ok(g.fit_and_refit(data, &point, refit_epochs)?)
        };
        warm_path(self, lambdas, fit_point, visit)
    }
}
