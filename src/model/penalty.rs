//! The sparsity penalties of a gated MLP: expected open units per gate layer (optionally
//! weighted by the multiply-adds they save, or as a target rate), in training and at inference.

use super::{ConditionalGate, GatedMlp};
use crate::gates::Reduction;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// How the gate layers' penalties make one number per member.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PenaltySpec {
    /// Sum or mean over units.
    pub reduction: Reduction,
    /// Weight each unit by the multiply-adds it saves.
    pub cost_aware: bool,
    /// Replace the expected count by `(t - mean P(open))^2` per layer (static pruning to a rate).
    pub target_rate: Option<f64>,
}

/// Open units `[E, D]` (0/1 or fractions; `[D]` without a member axis) counted as the penalty
/// counts them, `[E]` (or `[]`): 1 per unit or its cost (`costs` with `cost_aware`; 1 per unit
/// without costs), divided by the units with `Mean`, or the squared distance of the open
/// fraction to the target rate.
pub fn count_open_units(open: Tensor, costs: Option<&Tensor>, spec: &PenaltySpec) -> Tensor {
    if let Some(t) = spec.target_rate {
        return (open.mean_dim(-1, false, Kind::Float) - t).square();
    }
    let open = match costs {
        Some(costs) if spec.cost_aware => open * costs,
        _ => open,
    };
    match spec.reduction {
        Reduction::Sum => open.sum_dim_intlist(-1, false, Kind::Float),
        Reduction::Mean => open.mean_dim(-1, false, Kind::Float),
    }
}

impl GatedMlp {
    /// The target-rate loss of Herrmann et al. (2020) on sampled gates, `[E]`: the sum over
    /// layers of `(t - mean z)^2`. With noise shared per batch its expectation is the squared
    /// bias plus the variance of the open fraction, which pushes gates to be decisive.
    /// `applied` is [`Pass::applied`](super::Pass::applied) of a training pass.
    pub fn rate_penalty(&self, applied: &[(usize, Tensor)], t: f64) -> Tensor {
        let mut total = Tensor::zeros([self.members], (Kind::Float, self.device()));
        for (_, z) in applied {
            total += (z.mean_dim([1, 2].as_slice(), false, Kind::Float) - t).square();
        }
        total
    }

    /// The penalty of every member, `[E]`, summed over gate layers: each layer's expected open
    /// units (weighted by saved multiply-adds when `cost_aware`).
    pub fn penalty(&self, spec: &PenaltySpec) -> Tensor {
        let mut total = Tensor::zeros([self.members], (Kind::Float, self.device()));
        for g in &self.gates {
            total += g
                .gate
                .penalty(spec.reduction, spec.cost_aware.then_some(&g.costs));
        }
        total
    }

    /// The penalty of the conditional gates, `[E]`, from the logits of a training pass: each
    /// layer's expected open units per example (cost-weighted when `cost_aware`).
    pub fn conditional_penalty(&self, logits: &[Tensor], spec: &PenaltySpec) -> Tensor {
        let open = logits.iter().map(ConditionalGate::mean_open_probability);
        self.count_open(open, spec)
    }

    /// The conditional gates' penalty at inference, `[E]`, from the logits of an inference pass:
    /// open units per example, averaged over the examples.
    pub fn conditional_inference_penalty(&self, logits: &[Tensor], spec: &PenaltySpec) -> Tensor {
        let open = logits
            .iter()
            .map(|l| ConditionalGate::inference_gate(l).mean_dim(1, false, Kind::Float));
        self.count_open(open, spec)
    }

    /// Sums per-unit open fractions `[E, D]` of the conditional layers as the penalty counts.
    fn count_open(&self, open: impl Iterator<Item = Tensor>, spec: &PenaltySpec) -> Tensor {
        let mut total = Tensor::zeros([self.members], (Kind::Float, self.device()));
        for (c, open) in self.conditional.iter().zip(open) {
            total += count_open_units(open, Some(&c.costs), spec);
        }
        total
    }

    /// The penalty's value at inference, `[E]`: open inference gates counted as the penalty
    /// counts them (1 per unit, or its cost; divided by the units with `Mean`; or the squared
    /// distance of the open fraction to the target rate).
    pub fn inference_penalty(&self, spec: &PenaltySpec) -> Tensor {
        let mut total = Tensor::zeros([self.members], (Kind::Float, self.device()));
        for g in &self.gates {
            let open = g.gate.inference_gate().ne(0.0).to_kind(Kind::Float);
            total += count_open_units(open, Some(&g.costs), spec);
        }
        total
    }
}
