//! Gumbel-softmax / binary concrete gate (Maddison et al. 2017, Jang et al. 2017; for channel
//! gating Herrmann, Bowen and Zabih, "Channel Selection Using Gumbel Softmax", ECCV 2020).
//!
//! Training gate `sigmoid((l + G1 - G2) / tau)` with `G1, G2 ~ Gumbel(0, 1)` (the difference is a
//! logistic variable, drawn as `logit(u)`); with `hard`, the forward value is `1[gate > 0.5]` and
//! the gradient the soft one. `P(open) = sigmoid(l)` is also the penalty; inference gate `1[l > 0]`.
//! The temperature is annealed by the trainer from `tau` to `tau_min`.

use super::{
    Gate, GateConfig, GateKind, Noise, impl_module_t, noise_shape, per_row, uniform_open,
    unit_shape,
};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use tch::{Kind, Tensor, nn};

/// Configuration of a [`Gumbel`] gate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GumbelConfig {
    /// Initial logit of every unit.
    pub logit_init: f64,
    /// Initial temperature.
    pub tau: f64,
    /// Final temperature of the annealing schedule.
    pub tau_min: f64,
    /// Straight-through 0/1 forward with the soft gradient.
    pub hard: bool,
    /// How the training noise is drawn.
    pub noise: Noise,
    /// Number of ensemble members (`None`: a plain layer).
    pub members: Option<i64>,
}

impl Default for GumbelConfig {
    fn default() -> Self {
        GumbelConfig {
            logit_init: 3.0,
            tau: 1.0,
            tau_min: 0.1,
            hard: false,
            noise: Noise::PerBatch,
            members: None,
        }
    }
}

impl GumbelConfig {
    /// Sets the straight-through hard mode.
    pub fn with_hard(mut self, hard: bool) -> Self {
        self.hard = hard;
        self
    }
    /// Sets the initial temperature.
    pub fn with_tau(mut self, tau: f64) -> Self {
        self.tau = tau;
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

/// A layer of binary concrete gates.
#[derive(Debug)]
pub struct Gumbel {
    /// Gate logits, `[D]` or `[E, D]`.
    pub logits: Tensor,
    /// The configuration it was built with.
    pub config: GumbelConfig,
    tau: f64,
    units: i64,
}

/// Creates a Gumbel gate layer of `units` gates under `vs` (variable `logits`).
pub fn gumbel<'a, T: Borrow<nn::Path<'a>>>(vs: T, units: i64, config: GumbelConfig) -> Gumbel {
    let shape = unit_shape(config.members, units);
    let logits = vs
        .borrow()
        .var("logits", &shape, nn::Init::Const(config.logit_init));
    Gumbel {
        logits,
        config,
        tau: config.tau,
        units,
    }
}

impl Gumbel {
    /// The training gate for a given uniform noise `u` in (0, 1) of shape `[(E,) S, D]`.
    pub fn gate_from_uniform(&self, u: &Tensor) -> Tensor {
        let soft = ((per_row(&self.logits) + u.logit(None)) / self.tau).sigmoid();
        if self.config.hard {
            soft.gt(0.5).to_kind(Kind::Float) + (&soft - soft.detach())
        } else {
            soft
        }
    }
}

impl Gate for Gumbel {
    fn as_dyn(&self) -> &dyn Gate {
        self
    }
    fn kind(&self) -> GateKind {
        GateKind::Gumbel
    }
    fn config(&self) -> GateConfig {
        GateConfig::Gumbel(self.config)
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
            self.logits.device(),
        ))
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
        Box::new(Gumbel {
            logits: self.logits.index_select(0, idx),
            config: GumbelConfig {
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

impl_module_t!(Gumbel);

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(hard: bool) -> (nn::VarStore, Gumbel) {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let c = GumbelConfig::default()
            .with_hard(hard)
            .with_noise(Noise::PerExample);
        let g = gumbel(vs.root(), 3, c);
        crate::gates::assign(&g.logits, &Tensor::from_slice(&[-1.0f32, 0.3, 2.0]));
        (vs, g)
    }

    #[test]
    fn open_frequency_matches_sigmoid_of_the_logit() {
        tch::manual_seed(0);
        let (_vs, g) = gate(false);
        let z = g.training_gate(100_000);
        let freq = Vec::<f32>::try_from(z.gt(0.5).to_kind(Kind::Float).mean_dim(
            0,
            false,
            Kind::Float,
        ))
        .unwrap();
        for (f, l) in freq.iter().zip([-1.0f32, 0.3, 2.0]) {
            let p = 1.0 / (1.0 + (-l).exp());
            assert!((f - p).abs() < 0.01, "{freq:?}");
        }
    }

    #[test]
    fn temperature_sharpens_the_soft_sample() {
        let (_vs, mut g) = gate(false);
        let u = Tensor::from_slice(&[0.6f32, 0.4, 0.5]).unsqueeze(0);
        let warm = g.gate_from_uniform(&u);
        g.set_temperature(0.1);
        assert_eq!(g.temperature(), Some(0.1));
        let cold = g.gate_from_uniform(&u);
        // (l + logit u) / tau: -0.595 -> sigmoid at tau 1 is 0.355, at tau 0.1 is 0.0026
        let (w, c) = (
            Vec::<f32>::try_from(warm.flatten(0, -1)).unwrap(),
            Vec::<f32>::try_from(cold.flatten(0, -1)).unwrap(),
        );
        assert!((w[0] - 0.3555).abs() < 1e-3 && c[0] < 0.003, "{w:?} {c:?}");
        assert!(c[2] > 0.999);
    }

    #[test]
    fn hard_mode_is_binary_with_the_soft_gradient() {
        let (_vs, g) = gate(true);
        let u = Tensor::from_slice(&[0.6f32, 0.4, 0.5]).unsqueeze(0);
        let z = g.gate_from_uniform(&u);
        assert_eq!(
            Vec::<f32>::try_from(z.flatten(0, -1)).unwrap(),
            vec![0.0, 0.0, 1.0]
        );
        z.sum(Kind::Float).backward();
        let grad = Vec::<f32>::try_from(g.logits.grad()).unwrap();
        // d sigmoid(a) / d l = s (1 - s) with a = l + logit u, tau = 1
        let a = -1.0f32 + (0.6f32 / 0.4).ln();
        let s = 1.0 / (1.0 + (-a).exp());
        assert!((grad[0] - s * (1.0 - s)).abs() < 1e-5, "{grad:?}");
    }
}
