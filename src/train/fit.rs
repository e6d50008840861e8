//! The epoch loop of the crate ([`run_epochs`]) and the training of a gated ensemble through it:
//! all members in one batched computation, each with its own lambda, early stopping and best
//! state.
//!
//! The loop owns the epochs and the stopping rule ([`Stopping`]); what one epoch does is an
//! [`EpochStep`]: the gated ensemble's ([`fit`], the lambda path's points) or the pretext task's
//! ([`super::pretrain_encoder`]).
//!
//! Loss of member `e`: `task_e + lambda_e * ramp(epoch) * penalty_e`; the members' losses are
//! summed for one backward pass, which gives each member exactly its own gradients (Adam is
//! elementwise, so optimiser state is per member too). Early stopping watches what the inference
//! network does: `val task loss + lambda * open inference gates` (the expected penalty keeps
//! falling after a gate is closed). The best state of each member is copied when it improves and
//! copied back at the end.

use super::{GatedModel, Prepared, Snapshot, TrainConfig, default_gate_lr, task_loss, to_f64};
use crate::{Error, Result};
use tch::nn::OptimizerConfig;
use tch::{Kind, Tensor, nn};

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

/// When the members of a run stop ([`run_epochs`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stopping {
    /// Every epoch runs; the last state is kept (and counts as the best).
    Budget,
    /// Early stopping: a member stops once its validation objective has not improved by more
    /// than `min_delta` for `patience` epochs (counted from the end of the `warmup` epochs); its
    /// best state is restored at the end.
    Patience {
        /// Epochs without improvement before a member stops.
        patience: usize,
        /// Epochs before which no member stops.
        warmup: usize,
        /// Least improvement that counts (at least 1e-7).
        min_delta: f64,
    },
    /// The members stop together once each one's selection ([`EpochStep::selection`]) has been
    /// [settled](Selection::settled) for `stable` epochs and at least `min` epochs ran. They
    /// train as one, so a non-finite loss of one ends them all.
    Stable {
        /// Fewest epochs.
        min: usize,
        /// Epochs the selections must stay settled.
        stable: usize,
    },
}

/// What one epoch reports to [`run_epochs`]: per member values, or empty when not computed.
/// A non-finite value stops its member with a failure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpochReport {
    /// Mean training loss per member.
    pub loss: Vec<f64>,
    /// Validation objective per member (what [`Stopping::Patience`] reads).
    pub objective: Vec<f64>,
}

/// What one member's network selects: units kept per gate layer and the selected inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Units kept per gate layer.
    pub units_kept: Vec<i64>,
    /// Input features the inference network uses.
    pub inputs: Vec<i64>,
}

impl Selection {
    /// Whether the selection is as `before`: equal, or as many units kept per gate layer, within
    /// 1 % with hundreds kept (a few of many gates flicker for a long time without changing what
    /// the path finds). Only counts are compared: inputs swapped at the same count are settled.
    pub fn settled(&self, before: &Selection) -> bool {
        if before == self {
            return true;
        }
        before.units_kept.len() == self.units_kept.len()
            && before
                .units_kept
                .iter()
                .zip(&self.units_kept)
                .all(|(b, n)| (b - n).abs() <= b.max(n) / 100)
    }
}

/// One epoch of a run, as [`run_epochs`] drives it: the gated ensemble's ([`fit`], the lambda
/// path's points) or the pretext task's ([`super::pretrain_encoder`]).
pub trait EpochStep {
    /// Trains epoch `epoch` (0-based) of the members marked `active` and reports on it.
    fn epoch(&mut self, epoch: usize, active: &[bool]) -> Result<EpochReport>;

    /// Each member's selection now ([`Stopping::Stable`] reads it before the first epoch and
    /// after each).
    fn selection(&self) -> Result<Vec<Selection>> {
        Err(no_selection())
    }

    /// Keeps the current state of the members marked `improved` ([`Stopping::Patience`]).
    fn keep(&mut self, _improved: &[bool]) {}

    /// Loads the kept states back ([`Stopping::Patience`], at the end).
    fn restore(&mut self) {}
}

fn no_selection() -> Error {
    Error::config(
        "stopping",
        "this run has no selection to watch for stability",
    )
}

/// How one member's run ended ([`run_epochs`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Epochs trained before the member stopped.
    pub epochs: usize,
    /// Epoch (1-based) of the kept state: the best one under [`Stopping::Patience`] (0 when no
    /// epoch improved), else the last.
    pub best_epoch: usize,
    /// Objective of the kept state (infinite when none was reported).
    pub best_objective: f64,
    /// Epoch (1-based) and value of a non-finite loss or objective that stopped the member.
    pub non_finite: Option<(usize, f64)>,
}

/// The epoch loop, the only one of the crate: runs `step` for `members` members, at most
/// `epochs` epochs, until `stopping` ends every member. `progress`, when given, is called with
/// the number of epochs done since its last call (all `epochs` in total).
pub fn run_epochs<S: EpochStep + ?Sized>(
    step: &mut S,
    members: usize,
    epochs: usize,
    stopping: &Stopping,
    mut progress: Option<&mut dyn FnMut(u64)>,
) -> Result<Vec<RunOutcome>> {
    let mut outcomes = vec![
        RunOutcome {
            epochs: 0,
            best_epoch: 0,
            best_objective: f64::INFINITY,
            non_finite: None,
        };
        members
    ];
    let mut active = vec![true; members];
    let watch = |step: &S| -> Result<Vec<Selection>> {
        let selection = step.selection()?;
        if selection.len() != members {
            return Err(Error::shape(
                "stopping",
                format!("{} selections for {members} members", selection.len()),
            ));
        }
        Ok(selection)
    };
    // The last changed selection of each member and the epochs it has stayed settled since.
    let mut last = match stopping {
        Stopping::Stable { .. } => watch(step)?,
        _ => Vec::new(),
    };
    let mut settled = vec![0usize; members];
    for epoch in 0..epochs {
        let report = step.epoch(epoch, &active)?;
        for (what, values) in [("losses", &report.loss), ("objectives", &report.objective)] {
            if !values.is_empty() && values.len() != members {
                return Err(Error::shape(
                    "epoch",
                    format!("{} {what} for {members} members", values.len()),
                ));
            }
        }
        let patience = match stopping {
            Stopping::Patience { .. } if report.objective.is_empty() => {
                return Err(Error::config(
                    "stopping",
                    "early stopping needs a validation objective per member",
                ));
            }
            Stopping::Patience {
                patience,
                warmup,
                min_delta,
            } => Some((*patience, *warmup, min_delta.max(1e-7))),
            _ => None,
        };
        let mut improved = vec![false; members];
        for m in 0..members {
            if !active[m] {
                continue;
            }
            let out = &mut outcomes[m];
            out.epochs = epoch + 1;
            let objective = report.objective.get(m).copied();
            if let Some(value) = [report.loss.get(m).copied(), objective]
                .into_iter()
                .flatten()
                .find(|v| !v.is_finite())
            {
                out.non_finite = Some((epoch + 1, value));
                active[m] = false;
                continue;
            }
            match (patience, objective) {
                (Some((patience, warmup, min_delta)), Some(objective)) => {
                    if objective < out.best_objective - min_delta {
                        out.best_objective = objective;
                        out.best_epoch = epoch + 1;
                        improved[m] = true;
                    } else if epoch + 1 >= warmup
                        && epoch + 1 - out.best_epoch.max(warmup) >= patience
                    {
                        active[m] = false;
                    }
                }
                _ => {
                    out.best_epoch = epoch + 1;
                    if let Some(objective) = objective {
                        out.best_objective = objective;
                    }
                }
            }
        }
        if improved.iter().any(|i| *i) {
            step.keep(&improved);
        }
        if let Some(tick) = progress.as_mut() {
            tick(1);
        }
        if let Stopping::Stable { min, stable } = stopping {
            if active.iter().all(|a| *a) {
                for (m, now) in watch(step)?.into_iter().enumerate() {
                    if now.settled(&last[m]) {
                        settled[m] += 1;
                    } else {
                        settled[m] = 0;
                        last[m] = now;
                    }
                }
            }
            if !active.iter().all(|a| *a)
                || (epoch + 1 >= *min && settled.iter().all(|s| s >= stable))
            {
                active.fill(false);
            }
        }
        if !active.iter().any(|a| *a) {
            break;
        }
    }
    if matches!(stopping, Stopping::Patience { .. }) {
        step.restore();
    }
    if let Some(tick) = progress.as_mut() {
        tick((epochs - outcomes.iter().map(|o| o.epochs).max().unwrap_or(0)) as u64);
    }
    Ok(outcomes)
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

/// Most validation rows the early-stopping objective reads ([`Trainer::objective`]).
pub const OBJECTIVE_ROWS: i64 = 65_536;

/// The optimiser and per-member lambdas of a training run: one epoch at a time.
pub struct Trainer {
    opt: nn::Optimizer,
    lambda: Tensor,
    config: TrainConfig,
}

impl Trainer {
    /// Adam over `vs` (gates in group 1 with their own learning rate, no weight decay).
    ///
    /// The default gate learning rate is calibrated per epoch: it is divided by the number of
    /// mini-batches of an epoch (`n_train` rows, or [`TrainConfig::epoch_rows`]), so that gates drift as much per epoch with mini-batches as
    /// with the full batch (a noisy gradient otherwise random-walks unpenalised gates shut).
    pub fn new<M: GatedModel + ?Sized>(
        model: &M,
        vs: &nn::VarStore,
        config: &TrainConfig,
        n_train: i64,
    ) -> Result<Trainer> {
        config.validate()?;
        let rows = config
            .epoch_rows
            .map_or(n_train as usize, |r| r.min(n_train as usize));
        let steps = config
            .batch_size
            .map_or(1, |b| rows.div_ceil(b.max(1)))
            .max(1);
        let gates = model.gates();
        let gate_lr = config.gate_lr.unwrap_or_else(|| {
            gates
                .first()
                .map_or(0.1, |g| default_gate_lr(g.kind()) / steps as f64)
        });
        // The optimiser makes groups 0 up to the highest group of a variable; setting a group
        // it lacks would panic in tch.
        let groups = optimizer_groups(vs);
        let missing = |group: usize, what: &str| {
            Error::config(
                "variables",
                format!(
                    "{what} belong in optimiser group {group} (`vs.root().set_group({group})`), which the VarStore lacks"
                ),
            )
        };
        if groups == 0 {
            return Err(Error::config(
                "variables",
                "the VarStore has no trainable variables",
            ));
        }
        if !gates.is_empty() && groups < 2 {
            return Err(missing(1, "gate variables"));
        }
        if model.has_conditional_gates() && groups < 3 {
            return Err(missing(2, "conditional gate networks"));
        }
        let mut opt = nn::Adam::default().build(vs, config.lr)?;
        opt.set_weight_decay_group(0, config.weight_decay);
        if !gates.is_empty() {
            // Group 1 exists only when the model has gate parameters.
            opt.set_lr_group(1, gate_lr);
            opt.set_weight_decay_group(1, 0.0);
        }
        if model.has_conditional_gates() {
            // Group 2: the conditional gates' networks.
            let lr = config
                .gate_lr
                .unwrap_or(super::DEFAULT_CONDITIONAL_LR / steps as f64);
            opt.set_lr_group(2, lr);
            opt.set_weight_decay_group(2, 0.0);
        }
        let lambda = Tensor::zeros([model.members()], (Kind::Float, model.device()));
        Ok(Trainer {
            opt,
            lambda,
            config: config.clone(),
        })
    }

    /// Sets each member's lambda.
    pub fn set_lambdas(&mut self, lambdas: &[f64]) -> Result<()> {
        super::check_lambdas(lambdas)?;
        let values: Vec<f32> = lambdas.iter().map(|l| *l as f32).collect();
        self.lambda = Tensor::from_slice(&values).to_device(self.lambda.device());
        Ok(())
    }

    /// One pass over the training rows (shuffled mini-batches, or the full batch; a random
    /// [`TrainConfig::epoch_rows`] of them when set) with lambda
    /// scaled by `ramp`; returns the mean training task loss per member, `[E]`.
    pub fn epoch<M: GatedModel>(
        &mut self,
        model: &M,
        data: &Prepared,
        ramp: f64,
    ) -> Result<Tensor> {
        self.epoch_members(model, data, ramp, None)
    }

    /// [`Trainer::epoch`] for the members `active` only (all when `None`): the others are not
    /// computed at all (their gradients are zero) and get a loss of 0. Stopped members of a
    /// chunk cost nothing this way (unless the model cannot
    /// [select members](GatedModel::select_members): all are computed then).
    pub fn epoch_members<M: GatedModel>(
        &mut self,
        model: &M,
        data: &Prepared,
        ramp: f64,
        active: Option<&Tensor>,
    ) -> Result<Tensor> {
        let device = model.device();
        let mut first = active.and_then(|idx| model.select_members(idx));
        let active = active.filter(|_| first.is_some());
        // Rows are axis 0 of [N, D], or axis 1 of member-specific inputs [E, N, D].
        let member_inputs = data.train.x.dim() == 3;
        let rows_axis = i64::from(member_inputs);
        let member_targets = data.train.per_member_targets();
        let pick = |t: &Tensor, per_member: bool| match active {
            Some(idx) if per_member => t.index_select(0, idx),
            _ => t.shallow_clone(),
        };
        let x = pick(&data.train.x, member_inputs);
        let y = pick(&data.train.y, member_targets);
        let lambda = pick(&self.lambda, true);
        let members = active.map_or(model.members(), |idx| idx.size()[0]);
        let n = data.train.len();
        // An epoch of `rows` rows drawn without replacement (all of them by default).
        let rows = self.config.epoch_rows.map_or(n, |r| (r as i64).min(n));
        let batch = self
            .config
            .batch_size
            .map_or(rows, |b| (b as i64).min(rows));
        let order = (batch < n).then(|| Tensor::randperm(n, (Kind::Int64, device)));
        let mut train_loss = Tensor::zeros([members], (Kind::Float, device));
        for (start, len) in batch_ranges(rows, batch) {
            let (xb, yb) = match &order {
                Some(order) => {
                    let idx = order.narrow(0, start, len);
                    (
                        x.index_select(rows_axis, &idx),
                        y.index_select(i64::from(member_targets), &idx),
                    )
                }
                None => (x.shallow_clone(), y.shallow_clone()),
            };
            // The subset's parameters are gathered anew each step (they change with it).
            let subset = first
                .take()
                .or_else(|| active.and_then(|idx| model.select_members(idx)));
            let m: &dyn GatedModel = match &subset {
                Some(s) => s.as_ref(),
                None => model,
            };
            let (out, penalty) = m.forward_penalty(&xb, true, &self.config.penalty_spec())?;
            let task = task_loss(data.task, &out, &yb);
            let loss = (&task + &lambda * ramp * penalty).sum(Kind::Float);
            self.opt.zero_grad();
            loss.backward();
            self.opt.step();
            model.clamp_parameters();
            train_loss += task.detach() * (len as f64 / rows as f64);
        }
        Ok(match active {
            Some(idx) => Tensor::zeros([model.members()], (Kind::Float, device)).index_copy(
                0,
                idx,
                &train_loss,
            ),
            None => train_loss,
        })
    }

    /// The early-stopping objective per member, `[E]`: validation task loss of the inference
    /// network plus lambda times its open gates (as the penalty counts them). Above
    /// [`OBJECTIVE_ROWS`] validation rows it is computed on an evenly strided subset of about
    /// that many (every k-th row: unbiased also when the rows are ordered), so that checking
    /// after each epoch does not cost more than the epoch on tall data.
    pub fn objective<M: GatedModel + ?Sized>(&self, model: &M, data: &Prepared) -> Result<Tensor> {
        let val = &data.val;
        let n = val.len();
        let (x, y) = if n > OBJECTIVE_ROWS {
            let stride = (n + OBJECTIVE_ROWS - 1) / OBJECTIVE_ROWS;
            let rows = Tensor::arange_start_step(0, n, stride, (Kind::Int64, val.x.device()));
            let y_axis = i64::from(val.per_member_targets());
            (
                val.x.index_select(val.x.dim() as i64 - 2, &rows),
                val.y.index_select(y_axis, &rows),
            )
        } else {
            (val.x.shallow_clone(), val.y.shallow_clone())
        };
        tch::no_grad(|| {
            let (out, penalty) = model.forward_penalty(&x, false, &self.config.penalty_spec())?;
            Ok(task_loss(data.task, &out, &y) + &self.lambda * penalty)
        })
    }
}

/// The mini-batches of one pass over `n` rows, as `(start, len)` ranges of batches of `batch`
/// rows (the last one shorter); the callers shuffle the order they index. Shared by the trainer
/// and the pretraining ([`super::pretrain_encoder`]).
pub(crate) fn batch_ranges(n: i64, batch: i64) -> impl Iterator<Item = (i64, i64)> {
    (0..n)
        .step_by(batch.max(1) as usize)
        .map(move |start| (start, batch.max(1).min(n - start)))
}

/// Optimiser groups an optimiser over `vs` has: one past the highest group of its trainable
/// variables.
fn optimizer_groups(vs: &nn::VarStore) -> usize {
    let vars = vs.variables_.lock().unwrap_or_else(|e| e.into_inner());
    vars.trainable_variables
        .iter()
        .map(|v| v.group + 1)
        .max()
        .unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::batch_ranges;

    #[test]
    fn batch_ranges_cover_every_row_once_with_a_shorter_last_batch() {
        let ranges: Vec<(i64, i64)> = batch_ranges(10, 4).collect();
        assert_eq!(ranges, vec![(0, 4), (4, 4), (8, 2)]);
        assert_eq!(batch_ranges(3, 3).collect::<Vec<_>>(), vec![(0, 3)]);
        assert_eq!(batch_ranges(0, 4).count(), 0);
        assert_eq!(batch_ranges(2, 0).collect::<Vec<_>>(), vec![(0, 1), (1, 1)]);
    }
}
