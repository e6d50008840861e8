//! Correlated STG with a Gaussian copula, from SEFS: Lee, Imrie and van der Schaar,
//! "Self-Supervision Enhanced Feature Selection with Correlated Gates", ICLR 2022.
//!
//! Per example, `u = Phi(F eps)` with `eps ~ N(0, I)` and `F F^T = R`, the feature correlation of
//! the training data (see [`CorrelationFactor`]); so each `u_d` is uniform but correlated features
//! get correlated noise. Training gate `sigmoid((logit pi + logit u) / tau)`, so `P(gate > 1/2) =
//! pi`; penalty `pi`; inference gate `1[pi > 0.5]`. The temperature is annealed by the trainer.

use super::{
    CorrelationFactor, Gate, GateConfig, GateKind, Noise, impl_module_t, noise_shape, per_row,
    standard_normal, unit_shape,
};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use tch::{Kind, Tensor, nn};

/// Configuration of a [`Correlated`] gate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorrelatedConfig {
    /// Initial `logit pi` of every unit.
    pub logit_init: f64,
    /// Initial temperature.
    pub tau: f64,
    /// Final temperature of the annealing schedule.
    pub tau_min: f64,
    /// How the training noise is drawn (per example by default, as in SEFS).
    pub noise: Noise,
    /// Number of ensemble members (`None`: a plain layer).
    pub members: Option<i64>,
}

impl Default for CorrelatedConfig {
    fn default() -> Self {
        CorrelatedConfig {
            logit_init: 3.0,
            tau: 1.0,
            tau_min: 0.1,
            noise: Noise::PerExample,
            members: None,
        }
    }
}

impl CorrelatedConfig {
    /// Sets how noise is drawn.
    pub fn with_noise(mut self, noise: Noise) -> Self {
        self.noise = noise;
        self
    }
    /// Gives the gate a member axis of `members` independent gates.
    pub fn with_members(mut self, members: i64) -> Self {
        self.members = Some(members);
        self
    }
}

/// A layer of copula-correlated gates.
#[derive(Debug)]
pub struct Correlated {
    /// `logit pi` per unit, `[D]` or `[E, D]`.
    pub logits: Tensor,
    /// Factor of the feature correlation.
    pub factor: CorrelationFactor,
    /// The configuration it was built with.
    pub config: CorrelatedConfig,
    tau: f64,
    units: i64,
}

/// Creates a correlated gate layer under `vs` (variable `logits`); its unit count is the
/// factor's dimension. The factor is stored as non-trainable variables (`factor_l`, or `factor_v`
/// and `factor_diag`), so it is saved and loaded with the model.
pub fn correlated<'a, T: Borrow<nn::Path<'a>>>(
    vs: T,
    factor: CorrelationFactor,
    config: CorrelatedConfig,
) -> Correlated {
    let vs = vs.borrow();
    let units = factor.dim();
    let shape = unit_shape(config.members, units);
    let logits = vs.var("logits", &shape, nn::Init::Const(config.logit_init));
    let factor = factor.registered(vs);
    Correlated {
        logits,
        factor,
        config,
        tau: config.tau,
        units,
    }
}

impl Correlated {
    /// Correlated uniforms `u = Phi(F eps)` of shape `[(E,) S, D]` for `rows` noise rows.
    pub fn copula_uniform(&self, rows: i64) -> Tensor {
        let shape = noise_shape(self.config.members, rows, self.units);
        let eps = standard_normal(self.config.noise, &shape, self.logits.device());
        self.factor
            .correlate(&eps, self.config.noise)
            .special_ndtr()
            .clamp(1e-6, 1.0 - 1e-6)
    }

    /// The training gate for given uniforms `u` of shape `[(E,) S, D]`.
    pub fn gate_from_uniform(&self, u: &Tensor) -> Tensor {
        ((per_row(&self.logits) + u.logit(None)) / self.tau).sigmoid()
    }
}

impl Gate for Correlated {
    fn as_dyn(&self) -> &dyn Gate {
        self
    }
    fn kind(&self) -> GateKind {
        GateKind::Correlated
    }
    fn config(&self) -> GateConfig {
        GateConfig::Correlated(self.config)
    }
    fn units(&self) -> i64 {
        self.units
    }
    fn members(&self) -> Option<i64> {
        self.config.members
    }
    fn noise(&self) -> Noise {
        self.config.noise
    }
    fn training_gate(&self, n: i64) -> Tensor {
        self.gate_from_uniform(&self.copula_uniform(self.config.noise.rows(n)))
    }
    fn inference_gate(&self) -> Tensor {
        self.logits.gt(0.0).to_kind(Kind::Float)
    }
    fn open_probability(&self) -> Tensor {
        self.logits.sigmoid()
    }
    fn unit_penalty(&self) -> Tensor {
        self.logits.sigmoid()
    }
    fn select_members(&self, idx: &Tensor) -> Box<dyn Gate> {
        Box::new(Correlated {
            logits: self.logits.index_select(0, idx),
            factor: self.factor.shallow_clone(),
            config: CorrelatedConfig {
                members: Some(idx.size()[0]),
                ..self.config
            },
            tau: self.tau,
            units: self.units,
        })
    }
    fn parameters(&self) -> Vec<Tensor> {
        vec![self.logits.shallow_clone()]
    }
    fn temperature(&self) -> Option<f64> {
        Some(self.tau)
    }
    fn temperature_range(&self) -> Option<(f64, f64)> {
        Some((self.config.tau, self.config.tau_min))
    }
    fn set_temperature(&mut self, tau: f64) {
        self.tau = tau;
    }
}

impl_module_t!(Correlated);
