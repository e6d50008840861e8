//! What every gate kind shares: the [`Gate`] trait, noise and penalty options, and the one place
//! where a gate vector is applied to the gated axis.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// The gate kinds of stog (the command line lists them, with these lines, in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "cli",
    derive(clap::ValueEnum),
    value(rename_all = "kebab-case")
)]
#[serde(rename_all = "kebab-case")]
pub enum GateKind {
    /// Gaussian hard-sigmoid gate (Yamada et al. 2020).
    Stg,
    /// Straight-through Bernoulli gate (Bengio et al. 2013).
    Ste,
    /// Binary concrete / Gumbel-softmax gate (Herrmann et al. 2020).
    Gumbel,
    /// Correlated STG with a Gaussian copula (Lee et al. 2022, SEFS).
    Correlated,
    /// Hard-concrete L0 gate (Louizos et al. 2018).
    HardConcrete,
    /// L1-penalised scaling weights (baseline).
    L1,
}

impl GateKind {
    /// Every kind, in a fixed order.
    pub const ALL: [GateKind; 6] = [
        GateKind::Stg,
        GateKind::Ste,
        GateKind::Gumbel,
        GateKind::Correlated,
        GateKind::HardConcrete,
        GateKind::L1,
    ];

    /// The name used on the command line and in results (`stg`, `hard-concrete`, ...).
    pub fn name(self) -> &'static str {
        match self {
            GateKind::Stg => "stg",
            GateKind::Ste => "ste",
            GateKind::Gumbel => "gumbel",
            GateKind::Correlated => "correlated",
            GateKind::HardConcrete => "hard-concrete",
            GateKind::L1 => "l1",
        }
    }
}

impl std::fmt::Display for GateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for GateKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        GateKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = GateKind::ALL.iter().map(|k| k.name()).collect();
                Error::config(
                    "gate",
                    format!("unknown gate `{s}`; expected one of {}", names.join(", ")),
                )
            })
    }
}

/// How often the training noise is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Noise {
    /// One draw per forward pass, shared by the whole batch (official STG code; static pruning).
    #[default]
    PerBatch,
    /// One draw per example (SEFS copula, local reparameterisation).
    PerExample,
    /// No noise: the training gate is the gate's deterministic relaxation (noise at its median:
    /// `eps = 0`, `u = 1/2`; STE thresholds). For tests and ablations.
    Off,
}

impl Noise {
    /// Rows of noise needed for a batch of `n` examples.
    pub fn rows(self, n: i64) -> i64 {
        match self {
            Noise::PerBatch | Noise::Off => 1,
            Noise::PerExample => n,
        }
    }
}

/// How per-unit penalties are combined into one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reduction {
    /// Sum over units (the SToG report's formula); lambda is "per unit".
    #[default]
    Sum,
    /// Mean over units (official STG code); lambda is D times larger for the same effect.
    Mean,
}

/// A gate layer: one learnable parameter per unit; see the module docs for the semantics.
///
/// Tensors of one value per unit have shape `[D]`, or `[E, D]` for an ensemble of `E` members.
/// The training gate has shape `[S, D]` (or `[E, S, D]`) where `S` is 1 for noise shared per batch
/// and `N` for noise per example.
pub trait Gate: std::fmt::Debug + Send {
    /// The kind of this gate.
    fn kind(&self) -> GateKind;
    /// The configuration it was built with (its member axis and noise included).
    fn config(&self) -> super::GateConfig;
    /// This gate as a trait object.
    fn as_dyn(&self) -> &dyn Gate;
    /// Number of gated units `D`.
    fn units(&self) -> i64;
    /// Number of ensemble members, if the gate has a member axis.
    fn members(&self) -> Option<i64>;
    /// How the training noise is drawn.
    fn noise(&self) -> Noise;
    /// A random training gate for a batch of `n` examples, differentiable in the parameters.
    fn training_gate(&self, n: i64) -> Tensor;
    /// The deterministic gate used at inference; exactly 0 for a dropped unit.
    fn inference_gate(&self) -> Tensor;
    /// Per-unit probability that the training gate is open (non-zero or above one half).
    fn open_probability(&self) -> Tensor;
    /// Per-unit differentiable penalty (the expected openness of the unit).
    fn unit_penalty(&self) -> Tensor;
    /// The learnable parameters of this gate.
    fn parameters(&self) -> Vec<Tensor>;
    /// This gate restricted to the members `idx` (an `Int64` index `[E']`) of an ensemble: the
    /// parameters are gathered differentiably, so gradients reach the full gate. The trainer
    /// uses it to compute only the members that are still training.
    fn select_members(&self, idx: &Tensor) -> Box<dyn Gate>;
    /// Current temperature, for kinds that have one.
    fn temperature(&self) -> Option<f64> {
        None
    }
    /// Start and end of the annealing schedule, for kinds that anneal their temperature.
    fn temperature_range(&self) -> Option<(f64, f64)> {
        None
    }
    /// Sets the temperature (annealing); a no-op for kinds without one.
    fn set_temperature(&mut self, _tau: f64) {}
    /// Keeps parameters in a useful range after an optimiser step (no-op by default).
    fn clamp_parameters(&self) {}

    /// The penalty: per-unit penalties, optionally weighted by `costs` (shape `[D]`), reduced over
    /// units; shape `[]`, or `[E]` for an ensemble.
    fn penalty(&self, reduction: Reduction, costs: Option<&Tensor>) -> Tensor {
        let p = self.unit_penalty();
        let p = match costs {
            Some(c) => p * c,
            None => p,
        };
        match reduction {
            Reduction::Sum => p.sum_dim_intlist(-1, false, Kind::Float),
            Reduction::Mean => p.mean_dim(-1, false, Kind::Float),
        }
    }

    /// Indices of the units used at inference (inference gate != 0), for a gate without members.
    fn selected(&self) -> Result<Vec<i64>> {
        selected_units(&self.inference_gate())
    }

    /// Multiplies `xs` by the training gate (`train`) or the inference gate.
    ///
    /// # Panics
    /// When `xs` does not have the gate's units on its unit axis (the message of
    /// [`check_input`]); call [`check_input`] first to get the error as a value.
    fn gate_input(&self, xs: &Tensor, train: bool) -> Tensor {
        if let Err(e) = check_input(self.as_dyn(), xs) {
            panic!("{e}");
        }
        let lead = i64::from(self.members().is_some());
        let g = if train {
            self.training_gate(xs.size()[lead as usize])
        } else {
            self.inference_gate().unsqueeze(lead)
        };
        apply_gate(xs, &g, lead)
    }
}

/// Indices where a `[D]` gate vector is non-zero.
pub fn selected_units(gate: &Tensor) -> Result<Vec<i64>> {
    let g = crate::host::to_f64(gate)?;
    Ok(g.iter()
        .enumerate()
        .filter(|(_, v)| **v != 0.0)
        .map(|(i, _)| i as i64)
        .collect())
}

/// Multiplies the unit axis of `xs` by a gate of shape `[(E,) S, D]`.
///
/// `lead` is 1 when `xs` has a leading member axis. The unit axis is `lead + 1`: the last axis of
/// `[(E,) N, D]` and axis 1 (after the member axis) of `[(E,) N, C, ...]`, whatever the sizes.
pub fn apply_gate(xs: &Tensor, gate: &Tensor, lead: i64) -> Tensor {
    let trailing = xs.dim() as i64 - lead - 2;
    let mut shape = gate.size();
    shape.extend(std::iter::repeat_n(1, trailing.max(0) as usize));
    xs * gate.view(shape.as_slice())
}

/// Checks that `xs` has the unit count `units` on the gated axis.
pub fn check_input(gate: &dyn Gate, xs: &Tensor) -> Result<()> {
    let lead = usize::from(gate.members().is_some());
    let size = xs.size();
    if size.len() < lead + 2 {
        return Err(Error::shape(
            format!("{} gate", gate.kind()),
            format!(
                "input of shape {size:?} has no unit axis (need [(E,) N, D] or [(E,) N, C, ...])"
            ),
        ));
    }
    if size[lead + 1] != gate.units() {
        return Err(Error::shape(
            format!("{} gate", gate.kind()),
            format!(
                "input of shape {size:?} has {} units on axis {}, gate has {}",
                size[lead + 1],
                lead + 1,
                gate.units()
            ),
        ));
    }
    Ok(())
}

/// Shape of a parameter with one value per unit: `[D]` or `[E, D]`.
pub fn unit_shape(members: Option<i64>, units: i64) -> Vec<i64> {
    match members {
        Some(e) => vec![e, units],
        None => vec![units],
    }
}

/// Shape of a training-noise tensor: `[S, D]` or `[E, S, D]`.
pub fn noise_shape(members: Option<i64>, rows: i64, units: i64) -> Vec<i64> {
    match members {
        Some(e) => vec![e, rows, units],
        None => vec![rows, units],
    }
}

/// Inserts the noise-row axis into a per-unit tensor: `[D] -> [1, D]`, `[E, D] -> [E, 1, D]`.
pub fn per_row(t: &Tensor) -> Tensor {
    t.unsqueeze(-2)
}

/// Uniform noise in the open interval (0, 1), safe for `logit`; 1/2 when `noise` is off.
pub fn uniform_open(noise: Noise, shape: &[i64], device: tch::Device) -> Tensor {
    match noise {
        Noise::Off => Tensor::full(shape, 0.5, (Kind::Float, device)),
        _ => Tensor::rand(shape, (Kind::Float, device)).clamp(1e-6, 1.0 - 1e-6),
    }
}

/// Standard normal noise; 0 when `noise` is off.
pub fn standard_normal(noise: Noise, shape: &[i64], device: tch::Device) -> Tensor {
    match noise {
        Noise::Off => Tensor::zeros(shape, (Kind::Float, device)),
        _ => Tensor::randn(shape, (Kind::Float, device)),
    }
}

/// Implements `nn::ModuleT` for a gate kind through [`Gate::gate_input`].
macro_rules! impl_module_t {
    ($t:ty) => {
        impl tch::nn::ModuleT for $t {
            fn forward_t(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
                $crate::gates::Gate::gate_input(self, xs, train)
            }
        }
    };
}
pub(crate) use impl_module_t;

/// Overwrites the values of a parameter in place, outside autograd.
pub fn assign(target: &Tensor, values: &Tensor) {
    tch::no_grad(|| {
        target.shallow_clone().copy_(values);
    });
}
