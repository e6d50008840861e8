//! SEFS pretext task: correlated masks and an encoder that reconstructs masked entries.

use stog::gates::{CorrelationConfig, CorrelationFactor};
use stog::train::{PretrainConfig, correlated_masks, pretrain_encoder};
use tch::{Device, Kind, Tensor};

fn corr(a: &Tensor, b: &Tensor) -> f64 {
    Tensor::stack(&[a.to_kind(Kind::Double), b.to_kind(Kind::Double)], 0)
        .corrcoef()
        .double_value(&[0, 1])
}

#[test]
fn pretext_masks_have_the_data_correlation_structure() {
    tch::manual_seed(0);
    let r = Tensor::from_slice(&[1.0f32, 0.9, 0.0, 0.9, 1.0, 0.0, 0.0, 0.0, 1.0]).view([3, 3]);
    let factor = CorrelationFactor::from_matrix(&r).unwrap();
    let m = correlated_masks(&factor, 100_000, 0.5, Device::Cpu);
    let rate = m.mean(Kind::Float).double_value(&[]);
    assert!((rate - 0.5).abs() < 0.01, "{rate}");
    let want = 2.0 / std::f64::consts::PI * 0.9f64.asin();
    let c01 = corr(&m.select(1, 0), &m.select(1, 1));
    assert!((c01 - want).abs() < 0.03, "{c01} vs {want}");
    assert!(corr(&m.select(1, 0), &m.select(1, 2)).abs() < 0.03);
    let m3 = correlated_masks(&factor, 100_000, 0.3, Device::Cpu);
    assert!((m3.mean(Kind::Float).double_value(&[]) - 0.3).abs() < 0.01);
}

#[test]
fn the_pretrained_encoder_reconstructs_better_than_the_column_mean() {
    tch::manual_seed(1);
    // Twelve noisy views of one latent (pairwise correlation about 0.67): a masked entry is
    // predictable from the views left unmasked, which correlated masks still often leave.
    let z = Tensor::randn([800, 1], (Kind::Float, Device::Cpu));
    let raw = &z + Tensor::randn([800, 12], (Kind::Float, Device::Cpu)) * 0.7;
    let x = (&raw - raw.mean_dim(0, true, Kind::Float)) / raw.std_dim(0, false, true);
    let factor = CorrelationFactor::from_data(&x, CorrelationConfig::default()).unwrap();
    let config = PretrainConfig {
        epochs: 300,
        lr: 3e-3,
        ..Default::default()
    };
    let encoder = pretrain_encoder(&x, &factor, 32, &config).unwrap();
    // The column mean (0 after standardisation) has a masked-entry error of 1.
    assert!(
        encoder.masked_mse < 0.85,
        "masked MSE {}",
        encoder.masked_mse
    );
    assert_eq!(encoder.weight.size(), vec![12, 32]);
    assert!(pretrain_encoder(&x.narrow(1, 0, 5), &factor, 32, &config).is_err());
}
