//! Input-dependent gates for conditional computation: each example opens its own subset of units.
//!
//! The logits of the units gated at one position come from a small network of the input of the
//! layer that produces them: `logits = W2 relu(W1 h_in + b1) + b2` (for the input features,
//! `h_in` is the example itself). Training samples a binary-concrete gate per example and unit,
//! `s = sigmoid((logits + logit u) / tau)` with `u ~ U(0, 1)`, and forwards its hard value
//! `1[s > 1/2]` with the gradient of `s` (straight-through, as in Herrmann et al. 2020, "Channel
//! Selection Using Gumbel Softmax", ECCV): the training network runs the same 0/1 subsets the
//! inference network `1[logits > 0]` runs. The penalty is the expected number of open units per
//! example, `mean_n sum_d sigmoid(logits)`, or the target-rate loss on the sampled gates.

use crate::gates::{Noise, uniform_open};
use crate::model::{EnsembleLinear, ensemble_linear};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn};

/// Where conditional gates go in a [`crate::model::GatedMlp`] and how big their networks are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalConfig {
    /// Gated positions, as indices into the layer widths: 0 for the input features, `h` for the
    /// units of hidden layer `h` (1-based).
    pub positions: Vec<usize>,
    /// Width of the gate network's hidden layer (its cost is counted in the executed
    /// multiply-adds).
    pub bottleneck: i64,
    /// Initial logit bias (+3: every gate starts open).
    pub logit_init: f64,
    /// Temperature annealed from `tau` to `tau_min` over training.
    pub tau: f64,
    /// Final temperature.
    pub tau_min: f64,
}

impl ConditionalConfig {
    /// Conditional gates at `positions` with a bottleneck of 8 units.
    pub fn at(positions: Vec<usize>) -> Self {
        ConditionalConfig {
            positions,
            bottleneck: 8,
            logit_init: 3.0,
            tau: 1.0,
            tau_min: 0.1,
        }
    }
}

/// The gate network of one gated position, for `E` members.
#[derive(Debug)]
pub struct ConditionalGate {
    hidden: EnsembleLinear,
    out: EnsembleLinear,
    /// Current temperature.
    pub tau: f64,
    /// Training noise (`Off`: `u = 1/2`, for tests).
    pub noise: Noise,
}

/// Creates a gate network `inputs -> bottleneck -> units` under `vs` for members with `seeds`;
/// the output bias starts at `config.logit_init` and the output weights small, so that every
/// gate starts open for every example.
pub fn conditional_gate(
    vs: &nn::Path,
    inputs: i64,
    units: i64,
    seeds: &[u64],
    config: &ConditionalConfig,
    noise: Noise,
) -> ConditionalGate {
    let hidden = ensemble_linear(vs / "hidden", inputs, config.bottleneck, seeds);
    let out_seeds: Vec<u64> = seeds.iter().map(|s| s.wrapping_add(7919)).collect();
    let out = ensemble_linear(vs / "out", config.bottleneck, units, &out_seeds);
    tch::no_grad(|| {
        let _ = out.weight.shallow_clone().g_mul_scalar_(0.1);
        let _ = out.bias.shallow_clone().fill_(config.logit_init);
    });
    ConditionalGate {
        hidden,
        out,
        tau: config.tau,
        noise,
    }
}

impl ConditionalGate {
    /// Gate logits per example and unit, `[E, N, units]`, from the layer input `[E, N, inputs]`.
    pub fn logits(&self, h_in: &Tensor) -> Tensor {
        self.out.forward(&self.hidden.forward(h_in).relu())
    }

    /// The gate applied in training: hard 0/1 forward, gradient of the relaxed sample.
    pub fn training_gate(&self, logits: &Tensor) -> Tensor {
        let u = uniform_open(self.noise, &logits.size(), logits.device());
        let soft = ((logits + u.logit(None)) / self.tau).sigmoid();
        let hard = soft.gt(0.5).to_kind(Kind::Float);
        hard - soft.detach() + soft
    }

    /// The gate at inference: `1[logits > 0]`, exactly 0 or 1 per example and unit.
    pub fn inference_gate(logits: &Tensor) -> Tensor {
        logits.gt(0.0).to_kind(Kind::Float)
    }

    /// Mean over the examples of the probability that each unit is open, `[E, units]`.
    pub fn mean_open_probability(logits: &Tensor) -> Tensor {
        logits.sigmoid().mean_dim(1, false, Kind::Float)
    }

    /// Multiply-adds of the gate network per example, when it reads `inputs` values (any shape).
    pub fn macs(&self, inputs: &Tensor) -> Tensor {
        let b = self.hidden.weight.size()[2];
        let units = self.out.weight.size()[2];
        inputs * b as f64 + (b * units) as f64
    }

    /// The members `idx` only (see [`crate::model::GatedMlp::select_members`]).
    pub fn select_members(&self, idx: &Tensor) -> ConditionalGate {
        ConditionalGate {
            hidden: self.hidden.select_members(idx),
            out: self.out.select_members(idx),
            tau: self.tau,
            noise: self.noise,
        }
    }
}
