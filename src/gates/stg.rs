//! STG: the Gaussian hard-sigmoid stochastic gate of Yamada, Lindenbaum, Negahban and Kluger,
//! "Feature Selection using Stochastic Gates", ICML 2020.
//!
//! Training gate `z = clamp(mu + 0.5 + sigma * eps, 0, 1)` with `eps ~ N(0, 1)`; penalty
//! `P(z > 0) = Phi((mu + 0.5) / sigma)`; inference gate `clamp(mu + 0.5, 0, 1)`. `mu` starts at
//! 0 (gate 0.5, open with probability Phi(1) = 0.84) and is clamped to `mu_max` after each step so
//! that a penalty can still close it.

use super::{
    Gate, GateConfig, GateKind, Noise, impl_module_t, noise_shape, per_row, standard_normal,
    unit_shape,
};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use tch::{Tensor, nn};

/// Configuration of an [`Stg`] gate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StgConfig {
    /// Noise scale of the Gaussian (0.5 in the paper).
    pub sigma: f64,
    /// Initial `mu` of every unit.
    pub mu_init: f64,
    /// Upper bound applied to `mu` after each optimiser step.
    pub mu_max: f64,
    /// How the training noise is drawn.
    pub noise: Noise,
    /// Number of ensemble members (`None`: a plain layer).
    pub members: Option<i64>,
}

impl Default for StgConfig {
    fn default() -> Self {
        StgConfig {
            sigma: 0.5,
            mu_init: 0.0,
            mu_max: 1.0,
            noise: Noise::PerBatch,
            members: None,
        }
    }
}

impl StgConfig {
    /// Sets the noise scale.
    pub fn with_sigma(mut self, sigma: f64) -> Self {
        self.sigma = sigma;
        self
    }
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

/// A layer of STG gates.
#[derive(Debug)]
pub struct Stg {
    /// Gate means, `[D]` or `[E, D]`.
    pub mu: Tensor,
    /// The configuration it was built with.
    pub config: StgConfig,
    units: i64,
}

/// Creates an STG gate layer of `units` gates under `vs` (variable `mu`).
pub fn stg<'a, T: Borrow<nn::Path<'a>>>(vs: T, units: i64, config: StgConfig) -> Stg {
    let shape = unit_shape(config.members, units);
    let mu = vs
        .borrow()
        .var("mu", &shape, nn::Init::Const(config.mu_init));
    Stg { mu, config, units }
}

impl Stg {
    /// The training gate for a given standard-normal noise of shape `[(E,) S, D]`.
    pub fn gate_from_noise(&self, eps: &Tensor) -> Tensor {
        (per_row(&self.mu) + 0.5 + eps * self.config.sigma).clamp(0.0, 1.0)
    }
}

impl Gate for Stg {
    fn as_dyn(&self) -> &dyn Gate {
        self
    }
    fn kind(&self) -> GateKind {
        GateKind::Stg
    }
    fn config(&self) -> GateConfig {
        GateConfig::Stg(self.config)
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
        let eps = standard_normal(self.config.noise, &shape, self.mu.device());
        self.gate_from_noise(&eps)
    }
    fn inference_gate(&self) -> Tensor {
        (&self.mu + 0.5).clamp(0.0, 1.0)
    }
    fn open_probability(&self) -> Tensor {
        self.unit_penalty()
    }
    fn unit_penalty(&self) -> Tensor {
        ((&self.mu + 0.5) / self.config.sigma).special_ndtr()
    }
    fn select_members(&self, idx: &Tensor) -> Box<dyn Gate> {
        Box::new(Stg {
            mu: self.mu.index_select(0, idx),
            config: StgConfig {
                members: Some(idx.size()[0]),
                ..self.config
            },
            units: self.units,
        })
    }
    fn parameters(&self) -> Vec<Tensor> {
        vec![self.mu.shallow_clone()]
    }
    fn clamp_parameters(&self) {
        tch::no_grad(|| {
            let _ = self.mu.shallow_clone().clamp_max_(self.config.mu_max);
        });
    }
}

impl_module_t!(Stg);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_penalty_and_inference_follow_the_formulas() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let g = stg(vs.root(), 3, StgConfig::default());
        crate::gates::assign(&g.mu, &Tensor::from_slice(&[-0.3f32, 0.2, -0.8]));
        let eps = Tensor::from_slice(&[1.0f32, -2.0, 0.5]).unsqueeze(0);
        let z = Vec::<f32>::try_from(g.gate_from_noise(&eps).flatten(0, -1)).unwrap();
        // clamp(mu + 0.5 + 0.5 eps, 0, 1)
        let want = [0.7f32, 0.0, 0.0];
        for (a, b) in z.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{z:?}");
        }
        let inf = Vec::<f32>::try_from(g.inference_gate()).unwrap();
        for (a, b) in inf.iter().zip([0.2f32, 0.7, 0.0]) {
            assert!((a - b).abs() < 1e-6, "{inf:?}");
        }
        assert_eq!(inf[2], 0.0);
        // Phi((mu + 0.5) / 0.5): Phi(0.4), Phi(1.4), Phi(-0.6)
        let p = Vec::<f32>::try_from(g.unit_penalty()).unwrap();
        for (a, b) in p.iter().zip([0.655_421_7f32, 0.919_243_3, 0.274_253_1]) {
            assert!((a - b).abs() < 1e-5, "{p:?}");
        }
        assert_eq!(g.selected().unwrap(), vec![0, 1]);
    }

    #[test]
    fn mu_is_clamped_after_a_step() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let g = stg(vs.root(), 2, StgConfig::default());
        crate::gates::assign(&g.mu, &Tensor::from_slice(&[5.0f32, -5.0]));
        g.clamp_parameters();
        assert_eq!(Vec::<f32>::try_from(&g.mu).unwrap(), vec![1.0, -5.0]);
    }
}
