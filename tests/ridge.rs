//! The closed-form ridge fit of a linear regression selector: the solution, the penalty chosen
//! on validation rows, and the selector's final model being that fit.

mod common;

use common::serial;
use stog::data::{Split, Table, Task};
use stog::ndarray::Array2;
use stog::selector::{LambdaChoice, Selector, Validation};
use stog::train::{Part, RIDGE_ALPHAS, choose_ridge_alpha, ridge};
use tch::{Kind, Tensor};

/// `n` rows of `d` standard normal columns (float64) and `y = x w + 3 + noise * e`.
fn linear_data(n: i64, d: i64, w: &[f64], noise: f64, seed: i64) -> (Tensor, Tensor) {
    tch::manual_seed(seed);
    let x = Tensor::randn([n, d], (Kind::Double, tch::Device::Cpu));
    let w = Tensor::from_slice(w).view([d, 1]);
    let e = Tensor::randn([n, 1], (Kind::Double, tch::Device::Cpu));
    let y = x.matmul(&w) + 3.0 + e * noise;
    (x, y)
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

#[test]
fn a_small_penalty_recovers_exact_linear_weights_and_a_large_one_shrinks_them() {
    let _serial = serial();
    let w = [2.0, -1.0, 0.5];
    let (x, y) = linear_data(50, 3, &w, 0.0, 0);
    let fit = ridge(&x, &y, 1e-8).unwrap();
    for (got, want) in values(&fit.weight).iter().zip(w) {
        assert!((got - want).abs() < 1e-5, "{got} against {want}");
    }
    assert!((values(&fit.bias)[0] - 3.0).abs() < 1e-5);
    let norm = |alpha: f64| {
        let f = ridge(&x, &y, alpha).unwrap();
        values(&f.weight).iter().map(|v| v * v).sum::<f64>()
    };
    assert!(
        norm(1.0) < 0.5 * norm(1e-8),
        "{} against {}",
        norm(1.0),
        norm(1e-8)
    );
    assert!(ridge(&x, &y, 0.0).is_err());
    assert!(ridge(&x, &y.narrow(0, 0, 10), 0.1).is_err());
}

#[test]
fn with_more_columns_than_rows_the_dual_form_solves_the_same_problem() {
    let _serial = serial();
    let (x, y) = linear_data(8, 20, &[1.0; 20], 0.1, 1);
    let alpha = 0.3;
    let fit = ridge(&x, &y, alpha).unwrap();
    // The primal normal equations on centred columns, solved here directly.
    let xc = &x - x.mean_dim(0, true, Kind::Double);
    let yc = &y - y.mean_dim(0, true, Kind::Double);
    let gram =
        xc.tr().matmul(&xc) / 8.0 + Tensor::eye(20, (Kind::Double, tch::Device::Cpu)) * alpha;
    let primal = gram.inverse().matmul(&(xc.tr().matmul(&yc) / 8.0));
    for (a, b) in values(&fit.weight).iter().zip(values(&primal)) {
        assert!((a - b).abs() < 1e-8, "{a} against {b}");
    }
}

#[test]
fn the_chosen_penalty_has_the_lowest_validation_error() {
    let _serial = serial();
    // Few rows, many weak weights, much noise: shrinkage helps.
    let w: Vec<f64> = (0..12).map(|j| 0.3 * f64::from(j % 3) - 0.2).collect();
    let (x, y) = linear_data(60, 12, &w, 2.0, 2);
    let part = |start: i64, len: i64| Part {
        x: x.narrow(0, start, len),
        y: y.narrow(0, start, len),
    };
    let (train, val) = (part(0, 30), part(30, 30));
    let (alpha, err) = choose_ridge_alpha(&train, &val, &RIDGE_ALPHAS).unwrap();
    let errors: Vec<f64> = RIDGE_ALPHAS
        .iter()
        .map(|a| {
            let f = ridge(&train.x, &train.y, *a).unwrap();
            (f.predict(&val.x) - &val.y)
                .square()
                .mean(Kind::Double)
                .double_value(&[])
        })
        .collect();
    let min = errors.iter().copied().fold(f64::INFINITY, f64::min);
    assert!((err - min).abs() < 1e-12, "{err} against {errors:?}");
    assert_eq!(
        errors[RIDGE_ALPHAS.iter().position(|a| *a == alpha).unwrap()],
        min
    );
    // The errors differ: the choice is not a tie at the first penalty.
    assert!(errors.iter().any(|e| (e - min).abs() > 1e-3), "{errors:?}");
}

/// `n` rows: y = 2 x0 - x1 + noise, x2..x5 noise columns.
fn regression_table(n: usize, seed: u64) -> Table {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let row: Vec<f64> = (0..6).map(|_| rng.random_range(-1.0..1.0)).collect();
        y.push(2.0 * row[0] - row[1] + rng.random_range(-1.0..1.0));
        x.extend(row);
    }
    stog::data::Table::from_arrays(
        stog::ndarray::ArrayView2::from_shape((y.len(), 6), &x).unwrap(),
        stog::ndarray::ArrayView1::from(&y),
        Task::Regression,
    )
    .unwrap()
}

/// Test-row predictions (original target units) of the ridge fit with `alpha` on rows `fit_rows`
/// of the columns `fitted` keeps, standardised and gated as its network sees them, and
/// `fitted`'s own predictions on the same rows.
fn ridge_and_model_predictions(
    fitted: &stog::selector::FittedSelector,
    t: &Table,
    fit_rows: &[usize],
    test_rows: &[usize],
    alpha: f64,
) -> (Vec<f64>, Vec<f64>) {
    let kept = fitted.selected();
    let gated = fitted
        .gated_model()
        .expect("a fitted selector keeps its gated network");
    let gates = gated.gates[0].gate.inference_gate().get(0);
    let scaler = &fitted.info.scaler;
    let (mean_y, scale_y) = fitted.info.target_scale;
    let columns = |rows: &[usize]| -> Tensor {
        let mut v = Vec::new();
        for &r in rows {
            // The scaler holds the kept features' statistics, in the order of `kept`.
            for (k, &j) in kept.iter().enumerate() {
                let z = (t.x.get(r * 6 + j) - scaler.mean[k]) / scaler.scale[k];
                v.push(z * gates.double_value(&[j as i64]));
            }
        }
        Tensor::from_slice(&v).view([rows.len() as i64, kept.len() as i64])
    };
    let target: Vec<f64> = fit_rows
        .iter()
        .map(|&r| (t.y[r] - mean_y) / scale_y)
        .collect();
    let fit = ridge(&columns(fit_rows), &Tensor::from_slice(&target), alpha).unwrap();
    let expected = values(&fit.predict(&columns(test_rows)))
        .iter()
        .map(|p| p * scale_y + mean_y)
        .collect();
    (
        expected,
        fitted
            .predict(raw_rows(t, test_rows).view())
            .unwrap()
            .to_vec(),
    )
}

fn raw_rows(t: &Table, rows: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), 6), |(i, j)| t.x.get(rows[i] * 6 + j))
}

#[test]
fn a_linear_regression_selector_ends_with_the_ridge_fit_and_can_keep_the_trained_one() {
    let _serial = serial();
    let t = regression_table(160, 0);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 0).unwrap();
    let params = |ridge: bool| {
        let mut p = Selector::params().hidden(vec![]).epochs(40).seed(0);
        p.lambda = LambdaChoice::Fixed(0.01);
        p.ridge = ridge;
        p
    };
    let with = params(true).fit(&t, &split, tch::Device::Cpu).unwrap();
    let without = params(false).fit(&t, &split, tch::Device::Cpu).unwrap();
    assert_eq!(without.info.ridge_alpha, None);
    let alpha = with.info.ridge_alpha.expect("a ridge penalty");
    assert!(RIDGE_ALPHAS.contains(&alpha));
    // Same training, same gates: only the final weights differ.
    assert_eq!(with.selected(), without.selected());
    let (expected, got) = ridge_and_model_predictions(&with, &t, &split.train, &split.test, alpha);
    let scale_y = with.info.target_scale.1;
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-3 * scale_y, "{g} against {e}");
    }
    let trained = without.predict(raw_rows(&t, &split.test).view()).unwrap();
    assert!(
        got.iter()
            .zip(&trained)
            .any(|(a, b)| (a - b).abs() > 1e-3 * scale_y),
        "the ridge fit changes the trained model's predictions"
    );
}

#[test]
fn after_cross_validation_the_ridge_fit_uses_training_and_validation_rows() {
    let _serial = serial();
    let t = regression_table(100, 2);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 2).unwrap();
    let mut p = Selector::params().hidden(vec![]).epochs(30).seed(2);
    p.path.max_epochs = 20;
    p.path.refit_epochs = 20;
    p.validation = Validation::Folds(3);
    let fitted = p.fit(&t, &split, tch::Device::Cpu).unwrap();
    assert!(fitted.info.fitted_on_train_and_val);
    let alpha = fitted.info.ridge_alpha.expect("a ridge penalty");
    let mut rows: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
    rows.sort_unstable();
    let (expected, got) = ridge_and_model_predictions(&fitted, &t, &rows, &split.test, alpha);
    let scale_y = fitted.info.target_scale.1;
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-3 * scale_y, "{g} against {e}");
    }
}

#[test]
fn a_network_or_a_classifier_has_no_ridge_fit() {
    let _serial = serial();
    let t = regression_table(120, 1);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 1).unwrap();
    let ridge_alpha = |table: &Table, hidden: Vec<i64>| {
        let mut p = Selector::params().hidden(hidden).epochs(20).seed(1);
        p.lambda = LambdaChoice::Fixed(0.01);
        p.fit(table, &split, tch::Device::Cpu)
            .unwrap()
            .info
            .ridge_alpha
    };
    assert_eq!(ridge_alpha(&t, vec![8]), None);
    assert!(ridge_alpha(&t, vec![]).is_some());
    let x = stog::ndarray::Array2::from_shape_fn((t.n_rows(), 6), |(i, j)| t.x.get(i * 6 + j));
    let y: Vec<f64> = t.y.iter().map(|v| f64::from(*v > 0.0)).collect();
    let labels = Table::from_arrays(
        x.view(),
        stog::ndarray::ArrayView1::from(&y),
        Task::Classification,
    )
    .unwrap();
    assert_eq!(ridge_alpha(&labels, vec![]), None);
}
