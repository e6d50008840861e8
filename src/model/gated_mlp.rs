//! A multilayer perceptron with gate layers at the input and/or after hidden activations.
//!
//! Layer `l`: Linear -> (BatchNorm) -> activation -> (gate) -> (Dropout). With hidden `[64, 32]`,
//! batch norm and dropout `[0.3, 0.2]` this is the network of the SToG report.

use crate::gates::{
    CorrelationFactor, FactorSummary, Gate, GateConfig, GateKind, Noise, Reduction, apply_gate, build_gate,
};
use crate::model::{
    ConditionalConfig, ConditionalGate, EnsembleBatchNorm, EnsembleLinear, conditional_gate,
    ensemble_batch_norm, ensemble_linear,
};
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
    /// The SToG report's network: `inputs -> 64 -> 32 -> outputs`, BatchNorm, ReLU, dropout 0.3
    /// and 0.2, with the gate `gate` (a [`GateConfig`], or a [`GateKind`] for its defaults) at
    /// the input.
    pub fn report(inputs: i64, outputs: i64, gate: impl Into<GateConfig>) -> Self {
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
        for gate in self.input_gate.iter().chain(self.hidden_gates.iter().flatten()) {
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

/// A forward pass with what its gates did.
#[derive(Debug)]
pub struct Pass {
    /// Network output `[E, N, outputs]`.
    pub out: Tensor,
    /// Gate applied at each gated position, in position order: `(position, [E, S, D])`, with
    /// `S = N` for conditional gates and noise per example, else 1.
    pub applied: Vec<(usize, Tensor)>,
    /// Logits `[E, N, D]` of each conditional layer, in layer order.
    pub logits: Vec<Tensor>,
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
    /// Input-dependent gate layers, input first.
    pub conditional: Vec<ConditionalLayer>,
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

/// Open units `[E, D]` (0/1 or fractions) counted as the penalty counts them, `[E]`: 1 per unit
/// or its cost, divided by the units with `Mean`, or the squared distance of the open fraction
/// to the target rate.
fn count_open_units(open: Tensor, costs: &Tensor, spec: &PenaltySpec) -> Tensor {
    if let Some(t) = spec.target_rate {
        return (open.mean_dim(-1, false, Kind::Float) - t).square();
    }
    let open = if spec.cost_aware { open * costs } else { open };
    match spec.reduction {
        Reduction::Sum => open.sum_dim_intlist(-1, false, Kind::Float),
        Reduction::Mean => open.mean_dim(-1, false, Kind::Float),
    }
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
    /// like [`crate::train::Encoder`]) and `bias` (`[width]`); a shape error when they do not fit.
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

    /// Forward pass. `xs` is `[N, D]` (the same data for every member) or `[E, N, D]`; the
    /// output is `[E, N, outputs]`.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.pass(xs, train).out
    }

    /// Forward pass with the gates it applied and the logits of its conditional gates.
    pub fn pass(&self, xs: &Tensor, train: bool) -> Pass {
        let mut h = if xs.dim() == 2 {
            xs.unsqueeze(0).expand([self.members, -1, -1], false)
        } else {
            xs.shallow_clone()
        };
        let mut applied = Vec::new();
        let mut logits = Vec::new();
        // The conditional gate of `pos` reads the input of the layer that makes those units.
        let mut decide = |pos: usize, h_in: &Tensor| -> Option<Tensor> {
            if let Some(g) = self.gates.iter().find(|g| g.position == pos) {
                return Some(if train {
                    g.gate.training_gate(h_in.size()[1])
                } else {
                    g.gate.inference_gate().unsqueeze(1)
                });
            }
            let c = self.conditional.iter().find(|c| c.position == pos)?;
            let l = c.gate.logits(h_in);
            let z = if train {
                c.gate.training_gate(&l)
            } else {
                ConditionalGate::inference_gate(&l)
            };
            logits.push(l);
            Some(z)
        };
        let mut gate = |pos: usize, h: &Tensor, z: Option<Tensor>| match z {
            Some(z) => {
                let out = apply_gate(h, &z, 1);
                applied.push((pos, z));
                out
            }
            None => h.shallow_clone(),
        };
        let z = decide(0, &h);
        h = gate(0, &h, z);
        let last = self.linears.len() - 1;
        for (l, linear) in self.linears.iter().enumerate() {
            let z = if l == last { None } else { decide(l + 1, &h) };
            h = linear.forward(&h);
            if l == last {
                break;
            }
            if let Some(norm) = self.norms.get(l) {
                h = norm.forward_t(&h, train);
            }
            h = self.config.activation.apply(&h);
            h = gate(l + 1, &h, z);
            if let Some(p) = self.config.dropout.get(l).filter(|p| **p > 0.0) {
                h = super::dropout(&h, *p, train);
            }
        }
        Pass {
            out: h,
            applied,
            logits,
        }
    }

    /// The target-rate loss of Herrmann et al. (2020) on sampled gates, `[E]`: the sum over
    /// layers of `(t - mean z)^2`. With noise shared per batch its expectation is the squared
    /// bias plus the variance of the open fraction, which pushes gates to be decisive.
    /// `applied` is [`Pass::applied`] of a training pass.
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
            total += count_open_units(open, &c.costs, spec);
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
            total += count_open_units(open, &g.costs, spec);
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
    pub fn usage(&self) -> Result<Vec<MemberUsage>> {
        let widths = self.config.widths();
        let e = self.members as usize;
        let kept: Vec<Vec<Vec<f64>>> = self
            .gates
            .iter()
            .map(|g| {
                let inf = g.gate.inference_gate();
                (0..e)
                    .map(|m| crate::host::to_f64(&inf.get(m as i64)))
                    .collect::<Result<_>>()
            })
            .collect::<Result<_>>()?;
        Ok((0..e)
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
            .collect())
    }

    /// What each member's inference network uses on the rows `x` (`[N, D]`): [`Self::usage`],
    /// with conditional layers added to `units_kept` (units open for at least one row) and
    /// `macs` the mean multiply-adds executed per row: each row runs only its open units, and
    /// the gate networks it runs are counted too.
    pub fn usage_on(&self, x: &Tensor) -> Result<Vec<MemberUsage>> {
        let mut usage = self.usage()?;
        if self.conditional.is_empty() {
            return Ok(usage);
        }
        let pass = tch::no_grad(|| self.pass(x, false));
        let widths = self.config.widths();
        let (e, n) = (self.members, x.size()[x.dim() - 2]);
        let opts = (Kind::Float, self.device());
        // Units each row runs at every position, [E, N].
        let kept: Vec<Tensor> = (0..widths.len())
            .map(|p| match pass.applied.iter().find(|(q, _)| *q == p) {
                Some((_, z)) => z
                    .ne(0.0)
                    .sum_dim_intlist(-1, false, Kind::Float)
                    .expand([e, n], false),
                None => Tensor::full([e, n], widths[p] as f64, opts),
            })
            .collect();
        let mut macs = Tensor::zeros([e, n], opts);
        for w in kept.windows(2) {
            macs += &w[0] * &w[1];
        }
        for c in &self.conditional {
            // The input gate reads every feature; a hidden one reads the previous layer's units.
            macs += match c.position {
                0 => c.gate.macs(&Tensor::full([e, n], widths[0] as f64, opts)),
                p => c.gate.macs(&kept[p - 1]),
            };
        }
        let macs = crate::host::to_f64(&macs.mean_dim(1, false, Kind::Double))?;
        let any_open: Vec<Vec<f64>> = self
            .conditional
            .iter()
            .map(|c| {
                let (_, z) = pass
                    .applied
                    .iter()
                    .find(|(q, _)| *q == c.position)
                    .expect("every conditional layer applies a gate");
                let any = z
                    .ne(0.0)
                    .any_dim(1, false)
                    .sum_dim_intlist(-1, false, Kind::Float);
                crate::host::to_f64(&any)
            })
            .collect::<Result<_>>()?;
        for (m, u) in usage.iter_mut().enumerate() {
            let mut layers: Vec<(usize, i64, i64)> = self
                .gates
                .iter()
                .zip(u.units_kept.iter().zip(&u.units_total))
                .map(|(g, (k, t))| (g.position, *k, *t))
                .collect();
            for (c, any) in self.conditional.iter().zip(&any_open) {
                layers.push((c.position, any[m] as i64, widths[c.position]));
            }
            layers.sort_unstable();
            u.units_kept = layers.iter().map(|l| l.1).collect();
            u.units_total = layers.iter().map(|l| l.2).collect();
            u.macs = macs[m].round() as i64;
        }
        Ok(usage)
    }
}
