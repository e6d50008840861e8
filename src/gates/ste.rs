//! STE: a Bernoulli gate trained with the straight-through estimator (Bengio, Léonard and
//! Courville, "Estimating or Propagating Gradients Through Stochastic Neurons", 2013).
//!
//! `p = sigmoid(l)`; forward `b ~ Bernoulli(p)` (or `1[p > 0.5]` when `deterministic`); backward
//! `d b / d l = sigmoid'(l)` through `b = hard + p - p.detach()`. Penalty `p`; inference gate
//! `1[p > 0.5]`. Logits start open at `logit_init` (+3: p = 0.95).

use super::{Gate, GateConfig, GateKind, Noise, impl_module_t, noise_shape, per_row, unit_shape};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use tch::{Kind, Tensor, nn};

/// Configuration of an [`Ste`] gate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SteConfig {
    /// Initial logit of every unit.
    pub logit_init: f64,
    /// Forward `1[p > 0.5]` instead of a Bernoulli draw.
    pub deterministic: bool,
    /// How the training noise is drawn.
    pub noise: Noise,
    /// Number of ensemble members (`None`: a plain layer).
    pub members: Option<i64>,
}

impl Default for SteConfig {
    fn default() -> Self {
        SteConfig {
            logit_init: 3.0,
            deterministic: false,
            noise: Noise::PerBatch,
            members: None,
        }
    }
}

impl SteConfig {
    /// Forward the thresholded gate instead of a Bernoulli draw.
    pub fn with_deterministic(mut self, deterministic: bool) -> Self {
        self.deterministic = deterministic;
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

/// A layer of straight-through Bernoulli gates.
#[derive(Debug)]
pub struct Ste {
    /// Gate logits, `[D]` or `[E, D]`.
    pub logits: Tensor,
    /// The configuration it was built with.
    pub config: SteConfig,
    units: i64,
}

/// Creates an STE gate layer of `units` gates under `vs` (variable `logits`).
pub fn ste<'a, T: Borrow<nn::Path<'a>>>(vs: T, units: i64, config: SteConfig) -> Ste {
    let shape = unit_shape(config.members, units);
    let logits = vs
        .borrow()
        .var("logits", &shape, nn::Init::Const(config.logit_init));
    Ste {
        logits,
        config,
        units,
    }
}

impl Gate for Ste {
    fn as_dyn(&self) -> &dyn Gate {
        self
    }
    fn kind(&self) -> GateKind {
        GateKind::Ste
    }
    fn config(&self) -> GateConfig {
        GateConfig::Ste(self.config)
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
        let p = per_row(&self.logits.sigmoid());
        let shape = noise_shape(self.config.members, self.config.noise.rows(n), self.units);
        let hard = if self.config.deterministic || self.config.noise == Noise::Off {
            p.gt(0.5)
                .to_kind(Kind::Float)
                .expand(shape.as_slice(), false)
        } else {
            let u = Tensor::rand(shape.as_slice(), (Kind::Float, p.device()));
            u.lt_tensor(&p.detach()).to_kind(Kind::Float)
        };
        hard + (&p - p.detach())
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
        Box::new(Ste {
            logits: self.logits.index_select(0, idx),
            config: SteConfig {
                members: Some(idx.size()[0]),
                ..self.config
            },
            units: self.units,
        })
    }
    fn parameters(&self) -> Vec<Tensor> {
        vec![self.logits.shallow_clone()]
    }
}

impl_module_t!(Ste);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_is_binary_and_gradient_is_sigmoid_prime() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let g = ste(
            vs.root(),
            4,
            SteConfig::default().with_noise(Noise::PerExample),
        );
        let l = [-2.0f32, -0.5, 0.5, 2.0];
        crate::gates::assign(&g.logits, &Tensor::from_slice(&l));
        let z = g.training_gate(64);
        let values = Vec::<f32>::try_from(z.flatten(0, -1)).unwrap();
        assert!(values.iter().all(|v| *v == 0.0 || *v == 1.0));
        assert!(values.contains(&0.0) && values.contains(&1.0));
        // d sum(z) / d l = n * sigmoid'(l), n = 64 rows
        z.sum(Kind::Float).backward();
        let grad = Vec::<f32>::try_from(g.logits.grad()).unwrap();
        for (gr, li) in grad.iter().zip(l) {
            let s = 1.0 / (1.0 + (-li).exp());
            assert!((gr / 64.0 - s * (1.0 - s)).abs() < 1e-5, "{grad:?}");
        }
        assert_eq!(
            Vec::<f32>::try_from(g.inference_gate()).unwrap(),
            vec![0.0, 0.0, 1.0, 1.0]
        );
    }

    #[test]
    fn deterministic_mode_thresholds_the_probability() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let g = ste(vs.root(), 2, SteConfig::default().with_deterministic(true));
        crate::gates::assign(&g.logits, &Tensor::from_slice(&[-0.1f32, 0.1]));
        let z = Vec::<f32>::try_from(g.training_gate(5).flatten(0, -1)).unwrap();
        assert_eq!(z, vec![0.0, 1.0]);
    }
}
