//! Hard-concrete L0 gate of Louizos, Welling and Kingma, "Learning Sparse Neural Networks through
//! L0 Regularization", ICLR 2018.
//!
//! `s = sigmoid((logit u + log alpha) / beta)`, `z = clamp(s (zeta - gamma) + gamma, 0, 1)` with
//! `u ~ U(0, 1)`, beta 2/3, gamma -0.1, zeta 1.1. Penalty `P(z != 0) = sigmoid(log alpha - beta
//! log(-gamma / zeta))`; inference gate `clamp(sigmoid(log alpha) (zeta - gamma) + gamma, 0, 1)`.

use super::{
    Gate, GateConfig, GateKind, Noise, impl_module_t, noise_shape, per_row, uniform_open,
    unit_shape,
};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use tch::{Tensor, nn};

/// Configuration of a [`HardConcrete`] gate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HardConcreteConfig {
    /// Initial `log alpha` of every unit (+3: inference gate 1, P(open) 0.99).
    pub log_alpha_init: f64,
    /// Temperature `beta`.
    pub beta: f64,
    /// Lower end of the stretch interval (negative).
    pub gamma: f64,
    /// Upper end of the stretch interval (above 1).
    pub zeta: f64,
    /// How the training noise is drawn.
    pub noise: Noise,
    /// Number of ensemble members (`None`: a plain layer).
    pub members: Option<i64>,
}

impl Default for HardConcreteConfig {
    fn default() -> Self {
        HardConcreteConfig {
            log_alpha_init: 3.0,
            beta: 2.0 / 3.0,
            gamma: -0.1,
            zeta: 1.1,
            noise: Noise::PerBatch,
            members: None,
        }
    }
}

impl HardConcreteConfig {
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

/// A layer of hard-concrete gates.
#[derive(Debug)]
pub struct HardConcrete {
    /// Gate parameters `log alpha`, `[D]` or `[E, D]`.
    pub log_alpha: Tensor,
    /// The configuration it was built with.
    pub config: HardConcreteConfig,
    units: i64,
}

/// Creates a hard-concrete gate layer of `units` gates under `vs` (variable `log_alpha`).
pub fn hard_concrete<'a, T: Borrow<nn::Path<'a>>>(
    vs: T,
    units: i64,
    config: HardConcreteConfig,
) -> HardConcrete {
    let shape = unit_shape(config.members, units);
    let log_alpha = vs
        .borrow()
        .var("log_alpha", &shape, nn::Init::Const(config.log_alpha_init));
    HardConcrete {
        log_alpha,
        config,
        units,
    }
}

impl HardConcrete {
    /// The training gate for a given uniform noise `u` in (0, 1) of shape `[(E,) S, D]`.
    pub fn gate_from_uniform(&self, u: &Tensor) -> Tensor {
        let c = &self.config;
        let s = ((u.logit(None) + per_row(&self.log_alpha)) / c.beta).sigmoid();
        (s * (c.zeta - c.gamma) + c.gamma).clamp(0.0, 1.0)
    }
}

impl Gate for HardConcrete {
    fn as_dyn(&self) -> &dyn Gate {
        self
    }
    fn kind(&self) -> GateKind {
        GateKind::HardConcrete
    }
    fn config(&self) -> GateConfig {
        GateConfig::HardConcrete(self.config)
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
        let shape = noise_shape(self.config.members, self.config.noise.rows(n), self.units);
        self.gate_from_uniform(&uniform_open(
            self.config.noise,
            &shape,
            self.log_alpha.device(),
        ))
    }
    fn inference_gate(&self) -> Tensor {
        let c = &self.config;
        (self.log_alpha.sigmoid() * (c.zeta - c.gamma) + c.gamma).clamp(0.0, 1.0)
    }
    fn open_probability(&self) -> Tensor {
        self.unit_penalty()
    }
    fn unit_penalty(&self) -> Tensor {
        let c = &self.config;
        (&self.log_alpha - c.beta * (-c.gamma / c.zeta).ln()).sigmoid()
    }
    fn select_members(&self, idx: &Tensor) -> Box<dyn Gate> {
        Box::new(HardConcrete {
            log_alpha: self.log_alpha.index_select(0, idx),
            config: HardConcreteConfig {
                members: Some(idx.size()[0]),
                ..self.config
            },
            units: self.units,
        })
    }
    fn parameters(&self) -> Vec<Tensor> {
        vec![self.log_alpha.shallow_clone()]
    }
    fn temperature(&self) -> Option<f64> {
        Some(self.config.beta)
    }
}

impl_module_t!(HardConcrete);

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn zero_frequency_matches_the_closed_form() {
        tch::manual_seed(1);
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let g = hard_concrete(
            vs.root(),
            3,
            HardConcreteConfig::default().with_noise(Noise::PerExample),
        );
        let la = [-1.0f32, 0.0, 1.5];
        crate::gates::assign(&g.log_alpha, &Tensor::from_slice(&la));
        let z = g.training_gate(100_000);
        let zero = Vec::<f32>::try_from(z.eq(0.0).to_kind(Kind::Float).mean_dim(
            0,
            false,
            Kind::Float,
        ))
        .unwrap();
        let p_open = Vec::<f32>::try_from(g.unit_penalty()).unwrap();
        for ((f, p), l) in zero.iter().zip(&p_open).zip(la) {
            // P(z = 0) = sigmoid(beta log(-gamma / zeta) - log alpha)
            let want = 1.0 / (1.0 + (-((2.0f32 / 3.0) * (0.1f32 / 1.1).ln() - l)).exp());
            assert!((f - want).abs() < 0.01, "{zero:?}");
            assert!((1.0 - p - want).abs() < 1e-5);
        }
        let inf = Vec::<f32>::try_from(g.inference_gate()).unwrap();
        // clamp(sigmoid(-1) * 1.2 - 0.1, 0, 1) = 0.2227
        assert!(
            (inf[0] - 0.222_73).abs() < 1e-4 && (inf[2] - 0.881_09).abs() < 1e-4,
            "{inf:?}"
        );
    }
}
