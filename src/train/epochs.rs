//! The epoch loop of the crate ([`run_epochs`]): it owns the epochs and the stopping rule
//! ([`Stopping`]); what one epoch does is an [`EpochStep`]: the gated ensemble's ([`super::fit`],
//! the lambda path's points) or the pretext task's ([`super::pretrain_encoder`]).

use crate::{Error, Result};

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

/// One epoch of a run, as [`run_epochs`] drives it: the gated ensemble's ([`super::fit`], the lambda
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

/// The error of a run watched for stability whose step has no selection.
pub(super) fn no_selection() -> Error {
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
    let mut settling = match stopping {
        Stopping::Stable { .. } => Some(Settling::new(selections(step, members)?)),
        _ => None,
    };
    for epoch in 0..epochs {
        let report = step.epoch(epoch, &active)?;
        check_report(&report, members)?;
        let patience = patience(stopping, &report)?;
        let improved = record(&mut outcomes, &mut active, epoch, &report, patience);
        if improved.iter().any(|i| *i) {
            step.keep(&improved);
        }
        if let Some(tick) = progress.as_mut() {
            tick(1);
        }
        if let (Stopping::Stable { min, stable }, Some(settling)) = (stopping, settling.as_mut()) {
            if active.iter().all(|a| *a) {
                settling.update(selections(step, members)?);
            }
            if !active.iter().all(|a| *a) || (epoch + 1 >= *min && settling.settled_for(*stable)) {
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

/// Each member's selection from `step`, one per member.
fn selections<S: EpochStep + ?Sized>(step: &S, members: usize) -> Result<Vec<Selection>> {
    let selection = step.selection()?;
    if selection.len() != members {
        return Err(Error::shape(
            "stopping",
            format!("{} selections for {members} members", selection.len()),
        ));
    }
    Ok(selection)
}

/// What [`Stopping::Stable`] watches: the last changed selection of each member and the epochs
/// it has stayed settled since.
struct Settling {
    last: Vec<Selection>,
    settled: Vec<usize>,
}

impl Settling {
    /// Starts from the selections before the first epoch.
    fn new(first: Vec<Selection>) -> Self {
        let settled = vec![0; first.len()];
        Settling {
            last: first,
            settled,
        }
    }

    /// Counts another epoch for each member whose selection `now` is settled; restarts the
    /// count of the others from their new selection.
    fn update(&mut self, now: Vec<Selection>) {
        for (m, now) in now.into_iter().enumerate() {
            if now.settled(&self.last[m]) {
                self.settled[m] += 1;
            } else {
                self.settled[m] = 0;
                self.last[m] = now;
            }
        }
    }

    /// Whether every member's selection has been settled for `stable` epochs.
    fn settled_for(&self, stable: usize) -> bool {
        self.settled.iter().all(|s| *s >= stable)
    }
}

/// Checks that an epoch reported one value per member (or none).
fn check_report(report: &EpochReport, members: usize) -> Result<()> {
    for (what, values) in [("losses", &report.loss), ("objectives", &report.objective)] {
        if !values.is_empty() && values.len() != members {
            return Err(Error::shape(
                "epoch",
                format!("{} {what} for {members} members", values.len()),
            ));
        }
    }
    Ok(())
}

/// Early stopping's patience, warm-up and least improvement, when `stopping` is
/// [`Stopping::Patience`] (which needs the epoch to report objectives).
fn patience(stopping: &Stopping, report: &EpochReport) -> Result<Option<(usize, usize, f64)>> {
    Ok(match stopping {
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
    })
}

/// Records epoch `epoch` (0-based) of each member still `active`: a non-finite loss or objective
/// stops it; under early stopping (`patience`) an improved objective becomes its best, and a
/// member whose patience ran out stops; otherwise the epoch is its kept one. Returns the members
/// that improved.
fn record(
    outcomes: &mut [RunOutcome],
    active: &mut [bool],
    epoch: usize,
    report: &EpochReport,
    patience: Option<(usize, usize, f64)>,
) -> Vec<bool> {
    let mut improved = vec![false; outcomes.len()];
    for (m, out) in outcomes.iter_mut().enumerate() {
        if !active[m] {
            continue;
        }
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
                } else if epoch + 1 >= warmup && epoch + 1 - out.best_epoch.max(warmup) >= patience
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
    improved
}
