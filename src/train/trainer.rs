//! One training epoch of a gated ensemble at a time ([`Trainer`]), and the early-stopping
//! objective it is judged by.
//!
//! Loss of member `e`: `task_e + lambda_e * ramp(epoch) * penalty_e`; the members' losses are
//! summed for one backward pass, which gives each member exactly its own gradients (Adam is
//! elementwise, so optimiser state is per member too). Early stopping watches what the inference
//! network does: `val task loss + lambda * open inference gates` (the expected penalty keeps
//! falling after a gate is closed).

use super::{GatedModel, Prepared, TrainConfig, gated_adam, task_loss};
use crate::Result;
use tch::{Kind, Tensor, nn};

/// Most validation rows the early-stopping objective reads ([`Trainer::objective`]).
pub const OBJECTIVE_ROWS: i64 = 65_536;

/// The optimiser and per-member lambdas of a training run: one epoch at a time.
pub struct Trainer {
    opt: nn::Optimizer,
    lambda: Tensor,
    config: TrainConfig,
}

impl Trainer {
    /// Adam over `vs` (gates in group 1 with their own learning rate, no weight decay), every
    /// lambda 0.
    ///
    /// The default gate learning rate is calibrated per epoch: it is divided by the number of
    /// mini-batches of an epoch (`n_train` rows, or [`TrainConfig::epoch_rows`]), so that gates
    /// drift as much per epoch with mini-batches as with the full batch (a noisy gradient
    /// otherwise random-walks unpenalised gates shut).
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
        let opt = gated_adam(model, vs, config, steps)?;
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
