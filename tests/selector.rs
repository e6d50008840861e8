//! The high-level API: lambda chosen for the user finds known answers on small synthetic
//! problems; a budget is respected; save / load round-trips.

mod common;

use common::serial;
use stog::data::{
    Split, Synthetic, Table, Task, duplicate_groups, interaction, nonlinear_regression,
};
use stog::gates::GateKind;
use stog::ndarray::{Array2, s};
use stog::selector::{Criterion, FittedSelector, Rule, Selector, SelectorParams};
use tch::Device;

fn fit(p: &Synthetic, params: SelectorParams) -> FittedSelector {
    let split = Split::of(&p.table, [0.6, 0.2, 0.2], 0).unwrap();
    params.fit(&p.table, &split, Device::Cpu).unwrap()
}

/// Fits the defaults on the problems `make(seed)` of three data seeds: what each selected and
/// its test score. One trajectory depends on the machine's kernels (SIMD, BLAS), so the tests
/// below assert over seeds what holds for most trajectories, and per seed only what holds for all.
fn over_seeds(make: impl Fn(u64) -> Synthetic) -> Vec<(Vec<usize>, f64)> {
    (1..=3)
        .map(|seed| {
            let f = fit(&make(seed), Selector::params());
            let score = f.metrics().unwrap().test.expect("test rows").score();
            eprintln!("seed {seed}: selected {:?}, test {score:.3}", f.selected());
            (f.selected(), score)
        })
        .collect()
}

#[test]
fn finds_an_interaction_only_signal_among_nuisance_features() {
    let _serial = serial();
    let runs = over_seeds(|seed| interaction(500, 12, seed));
    // The default choice (lowest validation loss) may keep a few nuisance features beside the
    // pair (measured: 3, 4 and 0 of the ten on seeds 1-3); it never loses one of the pair and
    // drops most of the ten.
    for (s, score) in &runs {
        assert!(
            s.starts_with(&[0, 1]) && s.len() <= 6 && *score > 0.85,
            "{runs:?}"
        );
    }
    let kept: usize = runs.iter().map(|(s, _)| s.len()).sum();
    assert!(kept <= 15, "{runs:?}");
}

#[test]
fn finds_every_informative_feature_of_a_nonlinear_regression() {
    let _serial = serial();
    let runs = over_seeds(|seed| nonlinear_regression(500, 12, seed));
    // x0..x4 are informative (x4 only through x4^2, the hardest to find): at least four of them
    // on every seed, all five on most, and few others.
    for (s, score) in &runs {
        let found = s.iter().filter(|j| **j < 5).count();
        assert!(found >= 4 && s.len() <= 7 && *score > 0.8, "{runs:?}");
    }
    let all = runs
        .iter()
        .filter(|(s, _)| s.starts_with(&[0, 1, 2, 3, 4]))
        .count();
    assert!(all >= 2, "{runs:?}");
}

#[test]
fn a_feature_budget_is_respected() {
    let _serial = serial();
    let p = interaction(400, 10, 3);
    let f = fit(&p, Selector::params().max_features(1));
    assert!(f.selected().len() <= 1, "{:?}", f.selected());
    // The chosen point has the best score of the choice (the criterion's, not the accuracy)
    // among points with at most 1 feature: true of any trajectory.
    let best = f
        .info
        .path
        .iter()
        .filter(|q| q.n_selected <= 1)
        .map(|q| q.choice_score)
        .fold(f64::NEG_INFINITY, f64::max);
    let chosen_lambda = f.info.decision.as_ref().unwrap().chosen_lambda;
    let chosen = f
        .info
        .path
        .iter()
        .find(|q| q.lambda == chosen_lambda)
        .unwrap();
    assert_eq!(chosen.choice_score, best, "path {:?}", f.info.path);
}

#[test]
fn picks_one_representative_per_group_of_near_duplicates_in_most_seeds() {
    let _serial = serial();
    // Three groups of five copies (two relevant) and 10 noise features, correlated gate, over 5
    // seeds (data, split and model): CPU results differ between machines, so counts are asserted,
    // not one trajectory. The sparsest point within one standard error of the best validation
    // loss, a short path per point. Measured here: one per relevant group in 5 of 5 seeds.
    let (mut relevant_only, mut one_each) = (0, 0);
    let mut seen = Vec::new();
    for seed in 0..5 {
        let p = duplicate_groups(400, 5, 10, seed);
        let split = Split::of(&p.table, [0.6, 0.2, 0.2], seed).unwrap();
        let mut params = Selector::params()
            .gate(GateKind::Correlated)
            .hidden(vec![32, 16])
            .seed(seed);
        params.criterion = Criterion::Loss;
        params.rule = Rule::OneStandardError;
        params.path.min_epochs = 10;
        params.path.stable_epochs = 10;
        params.path.max_epochs = 60;
        params.path.refit_epochs = 40;
        let selected = params
            .fit(&p.table, &split, Device::Cpu)
            .unwrap()
            .selected();
        let in_group = |g: &Vec<usize>| selected.iter().filter(|s| g.contains(s)).count();
        let covered = p.informative.iter().all(|g| in_group(g) >= 1);
        let inside = p.informative.iter().map(in_group).sum::<usize>() == selected.len();
        relevant_only += usize::from(covered && inside);
        one_each += usize::from(p.recovered(&selected));
        seen.push(selected);
    }
    assert!(relevant_only >= 4, "{relevant_only} of 5: {seen:?}");
    assert!(one_each >= 4, "{one_each} of 5: {seen:?}");
}

#[test]
fn save_and_load_give_the_same_predictions() {
    let _serial = serial();
    let table = Table::from_csv("data/wine.csv", "target", Task::Classification).unwrap();
    let split = Split::of(&table, [0.6, 0.2, 0.2], 0).unwrap();
    for gate in [GateKind::Stg, GateKind::Correlated] {
        let f = Selector::params()
            .gate(gate)
            .lambda(0.05)
            .epochs(60)
            .fit(&table, &split, Device::Cpu)
            .unwrap();
        let dir = std::env::temp_dir().join(format!("stog-selector-{}-{gate}", std::process::id()));
        f.save(&dir).unwrap();
        let g = FittedSelector::load(&dir, Device::Cpu).unwrap();
        assert_eq!(f.selected(), g.selected());
        let d = table.n_features();
        let x = Array2::from_shape_fn((table.n_rows(), d), |(i, j)| table.x.get(i * d + j));
        let rows = x.slice(s![..10, ..]);
        assert_eq!(f.predict(rows).unwrap(), g.predict(rows).unwrap());
        let labels = f.predict(x.view()).unwrap();
        let correct = labels
            .iter()
            .zip(&table.y)
            .filter(|(p, y)| **p == table.classes[**y as usize] as f64)
            .count();
        assert!(correct as f64 / table.n_rows() as f64 > 0.85);
        assert_eq!(f.transform(rows).unwrap().dim(), (10, f.selected().len()));
        assert!(
            f.predict(x.slice(s![..10, ..5])).is_err(),
            "a row of 5 values is a shape error"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_non_finite_loss_is_its_own_error_not_an_invalid_configuration() {
    let _serial = serial();
    let mut p = interaction(120, 4, 0);
    let d = p.table.n_features();
    for row in 0..p.table.n_rows() {
        p.table.x.set(row * d, f64::NAN);
    }
    let split = Split::of(&p.table, [0.6, 0.2, 0.2], 0).unwrap();
    for params in [
        Selector::params().lambda(0.01).epochs(3).seed(4),
        Selector::params().epochs(3).seed(4),
    ] {
        match params.fit(&p.table, &split, Device::Cpu) {
            Err(stog::Error::NonFinite { seed, epoch, .. }) => assert_eq!((seed, epoch), (4, 1)),
            other => panic!("not a non-finite loss error: {other:?}"),
        }
    }
}
