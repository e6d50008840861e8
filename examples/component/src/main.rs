//! stog as a component, as a user's program would use it: a thousand rows of XOR data built in
//! memory (two relevant columns of 20), a fit with the defaults, predictions, probabilities and
//! the kept columns of 2000 new rows, save and load, and two fits on two threads. Every claim is
//! checked; the program exits non-zero when one fails (`make test` runs it).

use stog::data::{Table, Task};
use stog::ndarray::{Array1, Array2, Axis};
use stog::selector::{FittedSelector, Selector};
use stog::{Device, Error};

/// `n` rows of 20 columns uniform in [-1, 1], from a small deterministic generator; the label is
/// the XOR of the signs of columns 0 and 1.
fn xor_rows(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let x = Array2::from_shape_simple_fn((n, 20), &mut uniform);
    let y = x
        .axis_iter(Axis(0))
        .map(|r| f64::from(u8::from((r[0] > 0.0) != (r[1] > 0.0))))
        .collect();
    (x, y)
}

fn check(what: &str, ok: bool) -> Result<(), String> {
    println!("{} {what}", if ok { "ok  " } else { "FAIL" });
    if ok { Ok(()) } else { Err(what.to_string()) }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (x, y) = xor_rows(1000, 1);
    let table = Table::from_arrays(x.view(), y.view(), Task::Classification)?;
    let params = Selector::params();
    let fitted = params.fit_table(&table, Device::Cpu)?;
    println!("selected {:?}", fitted.selected_names());
    check(
        "keeps exactly the two relevant columns",
        fitted.selected() == vec![0, 1],
    )?;
    let support = fitted.support();
    check(
        "support marks them",
        support.iter().filter(|s| **s).count() == 2 && support[0] && support[1],
    )?;

    let (new_x, new_y) = xor_rows(2000, 2);
    let labels = fitted.predict(new_x.view())?;
    let accuracy = labels.iter().zip(&new_y).filter(|(p, t)| p == t).count() as f64 / 2000.0;
    println!("accuracy on 2000 new rows: {:.1} %", 100.0 * accuracy);
    check("predicts new rows at >= 90 %", accuracy >= 0.9)?;

    let proba = fitted.predict_proba(new_x.view())?;
    let sums_to_one = proba
        .rows()
        .into_iter()
        .all(|r| (r.sum() - 1.0).abs() < 1e-9);
    check("probabilities sum to 1", sums_to_one)?;
    let classes = fitted.classes();
    let agree = proba.rows().into_iter().zip(&labels).all(|(r, l)| {
        let best = if r[1] > r[0] { 1 } else { 0 };
        classes[best] as f64 == *l
    });
    check("probabilities agree with predict", agree)?;

    let kept = fitted.transform(new_x.view())?;
    check(
        "transform gives the kept columns",
        kept == new_x.select(Axis(1), &[0, 1]),
    )?;

    let dir = std::env::temp_dir().join(format!("stog-component-{}", std::process::id()));
    fitted.save(&dir)?;
    let loaded = FittedSelector::load(&dir, Device::Cpu)?;
    std::fs::remove_dir_all(&dir).ok();
    check(
        "a saved and loaded model predicts the same",
        loaded.predict(new_x.view())? == labels && loaded.predict_proba(new_x.view())? == proba,
    )?;

    // Fits on two threads at once against the same fits one after another (a smaller network
    // and fewer epochs: what is checked is that concurrent fits do not change each other).
    let (x2, y2) = xor_rows(1000, 3);
    let other = Table::from_arrays(x2.view(), y2.view(), Task::Classification)?;
    let quick = Selector::params().hidden(vec![16]).epochs(40);
    let fit = |t: &Table| -> stog::Result<(Vec<usize>, Array2<f64>)> {
        let f = quick.fit_table(t, Device::Cpu)?;
        Ok((f.selected(), f.predict_proba(new_x.view())?))
    };
    let alone = (fit(&table)?, fit(&other)?);
    let together = std::thread::scope(|s| {
        let a = s.spawn(|| fit(&table));
        let b = s.spawn(|| fit(&other));
        (a.join().expect("thread a"), b.join().expect("thread b"))
    });
    let together = (together.0?, together.1?);
    check(
        "two fits on two threads equal the fits one after another",
        alone == together,
    )?;

    let mut bad = x.clone();
    bad[[3, 5]] = f64::NAN;
    let nan = Table::from_arrays(bad.view(), y.view(), Task::Classification);
    check(
        "NaN is an error",
        matches!(nan, Err(Error::Array { row: Some(3), .. })),
    )?;
    let short = Table::from_arrays(
        x.view(),
        y.slice(stog::ndarray::s![..999]),
        Task::Classification,
    );
    check(
        "mismatched shapes are an error",
        matches!(short, Err(Error::Shape { .. })),
    )?;
    let narrow = fitted.predict(new_x.slice(stog::ndarray::s![.., ..19]));
    check(
        "a wrong column count is an error",
        matches!(narrow, Err(Error::Shape { .. })),
    )?;
    println!("all checks passed");
    Ok(())
}
