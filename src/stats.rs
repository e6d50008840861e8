//! Means and spreads of plain values, defined once for the crate: the sample standard error that
//! scores the points of a lambda path, the population spread of a sweep's summary, and the
//! smoothed binomial standard error of an accuracy.

/// The mean of `values` (NaN for none).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample variance of `values` about `mean`: squared deviations over `n - 1` (over 1 for one
/// value).
pub fn sample_variance(values: &[f64], mean: f64) -> f64 {
    let n = values.len() as f64;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)
}

/// The mean of `values` and its standard error (the sample variance over n, square-rooted); NaN
/// for none.
pub fn mean_and_se(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = mean(values);
    let var = sample_variance(values, mean);
    (mean, (var / values.len() as f64).sqrt())
}

/// The mean of `values` and their population standard deviation (squared deviations over `n`):
/// the spread of a sweep's runs over seeds; NaN for none.
pub fn mean_and_population_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = mean(values);
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    (mean, std)
}

/// The smoothed binomial standard error of an accuracy on `n` rows: with `p = (k + 1) / (n + 2)`,
/// `sqrt(p (1 - p) / n)` (the raw one is 0 at 100 %).
pub fn accuracy_se(accuracy: f64, n: usize) -> f64 {
    let n = n as f64;
    let p = (accuracy * n + 1.0) / (n + 2.0);
    (p * (1.0 - p) / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_and_population_spreads_of_four_values() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean(&v), 2.5);
        assert!((sample_variance(&v, 2.5) - 5.0 / 3.0).abs() < 1e-15);
        let (m, se) = mean_and_se(&v);
        assert_eq!(m, 2.5);
        assert!((se - (5.0f64 / 12.0).sqrt()).abs() < 1e-15);
        let (m, std) = mean_and_population_std(&v);
        assert_eq!(m, 2.5);
        assert!((std - 1.25f64.sqrt()).abs() < 1e-15);
        // One value: no spread; none: NaN.
        assert_eq!(mean_and_se(&[3.0]), (3.0, 0.0));
        assert!(mean_and_se(&[]).0.is_nan() && mean_and_population_std(&[]).1.is_nan());
    }

    #[test]
    fn the_accuracy_se_is_smoothed_away_from_zero() {
        // 4 of 4 right: p = 5 / 6.
        assert!((accuracy_se(1.0, 4) - (5.0f64 / 36.0 / 4.0).sqrt()).abs() < 1e-15);
        assert!(accuracy_se(0.5, 100) > 0.0);
    }
}
