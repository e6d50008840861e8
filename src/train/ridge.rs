//! The final fit of a linear regression selector in closed form: ridge regression on the columns
//! its input gates keep, with the penalty chosen on the validation rows.
//!
//! Once the gates have selected, the weights of the early-stopped Adam refit stop wherever the
//! validation rows stopped them, and least squares on the kept columns is no better at low
//! signal-to-noise: there shrinkage after selection wins (the relaxed lasso, Meinshausen 2007;
//! Hastie, Tibshirani & Tibshirani 2020). For weights `w` and intercept `b` over the kept,
//! gate-scaled columns `X` (`[N, K]`) and the standardised target `y`:
//!
//! `minimise mean((y - X w - b)^2) + alpha |w|^2`,
//!
//! solved exactly (`w = (Xc'Xc / N + alpha I)^-1 Xc'yc / N` on centred columns, or its dual form
//! when `K > N`), for each `alpha` of [`RIDGE_ALPHAS`]; the one whose fit on the training rows has
//! the lowest squared error on the validation rows is kept. Being exact, the fit does not depend
//! on an optimiser's trajectory.

use crate::data::Task;
use crate::gates::assign;
use crate::model::GatedMlp;
use crate::train::{Part, Prepared};
use crate::{Error, Result};
use tch::{Kind, Tensor};

/// Penalties tried, from nearly least squares to strong shrinkage (on the mean squared error of
/// the standardised target, so they mean the same at any number of rows).
pub const RIDGE_ALPHAS: [f64; 8] = [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0];

/// A ridge fit: weights `[K, 1]` and intercept `[1, 1]`, in float64.
#[derive(Debug)]
pub struct RidgeFit {
    /// Weights of the columns.
    pub weight: Tensor,
    /// Intercept.
    pub bias: Tensor,
}

impl RidgeFit {
    /// Predictions `[N, 1]` for columns `x` (`[N, K]`).
    pub fn predict(&self, x: &Tensor) -> Tensor {
        x.to_kind(Kind::Double).matmul(&self.weight) + &self.bias
    }
}

/// The ridge fit with penalty `alpha` (> 0) of targets `y` (`[N]` or `[N, 1]`) on columns `x`
/// (`[N, K]`).
pub fn ridge(x: &Tensor, y: &Tensor, alpha: f64) -> Result<RidgeFit> {
    if alpha <= 0.0 || !alpha.is_finite() {
        return Err(Error::config(
            "ridge",
            format!("the penalty must be positive and finite, got {alpha}"),
        ));
    }
    let x = x.to_kind(Kind::Double);
    let y = y.to_kind(Kind::Double).view([-1, 1]);
    let (n, k) = (x.size()[0], x.size()[1]);
    if n == 0 || y.size()[0] != n {
        return Err(Error::shape(
            "ridge",
            format!("{n} rows of columns and {} targets", y.size()[0]),
        ));
    }
    let x_mean = x.mean_dim(0, true, Kind::Double);
    let y_mean = y.mean_dim(0, true, Kind::Double);
    let xc = &x - &x_mean;
    let yc = &y - &y_mean;
    let eye = |m: i64| Tensor::eye(m, (Kind::Double, x.device())) * alpha;
    let weight = if k <= n {
        let gram = xc.tr().matmul(&xc) / n as f64 + eye(k);
        Tensor::f_linalg_solve(&gram, &(xc.tr().matmul(&yc) / n as f64), true)?
    } else {
        // The same solution through the N x N system: w = Xc' (Xc Xc' / N + alpha I)^-1 yc / N.
        let gram = xc.matmul(&xc.tr()) / n as f64 + eye(n);
        xc.tr().matmul(&Tensor::f_linalg_solve(&gram, &yc, true)?) / n as f64
    };
    let bias = &y_mean - x_mean.matmul(&weight);
    Ok(RidgeFit { weight, bias })
}

/// The penalty of `alphas` whose fit on `train` has the lowest mean squared error on `val` (ties:
/// the smaller penalty), with that error. Both parts hold `[N, K]` columns and `[N, 1]` targets.
pub fn choose_ridge_alpha(train: &Part, val: &Part, alphas: &[f64]) -> Result<(f64, f64)> {
    let mut best: Option<(f64, f64)> = None;
    for &alpha in alphas {
        let fit = ridge(&train.x, &train.y, alpha)?;
        let err = (fit.predict(&val.x) - val.y.to_kind(Kind::Double).view([-1, 1]))
            .square()
            .mean(Kind::Double)
            .double_value(&[]);
        if best.is_none_or(|(_, e)| err < e) {
            best = Some((alpha, err));
        }
    }
    best.ok_or_else(|| Error::config("ridge", "no penalty to choose from"))
}

/// The kept, gate-scaled columns of a one-member linear regression model (`[N, K]` parts) and
/// their indices.
fn kept_columns(model: &GatedMlp, data: &Prepared) -> Result<(Prepared, Tensor)> {
    let linear = model.config.hidden.is_empty() && model.gates.len() == 1;
    if !linear || model.gates[0].position != 0 || data.task != Task::Regression {
        return Err(Error::config(
            "ridge",
            "needs a linear regression model with input gates only",
        ));
    }
    let gates = model.gates[0].gate.inference_gate();
    if gates.size()[0] != 1 {
        return Err(Error::config("ridge", "needs a model of one member"));
    }
    let (masked, kept) = data.masked_columns(&gates);
    let squeeze = |p: &Part| Part {
        x: p.x.squeeze_dim(0),
        y: p.y.shallow_clone(),
    };
    let parts = Prepared {
        train: squeeze(&masked.train),
        val: squeeze(&masked.val),
        test: squeeze(&masked.test),
        ..masked
    };
    Ok((parts, kept))
}

/// The penalty of [`RIDGE_ALPHAS`] chosen on `data`'s validation rows for the linear regression
/// `model` as its gates stand (fits on the training rows).
pub fn ridge_alpha_for(model: &GatedMlp, data: &Prepared) -> Result<f64> {
    let (parts, _) = kept_columns(model, data)?;
    Ok(choose_ridge_alpha(&parts.train, &parts.val, &RIDGE_ALPHAS)?.0)
}

/// Replaces the weights of the linear regression `model` by the ridge fit with `alpha` on
/// `data`'s training rows of the columns its gates keep (the other columns' weights are left as
/// they are: their closed gates zero them).
pub fn ridge_refit(model: &GatedMlp, data: &Prepared, alpha: f64) -> Result<()> {
    let (parts, kept) = kept_columns(model, data)?;
    let fit = ridge(&parts.train.x, &parts.train.y, alpha)?;
    let layer = model.first_layer();
    let (w, b) = (&layer.weight, &layer.bias);
    let k = kept.numel() as i64;
    let weight = w
        .detach()
        .index_copy(1, &kept, &fit.weight.view([1, k, 1]).to_kind(w.kind()));
    assign(w, &weight);
    assign(b, &fit.bias.view([1, 1]).to_kind(b.kind()));
    Ok(())
}
