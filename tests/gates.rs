//! Properties every gate kind must have, and the copula's correlation structure.

mod common;

use common::serial;
use stog::gates::*;
use tch::{Device, Kind, Tensor, nn};

fn every_gate(vs: &nn::VarStore, units: i64, members: Option<i64>) -> Vec<Box<dyn Gate>> {
    GateKind::ALL
        .iter()
        .map(|k| build_gate(&(vs.root() / k.name()), *k, units, members, None, None))
        .collect()
}

fn values_of(t: &Tensor) -> Vec<f32> {
    values(t)
}

fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).flatten(0, -1)).unwrap()
}

#[test]
fn every_gate_starts_open_and_keeps_shapes() {
    let _serial = serial();
    let vs = nn::VarStore::new(Device::Cpu);
    for g in every_gate(&vs, 4, None) {
        assert_eq!(g.selected().unwrap(), vec![0, 1, 2, 3], "{:?}", g.kind());
        let p = values(&g.open_probability());
        assert!(
            p.iter().all(|v| *v > 0.8),
            "{:?} starts with P(open) {p:?}",
            g.kind()
        );
        let x = Tensor::ones([5, 4], (Kind::Float, Device::Cpu));
        assert_eq!(g.gate_input(&x, true).size(), vec![5, 4]);
        assert_eq!(g.gate_input(&x, false).size(), vec![5, 4]);
    }
}

#[test]
fn images_are_gated_on_the_channel_axis_even_when_c_equals_w() {
    let _serial = serial();
    for (c, w) in [(3, 5), (4, 4)] {
        let vs = nn::VarStore::new(Device::Cpu);
        for g in every_gate(&vs, c, None) {
            // Close channel 1 through the gate's own parameter; gate an all-ones image.
            let mut values = vec![0.9f32; c as usize];
            values[1] = if g.kind() == GateKind::L1 { 0.01 } else { -4.0 };
            assign(&g.parameters()[0], &Tensor::from_slice(&values));
            let x = Tensor::ones([2, c, 6, w], (Kind::Float, Device::Cpu));
            let gated = g.gate_input(&x, false);
            let per_channel = values_of(&gated.abs().sum_dim_intlist(
                [0, 2, 3].as_slice(),
                false,
                Kind::Float,
            ));
            assert_eq!(per_channel[1], 0.0, "{:?}", g.kind());
            assert!(
                per_channel
                    .iter()
                    .enumerate()
                    .all(|(i, v)| i == 1 || *v > 0.0),
                "{:?}",
                g.kind()
            );
            let per_column = values_of(&gated.abs().sum_dim_intlist(
                [0, 1, 2].as_slice(),
                false,
                Kind::Float,
            ));
            assert!(
                per_column.iter().all(|v| *v > 0.0),
                "{:?} zeroed a column",
                g.kind()
            );
        }
    }
}

#[test]
fn the_unit_axis_follows_the_gate_not_the_sizes() {
    let _serial = serial();
    // A gate that closes unit 0 only: on [N, C, H, W] with C == W, only channel 0 is zeroed.
    let vs = nn::VarStore::new(Device::Cpu);
    let g = stg(vs.root(), 3, StgConfig::default());
    assign(&g.mu, &Tensor::from_slice(&[-1.0f32, 0.5, 0.5]));
    let x = Tensor::ones([2, 3, 3, 3], (Kind::Float, Device::Cpu));
    let y = g.gate_input(&x, false);
    assert_eq!(values(&y.select(1, 0).abs().sum(Kind::Float)), vec![0.0]);
    assert_eq!(values(&y.select(3, 0).abs().sum(Kind::Float)), vec![12.0]);
    let flat = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
    assert_eq!(
        values(&g.gate_input(&flat, false)),
        vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    );
    assert!(check_input(&g, &Tensor::ones([2, 4], (Kind::Float, Device::Cpu))).is_err());
    assert!(check_input(&g, &Tensor::ones([2, 3, 5], (Kind::Float, Device::Cpu))).is_ok());
}

#[test]
fn gradients_reach_every_gate_parameter() {
    let _serial = serial();
    let vs = nn::VarStore::new(Device::Cpu);
    for g in every_gate(&vs, 3, None) {
        let x = Tensor::randn([8, 3], (Kind::Float, Device::Cpu));
        let loss =
            g.gate_input(&x, true).square().sum(Kind::Float) + g.penalty(Reduction::Sum, None);
        loss.backward();
        for p in g.parameters() {
            let grad = values(&p.grad());
            assert!(
                grad.iter().any(|v| *v != 0.0),
                "{:?}: no gradient",
                g.kind()
            );
        }
    }
}

#[test]
fn same_seed_gives_identical_training_gates() {
    let _serial = serial();
    let draw = || {
        tch::manual_seed(7);
        let vs = nn::VarStore::new(Device::Cpu);
        every_gate(&vs, 5, None)
            .iter()
            .map(|g| values(&g.training_gate(3)))
            .collect::<Vec<_>>()
    };
    let (a, b) = (draw(), draw());
    assert_eq!(a, b);
    tch::manual_seed(8);
    let vs = nn::VarStore::new(Device::Cpu);
    let c = values(&every_gate(&vs, 5, None)[0].training_gate(3));
    assert_ne!(a[0], c);
}

#[test]
fn a_closed_unit_is_exactly_zero_at_inference() {
    let _serial = serial();
    let vs = nn::VarStore::new(Device::Cpu);
    for g in every_gate(&vs, 3, None) {
        for p in g.parameters() {
            assign(&p, &Tensor::from_slice(&[-4.0f32, 0.9, 0.9]));
        }
        if g.kind() == GateKind::L1 {
            assign(
                &g.parameters()[0],
                &Tensor::from_slice(&[0.01f32, 0.9, 0.9]),
            );
        }
        let inf = values(&g.inference_gate());
        assert_eq!(inf[0], 0.0, "{:?}", g.kind());
        assert!(inf[1] > 0.0 && inf[2] > 0.0, "{:?}", g.kind());
        assert_eq!(g.selected().unwrap(), vec![1, 2]);
        let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
        assert_eq!(values(&g.gate_input(&x, false))[0], 0.0);
    }
}

#[test]
fn penalty_reductions_and_cost_weights() {
    let _serial = serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let g = ste(vs.root(), 2, SteConfig::default());
    assign(&g.logits, &Tensor::from_slice(&[0.0f32, 0.0]));
    assert_eq!(values(&g.penalty(Reduction::Sum, None)), vec![1.0]);
    assert_eq!(values(&g.penalty(Reduction::Mean, None)), vec![0.5]);
    let costs = Tensor::from_slice(&[2.0f32, 4.0]);
    assert_eq!(values(&g.penalty(Reduction::Sum, Some(&costs))), vec![3.0]);
}

#[test]
fn member_axis_gates_each_member_independently() {
    let _serial = serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let g = stg(vs.root(), 2, StgConfig::default().with_members(3));
    assign(
        &g.mu,
        &Tensor::from_slice(&[-1.0f32, 0.5, 0.5, -1.0, 0.5, 0.5]).view([3, 2]),
    );
    let x = Tensor::ones([3, 4, 2], (Kind::Float, Device::Cpu));
    let y = g.gate_input(&x, false);
    assert_eq!(values(&y.select(1, 0)), vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    assert_eq!(g.penalty(Reduction::Sum, None).size(), vec![3]);
    assert_eq!(g.training_gate(4).size(), vec![3, 1, 2]);
}

fn sample_correlation(a: &Tensor, b: &Tensor) -> f64 {
    let s = Tensor::stack(&[a.to_kind(Kind::Double), b.to_kind(Kind::Double)], 0);
    s.corrcoef().double_value(&[0, 1])
}

#[test]
fn copula_noise_has_the_data_correlation() {
    let _serial = serial();
    tch::manual_seed(3);
    let r = Tensor::from_slice(&[1.0f32, 0.9, 0.0, 0.9, 1.0, 0.0, 0.0, 0.0, 1.0]).view([3, 3]);
    let factor = CorrelationFactor::from_matrix(&r).unwrap();
    let eps = Tensor::randn([100_000, 3], (Kind::Float, Device::Cpu));
    let z = factor.correlate(&eps, Noise::PerExample);
    let emp = z.transpose(0, 1).corrcoef();
    assert!(emp.f_sub(&r).unwrap().abs().max().double_value(&[]) < 0.03);

    let vs = nn::VarStore::new(Device::Cpu);
    let g = correlated(vs.root(), factor, CorrelatedConfig::default());
    let u = g.copula_uniform(100_000);
    // u is uniform: mean 1/2, variance 1/12, deciles flat.
    let u0 = u.select(1, 0);
    assert!((u0.mean(Kind::Float).double_value(&[]) - 0.5).abs() < 0.01);
    assert!((u0.var(true).double_value(&[]) - 1.0 / 12.0).abs() < 0.003);
    let below = u0
        .lt(0.1)
        .to_kind(Kind::Float)
        .mean(Kind::Float)
        .double_value(&[]);
    assert!((below - 0.1).abs() < 0.01);
    // Hard gates at pi = 0.5 correlate with (2 / pi) arcsin(rho).
    assign(&g.logits, &Tensor::zeros([3], (Kind::Float, Device::Cpu)));
    let hard = g.gate_from_uniform(&u).gt(0.5).to_kind(Kind::Float);
    let want = 2.0 / std::f64::consts::PI * 0.9f64.asin();
    let c01 = sample_correlation(&hard.select(1, 0), &hard.select(1, 1));
    assert!((c01 - want).abs() < 0.03, "{c01} vs {want}");
    let c02 = sample_correlation(&hard.select(1, 0), &hard.select(1, 2));
    assert!(c02.abs() < 0.03, "{c02}");
}

#[test]
fn correlation_from_data_copes_with_constant_and_duplicate_columns() {
    let _serial = serial();
    tch::manual_seed(4);
    let a = Tensor::randn([200, 1], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([200, 1], (Kind::Float, Device::Cpu));
    let constant = Tensor::ones([200, 1], (Kind::Float, Device::Cpu)) * 3.0;
    let x = Tensor::cat(&[&a, &a, &constant, &b], 1);
    let f = CorrelationFactor::from_data(&x, CorrelationConfig::default()).unwrap();
    let CorrelationFactor::Dense { jitter, .. } = &f else {
        panic!("expected dense")
    };
    assert!(*jitter > 0.0, "duplicated columns need jitter");
    let z = f.correlate(
        &Tensor::randn([50_000, 4], (Kind::Float, Device::Cpu)),
        Noise::PerExample,
    );
    let emp = z.transpose(0, 1).corrcoef();
    assert!(emp.double_value(&[0, 1]) > 0.97);
    assert!(emp.double_value(&[0, 2]).abs() < 0.03);

    let bad = Tensor::from_slice(&[1.0f32, f32::NAN, 2.0, 3.0]).view([2, 2]);
    assert!(matches!(
        CorrelationFactor::from_data(&bad, CorrelationConfig::default()),
        Err(stog::Error::NotPositiveDefinite(_))
    ));
}

#[test]
fn low_rank_factor_keeps_the_block_structure() {
    let _serial = serial();
    tch::manual_seed(5);
    // Two latent factors, each copied into 10 noisy columns.
    let latent = Tensor::randn([500, 2], (Kind::Float, Device::Cpu));
    let x = latent.repeat_interleave_self_int(10, 1, None)
        + Tensor::randn([500, 20], (Kind::Float, Device::Cpu)) * 0.3;
    let config = CorrelationConfig {
        max_dense: 10,
        rank: 4,
    };
    let f = CorrelationFactor::from_data(&x, config).unwrap();
    assert_eq!(f.summary().form, "low-rank");
    let z = f.correlate(
        &Tensor::randn([50_000, 20], (Kind::Float, Device::Cpu)),
        Noise::PerExample,
    );
    let emp = z.transpose(0, 1).corrcoef();
    let data = x.transpose(0, 1).corrcoef();
    let (e01, d01) = (emp.double_value(&[0, 1]), data.double_value(&[0, 1]));
    assert!((e01 - d01).abs() < 0.05, "{e01} vs {d01}");
    assert!((emp.double_value(&[0, 15]) - data.double_value(&[0, 15])).abs() < 0.05);
    assert!((z.select(1, 3).var(true).double_value(&[]) - 1.0).abs() < 0.05);
    // With noise off the whole draw is at its median: exactly 0.
    let off = f.correlate(
        &Tensor::zeros([3, 20], (Kind::Float, Device::Cpu)),
        Noise::Off,
    );
    assert_eq!(off.abs().max().double_value(&[]), 0.0);
}
