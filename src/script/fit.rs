//! Training a [`GatedScript`]: its gates (and optionally the backbone) with a lambda warm-up and
//! best-state restore, and the refit of the backbone under the chosen gates.

use super::{GatedScript, script_error};
use crate::gates::{Gate, Reduction};
use crate::train::{
    FitOutcome, GatedModel, MemberTags, Prepared, Snapshot, TrainConfig, check_lambdas, fit,
    task_loss, to_f64,
};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor, nn};

/// How [`GatedScript::fit`] trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptFitConfig {
    /// Penalty weight (sum convention).
    pub lambda: f64,
    /// Epochs.
    pub epochs: usize,
    /// Epochs over which lambda ramps up from 0.
    pub warmup: usize,
    /// Adam learning rate of the gates.
    pub gate_lr: f64,
    /// Adam learning rate of the backbone (after [`GatedScript::train_backbone`]).
    pub backbone_lr: f64,
    /// Mini-batch size; `None` trains on the full batch.
    pub batch_size: Option<usize>,
    /// Refit: train the backbone alone, with the gates fixed at their inference values (dropped
    /// units exactly 0) and no penalty, so that the weights adapt to the units that remain.
    /// Needs [`GatedScript::train_backbone`].
    pub refit: bool,
    /// The seed libtorch's generator was set to for this fit (named in errors; the caller seeds).
    pub seed: u64,
}

impl Default for ScriptFitConfig {
    fn default() -> Self {
        ScriptFitConfig {
            lambda: 0.05,
            epochs: 300,
            warmup: 30,
            gate_lr: 0.05,
            backbone_lr: 1e-3,
            batch_size: None,
            refit: false,
            seed: 0,
        }
    }
}

impl GatedScript {
    /// Lets the backbone's parameters train too (with their own learning rate in [`fit`]).
    ///
    /// [`fit`]: GatedScript::fit
    pub fn train_backbone(&mut self) -> Result<()> {
        for (k, (module, path)) in self.modules.iter().zip(&self.paths).enumerate() {
            let params = module
                .named_parameters()
                .map_err(|e| script_error(path, "parameters", e))?;
            let root = self.vs.root() / format!("backbone{k}");
            for (name, tensor) in params {
                let _ = root.add(&name.replace('.', "_"), tensor, true);
            }
        }
        self.backbone_trains = true;
        Ok(())
    }

    /// Trains the gates (and the backbone after [`GatedScript::train_backbone`]) with the shared
    /// trainer ([`crate::train::fit`]) on `task + lambda * ramp * sum of gate penalties`, lambda
    /// ramping up over `warmup` epochs, on mini-batches or the full batch, every epoch (no
    /// patience). The state with the best validation objective (task loss of the inference
    /// network plus lambda times its open gates) is kept and restored at the end; returns its
    /// epoch. With `config.refit` only the backbone trains, under the inference gates, and the
    /// starting state counts as epoch 0 (a refit never ends worse than it started).
    pub fn fit(&mut self, data: &Prepared, config: &ScriptFitConfig) -> Result<usize> {
        check_lambdas(&[config.lambda])?;
        if config.refit && !self.backbone_trains {
            return Err(Error::config(
                "refit",
                "a refit trains the backbone: call train_backbone first (--train-backbone)",
            ));
        }
        let train = TrainConfig {
            epochs: config.epochs,
            warmup_epochs: if config.refit { 0 } else { config.warmup },
            patience: config.epochs.max(1),
            early_stopping: true,
            lr: config.backbone_lr,
            // A refit's gates are frozen: their learning rate does not matter.
            gate_lr: Some(if config.refit {
                config.backbone_lr
            } else {
                config.gate_lr
            }),
            batch_size: config.batch_size,
            weight_decay: 0.0,
            reduction: Reduction::Sum,
            cost_aware: false,
            target_rate: None,
            ..TrainConfig::default()
        };
        let tags = MemberTags {
            gate: self
                .gates
                .iter()
                .map(|g| g.kind().to_string())
                .collect::<Vec<_>>()
                .join("+"),
            seeds: vec![config.seed],
        };
        // The store is lent to the trainer while the model is borrowed mutably.
        let device = self.vs.device();
        let vs = std::mem::replace(&mut self.vs, nn::VarStore::new(device));
        let outcome = if config.refit {
            self.refit(&vs, data, &train, &tags)
        } else {
            fit(self, &vs, data, &[config.lambda], &train, &tags, None)
                .map(|mut outcomes| outcomes.remove(0))
        };
        self.vs = vs;
        let outcome = outcome?;
        if let Some(failure) = outcome.failure {
            return Err(failure.into());
        }
        Ok(outcome.best_epoch)
    }

    /// The backbone alone under the frozen inference gates, no penalty; the starting state is
    /// restored when no epoch beats it on the validation loss (best epoch 0).
    fn refit(
        &mut self,
        vs: &nn::VarStore,
        data: &Prepared,
        train: &TrainConfig,
        tags: &MemberTags,
    ) -> Result<FitOutcome> {
        let start = Snapshot::whole(vs);
        let gate_params: Vec<Tensor> = self.gates.iter().flat_map(|g| g.parameters()).collect();
        for p in &gate_params {
            let _ = p.set_requires_grad(false);
        }
        let mut refit = Refit(self);
        let result = (|| {
            refit.set_training(false)?;
            let out = tch::no_grad(|| refit.forward_gated(&data.val.x, false))?;
            let before = to_f64(&task_loss(data.task, &out, &data.val.y))?;
            let mut outcome = fit(&mut refit, vs, data, &[0.0], train, tags, None)?.remove(0);
            if outcome.failure.is_none() && before[0] <= outcome.best_objective {
                start.restore();
                outcome.best_epoch = 0;
                outcome.best_objective = before[0];
            }
            Ok(outcome)
        })();
        for p in &gate_params {
            let _ = p.set_requires_grad(true);
        }
        result
    }

    /// Puts the backbone in training or evaluation mode (dropout, batch norm) when it trains.
    fn set_train(&mut self, train: bool) -> Result<()> {
        if !self.backbone_trains {
            return Ok(());
        }
        for (module, path) in self.modules.iter_mut().zip(&self.paths) {
            let result = if train {
                module.f_set_train()
            } else {
                module.f_set_eval()
            };
            result.map_err(|e| script_error(path, "train mode", e))?;
        }
        Ok(())
    }
}

/// A TorchScript model is one network (no member axis) whose gates are its gate layers.
impl GatedModel for GatedScript {
    fn members(&self) -> i64 {
        1
    }

    fn device(&self) -> Device {
        self.vs.device()
    }

    fn gates(&self) -> Vec<&dyn Gate> {
        self.gates.iter().map(|g| g.as_ref()).collect()
    }

    fn gates_mut(&mut self) -> Vec<&mut dyn Gate> {
        self.gates
            .iter_mut()
            .map(|g| g.as_mut() as &mut dyn Gate)
            .collect()
    }

    fn forward_gated(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self.forward(xs, train)?.unsqueeze(0))
    }

    /// The gates of a TorchScript model keep their temperature (no annealing, as before).
    fn anneal(&mut self, _progress: f64) {}

    fn set_training(&mut self, train: bool) -> Result<()> {
        self.set_train(train)
    }
}

/// A refit of a [`GatedScript`]: its inference gates in training too, and no penalty.
struct Refit<'a>(&'a mut GatedScript);

impl GatedModel for Refit<'_> {
    fn members(&self) -> i64 {
        1
    }

    fn device(&self) -> Device {
        self.0.vs.device()
    }

    fn gates(&self) -> Vec<&dyn Gate> {
        GatedModel::gates(&*self.0)
    }

    fn gates_mut(&mut self) -> Vec<&mut dyn Gate> {
        self.0.gates_mut()
    }

    fn forward_gated(&self, xs: &Tensor, _train: bool) -> Result<Tensor> {
        self.0.forward_gated(xs, false)
    }

    fn forward_penalty(
        &self,
        xs: &Tensor,
        _train: bool,
        _spec: &crate::model::PenaltySpec,
    ) -> Result<(Tensor, Tensor)> {
        let out = self.0.forward_gated(xs, false)?;
        let zero = Tensor::zeros([1], (tch::Kind::Float, self.device()));
        Ok((out, zero))
    }

    fn anneal(&mut self, _progress: f64) {}

    fn set_training(&mut self, train: bool) -> Result<()> {
        self.0.set_train(train)
    }
}
