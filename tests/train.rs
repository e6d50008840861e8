//! The batched trainer: members never interact, best state is restored, runs are deterministic,
//! usage counts what the inference network uses, failures are named.

mod common;

use common::serial;
use stog::data::{Split, Table, Task};
use stog::gates::{GateKind, assign};
use stog::model::{GatedMlpConfig, gated_mlp};
use stog::train::{
    EpochReport, EpochStep, MemberTags, Prepared, Selection, Stopping, TrainConfig, evaluate, fit,
    run_epochs, task_loss,
};
use tch::{Device, Kind, Tensor, nn};

/// A classification table whose label is the sign of x0 + x1, with `d` features.
fn toy_table(n: usize, d: usize, seed: u64) -> Table {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let row: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        y.push(f64::from(row[0] + row[1] > 0.0));
        x.extend(row);
    }
    stog::data::Table::from_arrays(
        stog::ndarray::ArrayView2::from_shape((y.len(), d), &x).unwrap(),
        stog::ndarray::ArrayView1::from(&y),
        Task::Classification,
    )
    .unwrap()
}

fn toy_data() -> Prepared {
    let t = toy_table(120, 6, 1);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 0).unwrap();
    Prepared::new(&t, &split, Device::Cpu).unwrap()
}

fn small_config(kind: GateKind) -> GatedMlpConfig {
    GatedMlpConfig {
        hidden: vec![8, 4],
        dropout: vec![],
        ..GatedMlpConfig::paper_network(6, 2, kind)
    }
}

fn train(
    config: &GatedMlpConfig,
    seeds: &[u64],
    lambdas: &[f64],
    tc: &TrainConfig,
    data: &Prepared,
) -> (Vec<f32>, Vec<stog::train::FitOutcome>) {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut model = gated_mlp(&vs.root(), config, seeds, None).unwrap();
    let tags = MemberTags {
        gate: "ste".into(),
        seeds: seeds.to_vec(),
    };
    let outcomes = fit(&mut model, &vs, data, lambdas, tc, &tags, None).unwrap();
    let out = tch::no_grad(|| model.forward_t(&data.val.x, false));
    (Vec::<f32>::try_from(out.flatten(0, -1)).unwrap(), outcomes)
}

#[test]
fn a_member_trains_exactly_like_a_single_fit() {
    let _serial = serial();
    let data = toy_data();
    // Noise off (thresholded STE) and no dropout: the only randomness is the seeds.
    let config = GatedMlpConfig {
        noise: Some(stog::gates::Noise::Off),
        ..small_config(GateKind::Ste)
    };
    // Members stop at different epochs, so the later ones also train as a subset of the chunk.
    let tc = TrainConfig {
        epochs: 150,
        patience: 10,
        min_delta: 0.0,
        lr: 0.01,
        warmup_epochs: 5,
        gate_lr: Some(0.1),
        ..Default::default()
    };
    let seeds = [11, 12, 13];
    let lambdas = [0.0, 0.05, 0.3];
    let (joint, joint_outcomes) = train(&config, &seeds, &lambdas, &tc, &data);
    let per_member = joint.len() / 3;
    for m in 0..3 {
        let (alone, alone_outcome) = train(&config, &seeds[m..=m], &lambdas[m..=m], &tc, &data);
        assert_eq!(
            alone_outcome[0].epochs, joint_outcomes[m].epochs,
            "member {m}"
        );
        assert_eq!(
            alone_outcome[0].best_epoch, joint_outcomes[m].best_epoch,
            "member {m}"
        );
        let diff = alone
            .iter()
            .zip(&joint[m * per_member..(m + 1) * per_member])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-4, "member {m}: outputs differ by {diff}");
    }
    // One member stopped early: the others went on as a subset of the chunk.
    assert!(joint_outcomes.iter().any(|o| o.epochs < tc.epochs));
    assert!(joint_outcomes.iter().any(|o| o.epochs == tc.epochs));
    // The members really differ (different seeds and lambdas).
    assert_ne!(joint[..per_member], joint[per_member..2 * per_member]);
}

#[test]
fn members_on_different_splits_train_like_their_own_chunks() {
    let _serial = serial();
    let t = toy_table(120, 6, 1);
    let split = |seed| Split::of(&t, [0.6, 0.2, 0.2], seed).unwrap();
    let (a, b) = (
        Prepared::new(&t, &split(0), Device::Cpu).unwrap(),
        Prepared::new(&t, &split(1), Device::Cpu).unwrap(),
    );
    // Noise off and no dropout: the only randomness is the seeds.
    let config = GatedMlpConfig {
        noise: Some(stog::gates::Noise::Off),
        ..small_config(GateKind::Ste)
    };
    let tc = TrainConfig {
        epochs: 80,
        patience: 10,
        lr: 0.01,
        warmup_epochs: 5,
        gate_lr: Some(0.1),
        ..Default::default()
    };
    let lambdas = [0.0, 0.05];
    let both = Prepared::stack(&[a, b], 2).unwrap();
    assert_eq!(both.train.x.size(), vec![4, 72, 6]);
    assert!(both.train.per_member_targets());
    let (joint, joint_outcomes) = train(
        &config,
        &[11, 11, 12, 12],
        &[0.0, 0.05, 0.0, 0.05],
        &tc,
        &both,
    );
    let per_member = joint.len() / 4;
    for (k, seed) in [(0usize, 11u64), (1, 12)] {
        let own = Prepared::new(&t, &split(k as u64), Device::Cpu).unwrap();
        let (alone, outcomes) = train(&config, &[seed, seed], &lambdas, &tc, &own);
        for m in 0..2 {
            assert_eq!(
                outcomes[m],
                joint_outcomes[2 * k + m],
                "split {k}, member {m}"
            );
        }
        assert_eq!(
            alone[..],
            joint[2 * k * per_member..(2 * k + 2) * per_member]
        );
    }
}

#[test]
fn the_best_state_is_restored_not_the_last() {
    let _serial = serial();
    let data = toy_data();
    let config = small_config(GateKind::Stg);
    let tc = TrainConfig {
        epochs: 150,
        patience: 15,
        warmup_epochs: 0,
        lr: 0.05,
        ..Default::default()
    };
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut model = gated_mlp(&vs.root(), &config, &[1, 2], None).unwrap();
    let tags = MemberTags {
        gate: "stg".into(),
        seeds: vec![1, 2],
    };
    let lambdas = [0.01, 0.2];
    let outcomes = fit(&mut model, &vs, &data, &lambdas, &tc, &tags, None).unwrap();
    let objective = tch::no_grad(|| {
        let out = model.forward_t(&data.val.x, false);
        task_loss(data.task, &out, &data.val.y)
            + Tensor::from_slice(&[0.01f32, 0.2]) * model.inference_penalty(&tc.penalty_spec())
    });
    let objective = Vec::<f64>::try_from(objective.to_kind(Kind::Double)).unwrap();
    for (m, o) in outcomes.iter().enumerate() {
        assert!(
            o.epochs > o.best_epoch,
            "member {m} must have trained past its best epoch: {o:?}"
        );
        assert!(
            (objective[m] - o.best_objective).abs() < 1e-5,
            "member {m}: restored {} vs best {}",
            objective[m],
            o.best_objective
        );
    }
}

#[test]
fn same_seed_same_numbers() {
    let _serial = serial();
    let data = toy_data();
    let config = GatedMlpConfig {
        dropout: vec![0.3, 0.2],
        ..small_config(GateKind::Gumbel)
    };
    let tc = TrainConfig {
        epochs: 40,
        batch_size: Some(16),
        ..Default::default()
    };
    let a = train(&config, &[5, 6], &[0.01, 0.05], &tc, &data);
    let b = train(&config, &[5, 6], &[0.01, 0.05], &tc, &data);
    assert_eq!(a, b);
}

#[test]
fn usage_counts_kept_units_and_pruned_multiply_adds() {
    let _serial = serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let config = small_config(GateKind::Stg).with_hidden_gates(GateKind::Ste);
    let model = gated_mlp(&vs.root(), &config, &[1, 2], None).unwrap();
    // Member 0: close inputs 0..3 and hidden1 unit 0; member 1: everything open.
    assign(
        &model.gates[0].gate.parameters()[0],
        &Tensor::from_slice(&[
            -1.0f32, -1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ])
        .view([2, 6]),
    );
    let mut hidden = vec![3.0f32; 16];
    hidden[0] = -3.0;
    assign(
        &model.gates[1].gate.parameters()[0],
        &Tensor::from_slice(&hidden).view([2, 8]),
    );
    let usage = model.usage().unwrap();
    assert_eq!(usage[0].units_kept, vec![3, 7, 4]);
    assert_eq!(usage[0].units_total, vec![6, 8, 4]);
    assert_eq!(usage[0].selected_inputs, vec![3, 4, 5]);
    // 3*7 + 7*4 + 4*2 against 6*8 + 8*4 + 4*2
    assert_eq!((usage[0].macs, usage[0].macs_full), (57, 88));
    assert_eq!(usage[1].macs, 88);
    // Dropped inputs are exactly unused: changing them does not change the output.
    let x = Tensor::randn([5, 6], (Kind::Float, Device::Cpu));
    let x2 = x.copy();
    let _ = x2.narrow(1, 0, 3).fill_(100.0);
    let (a, b) = tch::no_grad(|| {
        (
            model.forward_t(&x, false).get(0),
            model.forward_t(&x2, false).get(0),
        )
    });
    assert_eq!(
        Vec::<f32>::try_from(a.flatten(0, -1)).unwrap(),
        Vec::<f32>::try_from(b.flatten(0, -1)).unwrap()
    );
}

#[test]
fn a_non_finite_loss_names_gate_lambda_seed_and_epoch() {
    let _serial = serial();
    let mut data = toy_data();
    data.train.x = data.train.x.copy();
    let _ = data.train.x.get(0).get(0).fill_(f64::NAN);
    let (_, outcomes) = train(
        &small_config(GateKind::Stg),
        &[7],
        &[0.02],
        &TrainConfig {
            epochs: 5,
            ..Default::default()
        },
        &data,
    );
    let failure = outcomes[0].failure.clone().expect("a failure");
    assert_eq!(
        failure.to_string(),
        "non-finite loss (NaN) for gate ste, lambda 0.02, seed 7 at epoch 1"
    );
    // With `?` it is the typed error, not an invalid configuration.
    assert!(matches!(
        stog::Error::from(failure),
        stog::Error::NonFinite {
            seed: 7,
            epoch: 1,
            ..
        }
    ));
}

#[test]
fn regression_fits_a_smooth_target() {
    let _serial = serial();
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let (n, d) = (300, 5);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let row: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        y.push(3.0 * row[0] + row[1] * row[1] * 2.0 + 10.0);
        x.extend(row);
    }
    let t = stog::data::Table::from_arrays(
        stog::ndarray::ArrayView2::from_shape((y.len(), d), &x).unwrap(),
        stog::ndarray::ArrayView1::from(&y),
        Task::Regression,
    )
    .unwrap();
    let split = Split::stratified(n, None, [0.6, 0.2, 0.2], 0).unwrap();
    let data = Prepared::new(&t, &split, Device::Cpu).unwrap();
    let config = GatedMlpConfig {
        hidden: vec![32],
        batch_norm: false,
        dropout: vec![],
        ..GatedMlpConfig::paper_network(5, 1, GateKind::Stg)
    };
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut model = gated_mlp(&vs.root(), &config, &[0], None).unwrap();
    let tc = TrainConfig {
        epochs: 400,
        lr: 0.003,
        batch_size: Some(32),
        ..Default::default()
    };
    fit(
        &mut model,
        &vs,
        &data,
        &[0.005],
        &tc,
        &MemberTags {
            gate: "stg".into(),
            seeds: vec![0],
        },
        None,
    )
    .unwrap();
    let m = evaluate(&model, &data, &data.test).unwrap();
    assert!(m[0].score() > 0.9, "{m:?}");
    assert_eq!(model.usage().unwrap()[0].selected_inputs, vec![0, 1]);
}

#[test]
fn target_rate_training_lands_near_the_rate_with_decisive_gates() {
    let _serial = serial();
    let table = Table::from_csv("data/breast_cancer.csv", "target", Task::Classification).unwrap();
    let split = Split::from_file("data/splits_breast_cancer.csv", 0, table.n_rows()).unwrap();
    let data = Prepared::new(&table, &split, Device::Cpu).unwrap();
    let config = GatedMlpConfig {
        input_gate: None,
        ..GatedMlpConfig::paper_network(30, 2, GateKind::Gumbel)
    }
    .with_hidden_gates(GateKind::Gumbel);
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut model = gated_mlp(&vs.root(), &config, &[0, 1], None).unwrap();
    let tc = TrainConfig {
        target_rate: Some(0.3),
        epochs: 200,
        ..Default::default()
    };
    fit(
        &mut model,
        &vs,
        &data,
        &[2.0, 2.0],
        &tc,
        &MemberTags {
            gate: "gumbel".into(),
            seeds: vec![0, 1],
        },
        None,
    )
    .unwrap();
    let test = evaluate(&model, &data, &data.test).unwrap();
    for (m, u) in model.usage().unwrap().iter().enumerate() {
        for (kept, total) in u.units_kept.iter().zip(&u.units_total) {
            let rate = *kept as f64 / *total as f64;
            assert!(
                (rate - 0.3).abs() <= 0.1,
                "member {m}: {kept} of {total} open"
            );
        }
        assert!(test[m].score() > 0.93, "member {m}: {:?}", test[m]);
    }
    // Decisive gates: P(open) far from the inference gate would mean training and inference
    // disagree; gates hovering at P(open) = t would give a mean gap of 0.3 here.
    for g in &model.gates {
        let p = Vec::<f32>::try_from(g.gate.open_probability().flatten(0, -1)).unwrap();
        let gap = p
            .iter()
            .map(|v| if *v > 0.5 { 1.0 - v } else { *v })
            .sum::<f32>()
            / p.len() as f32;
        assert!(
            gap < 0.15,
            "{}: mean |P(open) - inference gate| = {gap}",
            g.name
        );
    }
}

#[test]
fn a_failed_read_back_is_a_typed_error_not_an_empty_vector() {
    use stog::train::read_back;
    let t = Tensor::from_slice(&[1.0f64, 0.0, 2.0]);
    assert_eq!(read_back::<f64>(&t, "gate").unwrap(), vec![1.0, 0.0, 2.0]);
    assert_eq!(read_back::<f32>(&t, "gate").unwrap(), vec![1.0, 0.0, 2.0]);
    // A tensor that is not 1-D: an error naming what was read, not an empty vector.
    let bad = [
        read_back::<f64>(&t.view([3, 1]), "gate"),
        read_back::<f64>(&t.get(0), "gate"),
    ];
    for bad in bad {
        match bad {
            Err(stog::Error::ReadBack { what, .. }) => assert_eq!(what, "gate"),
            other => panic!("not a read-back error: {other:?}"),
        }
    }
    // Every reader built on it keeps the values.
    let gate = Tensor::from_slice(&[0.5f32, 0.0, 1.0, 0.0]);
    assert_eq!(stog::gates::selected_units(&gate).unwrap(), vec![0, 2]);
}

#[test]
fn the_standard_error_of_a_score_follows_the_task() {
    use stog::train::{accuracy_se, metrics, score_se};
    // Regression: squared errors 0, 1, 4, 9 (sd sqrt(49/3)) over sqrt(4), in R2 units: divided
    // by the targets' variance 1.25, as R2 divides the MSE.
    let y = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]).view([4, 1]);
    let out = (&y + Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]).view([4, 1])).unsqueeze(0);
    let se = score_se(Task::Regression, &out, &y).unwrap();
    let want = (49.0f64 / 3.0).sqrt() / 2.0 / 1.25;
    assert!((se[0] - want).abs() < 1e-5, "{se:?} vs {want}");
    let r2 = metrics(Task::Regression, &out, &y, 1.0).unwrap()[0].score();
    assert!((r2 - (1.0 - 3.5 / 1.25)).abs() < 1e-5, "{r2}");
    // Classification: the smoothed binomial one of the accuracy (3 of 4 right).
    let logits = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]).view([1, 4, 2]);
    let labels = Tensor::from_slice(&[0i64, 1, 0, 1]);
    let se = score_se(Task::Classification, &logits, &labels).unwrap();
    assert_eq!(se, vec![accuracy_se(0.75, 4)]);
}

#[test]
fn threads_are_one_up_to_the_largest_measured_size_and_every_core_above() {
    use stog::train::{ONE_THREAD_UP_TO, parse_threads, threads_for};
    // 48 x 2308 (29 training rows) and 455 x 30: one thread.
    assert_eq!(threads_for(29, 2308, 16), 1);
    assert_eq!(threads_for(273, 30, 16), 1);
    // 12,000 x 500, the largest size measured, still one; above it every core.
    assert_eq!(threads_for(12_000, 500, 16), 1);
    assert_eq!(threads_for(ONE_THREAD_UP_TO + 1, 1, 16), 16);
    assert_eq!(threads_for(ONE_THREAD_UP_TO + 1, 1, 0), 1);
    assert_eq!(parse_threads("auto").unwrap(), None);
    assert_eq!(parse_threads("0").unwrap(), None);
    assert_eq!(parse_threads("3").unwrap(), Some(3));
    assert!(matches!(
        parse_threads("two"),
        Err(stog::Error::InvalidConfig { .. })
    ));
}

#[test]
fn inference_in_row_blocks_equals_one_pass() {
    let _guard = serial();
    // More rows than one block of `infer`, so that it cuts them.
    let n = stog::model::INFER_BLOCK_ROWS + 1000;
    let x = Tensor::randn([n, 6], (Kind::Float, Device::Cpu));
    let vs = nn::VarStore::new(Device::Cpu);
    let model = gated_mlp(&vs.root(), &small_config(GateKind::Stg), &[0, 1], None).unwrap();
    let blocks = model.infer(&x);
    let whole = tch::no_grad(|| model.forward_t(&x, false));
    assert_eq!(blocks.size(), [2, n, 2]);
    let gap = f64::try_from((blocks - whole).abs().max()).unwrap();
    assert!(gap < 1e-5, "largest difference {gap}");
}

#[test]
fn an_epoch_of_fewer_rows_takes_fewer_steps() {
    let _guard = serial();
    let data = toy_data(); // 72 training rows
    let config = small_config(GateKind::Ste);
    let run = |epoch_rows: Option<usize>| {
        let tc = TrainConfig {
            epochs: 1,
            batch_size: Some(8),
            epoch_rows,
            ..TrainConfig::default()
        };
        train(&config, &[0], &[0.0], &tc, &data).0
    };
    let all = run(None);
    // More rows than the data: every row, the same as all of them.
    assert_eq!(run(Some(1000)), all);
    // 8 rows: one step from the same start, so the weights differ from nine steps.
    let one_step = run(Some(8));
    assert_ne!(one_step, all);
    let zero = TrainConfig {
        epoch_rows: Some(0),
        ..TrainConfig::default()
    };
    assert!(zero.validate().is_err());
}

#[test]
fn the_early_stopping_objective_reads_every_kth_validation_row_of_tall_data() {
    let _guard = serial();
    // 20 % of 360,000 rows: 72,000 validation rows, above OBJECTIVE_ROWS, so every 2nd is read.
    let t = toy_table(360_000, 6, 2);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 0).unwrap();
    let data = Prepared::new(&t, &split, Device::Cpu).unwrap();
    let n = data.val.len();
    assert!(n > stog::train::OBJECTIVE_ROWS && n <= 2 * stog::train::OBJECTIVE_ROWS);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = gated_mlp(&vs.root(), &small_config(GateKind::Stg), &[0], None).unwrap();
    let trainer = stog::train::Trainer::new(&model, &vs, &TrainConfig::default(), 10).unwrap();
    let objective = f64::try_from(trainer.objective(&model, &data).unwrap().get(0)).unwrap();
    let rows = Tensor::arange_start_step(0, n, 2, (Kind::Int64, Device::Cpu));
    let loss = |rows: &Tensor| {
        let out = tch::no_grad(|| model.forward_t(&data.val.x.index_select(0, rows), false));
        f64::try_from(
            task_loss(
                Task::Classification,
                &out,
                &data.val.y.index_select(0, rows),
            )
            .get(0),
        )
        .unwrap()
    };
    // Lambda is 0 until set: the objective is the task loss of those rows.
    assert!(
        (objective - loss(&rows)).abs() < 1e-6,
        "{objective} vs {}",
        loss(&rows)
    );
    let odd = Tensor::arange_start_step(1, n, 2, (Kind::Int64, Device::Cpu));
    assert!((objective - loss(&odd)).abs() > 1e-7);
}

/// An epoch step whose members' selections follow a scripted random walk: each epoch a member's
/// count of kept units changes with probability 1/4 (no libtorch numbers involved).
struct Walk {
    counts: Vec<i64>,
    /// Counts after each epoch, the start first.
    history: Vec<Vec<i64>>,
    state: u64,
    /// (epoch, member) whose loss is NaN.
    nan_at: Option<(usize, usize)>,
}

impl Walk {
    fn new(members: usize, seed: u64) -> Walk {
        let counts = vec![10; members];
        Walk {
            history: vec![counts.clone()],
            counts,
            state: seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
            nan_at: None,
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.state >> 33
    }
}

impl EpochStep for Walk {
    fn epoch(&mut self, epoch: usize, _active: &[bool]) -> stog::Result<EpochReport> {
        for m in 0..self.counts.len() {
            if self.next().is_multiple_of(4) {
                self.counts[m] = (self.counts[m] + 1 + (self.next() % 3) as i64) % 20;
            }
        }
        self.history.push(self.counts.clone());
        let mut loss = vec![0.5; self.counts.len()];
        if let Some((_, m)) = self.nan_at.filter(|(e, _)| *e == epoch + 1) {
            loss[m] = f64::NAN;
        }
        Ok(EpochReport {
            loss,
            objective: vec![],
        })
    }

    fn selection(&self) -> stog::Result<Vec<Selection>> {
        Ok(self
            .counts
            .iter()
            .map(|c| Selection {
                units_kept: vec![*c],
                inputs: (0..*c).collect(),
            })
            .collect())
    }
}

/// The path's stopping rule on any trajectory: the members stop together at the first epoch,
/// not before `min`, after which every member's selection has stayed the same for `stable`
/// epochs; at `max` otherwise.
#[test]
fn the_stability_rule_stops_at_the_first_epoch_every_selection_has_been_stable() {
    for seed in 0..300u64 {
        let members = 1 + (seed % 3) as usize;
        let (min, stable, max) = (
            (seed / 3 % 7) as usize,
            (seed / 7 % 5) as usize,
            1 + (seed % 31) as usize,
        );
        let mut walk = Walk::new(members, seed);
        let runs = run_epochs(
            &mut walk,
            members,
            max,
            &Stopping::Stable { min, stable },
            None,
        )
        .unwrap();
        let h = &walk.history;
        // Epochs each member's count has stayed the same, after each epoch.
        let mut same = vec![0; members];
        let mut expected = max;
        for k in 1..=max {
            for m in 0..members {
                same[m] = if h[k][m] == h[k - 1][m] {
                    same[m] + 1
                } else {
                    0
                };
            }
            if k >= min && same.iter().all(|s| *s >= stable) {
                expected = k;
                break;
            }
        }
        assert_eq!(h.len() - 1, expected, "seed {seed}: epochs run");
        for run in &runs {
            assert_eq!(run.epochs, expected, "seed {seed}");
            assert_eq!(run.best_epoch, expected, "the last state is kept");
            assert!(run.epochs >= min.min(max) && run.epochs <= max);
            assert_eq!(run.non_finite, None);
        }
    }
}

/// Under the stability rule the members train as one: a non-finite loss ends them all, and only
/// the failed member carries it. A run without a selection to watch is a typed error.
#[test]
fn a_non_finite_loss_ends_a_stability_run_for_every_member() {
    let mut walk = Walk::new(3, 7);
    walk.nan_at = Some((4, 1));
    let stopping = Stopping::Stable { min: 10, stable: 3 };
    let runs = run_epochs(&mut walk, 3, 50, &stopping, None).unwrap();
    assert!(runs.iter().all(|r| r.epochs == 4), "{runs:?}");
    assert!(matches!(runs[1].non_finite, Some((4, v)) if v.is_nan()));
    assert!(runs[0].non_finite.is_none() && runs[2].non_finite.is_none());

    struct Blind;
    impl EpochStep for Blind {
        fn epoch(&mut self, _: usize, _: &[bool]) -> stog::Result<EpochReport> {
            Ok(EpochReport::default())
        }
    }
    assert!(run_epochs(&mut Blind, 1, 5, &stopping, None).is_err());
    let patience = Stopping::Patience {
        patience: 2,
        warmup: 0,
        min_delta: 0.0,
    };
    assert!(
        run_epochs(&mut Blind, 1, 5, &patience, None).is_err(),
        "no objective to stop on"
    );
    let runs = run_epochs(&mut Blind, 2, 5, &Stopping::Budget, None).unwrap();
    assert!(runs.iter().all(|r| r.epochs == 5 && r.best_epoch == 5));
}
