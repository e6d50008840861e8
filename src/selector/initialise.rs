//! A selector network as training starts: the data on the device, the network built and
//! seeded, its first layer pretrained when asked.

use super::{SelectorParams, auto_batch_size};
use crate::data::{Split, Table};
use crate::gates::{CorrelationConfig, CorrelationFactor, GateKind};
use crate::model::{GatedMlp, gated_mlp};
use crate::train::{Encoder, MemberTags, Prepared, pretrain_encoder};
use crate::{Error, Result};
use tch::{Device, Tensor, nn};

/// A selector network before training (see [`SelectorParams::initialise`]).
#[derive(Debug)]
pub struct Initialised {
    /// The parameters, with the mini-batch size resolved.
    pub params: SelectorParams,
    /// The data on the device.
    pub data: Prepared,
    /// The network's variables.
    pub vs: nn::VarStore,
    /// The network (one member).
    pub model: GatedMlp,
    /// The pretrained encoder whose weights the first layer holds, when pretraining is on.
    pub encoder: Option<Encoder>,
}

/// A trained selector network: the data it trained on, its variables and the model.
#[derive(Debug)]
pub(crate) struct Trained {
    /// The data on the device.
    pub data: Prepared,
    /// The network's variables.
    pub vs: nn::VarStore,
    /// The network (one member).
    pub model: GatedMlp,
}

impl SelectorParams {
    /// The network of `hidden` (one architecture) as training starts: the data prepared, the
    /// model built and, with `pretrain` set, its first layer loaded from the encoder pretrained on
    /// the SEFS pretext task over the training rows plus `unlabeled` (row-major raw rows of the
    /// same features), which also enter the feature correlation of a correlated gate. The fit of
    /// that architecture trains from exactly this state.
    pub fn initialise(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
    ) -> Result<Initialised> {
        self.validate()?;
        let d = table.n_features();
        if !unlabeled.len().is_multiple_of(d) {
            return Err(Error::shape(
                "unlabeled rows",
                format!("{} values are not rows of {d} features", unlabeled.len()),
            ));
        }
        let mut params = self.clone();
        if params.auto_batch {
            params.train.batch_size = Some(auto_batch_size(split.train.len()));
        }
        let data = Prepared::new(table, split, device)?;
        // Rows of the pretext task and of the feature correlation: training rows, plus the
        // unlabeled ones when pretraining (standardised with the training rows).
        let pool = if self.pretrain.is_some() && !unlabeled.is_empty() {
            let rows: Vec<usize> = (0..unlabeled.len() / d).collect();
            let extra = Tensor::from_slice(&data.scaler.transform(unlabeled, &rows))
                .view([rows.len() as i64, d as i64])
                .to_device(device);
            Tensor::cat(&[&data.train.x, &extra], 0)
        } else {
            data.train.x.shallow_clone()
        };
        tch::manual_seed(self.seed as i64);
        let factor = match (self.gate.kind(), &self.pretrain) {
            (GateKind::Correlated, _) | (_, Some(_)) => Some(CorrelationFactor::from_data(
                &pool,
                CorrelationConfig::default(),
            )?),
            _ => None,
        };
        let encoder = match (&self.pretrain, &factor) {
            (Some(pc), Some(f)) => Some(pretrain_encoder(&pool, f, self.hidden[0], pc)?),
            _ => None,
        };
        let factor = if self.gate.kind() == GateKind::Correlated {
            factor
        } else {
            None
        };
        tch::manual_seed(self.seed as i64);
        let vs = nn::VarStore::new(device);
        let config = self.network(table.n_features() as i64, data.outputs);
        let model = gated_mlp(&vs.root(), &config, &[self.seed], factor)?;
        if let Some(enc) = &encoder {
            model.load_first_layer(&enc.weight, &enc.bias)?;
        }
        Ok(Initialised {
            params,
            data,
            vs,
            model,
            encoder,
        })
    }

    /// The tags of the one member a selector trains (its gate and seed).
    pub(super) fn member_tags(&self) -> MemberTags {
        MemberTags {
            gate: self.gate.to_string(),
            seeds: vec![self.seed],
        }
    }
}
