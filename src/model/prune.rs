//! Pruning: a network cut down to the units its inference gates keep, so that it is physically
//! smaller. A dropped unit's inference gate is exactly 0, so removing the unit changes no output;
//! a kept unit's gate value is folded into the weights that read the unit, so the pruned network
//! has no gates left. [`kept_units`], [`keep`] and [`fold`] are the whole mechanism, for any
//! layer (the gated MLP here, the CNN of `examples/digits_native_cnn.rs`); [`PrunedMlp`] is a
//! [`GatedMlp`] pruned this way, with its save and load.

use super::{EnsembleBatchNorm, EnsembleLinear, GatedMlp, GatedMlpConfig, MemberUsage};
use crate::host::to_f64;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tch::{Device, Tensor};

/// Indices of the units a one-dimensional inference gate keeps (its non-zero values), increasing.
pub fn kept_units(gate: &Tensor) -> Result<Vec<i64>> {
    if gate.dim() != 1 {
        return Err(Error::shape(
            "kept units",
            format!(
                "a gate of shape {:?} is not one value per unit",
                gate.size()
            ),
        ));
    }
    Ok(to_f64(gate)?
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0.0)
        .map(|(i, _)| i as i64)
        .collect())
}

/// A copy of the entries `kept` of `t` along `axis`: the kept units of a layer that produces
/// them (weight columns or rows, bias, batch-norm statistics).
pub fn keep(t: &Tensor, axis: i64, kept: &[i64]) -> Tensor {
    let idx = Tensor::from_slice(kept).to_device(t.device());
    tch::no_grad(|| t.index_select(axis, &idx).contiguous())
}

/// [`keep`], each entry along `axis` multiplied by its unit's gate value (`gate[kept]`): the
/// weights of a layer that reads gated units, with the gate folded in.
pub fn fold(t: &Tensor, axis: i64, kept: &[i64], gate: &Tensor) -> Tensor {
    let mut shape = vec![1i64; t.dim()];
    shape[axis as usize] = kept.len() as i64;
    let z = keep(gate, 0, kept).to_kind(t.kind()).view(shape.as_slice());
    tch::no_grad(|| keep(t, axis, kept) * z)
}

/// The units a pruned network keeps of the network it was cut from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptUnits {
    /// The inputs kept, as indices into the fitted network's inputs, increasing.
    pub inputs: Vec<i64>,
    /// The units kept of each hidden layer, increasing.
    pub hidden: Vec<Vec<i64>>,
}

impl KeptUnits {
    /// Checks that these are units of `fitted`: one list per hidden layer, each increasing and
    /// within its layer.
    pub fn validate(&self, fitted: &GatedMlpConfig) -> Result<()> {
        if self.hidden.len() != fitted.hidden.len() {
            return Err(Error::shape(
                "kept units",
                format!(
                    "{} hidden layers listed; the network has {}",
                    self.hidden.len(),
                    fitted.hidden.len()
                ),
            ));
        }
        let layers = std::iter::once((&self.inputs, fitted.inputs, "inputs".to_string())).chain(
            self.hidden
                .iter()
                .zip(&fitted.hidden)
                .enumerate()
                .map(|(h, (k, w))| (k, *w, format!("hidden layer {}", h + 1))),
        );
        for (kept, width, name) in layers {
            let increasing = kept.windows(2).all(|w| w[0] < w[1]);
            if !increasing || kept.iter().any(|i| *i < 0 || *i >= width) {
                return Err(Error::shape(
                    "kept units",
                    format!("{name}: {kept:?} are not increasing units of 0..{width}"),
                ));
            }
        }
        Ok(())
    }

    /// The kept units at each position `[inputs, hidden..., outputs]` (every output).
    fn by_position(&self, outputs: i64) -> Vec<Vec<i64>> {
        let mut at = vec![self.inputs.clone()];
        at.extend(self.hidden.iter().cloned());
        at.push((0..outputs).collect());
        at
    }
}

impl GatedMlpConfig {
    /// The architecture of this network pruned to `kept`: the kept widths, no gates (their
    /// values are folded into the weights), the rest unchanged. A width may be 0.
    pub fn pruned(&self, kept: &KeptUnits) -> GatedMlpConfig {
        GatedMlpConfig {
            inputs: kept.inputs.len() as i64,
            hidden: kept.hidden.iter().map(|h| h.len() as i64).collect(),
            input_gate: None,
            hidden_gates: vec![],
            noise: None,
            factor: None,
            conditional: None,
            ..self.clone()
        }
    }
}

/// A gated MLP pruned to the units its inference gates keep: one member, no gates, the same
/// outputs.
#[derive(Debug)]
pub struct PrunedMlp {
    /// What it keeps of the network it was cut from.
    pub kept: KeptUnits,
    /// The network ([`GatedMlpConfig::pruned`]: no gates, the kept widths).
    pub net: GatedMlp,
}

impl GatedMlp {
    /// Member `member` pruned to the units its inference gates keep: the rows of the first
    /// layer's weight for the kept inputs, for each gated hidden layer the kept units' columns
    /// of the layer that makes them (with their bias and batch-norm entries) and rows of the
    /// layer that reads them, each gate's value folded into the rows that read it. An error for
    /// input-dependent gates, whose units are chosen per row.
    pub fn prune(&self, member: i64) -> Result<PrunedMlp> {
        if !self.conditional.is_empty() {
            return Err(Error::NotApplicable {
                call: "prune".into(),
                reason: "input-dependent gates choose their units per row".into(),
            });
        }
        if !(0..self.members).contains(&member) {
            return Err(Error::shape(
                "prune",
                format!("member {member} of {}", self.members),
            ));
        }
        let widths = self.config.widths();
        let mut kept: Vec<Vec<i64>> = widths.iter().map(|w| (0..*w).collect()).collect();
        let mut gate_at: Vec<Option<Tensor>> = widths.iter().map(|_| None).collect();
        for g in &self.gates {
            let z = tch::no_grad(|| g.gate.inference_gate());
            let z = if z.dim() == 2 { z.get(member) } else { z };
            kept[g.position] = kept_units(&z)?;
            gate_at[g.position] = Some(z);
        }
        let one = |t: &Tensor| tch::no_grad(|| t.get(member).unsqueeze(0));
        let linears = self
            .linears
            .iter()
            .enumerate()
            .map(|(l, linear)| {
                let w = one(&linear.weight);
                let w = match &gate_at[l] {
                    Some(z) => fold(&w, 1, &kept[l], z),
                    None => keep(&w, 1, &kept[l]),
                };
                EnsembleLinear {
                    weight: keep(&w, 2, &kept[l + 1]),
                    bias: keep(&one(&linear.bias), 1, &kept[l + 1]),
                }
            })
            .collect();
        let norms = self
            .norms
            .iter()
            .enumerate()
            .map(|(l, n)| {
                let k = |t: &Tensor| keep(&one(t), 1, &kept[l + 1]);
                EnsembleBatchNorm::from_parts(
                    k(&n.weight),
                    k(&n.bias),
                    k(&n.running_mean),
                    k(&n.running_var),
                )
            })
            .collect();
        let units = KeptUnits {
            inputs: kept[0].clone(),
            hidden: kept[1..widths.len() - 1].to_vec(),
        };
        Ok(PrunedMlp {
            net: GatedMlp {
                config: self.config.pruned(&units),
                gates: vec![],
                conditional: vec![],
                linears,
                norms,
                members: 1,
            },
            kept: units,
        })
    }

    /// Trainable numbers of member 0: weights and biases of the linear layers, scales and shifts
    /// of batch normalisation, and the gates' parameters (not the running statistics).
    pub fn parameter_count(&self) -> i64 {
        let per_member = |t: &Tensor| t.numel() as i64 / t.size()[0].max(1);
        let net: i64 = self
            .linears
            .iter()
            .map(|l| per_member(&l.weight) + per_member(&l.bias))
            .chain(
                self.norms
                    .iter()
                    .map(|n| per_member(&n.weight) + per_member(&n.bias)),
            )
            .sum();
        let gates: i64 = self
            .gates
            .iter()
            .flat_map(|g| g.gate.parameters())
            .map(|p| p.numel() as i64 / self.members)
            .sum();
        net + gates
    }
}

impl PrunedMlp {
    /// The network's tensors by the names they are saved under: `net.linear{l}.weight`
    /// (`[1, in, out]`), `net.linear{l}.bias` (`[1, out]`) and, with batch normalisation,
    /// `net.norm{l}.weight`, `.bias`, `.running_mean`, `.running_var` (`[1, units]`).
    pub fn tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (l, linear) in self.net.linears.iter().enumerate() {
            out.push((
                format!("net.linear{l}.weight"),
                linear.weight.shallow_clone(),
            ));
            out.push((format!("net.linear{l}.bias"), linear.bias.shallow_clone()));
        }
        for (l, n) in self.net.norms.iter().enumerate() {
            for (name, t) in [
                ("weight", &n.weight),
                ("bias", &n.bias),
                ("running_mean", &n.running_mean),
                ("running_var", &n.running_var),
            ] {
                out.push((format!("net.norm{l}.{name}"), t.shallow_clone()));
            }
        }
        out
    }

    /// Writes [`PrunedMlp::tensors`] to a safetensors file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tensors: Vec<(String, Tensor)> = self
            .tensors()
            .into_iter()
            .map(|(n, t)| (n, t.to_device(Device::Cpu).contiguous()))
            .collect();
        Ok(Tensor::write_safetensors(&tensors, path)?)
    }

    /// Reads a network written by [`PrunedMlp::save`]: the units `kept` of a network of
    /// architecture `fitted`. An error naming the file when a tensor is missing, unexpected or
    /// of another shape than `kept` gives.
    pub fn load(
        path: &Path,
        fitted: &GatedMlpConfig,
        kept: KeptUnits,
        device: Device,
    ) -> Result<PrunedMlp> {
        kept.validate(fitted)?;
        let mut file: HashMap<String, Tensor> =
            Tensor::read_safetensors(path)?.into_iter().collect();
        let config = fitted.pruned(&kept);
        let widths = config.widths();
        let mut take = |name: String, shape: Vec<i64>| -> Result<Tensor> {
            let t = file.remove(&name).ok_or_else(|| {
                Error::data(path, None, None, format!("the tensor `{name}` is missing"))
            })?;
            if t.size() != shape {
                return Err(Error::data(
                    path,
                    None,
                    None,
                    format!(
                        "`{name}` has shape {:?}; the pruned network needs {shape:?}",
                        t.size()
                    ),
                ));
            }
            Ok(t.to_kind(tch::Kind::Float).to_device(device))
        };
        let mut linears = Vec::new();
        let mut norms = Vec::new();
        for l in 0..widths.len() - 1 {
            let (i, o) = (widths[l], widths[l + 1]);
            linears.push(EnsembleLinear {
                weight: take(format!("net.linear{l}.weight"), vec![1, i, o])?,
                bias: take(format!("net.linear{l}.bias"), vec![1, o])?,
            });
            if config.batch_norm && l + 1 < widths.len() - 1 {
                let mut part = |name: &str| take(format!("net.norm{l}.{name}"), vec![1, o]);
                norms.push(EnsembleBatchNorm::from_parts(
                    part("weight")?,
                    part("bias")?,
                    part("running_mean")?,
                    part("running_var")?,
                ));
            }
        }
        if let Some(name) = file.keys().min() {
            return Err(Error::data(
                path,
                None,
                None,
                format!("the tensor `{name}` is not part of the pruned network"),
            ));
        }
        Ok(PrunedMlp {
            net: GatedMlp {
                config,
                gates: vec![],
                conditional: vec![],
                linears,
                norms,
                members: 1,
            },
            kept,
        })
    }

    /// What this network uses of `fitted`, the architecture it was cut from: as
    /// [`GatedMlp::usage`] gives for the gated member, from the kept units and the widths.
    pub fn usage(&self, fitted: &GatedMlpConfig) -> MemberUsage {
        let widths = fitted.widths();
        let kept = self.kept.by_position(fitted.outputs);
        let active = self.net.config.widths();
        let gated: Vec<usize> = fitted
            .input_gate
            .iter()
            .map(|_| 0)
            .chain(
                fitted
                    .hidden_gates
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.is_some())
                    .map(|(h, _)| h + 1),
            )
            .collect();
        MemberUsage {
            units_kept: gated.iter().map(|p| kept[*p].len() as i64).collect(),
            units_total: gated.iter().map(|p| widths[*p]).collect(),
            selected_inputs: self.kept.inputs.clone(),
            macs: active.windows(2).map(|w| w[0] * w[1]).sum(),
            macs_full: widths.windows(2).map(|w| w[0] * w[1]).sum(),
        }
    }

    /// Trainable numbers of the pruned network ([`GatedMlp::parameter_count`]).
    pub fn parameter_count(&self) -> i64 {
        self.net.parameter_count()
    }
}
