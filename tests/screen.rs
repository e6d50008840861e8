//! Screening of wide data before the gates: the mutual-information estimate finds linear and
//! nonlinear signals among noise, and a screened selector reports, predicts and saves over every
//! feature of the data.

use rand::{Rng, SeedableRng};
use stog::data::{Split, Table, Task};
use stog::ndarray::{Array1, Array2, s};
use stog::selector::{FittedSelector, Screen, Selector, mutual_information, screen};
use tch::Device;

/// `n` rows of `d` uniform features in [-1, 1], label `1[x0 + 2 x1^2 - 0.67 > 0]` (x1 is
/// invisible to a correlation), column 2 constant.
fn table(n: usize, d: usize, seed: u64) -> Table {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let mut row: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        row[2] = 0.5;
        y.push(f64::from(row[0] + 2.0 * row[1] * row[1] - 0.67 > 0.0));
        x.extend(row);
    }
    let x = Array2::from_shape_vec((n, d), x).unwrap();
    Table::from_arrays(x.view(), Array1::from(y).view(), Task::Classification).unwrap()
}

#[test]
fn mutual_information_ranks_linear_and_squared_signals_above_noise() {
    for seed in 0..3 {
        let t = table(600, 200, seed);
        let rows: Vec<usize> = (0..600).collect();
        let info = mutual_information(&t, &rows, 10).unwrap();
        let noise = info[3..].iter().cloned().fold(0.0, f64::max);
        assert!(
            info[0] > noise && info[1] > noise,
            "seed {seed}: {:?} vs {noise}",
            &info[..3]
        );
        assert_eq!(info[2], 0.0, "a constant column carries no information");
        let s = screen(&t, &rows, 5).unwrap();
        assert_eq!(s.columns.len(), 5);
        assert!(s.columns.windows(2).all(|w| w[0] < w[1]));
        assert!(
            s.columns.contains(&0) && s.columns.contains(&1),
            "{:?}",
            s.columns
        );
        assert_eq!(s.of, 200);
    }
}

#[test]
fn the_automatic_screen_starts_at_5000_features_and_keeps_n_over_log_n() {
    assert_eq!(Screen::Auto.keep(4999, 600), None);
    // n / ln n within [100, 1000]: 600 rows keep 100 (94 raised), 20000 keep 1000 (2019 cut).
    assert_eq!(Screen::Auto.keep(5000, 600), Some(100));
    assert_eq!(Screen::Auto.keep(5000, 5000), Some(587));
    assert_eq!(Screen::Auto.keep(100_000, 20_000), Some(1000));
    assert_eq!(Screen::Off.keep(100_000, 600), None);
    assert_eq!(Screen::Keep(10).keep(50, 600), Some(10));
    assert_eq!(Screen::Keep(50).keep(50, 600), None);
    let t = table(40, 8, 0);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 0).unwrap();
    let mut p = Selector::params();
    p.screen = Screen::Keep(0);
    assert!(p.fit(&t, &split, Device::Cpu).is_err());
}

#[test]
fn a_screened_selector_reports_predicts_and_saves_over_every_feature() {
    let t = table(400, 40, 0);
    let split = Split::of(&t, [0.6, 0.2, 0.2], 0).unwrap();
    let mut p = Selector::params().hidden(vec![16]).epochs(60);
    p.path.max_epochs = 40;
    p.path.refit_epochs = 40;
    p.screen = Screen::Keep(6);
    let f = p.fit(&t, &split, Device::Cpu).unwrap();
    let s = f.info.screened.clone().expect("screened");
    assert_eq!((s.columns.len(), s.of), (6, 40));
    // The network sees the 6 screened columns; everything reported is over the 40 features.
    assert_eq!(f.info.network.inputs, 6);
    assert_eq!(f.usage().units_total[0], 6);
    assert_eq!(f.info.feature_names.len(), 40);
    assert_eq!(f.importance().len(), 40);
    let selected = f.selected();
    assert!(!selected.is_empty() && selected.iter().all(|j| s.columns.contains(j)));
    for (j, v) in f.importance().iter().enumerate() {
        assert_eq!(*v > 0.0, selected.contains(&j), "feature {j}");
    }
    assert_eq!(f.selected_names()[0], format!("x{}", selected[0]));
    assert_eq!(f.info.params.screen, Screen::Keep(6));
    // Whether the gates kept every screened feature (the screen decided) is reported as such.
    let decision = f.info.decision.as_ref().expect("automatic lambda decides");
    assert_eq!(decision.screen_saturated, Some(selected.len() == 6));
    // Predictions take rows of all 40 features, and survive save / load.
    let rows = Array2::from_shape_fn((split.test.len(), 40), |(i, j)| {
        t.x.get(split.test[i] * 40 + j)
    });
    let before = f.predict(rows.view()).unwrap();
    let correct = before
        .iter()
        .zip(&split.test)
        .filter(|(p, r)| **p == t.y[**r])
        .count();
    assert!(
        correct as f64 > 0.8 * split.test.len() as f64,
        "{correct} of {}",
        split.test.len()
    );
    let dir = std::env::temp_dir().join(format!("stog-screen-{}", std::process::id()));
    f.save(&dir).unwrap();
    let back = FittedSelector::load(&dir, Device::Cpu).unwrap();
    assert_eq!(back.predict(rows.view()).unwrap(), before);
    assert_eq!(back.selected(), selected);
    assert!(f.predict(rows.slice(s![.., ..39])).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
