//! Synthetic recovery problems with a known answer, for tests and examples.

use super::{Table, Task};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// A synthetic problem: a table and the features that carry the signal.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// The data.
    pub table: Table,
    /// Informative features; for grouped problems, one list per relevant group.
    pub informative: Vec<Vec<usize>>,
}

fn normal_rows(n: usize, d: usize, rng: &mut rand::rngs::StdRng) -> Vec<Vec<f64>> {
    (0..n)
        .map(|_| (0..d).map(|_| StandardNormal.sample(rng)).collect())
        .collect()
}

fn table(rows: Vec<Vec<f64>>, y: Vec<f64>, task: Task) -> Table {
    let d = rows[0].len();
    Table {
        source: None,
        feature_names: (0..d).map(|j| format!("x{j}")).collect(),
        target_name: "target".into(),
        x: rows.into_iter().flatten().collect::<Vec<f64>>().into(),
        y,
        task,
        classes: if task == Task::Classification {
            vec![0, 1]
        } else {
            vec![]
        },
    }
}

/// Label `1[x0 * x1 > 0]` among `d` standard-normal features: an interaction invisible to any
/// linear method (each feature alone is independent of the label).
pub fn interaction(n: usize, d: usize, seed: u64) -> Synthetic {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let rows = normal_rows(n, d, &mut rng);
    let y = rows.iter().map(|r| f64::from(r[0] * r[1] > 0.0)).collect();
    Synthetic {
        table: table(rows, y, Task::Classification),
        informative: vec![vec![0], vec![1]],
    }
}

/// `y = 2 x0 + 2 sin(2 x1) + 2 (x2^2 - 1) + 1.5 x3 - x4 + 0.1 noise` among `d` features: x2 is
/// purely quadratic (uncorrelated with y).
pub fn nonlinear_regression(n: usize, d: usize, seed: u64) -> Synthetic {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let rows = normal_rows(n, d, &mut rng);
    let y = rows
        .iter()
        .map(|r| {
            let e: f64 = StandardNormal.sample(&mut rng);
            2.0 * r[0] + 2.0 * (2.0 * r[1]).sin() + 2.0 * (r[2] * r[2] - 1.0) + 1.5 * r[3] - r[4]
                + 0.1 * e
        })
        .collect();
    Synthetic {
        table: table(rows, y, Task::Regression),
        informative: (0..5).map(|j| vec![j]).collect(),
    }
}

/// Three groups of `size` near-duplicate features (copies of latents z1, z2, z3 plus 5 % noise),
/// then `extra` noise features; label `1[z1 + z2 > 0]`. The right answer is one feature of each of
/// the first two groups.
pub fn duplicate_groups(n: usize, size: usize, extra: usize, seed: u64) -> Synthetic {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let latents = normal_rows(n, 3, &mut rng);
    let noise = normal_rows(n, 3 * size + extra, &mut rng);
    let rows: Vec<Vec<f64>> = latents
        .iter()
        .zip(&noise)
        .map(|(z, e)| {
            (0..3 * size)
                .map(|j| z[j / size] + 0.05 * e[j])
                .chain(e[3 * size..].iter().copied())
                .collect()
        })
        .collect();
    let y = latents
        .iter()
        .map(|z| f64::from(z[0] + z[1] > 0.0))
        .collect();
    let informative = vec![(0..size).collect(), (size..2 * size).collect()];
    Synthetic {
        table: table(rows, y, Task::Classification),
        informative,
    }
}

impl Synthetic {
    /// Whether `selected` is exactly one feature per informative group (or every informative
    /// feature, when each group has one) and nothing else.
    pub fn recovered(&self, selected: &[usize]) -> bool {
        self.informative
            .iter()
            .all(|g| selected.iter().filter(|s| g.contains(s)).count() == 1)
            && selected.len() == self.informative.len()
    }
}
