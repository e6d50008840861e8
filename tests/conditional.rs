//! Input-dependent gates: each example opens its own units, and the executed cost is counted.

use stog::data::{Split, Table, Task};
use stog::model::{ConditionalConfig, GatedMlpConfig, gated_mlp};
use stog::ndarray::{Array1, Array2};
use stog::train::{MemberTags, Prepared, TrainConfig, fit, metrics};
use tch::{Device, Kind, nn};

/// Two types of rows: x0 = +1 or -1 says which feature holds the label (x1 for type +1, x2 for
/// type -1); x3..x5 are noise. One feature per row is enough, but which one depends on the row.
fn two_types(n: usize) -> Table {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let kind = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let row: Vec<f64> = std::iter::once(kind)
            .chain((0..5).map(|_| rng.random_range(-1.0..1.0)))
            .collect();
        let signal = if kind > 0.0 { row[1] } else { row[2] };
        y.push(f64::from(signal > 0.0));
        x.extend(row);
    }
    let x = Array2::from_shape_vec((n, 6), x).unwrap();
    Table::from_arrays(x.view(), Array1::from(y).view(), Task::Classification).unwrap()
}

#[test]
fn a_conditional_input_gate_opens_the_feature_each_type_needs() {
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let table = two_types(600);
    let split = Split::of(&table, [0.6, 0.2, 0.2], 0).unwrap();
    let data = Prepared::new(&table, &split, Device::Cpu).unwrap();
    let config = GatedMlpConfig {
        hidden: vec![16],
        batch_norm: false,
        dropout: vec![],
        input_gate: None,
        conditional: Some(ConditionalConfig::at(vec![0])),
        ..GatedMlpConfig::paper_network(6, 2, stog::gates::GateKind::Gumbel)
    };
    let vs = nn::VarStore::new(Device::Cpu);
    let mut model = gated_mlp(&vs.root(), &config, &[1], None).unwrap();
    let train = TrainConfig {
        lr: 0.01,
        batch_size: Some(64),
        ..TrainConfig::default()
    };
    let tags = MemberTags {
        gate: "conditional".into(),
        seeds: vec![1],
    };
    fit(&mut model, &vs, &data, &[0.1], &train, &tags, None).unwrap();

    let pass = tch::no_grad(|| model.pass(&data.test.x, false));
    let accuracy = metrics(data.task, &pass.out, &data.test.y, 1.0).unwrap()[0].score();
    assert!(accuracy > 0.9, "test accuracy {accuracy}");
    // Open fraction of x1 and x2 among rows of each type ([1, N, 6] inference gates).
    let z = &pass.applied[0].1.squeeze_dim(0);
    let kind_positive = data.test.x.select(1, 0).gt(0.0);
    let open = |feature: i64, positive: bool| {
        let rows = if positive {
            kind_positive.shallow_clone()
        } else {
            kind_positive.logical_not()
        };
        z.select(1, feature)
            .masked_select(&rows)
            .mean(Kind::Float)
            .double_value(&[])
    };
    let (x1_pos, x1_neg, x2_pos, x2_neg) =
        (open(1, true), open(1, false), open(2, true), open(2, false));
    assert!(
        x1_pos - x1_neg > 0.5 && x2_neg - x2_pos > 0.5,
        "x1 open {x1_pos:.2} (type +) vs {x1_neg:.2} (type -); x2 open {x2_pos:.2} vs {x2_neg:.2}"
    );

    // The executed cost counts each row's own subset plus the gate network.
    let usage = model.usage_on(&data.test.x).unwrap();
    let inputs_per_row = z
        .sum_dim_intlist(-1, false, Kind::Float)
        .mean(Kind::Float)
        .double_value(&[]);
    let expected = inputs_per_row * 16.0 + 16.0 * 2.0 + (6.0 * 8.0 + 8.0 * 6.0);
    assert!(
        (usage[0].macs as f64 - expected).abs() <= 1.0,
        "macs {} vs {expected}",
        usage[0].macs
    );
    assert!(usage[0].macs < usage[0].macs_full + 96);
}
