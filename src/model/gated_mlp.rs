//! A multilayer perceptron with gate layers at the input and/or after hidden activations.
//!
//! Layer `l`: Linear -> (BatchNorm) -> activation -> (gate) -> (Dropout). With hidden `[64, 32]`,
//! batch norm and dropout `[0.3, 0.2]` this is the network of the SToG report.

use crate::gates::{
    CorrelationFactor, FactorSummary, Gate, GateKind, Noise, Reduction, apply_gate, build_gate,
};
use crate::model::{EnsembleBatchNorm, EnsembleLinear, ensemble_batch_norm, ensemble_linear};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor, nn};

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
    fn apply(self, xs: &Tensor) -> Tensor {
        match self {
            Activation::Relu => xs.relu(),
            Activation::Tanh => xs.tanh(),
            Activation::Gelu => xs.gelu("none"),
        }
    }
}

/// Architecture of a [`GatedMlp`].
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
    /// Gate kind in front of the network (feature selection), if any.
    pub input_gate: Option<GateKind>,
    /// Gate kind after each hidden activation (channel reduction); empty: none.
    pub hidden_gates: Vec<Option<GateKind>>,
    /// Noise override for all gates (each kind's default when `None`).
    pub noise: Option<Noise>,
    /// Form of the input correlation factor (correlated input gates; set when built).
    pub factor: Option<FactorSummary>,
}

impl GatedMlpConfig {
    /// The SToG report's network: `inputs -> 64 -> 32 -> outputs`, BatchNorm, ReLU, dropout 0.3
    /// and 0.2, with a gate of `kind` at the input.
    pub fn report(inputs: i64, outputs: i64, kind: GateKind) -> Self {
        GatedMlpConfig {
            inputs,
            hidden: vec![64, 32],
            outputs,
            activation: Activation::Relu,
            batch_norm: true,
            dropout: vec![0.3, 0.2],
            input_gate: Some(kind),
            hidden_gates: vec![],
            noise: None,
            factor: None,
        }
    }

    /// Adds gates of `kind` after every hidden activation (channel reduction).
    pub fn with_hidden_gates(mut self, kind: GateKind) -> Self {
        self.hidden_gates = vec![Some(kind); self.hidden.len()];
        self
    }

    /// Checks sizes and probabilities.
    pub fn validate(&self) -> Result<()> {
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

/// One gate layer of a model: its name, position and the gate.
#[derive(Debug)]
pub struct GateLayer {
    /// `input`, `hidden1`, `hidden2`, ...
    pub name: String,
    /// Index into [`GatedMlpConfig::widths`] of the units it gates.
    pub position: usize,
    /// The gate.
    pub gate: Box<dyn Gate>,
    /// Multiply-adds saved by dropping one unit, relative to an input feature (cost weights).
    pub costs: Tensor,
}

/// What one member's inference network really uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberUsage {
    /// Units kept per gate layer, in layer order (input first).
    pub units_kept: Vec<i64>,
    /// Units per gate layer.
    pub units_total: Vec<i64>,
    /// Input features used (all when there is no input gate).
    pub selected_inputs: Vec<i64>,
    /// Multiply-adds per example of the pruned network (linear layers; BatchNorm folds in).
    pub macs: i64,
    /// Multiply-adds per example of the unpruned network.
    pub macs_full: i64,
}

/// An ensemble of `E` gated MLPs.
#[derive(Debug)]
pub struct GatedMlp {
    /// The architecture.
    pub config: GatedMlpConfig,
    /// Gate layers, input first.
    pub gates: Vec<GateLayer>,
    linears: Vec<EnsembleLinear>,
    norms: Vec<EnsembleBatchNorm>,
    members: i64,
}

/// Builds `seeds.len()` members under `vs`: linear layers under `vs/net`, gates under `vs/gates`
/// in optimiser group 1 (their own learning rate). `input_factor` is the feature correlation for a
/// correlated input gate (independent when `None`).
pub fn gated_mlp(
    vs: &nn::Path,
    config: &GatedMlpConfig,
    seeds: &[u64],
    input_factor: Option<CorrelationFactor>,
) -> Result<GatedMlp> {
    config.validate()?;
    if seeds.is_empty() {
        return Err(Error::config("seeds", "need at least one member"));
    }
    let mut config = config.clone();
    let e = seeds.len() as i64;
    let widths = config.widths();
    let net = vs / "net";
    let mut linears = Vec::new();
    let mut norms = Vec::new();
    for l in 0..widths.len() - 1 {
        let layer_seeds: Vec<u64> = seeds
            .iter()
            .map(|s| s.wrapping_mul(1000).wrapping_add(l as u64))
            .collect();
        linears.push(ensemble_linear(
            &net / format!("linear{l}"),
            widths[l],
            widths[l + 1],
            &layer_seeds,
        ));
        if config.batch_norm && l + 1 < widths.len() - 1 {
            norms.push(ensemble_batch_norm(
                &net / format!("norm{l}"),
                e,
                widths[l + 1],
            ));
        }
    }
    let gate_root = vs.set_group(1) / "gates";
    let mut gates = Vec::new();
    let members = Some(e);
    if let Some(kind) = config.input_gate {
        let factor = if kind == GateKind::Correlated {
            input_factor
        } else {
            None
        };
        if let Some(f) = &factor {
            if f.dim() != config.inputs {
                return Err(Error::shape(
                    "correlated input gate",
                    format!(
                        "factor has {} features, the network {}",
                        f.dim(),
                        config.inputs
                    ),
                ));
            }
            config.factor = Some(f.summary());
        }
        let gate = build_gate(
            &(&gate_root / "input"),
            kind,
            config.inputs,
            members,
            config.noise,
            factor,
        );
        gates.push(GateLayer {
            name: "input".into(),
            position: 0,
            gate,
            costs: unit_costs(&widths, 0, vs.device()),
        });
    }
    for (h, kind) in config.hidden_gates.iter().enumerate() {
        if let Some(kind) = kind {
            let name = format!("hidden{}", h + 1);
            let gate = build_gate(
                &(&gate_root / name.as_str()),
                *kind,
                widths[h + 1],
                members,
                config.noise,
                None,
            );
            gates.push(GateLayer {
                name,
                position: h + 1,
                gate,
                costs: unit_costs(&widths, h + 1, vs.device()),
            });
        }
    }
    Ok(GatedMlp {
        config,
        gates,
        linears,
        norms,
        members: e,
    })
}

/// Multiply-adds saved by dropping one unit at `position`, divided by those of an input feature.
fn unit_costs(widths: &[i64], position: usize, device: Device) -> Tensor {
    let fan_in = if position == 0 {
        0
    } else {
        widths[position - 1]
    };
    let saved = (fan_in + widths[position + 1]) as f64 / widths[1] as f64;
    Tensor::full([widths[position]], saved, (Kind::Float, device))
}

impl GatedMlp {
    /// Number of members `E`.
    pub fn members(&self) -> i64 {
        self.members
    }

    /// The members `idx` (an `Int64` index `[E']`) as a model of their own whose parameters are
    /// gathered differentiably from this one: a training step on it updates these members of
    /// this model (BatchNorm running statistics included) and computes nothing for the others.
    pub fn select_members(&self, idx: &Tensor) -> GatedMlp {
        GatedMlp {
            config: self.config.clone(),
            gates: self
                .gates
                .iter()
                .map(|g| GateLayer {
                    name: g.name.clone(),
                    position: g.position,
                    gate: g.gate.select_members(idx),
                    costs: g.costs.shallow_clone(),
                })
                .collect(),
            linears: self.linears.iter().map(|l| l.select_members(idx)).collect(),
            norms: self.norms.iter().map(|n| n.select_members(idx)).collect(),
            members: idx.size()[0],
        }
    }

    /// Forward pass. `xs` is `[N, D]` (the same data for every member) or `[E, N, D]`; the
    /// output is `[E, N, outputs]`.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_sampled(xs, train).0
    }

    /// Forward pass that also returns the gate each gate layer applied, `[E, S, D]` (the random
    /// training gate, or the inference gate with `S = 1`), for losses on the sampled gates.
    pub fn forward_sampled(&self, xs: &Tensor, train: bool) -> (Tensor, Vec<Tensor>) {
        let mut h = if xs.dim() == 2 {
            xs.unsqueeze(0).expand([self.members, -1, -1], false)
        } else {
            xs.shallow_clone()
        };
        let mut applied = Vec::new();
        let mut gate = |pos: usize, h: &Tensor| match self.gates.iter().find(|g| g.position == pos)
        {
            Some(g) => {
                let z = if train {
                    g.gate.training_gate(h.size()[1])
                } else {
                    g.gate.inference_gate().unsqueeze(1)
                };
                let out = apply_gate(h, &z, 1);
                applied.push(z);
                out
            }
            None => h.shallow_clone(),
        };
        h = gate(0, &h);
        let last = self.linears.len() - 1;
        for (l, linear) in self.linears.iter().enumerate() {
            h = linear.forward(&h);
            if l == last {
                break;
            }
            if let Some(norm) = self.norms.get(l) {
                h = norm.forward_t(&h, train);
            }
            h = self.config.activation.apply(&h);
            h = gate(l + 1, &h);
            if let Some(p) = self.config.dropout.get(l).filter(|p| **p > 0.0) {
                h = super::dropout(&h, *p, train);
            }
        }
        (h, applied)
    }

    /// The target-rate loss of Herrmann et al. (2020) on sampled gates, `[E]`: the sum over
    /// layers of `(t - mean z)^2`. With noise shared per batch its expectation is the squared
    /// bias plus the variance of the open fraction, which pushes gates to be decisive.
    pub fn rate_penalty(&self, sampled: &[Tensor], t: f64) -> Tensor {
        let mut total = Tensor::zeros([self.members], (Kind::Float, self.device()));
        for z in sampled {
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

    /// The penalty's value at inference, `[E]`: open inference gates counted as the penalty
    /// counts them (1 per unit, or its cost; divided by the units with `Mean`; or the squared
    /// distance of the open fraction to the target rate).
    pub fn inference_penalty(&self, spec: &PenaltySpec) -> Tensor {
        let mut total = Tensor::zeros([self.members], (Kind::Float, self.device()));
        for g in &self.gates {
            let open = g.gate.inference_gate().ne(0.0).to_kind(Kind::Float);
            total += match (spec.target_rate, spec.reduction) {
                (Some(t), _) => (open.mean_dim(-1, false, Kind::Float) - t).square(),
                (None, reduction) => {
                    let open = if spec.cost_aware {
                        open * &g.costs
                    } else {
                        open
                    };
                    match reduction {
                        Reduction::Sum => open.sum_dim_intlist(-1, false, Kind::Float),
                        Reduction::Mean => open.mean_dim(-1, false, Kind::Float),
                    }
                }
            };
        }
        total
    }

    /// Sets the temperature of every gate that has one.
    pub fn set_temperature(&mut self, tau: f64) {
        for g in &mut self.gates {
            g.gate.set_temperature(tau);
        }
    }

    /// Applies each gate's parameter clamp (after an optimiser step).
    pub fn clamp_gates(&self) {
        for g in &self.gates {
            g.gate.clamp_parameters();
        }
    }

    /// The device of the parameters.
    pub fn device(&self) -> Device {
        self.linears[0].weight.device()
    }

    /// What each member's inference network uses: kept units and multiply-adds.
    pub fn usage(&self) -> Vec<MemberUsage> {
        let widths = self.config.widths();
        let e = self.members as usize;
        let kept: Vec<Vec<Vec<f32>>> = self
            .gates
            .iter()
            .map(|g| {
                let inf = g
                    .gate
                    .inference_gate()
                    .to_device(Device::Cpu)
                    .to_kind(Kind::Float);
                (0..e)
                    .map(|m| Vec::<f32>::try_from(inf.get(m as i64)).unwrap_or_default())
                    .collect()
            })
            .collect();
        (0..e)
            .map(|m| {
                let mut active = widths.clone();
                let mut units_kept = Vec::new();
                let mut selected_inputs: Vec<i64> = (0..widths[0]).collect();
                for (g, k) in self.gates.iter().zip(&kept) {
                    let on: Vec<i64> = k[m]
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v != 0.0)
                        .map(|(i, _)| i as i64)
                        .collect();
                    active[g.position] = on.len() as i64;
                    units_kept.push(on.len() as i64);
                    if g.position == 0 {
                        selected_inputs = on;
                    }
                }
                let macs = active.windows(2).map(|w| w[0] * w[1]).sum();
                let macs_full = widths.windows(2).map(|w| w[0] * w[1]).sum();
                let units_total = self.gates.iter().map(|g| widths[g.position]).collect();
                MemberUsage {
                    units_kept,
                    units_total,
                    selected_inputs,
                    macs,
                    macs_full,
                }
            })
            .collect()
    }
}
