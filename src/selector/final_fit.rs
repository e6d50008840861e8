//! The final model of an automatic fit: the chosen point of the path, or the path rerun on the
//! training and validation rows together and driven to the chosen point's count of features;
//! for a linear regression, a closed-form ridge fit on the kept columns.

use super::{
    FitEvent, FitInput, Initialised, OnPoint, SelectorParams, Stage, Trained, faithful_point,
};
use crate::data::{Split, Task};
use crate::model::GatedMlp;
use crate::train::{
    PathConfig, PathPoint, Prepared, Schedule, TrainConfig, lambda_path_observed, refit_in_place,
    restore_point, ridge_alpha_for, ridge_refit,
};
use crate::{Error, Result};

/// Lambdas past the main path's last that the final rerun of a cross-validated choice may visit
/// to come down to the chosen point's count (each `max_growth` times the one before: 2^30 by
/// default).
const EXTRA_STEPS: i32 = 30;

/// The final model and what it was fitted on.
pub(super) struct FinalModel {
    /// Its data, variables and network.
    pub trained: Trained,
    /// Its lambda (the rerun's, when refitted).
    pub lambda: f64,
    /// The penalty of its ridge fit, when it had one.
    pub ridge_alpha: Option<f64>,
    /// Whether it was fitted on the training and validation rows together.
    pub fitted_on_train_and_val: bool,
}

impl SelectorParams {
    /// The final model at the `chosen` point of `points` (restored in `main`, the main path's
    /// network): with `refit`, the path rerun on the training and validation rows
    /// ([`SelectorParams::fit_on_all_rows`]); otherwise that point itself.
    pub(super) fn final_model(
        &self,
        input: FitInput,
        main: Trained,
        points: &[PathPoint],
        chosen: usize,
        refit: bool,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FinalModel> {
        // The ridge penalty is chosen at the chosen point, on the validation rows (when
        // refitted, the main model's weights it rewrites are replaced by the final model's).
        let ridge_alpha = self.final_ridge(&main.model, &main.data)?;
        if !refit {
            return Ok(FinalModel {
                trained: main,
                lambda: points[chosen].lambda,
                ridge_alpha,
                fitted_on_train_and_val: false,
            });
        }
        let (trained, lambda) = self.observed_path(Stage::Final, on_event, &mut |on_point| {
            self.fit_on_all_rows(input, points, chosen, on_point)
        })?;
        if let Some(a) = ridge_alpha {
            ridge_refit(&trained.model, &trained.data, a)?;
        }
        Ok(FinalModel {
            trained,
            lambda,
            ridge_alpha,
            fitted_on_train_and_val: true,
        })
    }

    /// The final ridge fit of a linear regression model ([`SelectorParams::ridge`]): fitted on
    /// `data`'s training rows with the penalty chosen on its validation rows, written into `model`;
    /// returns that penalty (`None`, and `model` unchanged, for a network, a classifier or with
    /// `ridge` off).
    pub(super) fn final_ridge(&self, model: &GatedMlp, data: &Prepared) -> Result<Option<f64>> {
        if !(self.ridge && self.hidden.is_empty() && data.task == Task::Regression) {
            return Ok(None);
        }
        let alpha = ridge_alpha_for(model, data)?;
        ridge_refit(model, data, alpha)?;
        Ok(Some(alpha))
    }

    /// The final model of a cross-validated choice: the path rerun on the training and
    /// validation rows together, at the main path's lambdas (and past its last, in steps of
    /// `max_growth`), until it keeps at most the chosen point's count of features; the rerun's
    /// point nearest that count is kept ([`faithful_point`]; within the feature budget when there
    /// is one). Each stage runs for the epochs the main path found on its validation rows: the
    /// unpenalised start for its best epoch, every penalised point until its selection is stable,
    /// the refit of the final point for the chosen point's best refit epoch. Returns the rerun's
    /// lambda there with the model.
    fn fit_on_all_rows(
        &self,
        input: FitInput,
        points: &[PathPoint],
        chosen: usize,
        on_point: OnPoint,
    ) -> Result<(Trained, f64)> {
        let FitInput {
            table,
            split,
            unlabeled,
            device,
        } = input;
        let mut rows: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
        rows.sort_unstable();
        // The validation rows stay as the split's `val` (Prepared needs some) but choose nothing:
        // early stopping is off.
        let all = Split {
            train: rows,
            val: split.val.clone(),
            test: split.test.clone(),
        };
        let Initialised {
            params,
            data,
            vs,
            mut model,
            ..
        } = self.initialise(table, &all, unlabeled, device)?;
        let start = &points[0].members[0];
        let train = TrainConfig {
            epochs: start.best_epoch.max(1),
            early_stopping: false,
            ..params.train.clone()
        };
        let mut lambdas: Vec<f64> = points[1..].iter().map(|p| p.lambda).collect();
        if let Some(&top) = lambdas.last() {
            // With more rows the main path's last lambda can leave more open than it did: the
            // rerun goes on in steps of `max_growth` (it ends once every gate is closed).
            let growth = params.path.max_growth;
            lambdas.extend((1..=EXTRA_STEPS).map(|k| top * growth.powi(k)));
        }
        // Every lambda of the list may be visited (the main path's cap counts its refined steps).
        let path = PathConfig {
            refit: false,
            max_points: params.path.max_points.max(lambdas.len()),
            ..params.path.clone()
        };
        let tags = self.member_tags();
        let target = points[chosen].members[0].selected.len();
        tch::manual_seed(self.seed as i64);
        let rerun = lambda_path_observed(
            &mut model,
            &vs,
            &data,
            &train,
            &path,
            &tags,
            &Schedule::FixedUntil(lambdas, target as i64),
            on_point,
        )?;
        let counts: Vec<usize> = rerun.iter().map(|p| p.members[0].selected.len()).collect();
        let at = faithful_point(&counts, self.max_features, target).ok_or_else(|| {
            Error::fit(
                "the final fit on training and validation rows",
                "its path never kept at most the feature budget",
            )
        })?;
        restore_point(&vs, &rerun[at])?;
        if let Some(epochs) = points[chosen].members[0].refit_best_epoch {
            let path = PathConfig {
                refit_epochs: epochs.max(1),
                ..params.path.clone()
            };
            refit_in_place(&model, &vs, &data, &path, &train, &tags)?;
        }
        Ok((Trained { data, vs, model }, rerun[at].lambda))
    }
}
