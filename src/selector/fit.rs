//! The fit of a selector, step by step: screen very wide data, race the architectures, fit one
//! architecture ([`SelectorParams::fit_network`]).

use super::{
    FitEvent, FittedSelector, LambdaChoice, Race, Screen, SelectorParams, network_wins, screen,
};
use crate::data::{Split, Table};
use crate::{Error, Result};
use tch::Device;

/// Train, validation and test fractions of [`SelectorParams::fit_table`]: a stratified fifth
/// holds out as validation rows (when cross-validation chooses, they rejoin the folds).
pub const FIT_TABLE_FRACTIONS: [f64; 3] = [0.8, 0.2, 0.0];

/// The rows a fit learns from: the table, its split, unlabeled rows (row-major raw rows of the
/// same features, for pretraining) and the device.
#[derive(Clone, Copy)]
pub(super) struct FitInput<'a> {
    pub table: &'a Table,
    pub split: &'a Split,
    pub unlabeled: &'a [f64],
    pub device: Device,
}

impl SelectorParams {
    /// Fits on every row of `table` on `device`, with no test rows: the fit holds out its own
    /// validation rows ([`FIT_TABLE_FRACTIONS`], stratified, seeded by `seed`) or, below the
    /// small-data threshold of [`super::Validation::Auto`], chooses lambda by cross-validation
    /// over all rows and fits the final model on all of them. The fitted model's metrics are
    /// those of the rows it has (no test score).
    pub fn fit_table(&self, table: &Table, device: Device) -> Result<FittedSelector> {
        let split = Split::of(table, FIT_TABLE_FRACTIONS, self.seed)?;
        self.fit(table, &split, device)
    }

    /// Fits on `table` with `split` on `device` (the split's test rows may be empty; when
    /// present they are scored, never used to choose).
    pub fn fit(&self, table: &Table, split: &Split, device: Device) -> Result<FittedSelector> {
        self.fit_semi_supervised(table, split, &[], device)
    }

    /// Fits like [`SelectorParams::fit`]; with `pretrain` set, the first layer is first
    /// pretrained on the SEFS pretext task over the training rows plus `unlabeled` (row-major raw
    /// rows of the same features), which also enter the feature correlation of a correlated gate
    /// (see [`SelectorParams::initialise`]).
    pub fn fit_semi_supervised(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
    ) -> Result<FittedSelector> {
        self.fit_observed(table, split, unlabeled, device, &mut |_| {})
    }

    /// Fits like [`SelectorParams::fit_semi_supervised`], calling `on_event` as each stage
    /// starts and ends and as each point of a path is done (the command line's progress line).
    ///
    /// A fit holds the process-wide lock of [`crate::exclusive_rng`] while it runs: fits started on
    /// several threads run one after another and give exactly the results each gives alone.
    pub fn fit_observed(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        let input = FitInput {
            table,
            split,
            unlabeled,
            device,
        };
        crate::exclusive_rng(|| self.fit_inner(input, on_event))
    }

    /// The steps of a fit: the screen (very wide data), then the race of architectures.
    fn fit_inner(
        &self,
        input: FitInput,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        self.validate()?;
        let d = input.table.n_features();
        match self.screen.keep(d, input.split.train.len()) {
            Some(keep) => self.fit_screened(input, keep, on_event),
            None => self.fit_architectures(input, on_event),
        }
    }

    /// Fits on the `keep` columns the screen passes (and the same columns of the unlabeled
    /// rows), then reports the selection over every column of the table.
    fn fit_screened(
        &self,
        input: FitInput,
        keep: usize,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        let FitInput {
            table, unlabeled, ..
        } = input;
        let d = table.n_features();
        if !unlabeled.len().is_multiple_of(d) {
            return Err(Error::shape(
                "unlabeled rows",
                format!("{} values are not rows of {d} features", unlabeled.len()),
            ));
        }
        let screened = screen(table, &input.split.train, keep)?;
        let columns = &screened.columns;
        let narrow = table.select_columns(columns);
        let unlabeled: Vec<f64> = unlabeled
            .chunks(d)
            .flat_map(|row| columns.iter().map(|j| row[*j]))
            .collect();
        let inner = SelectorParams {
            screen: Screen::Off,
            ..self.clone()
        };
        let narrow_input = FitInput {
            table: &narrow,
            unlabeled: &unlabeled,
            ..input
        };
        let fitted = inner.fit_inner(narrow_input, on_event)?;
        Ok(fitted.widen(self.clone(), table, screened))
    }

    /// The architecture step: the `hidden` network alone, or (automatic lambda with
    /// `auto_architecture`) the race of it against a linear model, the better one kept.
    fn fit_architectures(
        &self,
        input: FitInput,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        let both = self.auto_architecture
            && self.lambda == LambdaChoice::Auto
            && self.pretrain.is_none()
            && !self.hidden.is_empty();
        if !both {
            return self.fit_network(input, None, on_event);
        }
        let linear_params = SelectorParams {
            hidden: vec![],
            ..self.clone()
        };
        let race = Race::of(input.table, input.split);
        let kept = match race {
            Race::TooFewRows { .. } => {
                linear_params.fit_network(input, Some(race.clone()), on_event)?
            }
            Race::Raced => {
                let network = self.fit_network(input, Some(race.clone()), on_event)?;
                let linear = linear_params.fit_network(input, Some(race.clone()), on_event)?;
                match network_wins(self.best_score(&network), self.best_score(&linear)) {
                    true => network,
                    false => linear,
                }
            }
        };
        on_event(&FitEvent::Kept {
            hidden: kept.info.network.hidden.clone(),
            race,
        });
        Ok(kept)
    }

    /// The best choice score of a fitted architecture's path (with its standard error), among
    /// the points within the feature budget.
    fn best_score(&self, fitted: &FittedSelector) -> Option<(f64, f64)> {
        fitted
            .info
            .path
            .iter()
            .filter(|p| self.max_features.is_none_or(|k| p.n_selected <= k))
            .map(|p| (p.choice_score, p.choice_se))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }
}
