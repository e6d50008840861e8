//! Few labels: most training labels hidden, with and without SEFS self-supervised pretraining on
//! the hidden rows (correlated gate, lambda chosen automatically), on two problems:
//! - synthetic blocks: three blocks of 5 near-duplicate features plus 20 noise features, label
//!   from the first two blocks; the right answer is one feature per relevant block;
//! - breast cancer (the reference splits).
//!
//! Prints, for 20, 50 and 100 labels, the mean test accuracy, selected features and (synthetic)
//! how often exactly one feature per relevant block was selected, over seeds.
//!
//! Run: `cargo run --release --example few_labels [-- SEEDS [synthetic|breast-cancer]]` (both
//! problems unless one is named).

use anyhow::Result;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use stog::data::{Split, Synthetic, Table, Task, duplicate_groups};
use stog::gates::GateKind;
use stog::selector::Selector;
use stog::train::PretrainConfig;

/// A problem for one seed: the table, its split, and the known answer if there is one.
type Problem = (Table, Split, Option<Synthetic>);

fn compare(name: &str, seeds: u64, problem: &dyn Fn(u64) -> Result<Problem>) -> Result<()> {
    println!("\n{name}\n");
    println!("| labels | pretraining | test accuracy % | features | right blocks |");
    println!("|---|---|---|---|---|");
    for labels in [20usize, 50, 100] {
        for pretrain in [false, true] {
            let (mut acc, mut feats, mut right, mut known) = (0.0, 0.0, 0, false);
            for seed in 0..seeds {
                let (table, full, truth) = problem(seed)?;
                let d = table.n_features();
                let mut train = full.train.clone();
                train.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
                let hidden = train.split_off(labels.min(train.len()));
                let unlabeled: Vec<f64> = hidden
                    .iter()
                    .flat_map(|r| (r * d..(r + 1) * d).map(|i| table.x.get(i)))
                    .collect();
                let split = Split { train, ..full };
                let mut params = Selector::params().gate(GateKind::Correlated).seed(seed);
                // The same network in both columns: pretraining starts its first layer, so the
                // linear alternative of the automatic architecture is not fitted here.
                params.auto_architecture = false;
                if pretrain {
                    params.pretrain = Some(PretrainConfig::default());
                }
                let f = params.fit_semi_supervised(&table, &split, &unlabeled, tch::Device::Cpu)?;
                acc += f
                    .metrics()
                    .and_then(|m| m.test)
                    .map_or(f64::NAN, |m| m.score())
                    / seeds as f64;
                feats += f.selected().len() as f64 / seeds as f64;
                if let Some(t) = truth {
                    known = true;
                    right += usize::from(t.recovered(&f.selected()));
                }
            }
            let blocks = if known {
                format!("{right}/{seeds}")
            } else {
                "-".into()
            };
            println!(
                "| {labels} | {} | {:.1} | {feats:.1} | {blocks} |",
                if pretrain { "yes" } else { "no" },
                100.0 * acc
            );
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let seeds: u64 = std::env::args().nth(1).map_or(Ok(3), |s| s.parse())?;
    let only = std::env::args().nth(2);
    if let Some(o) = only
        .as_deref()
        .filter(|o| !["synthetic", "breast-cancer"].contains(o))
    {
        anyhow::bail!("unknown problem `{o}`: expected synthetic or breast-cancer");
    }
    let run = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if run("synthetic") {
        compare(
            "synthetic blocks (1000 rows x 35 features, 600 training rows)",
            seeds,
            &|seed| {
                let p = duplicate_groups(1000, 5, 20, seed);
                let split = Split::of(&p.table, [0.6, 0.2, 0.2], seed)?;
                Ok((p.table.clone(), split, Some(p)))
            },
        )?;
    }
    if run("breast-cancer") {
        let table = Table::from_csv("data/breast_cancer.csv", "target", Task::Classification)?;
        compare("breast cancer (341 training rows)", seeds, &|seed| {
            let split = Split::from_file("data/splits_breast_cancer.csv", seed, table.n_rows())?;
            Ok((table.clone(), split, None))
        })?;
    }
    Ok(())
}
