//! Time per member-epoch of the batched trainer on breast cancer (the report network, full
//! batch), for several ensemble sizes: where the CPU time of a sweep goes.
//!
//! Run: `cargo run --release --example chunk_timing [-- THREADS]`

use anyhow::Result;
use stog::data::{Split, Table, Task};
use stog::gates::GateKind;
use stog::model::{GatedMlpConfig, gated_mlp};
use stog::train::{Prepared, TrainConfig, Trainer};
use tch::{Device, nn};

fn main() -> Result<()> {
    if let Some(t) = std::env::args().nth(1) {
        tch::set_num_threads(t.parse()?);
    }
    let table = Table::from_csv("data/breast_cancer.csv", "target", Task::Classification)?;
    let split = Split::from_file("data/splits_breast_cancer.csv", 0, table.n_rows())?;
    let data = Prepared::new(&table, &split, Device::Cpu)?;
    println!("threads {}", tch::get_num_threads());
    for e in [1usize, 4, 9, 18, 36] {
        let vs = nn::VarStore::new(Device::Cpu);
        let config = GatedMlpConfig::paper_network(30, 2, GateKind::Stg);
        let model = gated_mlp(&vs.root(), &config, &vec![0; e], None)?;
        let mut trainer = Trainer::new(&model, &vs, &TrainConfig::default(), data.train.len())?;
        trainer.set_lambdas(&vec![0.01; e])?;
        let epochs = 200;
        let t0 = std::time::Instant::now();
        for _ in 0..epochs {
            let _ = trainer.epoch(&model, &data, 1.0)?;
        }
        let train = t0.elapsed().as_secs_f64();
        let t1 = std::time::Instant::now();
        for _ in 0..epochs {
            let _ = stog::train::to_f64(&trainer.objective(&model, &data)?)?;
        }
        let val = t1.elapsed().as_secs_f64();
        let per = |s: f64| 1e3 * s / (epochs * e) as f64;
        println!(
            "E = {e:3}: train step {:.3} ms, validation {:.3} ms per member-epoch",
            per(train),
            per(val)
        );
    }
    Ok(())
}
