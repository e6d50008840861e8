//! Self-supervised pretraining with correlated masks, from SEFS (Lee, Imrie and van der Schaar,
//! "Self-Supervision Enhanced Feature Selection with Correlated Gates", ICLR 2022).
//!
//! Masks `m = 1[Phi(F eps) < p]` with `F F^T = R`, the feature correlation, so correlated features
//! are masked together; masked entries are replaced by the column mean (0 after standardisation).
//! An encoder `D -> H` (Linear, ReLU) and two heads learn to reconstruct `x` and to predict `m`:
//! loss `MSE(x_hat, x) + alpha * BCE(m_hat, m)`. The encoder's layer then initialises the first
//! layer of the supervised network, so that few labels suffice.

use super::batch_ranges;
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
/// Its loop is not the shared [`Trainer`](super::Trainer)'s: the rows have no labels and the
/// networks no gates, so there is no task loss, penalty, lambda or optimiser group of gates, and
/// no validation rows to stop early on or to keep a best state by (the last state is the
/// encoder). The trainer's epoch would need a fake target and a pretext loss passed off as its
/// penalty, and would draw other random numbers. What the two share is the mini-batching
/// (`batch_ranges`); the loop body is only the pretext objective, with plain Adam.
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
    let encoder = nn::linear(&root / "encoder", d, hidden, Default::default());
    let recon = nn::linear(&root / "reconstruct", hidden, d, Default::default());
    let mask_head = nn::linear(&root / "mask", hidden, d, Default::default());
    let mut opt = nn::Adam::default().build(&vs, config.lr)?;
    let step = |xb: &Tensor, m: &Tensor| {
        let corrupted = xb * (1.0 - m);
        let h = encoder.forward(&corrupted).relu();
        let x_hat = recon.forward(&h);
        let m_logit = mask_head.forward(&h);
        let rec = (&x_hat - xb).square().mean(Kind::Float);
        let bce =
            m_logit.binary_cross_entropy_with_logits::<Tensor>(m, None, None, tch::Reduction::Mean);
        (rec + bce * config.alpha, x_hat)
    };
    let batch = (config.batch_size as i64).min(n);
    for _ in 0..config.epochs {
        // Shuffled even when one batch holds every row: each mask goes with a random row.
        let order = Tensor::randperm(n, (Kind::Int64, device));
        for (start, len) in batch_ranges(n, batch) {
            let xb = x.index_select(0, &order.narrow(0, start, len));
            let m = correlated_masks(factor, len, config.mask_rate, device);
            let (loss, _) = step(&xb, &m);
            opt.backward_step(&loss);
        }
    }
    let masked_mse = tch::no_grad(|| {
        let m = correlated_masks(factor, n, config.mask_rate, device);
        let (_, x_hat) = step(x, &m);
        ((x_hat - x).square() * &m)
            .sum(Kind::Float)
            .double_value(&[])
            / m.sum(Kind::Float).double_value(&[]).max(1.0)
    });
    Ok(Encoder {
        weight: encoder.ws.detach().transpose(0, 1).contiguous(),
        bias: encoder
            .bs
            .map(|b| b.detach())
            .unwrap_or_else(|| Tensor::zeros([hidden], (Kind::Float, device))),
        masked_mse,
    })
}
