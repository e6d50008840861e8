//! The adaptive lambda path and the choice of its point: properties that hold for any training
//! trajectory (CPU kernels differ across machines), and the cross-validated choice on small data.

mod common;

use common::serial;
use stog::data::{Split, Task, interaction};
use stog::gates::GateKind;
use stog::model::{GatedMlpConfig, gated_mlp};
use stog::selector::{Criterion, FoldMatch, Selector, Validation, cross_validated_candidates};
use stog::train::{
    Candidate, Choice, MemberTags, Metrics, PathConfig, PathMember, PathPoint, Prepared,
    RefitStart, Schedule, Snapshot, TrainConfig, choose, fit, lambda_path_with, refit_in_place,
    warm_path,
};
use tch::{Device, nn};

/// The interaction problem (`n` rows, `d` features, split and initialised with `seed`) and an
/// MLP with an STG input gate and 8 hidden units, one member per seed of `members`.
fn interaction_mlp(
    n: usize,
    d: usize,
    seed: u64,
    members: &[u64],
) -> (Prepared, nn::VarStore, stog::model::GatedMlp) {
    let p = interaction(n, d, seed);
    let split = Split::of(&p.table, [0.6, 0.2, 0.2], seed).unwrap();
    let data = Prepared::new(&p.table, &split, Device::Cpu).unwrap();
    tch::manual_seed(seed as i64);
    let vs = nn::VarStore::new(Device::Cpu);
    let config = GatedMlpConfig {
        hidden: vec![8],
        dropout: vec![],
        ..GatedMlpConfig::paper_network(d as i64, 2, GateKind::Stg)
    };
    let model = gated_mlp(&vs.root(), &config, members, None).unwrap();
    (data, vs, model)
}

/// Runs the path of a small MLP with an input gate on a wide interaction problem.
fn wide_path(seed: u64, schedule: &Schedule) -> (Vec<(f64, usize)>, PathConfig) {
    let (data, vs, mut model) = interaction_mlp(160, 80, seed, &[seed]);
    let train = TrainConfig {
        epochs: 40,
        batch_size: Some(32),
        ..TrainConfig::default()
    };
    let path = PathConfig {
        max_epochs: 40,
        refit: false,
        ..PathConfig::default()
    };
    let tags = MemberTags {
        gate: "stg".into(),
        seeds: vec![seed],
    };
    let points = lambda_path_with(&mut model, &vs, &data, &train, &path, &tags, schedule).unwrap();
    let counts = points
        .iter()
        .map(|p| (p.lambda, p.members[0].selected.len()))
        .collect();
    (counts, path)
}

#[test]
fn the_adaptive_path_visits_every_count_from_all_features_to_none() {
    let _serial = serial();
    for seed in 0..2 {
        let (counts, path) = wide_path(seed, &Schedule::Adaptive);
        // The first penalised lambda scales with the number of gated units.
        assert_eq!(counts[1].0, path.start_scale / 80.0, "{counts:?}");
        assert_eq!(
            counts.last().unwrap().1,
            0,
            "the path ends closed: {counts:?}"
        );
        for w in counts.windows(2) {
            let ((l0, n0), (l1, n1)) = (w[0], w[1]);
            assert!(l1 > l0, "lambdas grow: {counts:?}");
            let small_drop = n0 - n1 <= 1 || n1 as f64 >= (1.0 - path.max_drop) * n0 as f64;
            // A larger drop is kept only where the step could not be refined any further.
            assert!(
                small_drop || (l0 > 0.0 && l1 / l0 <= path.min_growth),
                "{n0} -> {n1} features between lambda {l0:e} and {l1:e}: {counts:?}"
            );
        }
    }
}

#[test]
fn a_fixed_schedule_visits_exactly_its_lambdas() {
    let _serial = serial();
    let lambdas = vec![1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0];
    let (counts, _) = wide_path(3, &Schedule::Fixed(lambdas.clone()));
    let visited: Vec<f64> = counts.iter().skip(1).map(|c| c.0).collect();
    // The path stops early only once every gate is closed.
    assert_eq!(visited, lambdas[..visited.len()]);
    assert!(visited.len() == lambdas.len() || counts.last().unwrap().1 == 0);
}

/// The shared warm-started path (`stog script`'s): the grid in increasing order, the warm-up at
/// the first point only, each point from the state the previous one left; a bad lambda is a typed
/// error before anything trains.
#[test]
fn a_warm_path_fits_the_grid_in_increasing_order_from_the_previous_state() {
    let _serial = serial();
    let (data, vs, mut model) = interaction_mlp(120, 10, 0, &[0]);
    let tags = MemberTags {
        gate: "stg".into(),
        seeds: vec![0],
    };
    let state = |vs: &nn::VarStore| {
        let mut v: Vec<(String, Vec<f64>)> = vs
            .variables()
            .into_iter()
            .map(|(k, t)| (k, Vec::<f64>::try_from(t.flatten(0, -1)).unwrap()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    // The state the last point (or the fresh model) left, shared by the two closures.
    let left = std::cell::RefCell::new(state(&vs));
    let points = warm_path(
        &mut model,
        &[0.1, 0.0, 0.02],
        |model, lambda, first| {
            // Each point starts where the previous one (or the fresh model) left off.
            assert!(
                state(&vs) == *left.borrow(),
                "lambda {lambda} did not start warm"
            );
            let train = TrainConfig {
                epochs: 5,
                warmup_epochs: if first { 3 } else { 0 },
                ..TrainConfig::default()
            };
            fit(model, &vs, &data, &[lambda], &train, &tags, None).map(|o| o[0].epochs)
        },
        |model, lambda, epochs| {
            *left.borrow_mut() = state(&vs);
            let kept: i64 = model.usage()?[0].units_kept.iter().sum();
            Ok::<_, stog::Error>((lambda, epochs, kept))
        },
    )
    .unwrap();
    let lambdas: Vec<f64> = points.iter().map(|p| p.0).collect();
    assert_eq!(lambdas, vec![0.0, 0.02, 0.1]);
    assert!(points.iter().all(|p| p.1 == 5 && p.2 <= 10));
    let mut fitted = false;
    let bad = warm_path(
        &mut model,
        &[0.1, -1.0],
        |_, _, _| {
            fitted = true;
            Ok::<_, stog::Error>(())
        },
        |_, _, _| Ok(()),
    );
    assert!(
        matches!(bad, Err(stog::Error::InvalidConfig { .. })),
        "{bad:?}"
    );
    assert!(!fitted);
}

#[test]
fn folds_partition_the_training_and_validation_rows_by_class() {
    let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 4 == 0)).collect();
    let split = Split::stratified(100, Some(&labels), [0.6, 0.2, 0.2], 1).unwrap();
    let folds = split.folds(Some(&labels), 5, 7).unwrap();
    let mut seen: Vec<usize> = folds.iter().flat_map(|f| f.val.clone()).collect();
    seen.sort_unstable();
    let mut pool: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
    pool.sort_unstable();
    assert_eq!(seen, pool, "every row is validated exactly once");
    for f in &folds {
        assert_eq!(f.test, split.test);
        assert_eq!(f.train.len() + f.val.len(), pool.len());
        assert!(f.train.iter().all(|r| !f.val.contains(r)));
        let ones = f.val.iter().filter(|r| labels[**r] == 1).count();
        assert!(
            (3..=4).contains(&ones),
            "16 rows of class 1 over 5 folds: {ones}"
        );
    }
    assert!(split.folds(Some(&labels), 1, 0).is_err());
    assert!(
        split.folds(Some(&labels), 50, 0).is_err(),
        "too few rows per fold"
    );
}

#[test]
fn the_rules_pick_the_best_the_sparsest_within_one_se_and_the_budget() {
    let c = |kept, score, score_se| Candidate {
        kept,
        score,
        score_se,
    };
    let candidates = [
        c(30, 0.90, 0.02),
        c(12, 0.95, 0.02),
        c(6, 0.93, 0.02),
        c(2, 0.80, 0.02),
    ];
    assert_eq!(choose(&candidates, Choice::Best), Some(1));
    // Within sqrt(2) * 0.02 of 0.95: 0.93 (6 features).
    assert_eq!(choose(&candidates, Choice::OneStandardError), Some(2));
    assert_eq!(choose(&candidates, Choice::MaxFeatures(5)), Some(3));
    assert_eq!(choose(&candidates, Choice::MaxFeatures(1)), None);
}

/// A budget of K features admits a point that keeps exactly K: a user asking for at most K
/// features gets the K-feature point when it scores best under the budget. Among the points
/// under the budget the best score wins, ties going to fewer features.
#[test]
fn a_budget_of_k_features_admits_a_point_with_exactly_k() {
    let c = |kept, score| Candidate {
        kept,
        score,
        score_se: 0.02,
    };
    let candidates = [c(30, 0.90), c(12, 0.95), c(6, 0.93), c(2, 0.80), c(4, 0.93)];
    assert_eq!(choose(&candidates, Choice::MaxFeatures(30)), Some(1));
    assert_eq!(choose(&candidates, Choice::MaxFeatures(12)), Some(1));
    assert_eq!(choose(&candidates, Choice::MaxFeatures(11)), Some(4));
    assert_eq!(choose(&candidates, Choice::MaxFeatures(6)), Some(4));
    assert_eq!(choose(&candidates, Choice::MaxFeatures(3)), Some(3));
    assert_eq!(choose(&candidates, Choice::MaxFeatures(2)), Some(3));
}

/// A point exactly one standard error (of a difference) below the best is within it: the rule
/// keeps the bound, and the sparser point wins.
#[test]
fn the_rules_count_a_point_exactly_one_standard_error_below_the_best_as_within_it() {
    let (best, se) = (0.95, 0.02);
    let floor = best - std::f64::consts::SQRT_2 * se;
    let candidates = [
        Candidate {
            kept: 9,
            score: best,
            score_se: se,
        },
        Candidate {
            kept: 3,
            score: floor,
            score_se: se,
        },
    ];
    assert_eq!(choose(&candidates, Choice::OneStandardError), Some(1));
}

#[test]
fn cross_validation_chooses_the_interaction_on_small_data() {
    let _serial = serial();
    // 120 rows: below the size where the automatic choice cross-validates.
    let mut found = 0;
    for seed in 0..3 {
        let p = interaction(100, 6, seed);
        let split = Split::of(&p.table, [0.6, 0.2, 0.2], seed).unwrap();
        let params = Selector::params().seed(seed).hidden(vec![16]).epochs(100);
        assert_eq!(params.validation, Validation::Auto);
        let f = params.fit(&p.table, &split, Device::Cpu).unwrap();
        // The reported curve is the cross-validated one: its scores are mean losses over the 80
        // training and validation rows, not the validation rows' accuracies.
        assert!(
            f.info.path.iter().all(|q| q.choice_score <= 0.0),
            "{:?}",
            f.info.path
        );
        assert!(f.info.path.iter().any(|q| q.choice_score != -q.val));
        if f.selected() == vec![0, 1] {
            found += 1;
        }
    }
    assert!(found >= 2, "the interaction is found in {found} of 3 seeds");
}

/// A point keeping `kept` features with validation losses `losses` and accuracy `accuracy`.
fn point(lambda: f64, kept: usize, accuracy: f64, losses: &[f64]) -> PathPoint {
    PathPoint {
        lambda,
        members: vec![PathMember {
            selected: (0..kept as i64).collect(),
            units_kept: vec![kept as i64],
            val: Metrics::Classification {
                accuracy,
                loss: losses.iter().sum::<f64>() / losses.len() as f64,
            },
            score: accuracy,
            score_se: 0.0,
            val_losses: losses.to_vec(),
            val_brier: vec![],
            epochs: 1,
            best_epoch: 1,
            refit_best_epoch: None,
        }],
        state: Snapshot::default(),
    }
}

#[test]
fn pooled_fold_scores_count_every_row_once() {
    let main = [point(0.0, 10, 0.5, &[9.0]), point(0.1, 3, 0.5, &[9.0])];
    // Fold 0 has two rows, fold 1 three and ends after its first point (every gate closed).
    let folds = vec![
        vec![
            point(0.0, 10, 0.5, &[1.0, 3.0]),
            point(0.1, 3, 1.0, &[0.5, 0.5]),
        ],
        vec![point(0.0, 0, 2.0 / 3.0, &[2.0, 2.0, 2.0])],
    ];
    let loss = cross_validated_candidates(
        &main,
        &folds,
        FoldMatch::Lambda,
        Criterion::Loss,
        Task::Classification,
    )
    .unwrap();
    assert_eq!(loss[0].kept, 10, "counts come from the main path");
    assert_eq!(loss[1].kept, 3);
    assert!((loss[0].score + 10.0 / 5.0).abs() < 1e-12, "{loss:?}");
    assert!((loss[1].score + 7.0 / 5.0).abs() < 1e-12, "{loss:?}");
    // Deviations -1, 1, 0, 0, 0 from the mean 2.
    let sd = (2.0 / 4.0_f64).sqrt();
    assert!(
        (loss[0].score_se - sd / 5.0_f64.sqrt()).abs() < 1e-12,
        "{loss:?}"
    );
    let acc = cross_validated_candidates(
        &main,
        &folds,
        FoldMatch::Lambda,
        Criterion::Accuracy,
        Task::Classification,
    )
    .unwrap();
    // 1 + 2 of 5 rows right, then 2 + 2.
    assert!((acc[0].score - 0.6).abs() < 1e-12 && (acc[1].score - 0.8).abs() < 1e-12);
    assert!(
        cross_validated_candidates(
            &main,
            &[vec![]],
            FoldMatch::Lambda,
            Criterion::Loss,
            Task::Regression
        )
        .is_err()
    );
}

#[test]
fn under_a_budget_folds_stand_for_main_points_by_their_feature_count() {
    // The main path keeps 10, 4 and 2 features; the single fold closes faster: 4 features at
    // the first lambda, none after (an empty model, loss 5).
    let main = [
        point(0.0, 10, 0.5, &[9.0]),
        point(0.1, 4, 0.5, &[9.0]),
        point(0.2, 2, 0.5, &[9.0]),
    ];
    let folds = vec![vec![
        point(0.0, 4, 0.5, &[1.0]),
        point(0.1, 0, 0.5, &[5.0]),
        point(0.2, 0, 0.5, &[5.0]),
    ]];
    let score = |by| -> Vec<f64> {
        cross_validated_candidates(&main, &folds, by, Criterion::Loss, Task::Regression)
            .unwrap()
            .iter()
            .map(|c| c.score)
            .collect()
    };
    // By lambda the sparse points score the empty fold model.
    assert_eq!(score(FoldMatch::Lambda), vec![-1.0, -5.0, -5.0]);
    // By count: 10 and 4 kept features find the fold's 4 (10 is nearest it too); 2 is as far
    // from 4 as from 0 and takes the fold's point at its own lambda.
    assert_eq!(score(FoldMatch::Count), vec![-1.0, -1.0, -5.0]);
}

/// `n` rows of `d` uniform features, label `1[x0 + x1 - x2 > 0]`: a linear signal.
fn linear_table(n: usize, d: usize, seed: u64) -> stog::data::Table {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let row: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        y.push(f64::from(row[0] + row[1] - row[2] > 0.0));
        x.extend(row);
    }
    stog::data::Table::from_arrays(
        stog::ndarray::ArrayView2::from_shape((y.len(), d), &x).unwrap(),
        stog::ndarray::ArrayView1::from(&y),
        Task::Classification,
    )
    .unwrap()
}

#[test]
fn the_automatic_architecture_keeps_a_linear_model_on_wide_linear_data_and_a_network_on_xor() {
    let _serial = serial();
    let quick = |params: stog::selector::SelectorParams| {
        let mut p = params.epochs(60);
        p.path.max_epochs = 40;
        p.path.refit_epochs = 40;
        p.validation = Validation::Holdout;
        p
    };
    let (mut linear, mut network) = (0, 0);
    for seed in 0..3 {
        let t = linear_table(80, 300, seed);
        let split = Split::of(&t, [0.6, 0.2, 0.2], seed).unwrap();
        let f = quick(Selector::params().seed(seed))
            .fit(&t, &split, Device::Cpu)
            .unwrap();
        linear += usize::from(f.info.network.hidden.is_empty());
        let p = interaction(300, 6, seed);
        let split = Split::of(&p.table, [0.6, 0.2, 0.2], seed).unwrap();
        let f = quick(Selector::params().seed(seed))
            .fit(&p.table, &split, Device::Cpu)
            .unwrap();
        network += usize::from(!f.info.network.hidden.is_empty());
    }
    assert!(
        linear >= 2,
        "linear kept in {linear} of 3 wide linear problems"
    );
    assert!(
        network >= 2,
        "network kept in {network} of 3 interaction problems"
    );
}

#[test]
fn after_cross_validation_the_final_model_is_fitted_on_training_and_validation_rows() {
    let _serial = serial();
    let t = linear_table(100, 12, 0);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 0).unwrap();
    let column_mean =
        |rows: &[usize]| rows.iter().map(|r| t.x.get(r * 12)).sum::<f64>() / rows.len() as f64;
    let both: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
    let fit = |refit_on_all: bool, budget: Option<usize>| {
        let mut p = Selector::params().hidden(vec![]).epochs(30);
        p.path.max_epochs = 20;
        p.path.refit_epochs = 20;
        p.refit_on_all = refit_on_all;
        p.max_features = budget;
        assert_eq!(p.validation.folds(both.len()), Some(5));
        p.fit(&t, &split, Device::Cpu).unwrap()
    };
    // The final model's standardisation comes from the rows it was trained on, and the
    // validation rows are no longer scored as held out. (The scaler holds the selected
    // features' statistics: its first is x0's, a feature of the signal.)
    let all = fit(true, None);
    assert_eq!(all.selected()[0], 0);
    assert!((all.info.scaler.mean[0] - column_mean(&both)).abs() < 1e-9);
    assert!(all.metrics().unwrap().val.is_none());
    let train = fit(false, None);
    assert_eq!(train.selected()[0], 0);
    assert!((train.info.scaler.mean[0] - column_mean(&split.train)).abs() < 1e-9);
    assert!(train.metrics().unwrap().val.is_some());
    // A feature budget holds for the refitted model too.
    let budget = fit(true, Some(2));
    assert!(
        !budget.selected().is_empty() && budget.selected().len() <= 2,
        "{:?}",
        budget.selected()
    );
}

#[test]
fn a_refit_sees_only_the_columns_some_member_keeps() {
    let t = linear_table(20, 5, 0);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 0).unwrap();
    let data = Prepared::new(&t, &split, Device::Cpu).unwrap();
    // Member 0 keeps columns 1 and 3 (3 at half strength), member 1 keeps column 3 only.
    let gates = tch::Tensor::from_slice(&[0.0f32, 1.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
        .view([2, 5]);
    let (masked, kept) = data.masked_columns(&gates);
    assert_eq!(Vec::<i64>::try_from(&kept).unwrap(), vec![1, 3]);
    let n = data.train.x.size()[0];
    assert_eq!(masked.train.x.size(), vec![2, n, 2]);
    let expect = |col: i64, g: f64| data.train.x.select(1, col) * g;
    for (m, col, j, g) in [
        (0, 1, 0, 1.0),
        (0, 3, 1, 0.5),
        (1, 1, 0, 0.0),
        (1, 3, 1, 1.0),
    ] {
        let got = masked.train.x.get(m).select(1, j);
        assert!(
            got.allclose(&expect(col, g), 1e-6, 1e-6, false),
            "member {m} column {col}"
        );
    }
    // Every gate closed: one column of zeros stays.
    let (none, kept) =
        data.masked_columns(&tch::Tensor::zeros([1, 5], (tch::Kind::Float, Device::Cpu)));
    assert_eq!(kept.numel(), 1);
    assert_eq!(
        none.train.x.abs().sum(tch::Kind::Float).double_value(&[]),
        0.0
    );
}

/// At a lambda that closes every gate within some 30 epochs (Adam bounds each step), a point
/// stops at `min_epochs` (the selection is stable long before), and every penalised point trains
/// between the bounds.
#[test]
fn a_point_whose_gates_all_close_stops_after_min_epochs() {
    let _serial = serial();
    let (data, vs, mut model) = interaction_mlp(160, 20, 5, &[5, 6]);
    let train = TrainConfig {
        epochs: 30,
        ..TrainConfig::default()
    };
    let path = PathConfig {
        min_epochs: 60,
        stable_epochs: 5,
        max_epochs: 120,
        refit: false,
        ..PathConfig::default()
    };
    let tags = MemberTags {
        gate: "stg".into(),
        seeds: vec![5, 6],
    };
    let schedule = Schedule::Fixed(vec![1e-2, 1e3]);
    let points = lambda_path_with(&mut model, &vs, &data, &train, &path, &tags, &schedule).unwrap();
    assert_eq!(points.len(), 3);
    for p in &points[1..] {
        for m in &p.members {
            assert!(
                (path.min_epochs..=path.max_epochs).contains(&m.epochs),
                "{} epochs at lambda {}",
                m.epochs,
                p.lambda
            );
        }
    }
    for m in &points[2].members {
        assert!(m.selected.is_empty(), "lambda 1e3 closes every gate");
        assert_eq!(m.epochs, path.min_epochs);
    }
}

/// The point's refit from [`RefitStart::Fresh`] forgets the path's weights (the refit of an
/// overfitted network equals the refit of a sane one with the same gates); from `Warm` it starts
/// from them (the two refits differ).
#[test]
fn a_fresh_refit_forgets_the_path_weights_and_a_warm_one_starts_from_them() {
    let _serial = serial();
    let t = linear_table(120, 6, 3);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 0).unwrap();
    let data = Prepared::new(&t, &split, Device::Cpu).unwrap();
    let config = GatedMlpConfig {
        hidden: vec![8],
        dropout: vec![],
        ..GatedMlpConfig::paper_network(6, 2, GateKind::Stg)
    };
    let tags = MemberTags {
        gate: "stg".into(),
        seeds: vec![0],
    };
    let train = TrainConfig {
        batch_size: Some(16),
        ..TrainConfig::default()
    };
    // The network's variables after a refit of a model whose non-gate weights are scaled by
    // `scale` (1: as initialised).
    let refit = |start: RefitStart, scale: f64| -> Vec<(String, tch::Tensor)> {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = gated_mlp(&vs.root(), &config, &[0], None).unwrap();
        let mut scaled = 0;
        tch::no_grad(|| {
            for (name, var) in vs.variables() {
                if !name.contains("gate") && var.dim() >= 2 {
                    let _ = var
                        .shallow_clone()
                        .f_mul_(&tch::Tensor::from(scale))
                        .unwrap();
                    scaled += 1;
                }
            }
        });
        assert!(scaled >= 2, "the network's weights were not found");
        let path = PathConfig {
            refit_epochs: 30,
            refit_start: start,
            ..PathConfig::default()
        };
        tch::manual_seed(1);
        refit_in_place(&model, &vs, &data, &path, &train, &tags).unwrap();
        let mut vars: Vec<_> = vs
            .variables()
            .into_iter()
            .filter(|(name, _)| !name.contains("gate"))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    };
    let same = |a: &[(String, tch::Tensor)], b: &[(String, tch::Tensor)]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|((n, x), (m, y))| n == m && x.allclose(y, 1e-6, 1e-6, false))
    };
    let fresh = refit(RefitStart::Fresh, 1.0);
    assert!(same(&fresh, &refit(RefitStart::Fresh, 50.0)));
    assert!(!same(
        &refit(RefitStart::Warm, 1.0),
        &refit(RefitStart::Warm, 50.0)
    ));
}

/// The final rerun's point after a cross-validated choice: the one whose count is nearest the
/// chosen point's (by ratio), within the budget; ties go to the sparser.
#[test]
fn the_final_point_is_the_rerun_point_whose_count_is_nearest_the_chosen_one() {
    use stog::selector::faithful_point;
    let rerun = [10, 10, 10, 6, 3, 2, 1, 1, 0];
    assert_eq!(faithful_point(&rerun, None, 8), Some(0));
    assert_eq!(faithful_point(&rerun, None, 6), Some(3));
    assert_eq!(faithful_point(&rerun, None, 5), Some(3));
    // From 4: 3 features (4 / 5) are nearer than 6 (7 / 5).
    assert_eq!(faithful_point(&rerun, None, 4), Some(4));
    assert_eq!(faithful_point(&rerun, None, 2), Some(5));
    // A tie (2 / 1 against 1 / 2 from 1 + 1): the sparser.
    assert_eq!(faithful_point(&[3, 0], None, 1), Some(1));
    assert_eq!(faithful_point(&rerun, None, 0), Some(8));
    // The budget: the nearest point within it.
    assert_eq!(faithful_point(&rerun, Some(5), 8), Some(4));
    assert_eq!(faithful_point(&rerun, Some(6), 8), Some(3));
    // Nothing within the budget.
    assert_eq!(faithful_point(&[10, 9, 8], Some(5), 3), None);
}
