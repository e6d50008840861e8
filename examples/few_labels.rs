//! Few labels: breast cancer with most training labels hidden, with and without SEFS
//! self-supervised pretraining on the hidden rows (correlated gate, lambda chosen automatically).
//! Prints mean test accuracy and selected features over seeds for 20, 50 and 100 labels.
//!
//! Run: `cargo run --release --example few_labels [-- SEEDS]`

use anyhow::Result;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use stog::data::{Split, Table, Task};
use stog::gates::GateKind;
use stog::selector::Selector;
use stog::train::PretrainConfig;

fn main() -> Result<()> {
    let seeds: u64 = std::env::args().nth(1).map_or(Ok(3), |s| s.parse())?;
    let table = Table::from_csv("data/breast_cancer.csv", "target", Task::Classification)?;
    let d = table.n_features();
    println!("| labels | pretraining | test accuracy % | features |\n|---|---|---|---|");
    for labels in [20usize, 50, 100] {
        for pretrain in [false, true] {
            let (mut acc, mut feats) = (0.0, 0.0);
            for seed in 0..seeds {
                let full = Split::from_file("data/splits_breast_cancer.csv", seed, table.n_rows())?;
                let mut train = full.train.clone();
                train.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
                let hidden = train.split_off(labels.min(train.len()));
                let unlabeled: Vec<f64> = hidden
                    .iter()
                    .flat_map(|r| table.x[r * d..(r + 1) * d].to_vec())
                    .collect();
                let split = Split { train, ..full };
                let mut params = Selector::params().gate(GateKind::Correlated).seed(seed);
                if pretrain {
                    params.pretrain = Some(PretrainConfig::default());
                }
                let f = params.fit_semi_supervised(&table, &split, &unlabeled, tch::Device::Cpu)?;
                acc += f.metrics().map_or(f64::NAN, |m| m.test.score()) / seeds as f64;
                feats += f.selected().len() as f64 / seeds as f64;
            }
            println!(
                "| {labels} | {} | {:.1} | {feats:.1} |",
                if pretrain { "yes" } else { "no" },
                100.0 * acc
            );
        }
    }
    Ok(())
}
