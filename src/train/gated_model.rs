//! What the trainer needs of a gated network: [`GatedModel`], implemented by [`GatedMlp`], the
//! TorchScript model ([`crate::script::GatedScript`]) and a user's own tch module.

use crate::gates::Gate;
use crate::model::{GatedMlp, PenaltySpec, count_open_units};
use crate::{Error, Result};
use tch::{Device, Kind, Tensor};

/// A network with gate layers that [`fit`](super::fit) and [`Trainer`](super::Trainer) train.
///
/// The model's variables live in one `nn::VarStore` that the caller passes along: the network's
/// in optimiser group 0, the gates' in group 1 (`vs.root().set_group(1)`; their own learning
/// rate, no weight decay), conditional gate networks in group 2. Every variable with a leading
/// axis of `members()` is a member's own (its best state is kept per member).
///
/// A model implements [`members`](GatedModel::members), [`device`](GatedModel::device),
/// [`gates`](GatedModel::gates), [`gates_mut`](GatedModel::gates_mut) and
/// [`forward_gated`](GatedModel::forward_gated); the penalty, clamp and annealing come from its
/// gates unless it overrides them.
///
/// A user's own tch CNN, one member: an STG gate on its 16 inputs (a 4 x 4 image), a 3 x 3
/// convolution to 4 channels, a linear layer to 2 classes:
/// ```
/// use stog::data::{Split, interaction};
/// use stog::gates::{Gate, GateKind, build_gate};
/// use stog::train::{GatedModel, MemberTags, Prepared, TrainConfig, fit};
/// use tch::{Device, Tensor, nn, nn::Module};
///
/// #[derive(Debug)]
/// struct Cnn { gate: Box<dyn Gate>, conv: nn::Conv2D, linear: nn::Linear }
///
/// impl GatedModel for Cnn {
///     fn members(&self) -> i64 { 1 }
///     fn device(&self) -> Device { self.linear.ws.device() }
///     fn gates(&self) -> Vec<&dyn Gate> { vec![self.gate.as_ref()] }
///     fn gates_mut(&mut self) -> Vec<&mut dyn Gate> { vec![self.gate.as_mut()] }
///     fn forward_gated(&self, xs: &Tensor, train: bool) -> stog::Result<Tensor> {
///         let image = self.gate.gate_input(xs, train).view([-1, 1, 4, 4]);
///         let hidden = self.conv.forward(&image).relu().flatten(1, -1);
///         // Outputs `[E, N, out]`: one member here.
///         Ok(self.linear.forward(&hidden).unsqueeze(0))
///     }
/// }
///
/// # fn main() -> stog::Result<()> {
/// let table = interaction(120, 16, 0).table;
/// let data = Prepared::new(&table, &Split::of(&table, [0.6, 0.2, 0.2], 0)?, Device::Cpu)?;
/// let vs = nn::VarStore::new(Device::Cpu);
/// let gate = build_gate(&(vs.root().set_group(1) / "gate"), GateKind::Stg, 16, None, None, None);
/// let conv_config = nn::ConvConfig { padding: 1, ..Default::default() };
/// let conv = nn::conv2d(vs.root() / "conv", 1, 4, 3, conv_config);
/// let linear = nn::linear(vs.root() / "linear", 4 * 16, 2, Default::default());
/// let mut model = Cnn { gate, conv, linear };
/// let config = TrainConfig { epochs: 2, ..TrainConfig::default() };
/// let tags = MemberTags { gate: "stg".into(), seeds: vec![0] };
/// let outcomes = fit(&mut model, &vs, &data, &[0.01], &config, &tags, None)?;
/// assert_eq!(outcomes[0].epochs, 2);
/// # Ok(())
/// # }
/// ```
pub trait GatedModel {
    /// Number of members `E` trained together (1 for one network).
    fn members(&self) -> i64;

    /// The device of the parameters.
    fn device(&self) -> Device;

    /// The gate layers, in the model's order.
    fn gates(&self) -> Vec<&dyn Gate>;

    /// The gate layers, mutable (annealing sets their temperature).
    fn gates_mut(&mut self) -> Vec<&mut dyn Gate>;

    /// Output `[E, N, out]` for rows `xs` (`[N, D]`, or `[E, N, D]` with inputs per member) with
    /// the training gates (noisy, `train`) or the inference gates (dropped units exactly 0).
    fn forward_gated(&self, xs: &Tensor, train: bool) -> Result<Tensor>;

    /// [`forward_gated`](GatedModel::forward_gated) and the penalty per member, `[E]`, as `spec`
    /// counts it: each gate layer's expected open units in training, its open inference gates
    /// otherwise, summed over layers.
    fn forward_penalty(
        &self,
        xs: &Tensor,
        train: bool,
        spec: &PenaltySpec,
    ) -> Result<(Tensor, Tensor)> {
        let out = self.forward_gated(xs, train)?;
        let mut total = Tensor::zeros([self.members()], (Kind::Float, self.device()));
        for g in self.gates() {
            let open = if train {
                g.unit_penalty()
            } else {
                g.inference_gate().ne(0.0).to_kind(Kind::Float)
            };
            total += count_open_units(open, None, spec);
        }
        Ok((out, total))
    }

    /// The members `idx` (`Int64` `[E']`) as a model whose parameters are gathered
    /// differentiably from this one, so that stopped members cost nothing; `None` when the model
    /// cannot (all members are then computed, and stopped ones restored at the end).
    fn select_members(&self, _idx: &Tensor) -> Option<Box<dyn GatedModel>> {
        None
    }

    /// Whether every member's variables have a leading member axis of size `E` (an ensemble);
    /// without it the model is one network and its whole `VarStore` is its state.
    fn member_axis(&self) -> bool {
        false
    }

    /// Whether the model has conditional gate networks (optimiser group 2).
    fn has_conditional_gates(&self) -> bool {
        false
    }

    /// Applies each gate's parameter clamp (after an optimiser step).
    fn clamp_parameters(&self) {
        for g in self.gates() {
            g.clamp_parameters();
        }
    }

    /// Sets temperatures at `progress` (0 at the first epoch, 1 at the last) of a geometric
    /// schedule from each gate's start to its end value.
    fn anneal(&mut self, progress: f64) {
        anneal_gates(self.gates_mut(), progress);
    }

    /// Puts the network in training or evaluation mode (a TorchScript backbone's dropout and
    /// batch norm); a no-op for models whose forward pass takes the mode as an argument.
    fn set_training(&mut self, _train: bool) -> Result<()> {
        Ok(())
    }
}

impl GatedModel for GatedMlp {
    fn members(&self) -> i64 {
        GatedMlp::members(self)
    }

    fn device(&self) -> Device {
        GatedMlp::device(self)
    }

    fn gates(&self) -> Vec<&dyn Gate> {
        self.gates.iter().map(|g| g.gate.as_ref()).collect()
    }

    fn gates_mut(&mut self) -> Vec<&mut dyn Gate> {
        self.gates
            .iter_mut()
            .map(|g| g.gate.as_mut() as &mut dyn Gate)
            .collect()
    }

    fn forward_gated(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        check_rows(xs, GatedMlp::members(self))?;
        Ok(self.pass(xs, train).out)
    }

    /// Cost-weighted penalties, conditional gates, and the target rate on the sampled gates.
    fn forward_penalty(
        &self,
        xs: &Tensor,
        train: bool,
        spec: &PenaltySpec,
    ) -> Result<(Tensor, Tensor)> {
        check_rows(xs, GatedMlp::members(self))?;
        let pass = self.pass(xs, train);
        let penalty = if !train {
            self.inference_penalty(spec) + self.conditional_inference_penalty(&pass.logits, spec)
        } else {
            match spec.target_rate {
                Some(t) => self.rate_penalty(&pass.applied, t),
                None => self.penalty(spec) + self.conditional_penalty(&pass.logits, spec),
            }
        };
        Ok((pass.out, penalty))
    }

    fn select_members(&self, idx: &Tensor) -> Option<Box<dyn GatedModel>> {
        Some(Box::new(GatedMlp::select_members(self, idx)))
    }

    fn member_axis(&self) -> bool {
        true
    }

    fn has_conditional_gates(&self) -> bool {
        !self.conditional.is_empty()
    }

    fn clamp_parameters(&self) {
        self.clamp_gates();
    }

    /// The gates' temperatures, then the conditional gates' `tau` from `tau` to `tau_min`.
    fn anneal(&mut self, progress: f64) {
        anneal_gates(GatedModel::gates_mut(self), progress);
        if let Some(c) = &self.config.conditional {
            let tau = c.tau * (c.tau_min / c.tau).powf(progress);
            for layer in self.conditional.iter_mut() {
                layer.gate.tau = tau;
            }
        }
    }
}

/// Sets each gate's temperature at `progress` (0 to 1) of a geometric schedule from its start to
/// its end value; gates without a temperature are left as they are.
fn anneal_gates(gates: Vec<&mut dyn Gate>, progress: f64) {
    for g in gates {
        if let Some((start, end)) = g.temperature_range() {
            g.set_temperature(start * (end / start).powf(progress));
        }
    }
}

/// Rows `[N, D]`, or `[E, N, D]` with `E` = `members`: what a batched forward pass takes.
fn check_rows(xs: &Tensor, members: i64) -> Result<()> {
    let size = xs.size();
    match size.len() {
        2 => Ok(()),
        3 if size[0] == members => Ok(()),
        _ => Err(Error::shape(
            "inputs",
            format!("{size:?} are neither [N, D] nor [{members}, N, D]"),
        )),
    }
}
