//! A multilayer perceptron with gate layers at the input and/or after hidden activations, and
//! its construction. The architecture is in `config.rs`, the forward pass in `forward.rs`, the
//! penalties in `penalty.rs` and what the pruned network uses in `usage.rs`.
//!
//! Layer `l`: Linear -> (BatchNorm) -> activation -> (gate) -> (Dropout). With hidden `[64, 32]`,
//! batch norm and dropout `[0.3, 0.2]` this is the network of the SToG report.

use crate::gates::{CorrelationFactor, Gate, GateKind, Noise, build_gate};
use crate::model::{
    ConditionalGate, EnsembleBatchNorm, EnsembleLinear, GatedMlpConfig, conditional_gate,
    ensemble_batch_norm, ensemble_linear,
};
use crate::{Error, Result};
use tch::{Device, Kind, Tensor, nn};

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

/// One input-dependent gate layer: the gate network for the units at `position`.
#[derive(Debug)]
pub struct ConditionalLayer {
    /// `input`, `hidden1`, `hidden2`, ...
    pub name: String,
    /// Index into [`GatedMlpConfig::widths`] of the units it gates.
    pub position: usize,
    /// The gate network.
    pub gate: ConditionalGate,
    /// Multiply-adds saved by dropping one unit, relative to an input feature (cost weights).
    pub costs: Tensor,
}

/// An ensemble of `E` gated MLPs.
#[derive(Debug)]
pub struct GatedMlp {
    /// The architecture.
    pub config: GatedMlpConfig,
    /// Gate layers, input first.
    pub gates: Vec<GateLayer>,
    /// Input-dependent gate layers, input first.
    pub conditional: Vec<ConditionalLayer>,
    pub(super) linears: Vec<EnsembleLinear>,
    pub(super) norms: Vec<EnsembleBatchNorm>,
    pub(super) members: i64,
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
    if let Some(input_gate) = config.input_gate {
        let factor = if input_gate.kind() == GateKind::Correlated {
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
            input_gate,
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
    for (h, hidden_gate) in config.hidden_gates.iter().enumerate() {
        if let Some(hidden_gate) = hidden_gate {
            let name = format!("hidden{}", h + 1);
            let gate = build_gate(
                &(&gate_root / name.as_str()),
                *hidden_gate,
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
    let mut conditional = Vec::new();
    if let Some(c) = config.conditional.clone() {
        let root = vs.set_group(2) / "conditional";
        let mut positions = c.positions.clone();
        positions.sort_unstable();
        for p in positions {
            let name = if p == 0 {
                "input".to_string()
            } else {
                format!("hidden{p}")
            };
            // The gate network reads the input of the layer that makes the gated units.
            let reads = widths[p.saturating_sub(1)];
            let gate_seeds: Vec<u64> = seeds
                .iter()
                .map(|s| s.wrapping_add(104_729 * (p as u64 + 1)))
                .collect();
            let gate = conditional_gate(
                &(&root / name.as_str()),
                reads,
                widths[p],
                &gate_seeds,
                &c,
                config.noise.unwrap_or(Noise::PerExample),
            );
            conditional.push(ConditionalLayer {
                name,
                position: p,
                gate,
                costs: unit_costs(&widths, p, vs.device()),
            });
        }
    }
    Ok(GatedMlp {
        config,
        gates,
        conditional,
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
            conditional: self
                .conditional
                .iter()
                .map(|c| ConditionalLayer {
                    name: c.name.clone(),
                    position: c.position,
                    gate: c.gate.select_members(idx),
                    costs: c.costs.shallow_clone(),
                })
                .collect(),
            linears: self.linears.iter().map(|l| l.select_members(idx)).collect(),
            norms: self.norms.iter().map(|n| n.select_members(idx)).collect(),
            members: idx.size()[0],
        }
    }

    /// The first linear layer (inputs -> first hidden layer, or -> outputs without hidden
    /// layers): weight `[E, inputs, width]` and bias `[E, width]`, the tensors the optimiser
    /// trains.
    pub fn first_layer(&self) -> &EnsembleLinear {
        &self.linears[0]
    }

    /// Sets the first linear layer of every member to `weight` (`[inputs, width]`, input-major
    /// like the pretrained `train::Encoder`) and `bias` (`[width]`); a shape error when they do not fit.
    pub fn load_first_layer(&self, weight: &Tensor, bias: &Tensor) -> Result<()> {
        let layer = self.first_layer();
        let (w, b) = (layer.weight.size(), layer.bias.size());
        if weight.size() != w[1..] || bias.size() != b[1..] {
            return Err(Error::shape(
                "first layer",
                format!(
                    "weight {:?} and bias {:?} do not fit a layer of weight {:?} and bias {:?} per member",
                    weight.size(),
                    bias.size(),
                    &w[1..],
                    &b[1..]
                ),
            ));
        }
        crate::gates::assign(
            &layer.weight,
            &weight
                .to_kind(layer.weight.kind())
                .to_device(layer.weight.device())
                .unsqueeze(0)
                .expand_as(&layer.weight),
        );
        crate::gates::assign(
            &layer.bias,
            &bias
                .to_kind(layer.bias.kind())
                .to_device(layer.bias.device())
                .unsqueeze(0)
                .expand_as(&layer.bias),
        );
        Ok(())
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
}
