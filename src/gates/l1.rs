//! L1 baseline (as in SToG): a learnable scale `w` per unit with penalty `|w|`.
//!
//! Training gate `w`; inference gate `w` with `|w| <= threshold` set to exactly 0, so that what is
//! counted as dropped is really dropped (SToG counts the units with `|w| > 0.1` as kept but still
//! multiplies the others by their small nonzero `w`, so its network uses every unit).

use super::{Gate, GateConfig, GateKind, Noise, impl_module_t, unit_shape};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use tch::{Kind, Tensor, nn};

/// Configuration of an [`L1`] gate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L1Config {
    /// Initial weight of every unit.
    pub w_init: f64,
    /// Weights with `|w| <= threshold` are exactly 0 at inference.
    pub threshold: f64,
    /// Number of ensemble members (`None`: a plain layer).
    pub members: Option<i64>,
}

impl Default for L1Config {
    fn default() -> Self {
        L1Config {
            w_init: 1.0,
            threshold: 0.05,
            members: None,
        }
    }
}

impl L1Config {
    /// Sets the inference threshold.
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }
    /// Gives the gate a member axis of `members` independent gates.
    pub fn with_members(mut self, members: i64) -> Self {
        self.members = Some(members);
        self
    }
}

/// A layer of L1-penalised scales.
#[derive(Debug)]
pub struct L1 {
    /// Unit weights, `[D]` or `[E, D]`.
    pub weight: Tensor,
    /// The configuration it was built with.
    pub config: L1Config,
    units: i64,
}

/// Creates an L1 gate layer of `units` weights under `vs` (variable `weight`).
pub fn l1<'a, T: Borrow<nn::Path<'a>>>(vs: T, units: i64, config: L1Config) -> L1 {
    let shape = unit_shape(config.members, units);
    let weight = vs
        .borrow()
        .var("weight", &shape, nn::Init::Const(config.w_init));
    L1 {
        weight,
        config,
        units,
    }
}

impl Gate for L1 {
    fn as_dyn(&self) -> &dyn Gate {
        self
    }
    fn kind(&self) -> GateKind {
        GateKind::L1
    }
    fn config(&self) -> GateConfig {
        GateConfig::L1(self.config)
    }
    fn units(&self) -> i64 {
        self.units
    }
    fn members(&self) -> Option<i64> {
        self.config.members
    }
    fn noise(&self) -> Noise {
        Noise::PerBatch
    }
    fn training_gate(&self, _n: i64) -> Tensor {
        self.weight.unsqueeze(-2)
    }
    fn inference_gate(&self) -> Tensor {
        let keep = self
            .weight
            .abs()
            .gt(self.config.threshold)
            .to_kind(Kind::Float);
        &self.weight * keep
    }
    fn open_probability(&self) -> Tensor {
        self.weight
            .abs()
            .gt(self.config.threshold)
            .to_kind(Kind::Float)
    }
    fn unit_penalty(&self) -> Tensor {
        self.weight.abs()
    }
    fn select_members(&self, idx: &Tensor) -> Box<dyn Gate> {
        Box::new(L1 {
            weight: self.weight.index_select(0, idx),
            config: L1Config {
                members: Some(idx.size()[0]),
                ..self.config
            },
            units: self.units,
        })
    }
    fn parameters(&self) -> Vec<Tensor> {
        vec![self.weight.shallow_clone()]
    }
}

impl_module_t!(L1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_weights_are_exactly_zero_at_inference() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let g = l1(vs.root(), 3, L1Config::default());
        crate::gates::assign(&g.weight, &Tensor::from_slice(&[0.5f32, -0.04, -0.3]));
        assert_eq!(
            Vec::<f32>::try_from(g.inference_gate()).unwrap(),
            vec![0.5, 0.0, -0.3]
        );
        assert_eq!(
            Vec::<f32>::try_from(g.unit_penalty()).unwrap(),
            vec![0.5, 0.04, 0.3]
        );
        assert_eq!(g.selected().unwrap(), vec![0, 2]);
    }
}
