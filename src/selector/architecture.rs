//! The fit of one architecture (the `hidden` network, or the linear model): one training run at
//! the fixed lambda, or the automatic path, its scoring and choice, and the final model.

use super::{
    FitEvent, FitInput, FitOutcome, FittedSelector, Initialised, LambdaChoice, Race,
    SelectorParams, Stage, Trained, TrainingTime,
};
use crate::Result;
use crate::train::{Schedule, fit, lambda_path_observed, restore_point};

impl SelectorParams {
    /// Fits the network of `hidden` from [`SelectorParams::initialise`]; `race` says how the
    /// architecture was decided (recorded in the automatic fit's decision).
    pub(super) fn fit_network(
        &self,
        input: FitInput,
        race: Option<Race>,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        let init = self.initialise(input.table, input.split, input.unlabeled, input.device)?;
        tch::manual_seed(self.seed as i64);
        match self.lambda {
            LambdaChoice::Fixed(l) => self.fit_fixed(input, init, l, on_event),
            LambdaChoice::Auto => self.fit_auto(input, init, race, on_event),
        }
    }

    /// One training run at the fixed lambda `l`.
    fn fit_fixed(
        &self,
        input: FitInput,
        init: Initialised,
        l: f64,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        let Initialised {
            params,
            data,
            vs,
            mut model,
            ..
        } = init;
        let tags = self.member_tags();
        let started = std::time::Instant::now();
        on_event(&FitEvent::Started {
            hidden: self.hidden.clone(),
            stage: Stage::Fixed,
        });
        let outcome = fit(&mut model, &vs, &data, &[l], &params.train, &tags, None)?;
        if let Some(f) = &outcome[0].failure {
            return Err(f.clone().into());
        }
        on_event(&FitEvent::Finished {
            hidden: self.hidden.clone(),
            stage: Stage::Fixed,
            points: 1,
            n_selected: model.usage()?[0].selected_inputs.len(),
        });
        let seconds = started.elapsed().as_secs_f64();
        let training = Some(TrainingTime::new(outcome[0].epochs, seconds));
        let ridge_alpha = self.final_ridge(&model, &data)?;
        let fit = FitOutcome {
            lambda: l,
            path: vec![],
            fitted_on_train_and_val: false,
            training,
            ridge_alpha,
            decision: None,
        };
        FittedSelector::new(self.clone(), input.table, Trained { data, vs, model }, fit)
    }

    /// The automatic path: the path on the training rows, the folds that score it (small
    /// data), the chosen point, then the final model.
    fn fit_auto(
        &self,
        input: FitInput,
        init: Initialised,
        race: Option<Race>,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        let Initialised {
            params,
            data,
            vs,
            mut model,
            ..
        } = init;
        let tags = self.member_tags();
        let points = self.observed_path(Stage::Path, on_event, &mut |on_point| {
            lambda_path_observed(
                &mut model,
                &vs,
                &data,
                &params.train,
                &params.path,
                &tags,
                &Schedule::Adaptive,
                on_point,
            )
        })?;
        let folds = self.cross_validation(input, &points, on_event)?;
        let main = Trained { data, vs, model };
        let chosen = self.choose_point(input.table, &points, folds.as_deref(), &main)?;
        let i = chosen.index;
        restore_point(&main.vs, &points[i])?;
        let decision = self.decision(input.table, &points, folds.as_deref(), i, race);
        let refit = folds.is_some() && self.refit_on_all;
        let last = self.final_model(input, main, &points, i, refit, on_event)?;
        let fit = FitOutcome {
            lambda: last.lambda,
            path: chosen.summary,
            fitted_on_train_and_val: last.fitted_on_train_and_val,
            training: None,
            ridge_alpha: last.ridge_alpha,
            decision: Some(decision),
        };
        FittedSelector::new(self.clone(), input.table, last.trained, fit)
    }
}
