//! The cross-validation folds that score the points of an automatic fit's path: each fold's
//! path at the main path's lambdas, trained together as one ensemble where they can be.

use super::{FitEvent, FitInput, Initialised, OnPoint, SelectorParams, Stage, auto_batch_size};
use crate::data::{Split, Table, Task};
use crate::gates::GateKind;
use crate::model::gated_mlp;
use crate::train::{MemberTags, PathPoint, Prepared, Schedule, Snapshot, lambda_path_observed};
use crate::{Error, Result};
use tch::{Device, nn};

/// The paths of every fold, one per fold, each over the main path's lambdas.
pub(super) type FoldPaths = Vec<Vec<PathPoint>>;

impl SelectorParams {
    /// The fold paths that score the main path's `points` when the rows that choose are few
    /// enough for [`SelectorParams::validation`] to cross-validate (`None`: the validation rows
    /// score them).
    pub(super) fn cross_validation(
        &self,
        input: FitInput,
        points: &[PathPoint],
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<Option<FoldPaths>> {
        let split = input.split;
        let Some(k) = self.validation.folds(split.train.len() + split.val.len()) else {
            return Ok(None);
        };
        let lambdas: Vec<f64> = points.iter().skip(1).map(|p| p.lambda).collect();
        let folds = self.fold_paths(input.table, split, k, &lambdas, input.device, on_event)?;
        Ok(Some(folds))
    }

    /// The paths of `k` cross-validation folds over the training and validation rows of `split`,
    /// at the main path's `lambdas` (no pretraining: the folds score lambda, they are not the
    /// final model).
    ///
    /// A classification's folds train together, as the members of one ensemble that each see
    /// their own fold's rows ([`Prepared::stack`]): one pass of the optimiser trains every fold,
    /// so the folds cost about one path instead of `k` (each point trains until every fold's
    /// selection is stable). The ensemble needs folds of equal size: every fold's validation
    /// part is cut to the smallest's and the rows cut train in their fold (`n mod k` rows are
    /// validated by no fold). A regression's folds, and those of a correlated gate, run one
    /// after another: each fold standardises its target, or draws its correlation factor, from
    /// its own rows, which one ensemble does not hold.
    fn fold_paths(
        &self,
        table: &Table,
        split: &Split,
        k: usize,
        lambdas: &[f64],
        device: Device,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FoldPaths> {
        let folds = split.folds(table.labels().as_deref(), k, self.seed)?;
        if table.task == Task::Classification && self.gate.kind() != GateKind::Correlated {
            let shortest = folds.iter().map(|f| f.val.len()).min().unwrap_or(0);
            let equal: Vec<Split> = folds
                .into_iter()
                .map(|mut f| {
                    let cut = f.val.split_off(shortest);
                    f.train.extend(cut);
                    f.train.sort_unstable();
                    f
                })
                .collect();
            return self.observed_path(Stage::Folds { folds: k }, on_event, &mut |on_point| {
                self.batched_fold_paths(table, &equal, lambdas, device, on_point)
            });
        }
        folds
            .iter()
            .enumerate()
            .map(|(f, fold)| {
                let stage = Stage::Fold {
                    fold: f + 1,
                    folds: k,
                };
                self.observed_path(stage, on_event, &mut |on_point| {
                    self.fold_path(table, fold, lambdas, device, on_point)
                })
            })
            .collect()
    }

    /// The paths of the equal-sized `folds` as one ensemble of a member per fold, initialised
    /// as each fold's network alone would be (the same seed), split back into one path per fold.
    fn batched_fold_paths(
        &self,
        table: &Table,
        folds: &[Split],
        lambdas: &[f64],
        device: Device,
        on_point: OnPoint,
    ) -> Result<FoldPaths> {
        let mut train = self.train.clone();
        if self.auto_batch {
            train.batch_size = Some(auto_batch_size(folds[0].train.len()));
        }
        let sets = folds
            .iter()
            .map(|fold| Prepared::new(table, fold, device))
            .collect::<Result<Vec<_>>>()?;
        let data = Prepared::stack(&sets, 1).ok_or_else(|| {
            Error::config(
                "folds",
                "the folds' parts differ in size and cannot train together",
            )
        })?;
        let seeds = vec![self.seed; folds.len()];
        tch::manual_seed(self.seed as i64);
        let vs = nn::VarStore::new(device);
        let config = self.network(table.n_features() as i64, data.outputs);
        let mut model = gated_mlp(&vs.root(), &config, &seeds, None)?;
        let tags = MemberTags {
            gate: self.gate.to_string(),
            seeds,
        };
        tch::manual_seed(self.seed as i64);
        let points = lambda_path_observed(
            &mut model,
            &vs,
            &data,
            &train,
            &self.path,
            &tags,
            &Schedule::Fixed(lambdas.to_vec()),
            on_point,
        )?;
        Ok((0..folds.len())
            .map(|f| {
                points
                    .iter()
                    .map(|p| PathPoint {
                        lambda: p.lambda,
                        members: vec![p.members[f].clone()],
                        state: Snapshot::default(),
                    })
                    .collect()
            })
            .collect())
    }

    /// The path of one cross-validation fold at the main path's `lambdas`, alone.
    fn fold_path(
        &self,
        table: &Table,
        split: &Split,
        lambdas: &[f64],
        device: Device,
        on_point: OnPoint,
    ) -> Result<Vec<PathPoint>> {
        let plain = SelectorParams {
            pretrain: None,
            ..self.clone()
        };
        let Initialised {
            params,
            data,
            vs,
            mut model,
            ..
        } = plain.initialise(table, split, &[], device)?;
        let tags = self.member_tags();
        lambda_path_observed(
            &mut model,
            &vs,
            &data,
            &params.train,
            &params.path,
            &tags,
            &Schedule::Fixed(lambdas.to_vec()),
            on_point,
        )
    }
}
