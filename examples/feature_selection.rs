//! STG gates in front of the SToG report's MLP on breast cancer, one lambda, the reference split
//! of seed 0. This should reach about 96-97 % test accuracy with about 5-8 of 30 features.
//!
//! Run: `cargo run --release --example feature_selection [-- LAMBDA [GATE]]`

use anyhow::Result;
use stog::data::{Split, Table, Task};
use stog::gates::GateKind;
use stog::model::{GatedMlpConfig, gated_mlp};
use stog::train::{MemberTags, Prepared, TrainConfig, evaluate, fit};
use tch::{Device, nn};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let lambda: f64 = args.get(1).map_or(Ok(0.05), |s| s.parse())?;
    let kind: GateKind = args.get(2).map_or(Ok(GateKind::Stg), |s| s.parse())?;
    let table = Table::from_csv("data/breast_cancer.csv", "target", Task::Classification)?;
    let split = Split::from_file("data/splits_breast_cancer.csv", 0, table.n_rows())?;
    let data = Prepared::new(&table, &split, Device::Cpu)?;

    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let config = GatedMlpConfig::paper_network(table.n_features() as i64, data.outputs, kind);
    let mut model = gated_mlp(&vs.root(), &config, &[0], None)?;
    let tags = MemberTags {
        gate: kind.to_string(),
        seeds: vec![0],
    };
    let start = std::time::Instant::now();
    let outcome = fit(
        &mut model,
        &vs,
        &data,
        &[lambda],
        &TrainConfig::default(),
        &tags,
        None,
    )?;
    let seconds = start.elapsed().as_secs_f64();

    let test = evaluate(&model, &data, &data.test)?;
    let usage = &model.usage()?[0];
    let names: Vec<&str> = usage
        .selected_inputs
        .iter()
        .map(|i| table.feature_names[*i as usize].as_str())
        .collect();
    println!(
        "gate {kind}, lambda {lambda}: {} epochs (best {}), {seconds:.2} s",
        outcome[0].epochs, outcome[0].best_epoch
    );
    println!(
        "test accuracy {:.2} % with {} of {} features (dropped ones exactly 0)",
        100.0 * test[0].score(),
        names.len(),
        table.n_features()
    );
    println!("selected: {}", names.join(", "));
    Ok(())
}
