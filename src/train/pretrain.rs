//! Self-supervised pretraining with correlated masks, from SEFS (Lee, Imrie and van der Schaar,
//! "Self-Supervision Enhanced Feature Selection with Correlated Gates", ICLR 2022).
//!
//! Masks `m = 1[Phi(F eps) < p]` with `F F^T = R`, the feature correlation, so correlated features
//! are masked together; masked entries are replaced by the column mean (0 after standardisation).
//! An encoder `D -> H` (Linear, ReLU) and two heads learn to reconstruct `x` and to predict `m`:
//! loss `MSE(x_hat, x) + alpha * BCE(m_hat, m)`. The encoder's layer then initialises the first
//! layer of the supervised network, so that few labels suffice.

use super::{EpochReport, EpochStep, Stopping, batch_ranges, run_epochs};
use crate::gates::CorrelationFactor;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::nn::{Module, OptimizerConfig};
use tch::{Kind, Tensor, nn};

/// Settings of the pretext task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    /// Epochs over the unlabeled rows.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Weight of the mask-prediction loss (10 in SEFS).
    pub alpha: f64,
    /// Probability that a feature is masked.
    pub mask_rate: f64,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig {
            epochs: 300,
            batch_size: 128,
            lr: 3e-3,
            alpha: 10.0,
            mask_rate: 0.5,
        }
    }
}

/// Correlated masks `[n, D]`: 1 where a feature is masked, with the correlation of `factor`.
pub fn correlated_masks(
    factor: &CorrelationFactor,
    n: i64,
    rate: f64,
    device: tch::Device,
) -> Tensor {
    let eps = Tensor::randn([n, factor.dim()], (Kind::Float, device));
    factor
        .correlate(&eps, crate::gates::Noise::PerExample)
        .special_ndtr()
        .lt(rate)
        .to_kind(Kind::Float)
}

/// A pretrained encoder: the first layer `D -> H` of a network.
#[derive(Debug)]
pub struct Encoder {
    /// Weight `[D, H]` (input-major, as the ensemble linear layers store it).
    pub weight: Tensor,
    /// Bias `[H]`.
    pub bias: Tensor,
    /// Mean reconstruction error of masked entries on the pretext data at the end.
    pub masked_mse: f64,
}

/// Pretrains an encoder of width `hidden` on standardised rows `x` (`[N, D]`).
///
/// Its epochs run in the shared loop ([`run_epochs`]) with their own step: the rows have no
/// labels and the networks no gates, so the [`Trainer`](super::Trainer)'s epoch (task loss,
/// penalty, lambda, gate learning rate) does not apply; each epoch is the pretext objective over
/// shuffled mini-batches with plain Adam. There are no validation rows to stop early on, so
/// every epoch runs ([`Stopping::Budget`]) and the last state is the encoder.
pub fn pretrain_encoder(
    x: &Tensor,
    factor: &CorrelationFactor,
    hidden: i64,
    config: &PretrainConfig,
) -> Result<Encoder> {
    let size = x.size();
    if size.len() != 2 || size[0] < 2 || size[1] != factor.dim() {
        return Err(Error::shape(
            "pretraining",
            format!(
                "rows {size:?} do not match a factor of {} features",
                factor.dim()
            ),
        ));
    }
    if !(config.mask_rate > 0.0 && config.mask_rate < 1.0)
        || config.epochs == 0
        || config.batch_size == 0
    {
        return Err(Error::config(
            "pretrain",
            "needs 0 < mask_rate < 1, epochs >= 1 and batch_size >= 1",
        ));
    }
    let (n, d) = (size[0], size[1]);
    let device = x.device();
    let vs = nn::VarStore::new(device);
    let root = vs.root();
    let nets = Pretext {
        encoder: nn::linear(&root / "encoder", d, hidden, Default::default()),
        recon: nn::linear(&root / "reconstruct", hidden, d, Default::default()),
        mask_head: nn::linear(&root / "mask", hidden, d, Default::default()),
        alpha: config.alpha,
    };
    let mut step = PretextEpoch {
        nets: &nets,
        opt: nn::Adam::default().build(&vs, config.lr)?,
        x,
        factor,
        mask_rate: config.mask_rate,
        batch: (config.batch_size as i64).min(n),
    };
    run_epochs(&mut step, 1, config.epochs, &Stopping::Budget, None)?;
    let masked_mse = tch::no_grad(|| {
        let m = correlated_masks(factor, n, config.mask_rate, device);
        let (_, x_hat) = nets.loss(x, &m);
        ((x_hat - x).square() * &m)
            .sum(Kind::Float)
            .double_value(&[])
            / m.sum(Kind::Float).double_value(&[]).max(1.0)
    });
    Ok(Encoder {
        weight: nets.encoder.ws.detach().transpose(0, 1).contiguous(),
        bias: nets
            .encoder
            .bs
            .map(|b| b.detach())
            .unwrap_or_else(|| Tensor::zeros([hidden], (Kind::Float, device))),
        masked_mse,
    })
}

/// The encoder and the two heads of the pretext task.
struct Pretext {
    encoder: nn::Linear,
    recon: nn::Linear,
    mask_head: nn::Linear,
    /// Weight of the mask-prediction loss.
    alpha: f64,
}

impl Pretext {
    /// The pretext loss of rows `xb` with masks `m`, and the reconstruction.
    fn loss(&self, xb: &Tensor, m: &Tensor) -> (Tensor, Tensor) {
        let corrupted = xb * (1.0 - m);
        let h = self.encoder.forward(&corrupted).relu();
        let x_hat = self.recon.forward(&h);
        let m_logit = self.mask_head.forward(&h);
        let rec = (&x_hat - xb).square().mean(Kind::Float);
        let bce =
            m_logit.binary_cross_entropy_with_logits::<Tensor>(m, None, None, tch::Reduction::Mean);
        (rec + bce * self.alpha, x_hat)
    }
}

/// One epoch of the pretext task: shuffled mini-batches of `x`, fresh masks for each.
struct PretextEpoch<'a> {
    nets: &'a Pretext,
    opt: nn::Optimizer,
    x: &'a Tensor,
    factor: &'a CorrelationFactor,
    mask_rate: f64,
    batch: i64,
}

impl EpochStep for PretextEpoch<'_> {
    fn epoch(&mut self, _epoch: usize, _active: &[bool]) -> Result<EpochReport> {
        let n = self.x.size()[0];
        let device = self.x.device();
        // Shuffled even when one batch holds every row: each mask goes with a random row.
        let order = Tensor::randperm(n, (Kind::Int64, device));
        for (start, len) in batch_ranges(n, self.batch) {
            let xb = self.x.index_select(0, &order.narrow(0, start, len));
            let m = correlated_masks(self.factor, len, self.mask_rate, device);
            let (loss, _) = self.nets.loss(&xb, &m);
            self.opt.backward_step(&loss);
        }
        // The loss is not read back: nothing stops pretraining early.
        Ok(EpochReport::default())
    }
}
