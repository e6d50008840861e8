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

#[test]
fn the_selector_starts_from_the_pretrained_first_layer() {
    use stog::data::{Split, duplicate_groups};
    use stog::gates::GateKind;
    use stog::selector::Selector;
    tch::set_num_threads(1);
    let p = duplicate_groups(200, 3, 4, 0);
    let d = p.table.n_features() as i64;
    let split = Split::of(&p.table, [0.6, 0.2, 0.2], 0).unwrap();
    let unlabeled = p.table.x.as_f64()[..50 * d as usize].to_vec();
    let mut params = Selector::params()
        .gate(GateKind::Correlated)
        .hidden(vec![16, 8])
        .lambda(0.01)
        .epochs(3);
    params.pretrain = Some(PretrainConfig {
        epochs: 3,
        ..Default::default()
    });
    let start = params
        .initialise(&p.table, &split, &unlabeled, Device::Cpu)
        .unwrap();
    let encoder = start.encoder.as_ref().expect("pretraining made an encoder");
    let layer = start.model.first_layer();
    assert_eq!(layer.weight.size(), vec![1, d, 16]);
    assert!(layer.weight.get(0).equal(&encoder.weight));
    assert!(layer.bias.get(0).equal(&encoder.bias));
    // The variable the optimiser trains holds the encoder's weights, not a copy beside it.
    let vars = start.vs.variables();
    assert!(vars["net.linear0.weight"].get(0).equal(&encoder.weight));
    assert!(vars["net.linear0.bias"].get(0).equal(&encoder.bias));
    // Without pretraining the first layer is the usual random one.
    let mut plain = params.clone();
    plain.pretrain = None;
    let plain = plain
        .initialise(&p.table, &split, &unlabeled, Device::Cpu)
        .unwrap();
    assert!(plain.encoder.is_none());
    assert!(
        !plain
            .model
            .first_layer()
            .weight
            .get(0)
            .equal(&encoder.weight)
    );
    // A fit trains from that start.
    let fitted = params
        .fit_semi_supervised(&p.table, &split, &unlabeled, Device::Cpu)
        .unwrap();
    assert!(fitted.metrics().is_some());
}

#[test]
fn a_first_layer_of_the_wrong_shape_is_refused() {
    use stog::gates::GateKind;
    use stog::model::{GatedMlpConfig, gated_mlp};
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let model = gated_mlp(
        &vs.root(),
        &GatedMlpConfig::paper_network(5, 2, GateKind::Stg),
        &[0, 1],
        None,
    )
    .unwrap();
    let w = Tensor::ones([5, 64], (Kind::Float, Device::Cpu));
    let b = Tensor::zeros([64], (Kind::Float, Device::Cpu));
    model.load_first_layer(&w, &b).unwrap();
    // Every member gets the weights.
    assert!(model.first_layer().weight.get(1).equal(&w));
    let err = model.load_first_layer(&w.narrow(1, 0, 32), &b).unwrap_err();
    assert!(matches!(err, stog::Error::Shape { .. }), "{err}");
    let err = model.load_first_layer(&w, &b.narrow(0, 0, 3)).unwrap_err();
    assert!(matches!(err, stog::Error::Shape { .. }), "{err}");
}
