//! The training of a gated ensemble ([`fit`]) through the epoch loop ([`run_epochs`]): all
//! members in one batched computation ([`Trainer`]), each with its own lambda, early stopping and
//! best state (copied when it improves and copied back at the end: a [`Snapshot`] per member).

use super::{
    EpochReport, EpochStep, GatedModel, Prepared, Selection, Snapshot, Stopping, TrainConfig,
    Trainer, no_selection, run_epochs, to_f64,
};
use crate::{Error, Result};
use tch::{Tensor, nn};

/// How one member's training ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOutcome {
    /// Epochs trained before the member stopped.
    pub epochs: usize,
    /// Epoch (1-based) of the restored best state; 0 when no epoch improved.
    pub best_epoch: usize,
    /// Validation objective of the best state.
    pub best_objective: f64,
    /// Why the member failed (non-finite loss), if it did.
    pub failure: Option<NonFiniteLoss>,
}

/// A member whose loss became non-finite: where and with what value. Becomes
/// [`Error::NonFinite`] with `?` (and reads the same).
#[derive(Debug, Clone, PartialEq)]
pub struct NonFiniteLoss {
    /// Gate kinds of the model.
    pub gate: String,
    /// The member's lambda.
    pub lambda: f64,
    /// The member's seed.
    pub seed: u64,
    /// Epoch (1-based) of the non-finite loss.
    pub epoch: usize,
    /// The loss value (NaN or infinite).
    pub value: f64,
}

impl From<NonFiniteLoss> for Error {
    fn from(f: NonFiniteLoss) -> Error {
        Error::NonFinite {
            gate: f.gate,
            lambda: f.lambda,
            seed: f.seed,
            epoch: f.epoch,
            value: f.value,
        }
    }
}

impl std::fmt::Display for NonFiniteLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", Error::from(self.clone()))
    }
}

/// A context for error messages: gate name and seed per member.
#[derive(Debug, Clone)]
pub struct MemberTags {
    /// Gate kinds of the model, e.g. `stg` or `stg+ste`.
    pub gate: String,
    /// Seed of each member.
    pub seeds: Vec<u64>,
}

/// Trains every member of `model` (variables in `vs`: see [`GatedModel`]) with its own lambda.
///
/// Members run until their patience runs out (not before the warm-up ends) or `epochs`; then
/// each member's best state is restored. A member whose loss becomes non-finite stops with a
/// failure that names gate, lambda, seed and epoch. `progress`, when given, is called with the
/// number of epochs done since its last call (all `epochs` in total), e.g. to advance a bar.
pub fn fit<M: GatedModel>(
    model: &mut M,
    vs: &nn::VarStore,
    data: &Prepared,
    lambdas: &[f64],
    config: &TrainConfig,
    tags: &MemberTags,
    progress: Option<&mut dyn FnMut(u64)>,
) -> Result<Vec<FitOutcome>> {
    let e = model.members() as usize;
    if lambdas.len() != e || tags.seeds.len() != e {
        return Err(Error::config(
            "lambdas",
            format!(
                "{} lambdas and {} seeds for {e} members",
                lambdas.len(),
                tags.seeds.len()
            ),
        ));
    }
    let mut trainer = Trainer::new(model, vs, config, data.train.len())?;
    trainer.set_lambdas(lambdas)?;
    let state = if model.member_axis() {
        Snapshot::members(vs, e as i64)
    } else if e == 1 {
        Snapshot::whole(vs)
    } else {
        return Err(Error::config(
            "members",
            format!("{e} members without a member axis on their variables"),
        ));
    };
    let stopping = if config.early_stopping {
        Stopping::Patience {
            patience: config.patience,
            warmup: config.warmup_epochs,
            min_delta: config.min_delta,
        }
    } else {
        Stopping::Budget
    };
    let mut step = GatedEpoch {
        model,
        trainer: &mut trainer,
        data,
        warmup: config.warmup_epochs,
        anneal: Some(config.epochs),
        objective: true,
        best: Some(state),
        selection: None,
    };
    let runs = run_epochs(&mut step, e, config.epochs, &stopping, progress)?;
    Ok(runs
        .into_iter()
        .enumerate()
        .map(|(m, run)| FitOutcome {
            epochs: run.epochs,
            best_epoch: run.best_epoch,
            best_objective: run.best_objective,
            failure: run.non_finite.map(|(epoch, value)| NonFiniteLoss {
                gate: tags.gate.clone(),
                lambda: lambdas[m],
                seed: tags.seeds[m],
                epoch,
                value,
            }),
        })
        .collect())
}

/// One epoch of a gated ensemble ([`Trainer::epoch_members`] of the running members) and what
/// its stopping rule reads.
pub(super) struct GatedEpoch<'a, M: GatedModel> {
    pub(super) model: &'a mut M,
    pub(super) trainer: &'a mut Trainer,
    pub(super) data: &'a Prepared,
    /// Epochs over which lambda ramps up linearly (0: none).
    pub(super) warmup: usize,
    /// Length of the annealing schedule; `None`: the temperatures stay as they are.
    pub(super) anneal: Option<usize>,
    /// Whether to report the early-stopping objective ([`Trainer::objective`]).
    pub(super) objective: bool,
    /// The best state ([`Stopping::Patience`]).
    pub(super) best: Option<Snapshot>,
    /// Reads each member's selection ([`Stopping::Stable`]).
    pub(super) selection: Option<ReadSelection<M>>,
}

/// Reads each member's selection from a model.
pub(super) type ReadSelection<M> = fn(&M) -> Result<Vec<Selection>>;

impl<M: GatedModel> EpochStep for GatedEpoch<'_, M> {
    fn epoch(&mut self, epoch: usize, active: &[bool]) -> Result<EpochReport> {
        let e = active.len();
        let ramp = if self.warmup == 0 {
            1.0
        } else {
            ((epoch + 1) as f64 / self.warmup as f64).min(1.0)
        };
        if let Some(epochs) = self.anneal {
            anneal(self.model, epoch, epochs);
        }
        // Once a member stops, only the others are computed.
        let running: Vec<i64> = (0..e as i64).filter(|m| active[*m as usize]).collect();
        let subset = (running.len() < e)
            .then(|| Tensor::from_slice(&running).to_device(self.model.device()));
        self.model.set_training(true)?;
        let loss = self
            .trainer
            .epoch_members(&*self.model, self.data, ramp, subset.as_ref())?;
        self.model.set_training(false)?;
        if !self.objective {
            return Ok(EpochReport {
                loss: to_f64(&loss)?,
                objective: Vec::new(),
            });
        }
        let objective = self.trainer.objective(&*self.model, self.data)?;
        // One read back for both.
        let values = to_f64(&Tensor::stack(&[objective, loss], 0))?;
        let (objective, loss) = values.split_at(e);
        Ok(EpochReport {
            loss: loss.to_vec(),
            objective: objective.to_vec(),
        })
    }

    fn selection(&self) -> Result<Vec<Selection>> {
        match self.selection {
            Some(read) => read(self.model),
            None => Err(no_selection()),
        }
    }

    fn keep(&mut self, improved: &[bool]) {
        if let Some(best) = &self.best {
            best.keep(improved);
        }
    }

    fn restore(&mut self) {
        if let Some(best) = &self.best {
            best.restore();
        }
    }
}

/// Sets each gate's temperature for epoch `epoch` (0-based) of `epochs` on a geometric schedule
/// from its start to its end value ([`GatedModel::anneal`]).
pub fn anneal<M: GatedModel + ?Sized>(model: &mut M, epoch: usize, epochs: usize) {
    let t = if epochs > 1 {
        epoch as f64 / (epochs - 1) as f64
    } else {
        1.0
    };
    model.anneal(t);
}

/// The first member failure of `outcomes` as an error.
pub(super) fn check_failures(outcomes: &[FitOutcome]) -> Result<()> {
    match outcomes.iter().find_map(|o| o.failure.clone()) {
        Some(f) => Err(f.into()),
        None => Ok(()),
    }
}
