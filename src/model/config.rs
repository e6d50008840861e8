//! The architecture of a gated MLP: layer sizes, activation, and where its gates go.

use crate::gates::{FactorSummary, GateConfig, Noise};
use crate::model::ConditionalConfig;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Activation after each hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// max(0, x)
    #[default]
    Relu,
    /// tanh(x)
    Tanh,
    /// Gaussian error linear unit.
    Gelu,
}

impl Activation {
    pub(super) fn apply(self, xs: &Tensor) -> Tensor {
        match self {
            Activation::Relu => xs.relu(),
            Activation::Tanh => xs.tanh(),
            Activation::Gelu => xs.gelu("none"),
        }
    }
}

/// Architecture of a [`GatedMlp`](super::GatedMlp).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatedMlpConfig {
    /// Number of input features.
    pub inputs: i64,
    /// Hidden layer sizes.
    pub hidden: Vec<i64>,
    /// Number of outputs (classes, or regression targets).
    pub outputs: i64,
    /// Hidden activation.
    pub activation: Activation,
    /// Batch normalisation after each hidden linear layer.
    pub batch_norm: bool,
    /// Dropout probability after each hidden layer (empty: none).
    pub dropout: Vec<f64>,
    /// Gate in front of the network (feature selection), if any.
    pub input_gate: Option<GateConfig>,
    /// Gate after each hidden activation (channel reduction); empty: none.
    pub hidden_gates: Vec<Option<GateConfig>>,
    /// Noise override for all gates (each kind's default when `None`).
    pub noise: Option<Noise>,
    /// Form of the input correlation factor (correlated input gates; set when built).
    pub factor: Option<FactorSummary>,
    /// Input-dependent gates (conditional computation), at positions without a static gate.
    #[serde(default)]
    pub conditional: Option<ConditionalConfig>,
}

impl GatedMlpConfig {
    /// The network of the SToG technical report (the paper stog reimplements): `inputs -> 64 ->
    /// 32 -> outputs`, BatchNorm, ReLU, dropout 0.3 and 0.2, with the gate `gate` (a
    /// [`GateConfig`], or a [`GateKind`](crate::gates::GateKind) for its defaults) at the input.
    pub fn paper_network(inputs: i64, outputs: i64, gate: impl Into<GateConfig>) -> Self {
        GatedMlpConfig {
            inputs,
            hidden: vec![64, 32],
            outputs,
            activation: Activation::Relu,
            batch_norm: true,
            dropout: vec![0.3, 0.2],
            input_gate: Some(gate.into()),
            hidden_gates: vec![],
            noise: None,
            factor: None,
            conditional: None,
        }
    }

    /// Adds the gate `gate` after every hidden activation (channel reduction).
    pub fn with_hidden_gates(mut self, gate: impl Into<GateConfig>) -> Self {
        self.hidden_gates = vec![Some(gate.into()); self.hidden.len()];
        self
    }

    /// Checks sizes, probabilities and the gates' settings.
    pub fn validate(&self) -> Result<()> {
        for gate in self
            .input_gate
            .iter()
            .chain(self.hidden_gates.iter().flatten())
        {
            gate.validate()?;
        }
        if self.inputs < 1 || self.outputs < 1 || self.hidden.iter().any(|h| *h < 1) {
            return Err(Error::config(
                "hidden",
                format!(
                    "layer sizes must be positive: {} -> {:?} -> {}",
                    self.inputs, self.hidden, self.outputs
                ),
            ));
        }
        if !self.dropout.is_empty() && self.dropout.len() != self.hidden.len() {
            return Err(Error::config(
                "dropout",
                format!(
                    "{} values for {} hidden layers",
                    self.dropout.len(),
                    self.hidden.len()
                ),
            ));
        }
        if self.dropout.iter().any(|p| !(0.0..1.0).contains(p)) {
            return Err(Error::config("dropout", "probabilities must lie in [0, 1)"));
        }
        if let Some(c) = &self.conditional {
            let gated = |p: usize| match p {
                0 => self.input_gate.is_some(),
                h => self.hidden_gates.get(h - 1).is_some_and(|g| g.is_some()),
            };
            if let Some(p) = c
                .positions
                .iter()
                .find(|p| **p > self.hidden.len() || gated(**p))
            {
                return Err(Error::config(
                    "conditional",
                    format!(
                        "position {p} is not a hidden layer or the input, or already has a static gate"
                    ),
                ));
            }
            if c.bottleneck < 1 {
                return Err(Error::config(
                    "conditional",
                    "bottleneck must be at least 1",
                ));
            }
        }
        if !self.hidden_gates.is_empty() && self.hidden_gates.len() != self.hidden.len() {
            return Err(Error::config(
                "hidden_gates",
                format!(
                    "{} gates for {} hidden layers",
                    self.hidden_gates.len(),
                    self.hidden.len()
                ),
            ));
        }
        Ok(())
    }

    /// Layer widths `[inputs, hidden..., outputs]`.
    pub fn widths(&self) -> Vec<i64> {
        let mut w = vec![self.inputs];
        w.extend(&self.hidden);
        w.push(self.outputs);
        w
    }
}
