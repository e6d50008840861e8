//! Channel reduction in a CNN written natively with tch layers and stog gates (no TorchScript),
//! on data/digits.csv (8x8 images, 10 classes), the CNN of examples/digits_cnn:
//! conv 1->16 -> ReLU -> gate -> conv 16->32 -> ReLU -> max-pool 2 -> gate -> conv 32->64 -> ReLU
//! -> gate -> mean pool -> linear (3x3 convolutions, padding 1).
//!
//! Two kinds of gating, trained jointly with the network from scratch, over a lambda grid and
//! seeds (each seed is a stratified 60/20/20 split and an initialisation):
//! - static: STG gates, one channel subset for every image (the pruned network is smaller);
//! - dynamic: input-dependent gates, each image runs its own subset, chosen by a small network
//!   of the image (first block) or of the previous block's channels, mean-pooled (later blocks).
//!
//! The penalty weighs each channel by the multiply-adds it costs (`macs`, the default), or every
//! channel alike (`channels`: fewer channels, more multiply-adds). Prints test accuracy against
//! kept channels and executed multiply-adds per image (gate networks included), and writes the
//! figure. The CNN implements `stog::train::GatedModel` and trains with stog's shared trainer
//! (`stog::train::fit`): a fixed number of epochs with a lambda warm-up, keeping the state with
//! the best validation objective; then the network alone is refit with its gates frozen at their
//! inference values, keeping the best validation loss (the test rows are only reported).
//!
//! Each static network is then pruned ([`stog::model::keep`], [`stog::model::fold`]): every
//! convolution keeps only the channels its gate keeps, the gate values folded into the next
//! layer's weights, so the pruned CNN has no gates. Its parameters, its forward time against the
//! gated network's (batch 256, one thread) and the largest difference of their outputs are
//! printed.
//!
//! Writes `OUT_DIR/runs.csv` (one row per run, the columns of `stog sweep`) and
//! `OUT_DIR/accuracy_vs_macs.svg`.
//!
//! Run: `cargo run --release --example digits_native_cnn [-- OUT_DIR [SEEDS [LAMBDAS [PENALTY]]]]`
//! (PENALTY: `macs` or `channels`)

use anyhow::Result;
use stog::data::{Split, Table, Task};
use stog::gates::{Gate, GateKind, build_gate};
use stog::model::{
    ConditionalConfig, ConditionalGate, PenaltySpec, conditional_gate, fold, keep, kept_units,
};
use stog::report::{RunsWriter, Scale, plot_score_against};
use stog::sweep::{RunRecord, summarize};
use stog::train::{GatedModel, MemberTags, Prepared, TrainConfig, fit, metrics};
use tch::nn::Module;
use tch::{Device, Kind, Tensor, nn};

const CHANNELS: [i64; 3] = [16, 32, 64];
/// Output positions of each block's 3x3 convolution (padding 1): 8x8, 8x8, then 4x4 after the
/// max-pool.
const POSITIONS: [i64; 3] = [64, 64, 16];
/// Input channels of each block's convolution (before pruning).
const INPUTS: [i64; 3] = [1, CHANNELS[0], CHANNELS[1]];
const EPOCHS: usize = 100;
const WARMUP: usize = 30;
/// Epochs of the refit: the network alone, its gates frozen at their inference values.
const REFIT: usize = 30;

/// Per-channel gates of the conv blocks.
enum Gates {
    Static(Vec<Box<dyn Gate>>),
    Dynamic(Vec<ConditionalGate>),
}

struct Cnn {
    convs: Vec<nn::Conv2D>,
    head: nn::Linear,
    gates: Gates,
    /// Penalty weight of one channel of each block.
    costs: [f64; 3],
    /// Refit: the inference gates (detached, so they do not train) and no penalty.
    frozen: bool,
}

/// A forward pass: logits, and per block the applied gate `[N or 1, C]` and the expected open
/// fraction per channel `[C]` (for the penalty).
struct Pass {
    out: Tensor,
    gates: Vec<Tensor>,
    open: Vec<Tensor>,
}

impl Cnn {
    fn new(vs: &nn::Path, dynamic: bool, seed: u64, costs: [f64; 3]) -> Cnn {
        let conv = |name: &str, i: i64, o: i64| {
            let c = nn::ConvConfig {
                padding: 1,
                ..Default::default()
            };
            nn::conv2d(vs / name, i, o, 3, c)
        };
        // The trainer's optimiser groups: 1 for gates, 2 for gate networks.
        let gate_root = vs.set_group(if dynamic { 2 } else { 1 }) / "gates";
        let gates = if dynamic {
            let config = ConditionalConfig {
                bottleneck: 8,
                ..ConditionalConfig::at(vec![])
            };
            // The first block's gates read the image, the others the pooled previous block.
            let reads = [POSITIONS[0], CHANNELS[0], CHANNELS[1]];
            Gates::Dynamic(
                (0..CHANNELS.len())
                    .map(|b| {
                        conditional_gate(
                            &(&gate_root / format!("block{b}")),
                            reads[b],
                            CHANNELS[b],
                            &[seed],
                            &config,
                            stog::gates::Noise::PerExample,
                        )
                    })
                    .collect(),
            )
        } else {
            Gates::Static(
                (0..CHANNELS.len())
                    .map(|b| {
                        let path = &gate_root / format!("block{b}");
                        build_gate(&path, GateKind::Stg, CHANNELS[b], None, None, None)
                    })
                    .collect(),
            )
        };
        Cnn {
            convs: (0..CHANNELS.len())
                .map(|b| conv(&format!("conv{}", b + 1), INPUTS[b], CHANNELS[b]))
                .collect(),
            head: nn::linear(vs / "head", CHANNELS[2], 10, Default::default()),
            gates,
            costs,
            frozen: false,
        }
    }

    /// The gate of block `b` for a batch whose block input is `h_in` (`[N, ...]`).
    fn gate(&self, b: usize, h_in: &Tensor, train: bool) -> (Tensor, Tensor) {
        match &self.gates {
            Gates::Static(g) => {
                let z = if train {
                    g[b].training_gate(h_in.size()[0])
                } else {
                    g[b].inference_gate().unsqueeze(0)
                };
                (z, g[b].unit_penalty())
            }
            Gates::Dynamic(g) => {
                let summary = if b == 0 {
                    h_in.flatten(1, -1)
                } else {
                    h_in.mean_dim([2, 3].as_slice(), false, Kind::Float)
                };
                let logits = g[b].logits(&summary.unsqueeze(0));
                let z = if train {
                    g[b].training_gate(&logits)
                } else {
                    ConditionalGate::inference_gate(&logits)
                };
                let open = ConditionalGate::mean_open_probability(&logits);
                (z.squeeze_dim(0), open.squeeze_dim(0))
            }
        }
    }

    /// The forward pass of images `[N, 1, 8, 8]`.
    fn pass(&self, x: &Tensor, train: bool) -> Pass {
        let (mut gates, mut open) = (Vec::new(), Vec::new());
        let mut h = x.shallow_clone();
        for (b, conv) in self.convs.iter().enumerate() {
            let (z, o) = self.gate(b, &h, train);
            let z = if self.frozen { z.detach() } else { z };
            let a = conv.forward(&h).relu();
            let a = if b == 1 { a.max_pool2d_default(2) } else { a };
            h = a * z.view([z.size()[0], -1, 1, 1]);
            gates.push(z);
            open.push(o);
        }
        let out = self
            .head
            .forward(&h.mean_dim([2, 3].as_slice(), false, Kind::Float));
        Pass { out, gates, open }
    }

    /// Multiply-adds each image executes, `[N]` (or `[1]` for static gates), from the kept
    /// channels of each block; gate networks included.
    fn executed_macs(&self, gates: &[Tensor]) -> Tensor {
        let k: Vec<Tensor> = gates
            .iter()
            .map(|z| z.ne(0.0).sum_dim_intlist(-1, false, Kind::Float))
            .collect();
        // Block b's conv computes its kept channels from the previous block's kept ones.
        let mut macs = &k[0] * (9 * POSITIONS[0]) as f64 + &k[2] * 10.0;
        for b in 1..k.len() {
            macs += &k[b - 1] * &k[b] * (9 * POSITIONS[b]) as f64;
        }
        if let Gates::Dynamic(g) = &self.gates {
            let image = Tensor::full_like(&k[0], POSITIONS[0] as f64);
            macs = macs + g[0].macs(&image) + g[1].macs(&k[0]) + g[2].macs(&k[1]);
        }
        macs
    }
}

/// A static CNN pruned to the channels its gates keep: convolutions and head only, no gates.
struct PrunedCnn {
    /// Weight `[kept out, kept in, 3, 3]` and bias of each block's convolution.
    convs: Vec<(Tensor, Tensor)>,
    /// Weight `[10, kept]` and bias of the head.
    head: (Tensor, Tensor),
}

impl PrunedCnn {
    /// `model` (static gates) pruned: block `b` keeps the output channels its gate keeps, and
    /// reads only the previous block's kept channels, their gate values folded into its weights
    /// (the head likewise). `None` when a block keeps no channel (the network is then constant).
    fn of(model: &Cnn) -> stog::Result<Option<PrunedCnn>> {
        let Gates::Static(gates) = &model.gates else {
            return Ok(None);
        };
        let z: Vec<Tensor> = gates.iter().map(|g| g.inference_gate()).collect();
        let kept: Vec<Vec<i64>> = z.iter().map(kept_units).collect::<stog::Result<_>>()?;
        if kept.iter().any(|k| k.is_empty()) {
            return Ok(None);
        }
        let convs = model
            .convs
            .iter()
            .enumerate()
            .map(|(b, conv)| {
                let w = keep(&conv.ws, 0, &kept[b]);
                let w = if b == 0 {
                    w
                } else {
                    fold(&w, 1, &kept[b - 1], &z[b - 1])
                };
                let bias = conv.bs.as_ref().expect("conv2d has a bias");
                (w, keep(bias, 0, &kept[b]))
            })
            .collect();
        let head_bias = model.head.bs.as_ref().expect("linear has a bias");
        Ok(Some(PrunedCnn {
            convs,
            head: (fold(&model.head.ws, 1, &kept[2], &z[2]), head_bias.copy()),
        }))
    }

    /// Logits of images `[N, 1, 8, 8]`: the gated network's operations without the gates.
    fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = x.shallow_clone();
        for (b, (w, bias)) in self.convs.iter().enumerate() {
            h = h.conv2d(w, Some(bias), [1, 1], [1, 1], [1, 1], 1).relu();
            if b == 1 {
                h = h.max_pool2d_default(2);
            }
        }
        h.mean_dim([2, 3].as_slice(), false, Kind::Float)
            .linear(&self.head.0, Some(&self.head.1))
    }

    fn parameters(&self) -> i64 {
        let tensors = self.convs.iter().flat_map(|(w, b)| [w, b]);
        tensors
            .chain([&self.head.0, &self.head.1])
            .map(|t| t.numel() as i64)
            .sum()
    }
}

/// The pruned network against the gated one on a batch: parameters of both (weights and biases;
/// the gated one's gates not counted), mean forward milliseconds of both (one thread), and the
/// largest difference of their logits.
struct PruneReport {
    parameters: (i64, i64),
    milliseconds: (f64, f64),
    max_difference: f64,
}

/// Mean milliseconds of `f` over 50 runs, after 5 unmeasured ones.
fn time_ms(f: impl Fn() -> Tensor) -> f64 {
    for _ in 0..5 {
        let _ = f();
    }
    let start = std::time::Instant::now();
    for _ in 0..50 {
        let _ = f();
    }
    start.elapsed().as_secs_f64() * 1000.0 / 50.0
}

/// Prunes `model` and compares it with the gated network on `batch`; `None` when a block keeps
/// no channel.
fn prune_and_compare(model: &Cnn, batch: &Tensor) -> stog::Result<Option<PruneReport>> {
    let Some(pruned) = PrunedCnn::of(model)? else {
        return Ok(None);
    };
    let full: i64 = model
        .convs
        .iter()
        .flat_map(|c| [Some(&c.ws), c.bs.as_ref()])
        .chain([Some(&model.head.ws), model.head.bs.as_ref()])
        .flatten()
        .map(|t| t.numel() as i64)
        .sum();
    let threads = tch::get_num_threads();
    tch::set_num_threads(1);
    let (gated, cut) = tch::no_grad(|| (model.pass(batch, false).out, pruned.forward(batch)));
    let milliseconds = tch::no_grad(|| {
        (
            time_ms(|| model.pass(batch, false).out),
            time_ms(|| pruned.forward(batch)),
        )
    });
    tch::set_num_threads(threads);
    Ok(Some(PruneReport {
        parameters: (full, pruned.parameters()),
        milliseconds,
        max_difference: (gated - cut).abs().max().double_value(&[]),
    }))
}

/// Multiply-adds one channel of each block costs (computing it, and reading it in the next
/// layer), relative to the mean channel: the penalty's weights.
fn channel_costs() -> [f64; 3] {
    let reading = [
        9 * POSITIONS[1] * CHANNELS[1],
        9 * POSITIONS[2] * CHANNELS[2],
        10,
    ];
    let cost: Vec<f64> = (0..3)
        .map(|b| (9 * POSITIONS[b] * INPUTS[b] + reading[b]) as f64)
        .collect();
    let total: f64 = (0..3).map(|b| cost[b] * CHANNELS[b] as f64).sum();
    let mean = total / CHANNELS.iter().sum::<i64>() as f64;
    [cost[0] / mean, cost[1] / mean, cost[2] / mean]
}

impl GatedModel for Cnn {
    fn members(&self) -> i64 {
        1
    }

    fn device(&self) -> Device {
        self.head.ws.device()
    }

    /// The static gates (the trainer's group 1); dynamic gates are gate networks (group 2).
    fn gates(&self) -> Vec<&dyn Gate> {
        match &self.gates {
            Gates::Static(g) => g.iter().map(|g| g.as_ref()).collect(),
            Gates::Dynamic(_) => Vec::new(),
        }
    }

    fn gates_mut(&mut self) -> Vec<&mut dyn Gate> {
        match &mut self.gates {
            Gates::Static(g) => g.iter_mut().map(|g| g.as_mut() as &mut dyn Gate).collect(),
            Gates::Dynamic(_) => Vec::new(),
        }
    }

    fn has_conditional_gates(&self) -> bool {
        matches!(self.gates, Gates::Dynamic(_))
    }

    /// Rows of 64 pixels, as images; logits `[1, N, 10]`.
    fn forward_gated(&self, xs: &Tensor, train: bool) -> stog::Result<Tensor> {
        let images = xs.f_view([-1, 1, 8, 8])?;
        Ok(self.pass(&images, train && !self.frozen).out.unsqueeze(0))
    }

    /// Expected open channels in training, channels the inference network opens (per image,
    /// averaged) otherwise; weighted by `costs`, 0 in a refit.
    fn forward_penalty(
        &self,
        xs: &Tensor,
        train: bool,
        _spec: &PenaltySpec,
    ) -> stog::Result<(Tensor, Tensor)> {
        let images = xs.f_view([-1, 1, 8, 8])?;
        let pass = self.pass(&images, train && !self.frozen);
        let penalty = if self.frozen {
            Tensor::zeros([1], (Kind::Float, self.device()))
        } else if train {
            penalty(&pass.open, self.costs).view([1])
        } else {
            let open: Vec<Tensor> = pass
                .gates
                .iter()
                .map(|z| {
                    z.ne(0.0)
                        .to_kind(Kind::Float)
                        .mean_dim(0, false, Kind::Float)
                })
                .collect();
            penalty(&open, self.costs).view([1])
        };
        Ok((pass.out.unsqueeze(0), penalty))
    }

    /// The dynamic gates' temperature from `tau` to `tau_min`; none in a refit.
    fn anneal(&mut self, progress: f64) {
        if self.frozen {
            return;
        }
        if let Gates::Dynamic(g) = &mut self.gates {
            let config = ConditionalConfig::at(vec![]);
            for gate in g.iter_mut() {
                gate.tau = config.tau * (config.tau_min / config.tau).powf(progress);
            }
        }
    }
}

/// The penalty: expected open channels of each block, weighted by `costs`.
fn penalty(open: &[Tensor], costs: [f64; 3]) -> Tensor {
    open.iter()
        .zip(costs)
        .map(|(o, c)| o.sum(Kind::Float) * c)
        .fold(Tensor::from(0.0f32), |a, b| a + b)
}

/// Trains one network and returns its record, the mean number of channels an image runs, and
/// for static gates the pruned network's comparison (on the first 256 test images).
fn run(
    data: &Prepared,
    dynamic: bool,
    lambda: f64,
    costs: [f64; 3],
    seed: u64,
) -> Result<(RunRecord, f64, Option<PruneReport>)> {
    tch::manual_seed(seed as i64);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut model = Cnn::new(&vs.root(), dynamic, seed, costs);
    let images = |x: &Tensor| x.view([-1, 1, 8, 8]);
    let (xval, xte) = (images(&data.val.x), images(&data.test.x));
    // Gate learning rates per epoch (as stog's trainer calibrates them), spread over the
    // mini-batches of an epoch; no patience: every epoch runs.
    let steps = ((data.train.len() + 63) / 64) as f64;
    let train = TrainConfig {
        epochs: EPOCHS,
        warmup_epochs: WARMUP,
        patience: EPOCHS,
        lr: 3e-3,
        gate_lr: Some(if dynamic { 0.1 } else { 0.05 } / steps),
        batch_size: Some(64),
        ..TrainConfig::default()
    };
    let tags = MemberTags {
        gate: if dynamic { "gumbel" } else { "stg" }.into(),
        seeds: vec![seed],
    };
    let best = fit(&mut model, &vs, data, &[lambda], &train, &tags, None)?;
    let best_epoch = best[0].best_epoch;
    if let Some(failure) = &best[0].failure {
        anyhow::bail!("{failure}");
    }
    // Refit the network with the gates frozen at their inference values (the pruned network
    // that will run), keeping the state with the best validation loss.
    model.frozen = true;
    let refit = TrainConfig {
        epochs: REFIT,
        warmup_epochs: 0,
        patience: REFIT,
        lr: 1e-3,
        ..train
    };
    let refitted = fit(&mut model, &vs, data, &[0.0], &refit, &tags, None)?;
    if let Some(failure) = &refitted[0].failure {
        anyhow::bail!("{failure}");
    }
    let score = |x: &Tensor, y: &Tensor| -> stog::Result<_> {
        let pass = tch::no_grad(|| model.pass(x, false));
        let m = metrics(Task::Classification, &pass.out.unsqueeze(0), y, 1.0)?;
        Ok((m[0].score(), m[0].loss(), pass))
    };
    let (val_score, val_loss, _) = score(&xval, &data.val.y)?;
    let (test_score, test_loss, pass) = score(&xte, &data.test.y)?;
    let macs = model
        .executed_macs(&pass.gates)
        .mean(Kind::Double)
        .double_value(&[]);
    let all_open: Vec<Tensor> = CHANNELS
        .iter()
        .map(|c| Tensor::ones([1, *c], (Kind::Float, Device::Cpu)))
        .collect();
    let full = model.executed_macs(&all_open);
    let per_image = pass
        .gates
        .iter()
        .map(|z| {
            z.ne(0.0)
                .sum_dim_intlist(-1, false, Kind::Float)
                .mean(Kind::Double)
                .double_value(&[])
        })
        .sum::<f64>();
    // Channels used by at least one test image.
    let kept: Vec<String> = pass
        .gates
        .iter()
        .map(|z| {
            z.ne(0.0)
                .any_dim(0, false)
                .sum(Kind::Int64)
                .int64_value(&[])
                .to_string()
        })
        .collect();
    let record = RunRecord {
        // The dynamic gates are binary concrete, like `gumbel`.
        gate: if dynamic { "gumbel" } else { "stg" }.into(),
        lambda,
        seed,
        placement: if dynamic { "dynamic" } else { "hidden" }.into(),
        n_selected: 64,
        units_kept: kept.join(";"),
        units_total: CHANNELS.map(|c| c.to_string()).join(";"),
        macs: macs.round() as i64,
        macs_full: full.double_value(&[0]).round() as i64,
        val_score,
        test_score,
        val_loss,
        test_loss,
        epochs: EPOCHS,
        best_epoch,
        fit_seconds: 0.0,
        selected: String::new(),
        failure: String::new(),
    };
    let pruned = prune_and_compare(&model, &xte.narrow(0, 0, 256.min(xte.size()[0])))?;
    Ok((record, per_image, pruned))
}

fn main() -> Result<()> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("results/cnn_digits".into()),
    );
    let seeds: u64 = std::env::args().nth(2).map_or(Ok(3), |s| s.parse())?;
    let lambdas: Vec<f64> = match std::env::args().nth(3) {
        Some(list) => list
            .split(',')
            .map(|l| l.trim().parse())
            .collect::<Result<_, _>>()?,
        None => vec![0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.08],
    };
    let costs = match std::env::args().nth(4).as_deref() {
        None | Some("macs") => channel_costs(),
        Some("channels") => [1.0; 3],
        Some(other) => anyhow::bail!("PENALTY `{other}`: expected macs or channels"),
    };
    tch::set_num_threads(tch::get_num_threads().min(2));
    let table = Table::from_csv("data/digits.csv", "target", Task::Classification)?;
    let mut records = Vec::new();
    let mut per_image = Vec::new();
    let mut pruned = Vec::new();
    for seed in 0..seeds {
        let split = Split::of(&table, [0.6, 0.2, 0.2], seed)?;
        let data = Prepared::new(&table, &split, Device::Cpu)?;
        for dynamic in [false, true] {
            for lambda in &lambdas {
                let (record, channels, report) = run(&data, dynamic, *lambda, costs, seed)?;
                if !dynamic {
                    pruned.push((*lambda, seed, record.units_kept.clone(), report));
                }
                records.push(record);
                per_image.push(channels);
            }
        }
    }
    // Rows and legend say which gating a run used; runs.csv keeps the gate kind and placement.
    let labelled: Vec<RunRecord> = records
        .iter()
        .map(|r| RunRecord {
            gate: match r.placement.as_str() {
                "dynamic" => "dynamic (binary concrete)".into(),
                _ => "static (STG)".into(),
            },
            ..r.clone()
        })
        .collect();
    let summary = summarize(&labelled);
    println!(
        "| gates | lambda | test accuracy % | channels in the model (of 16 / 32 / 64) | channels run per image (of 112) | multiply-adds per image |"
    );
    println!("|---|---|---|---|---|---|");
    for c in &summary.cells {
        let kept: Vec<String> = c.units_kept.iter().map(|k| format!("{k:.1}")).collect();
        let run: Vec<f64> = labelled
            .iter()
            .zip(&per_image)
            .filter(|(r, _)| r.gate == c.gate && r.lambda == c.lambda)
            .map(|(_, k)| *k)
            .collect();
        println!(
            "| {} | {} | {:.1} +- {:.1} | {} | {:.1} | {:.0} |",
            c.gate,
            c.lambda,
            100.0 * c.test_score.mean,
            100.0 * c.test_score.std,
            kept.join(" / "),
            run.iter().sum::<f64>() / run.len() as f64,
            c.macs
        );
    }
    println!();
    println!(
        "| static: lambda | seed | channels kept | parameters gated -> pruned | forward ms, batch 256, 1 thread: gated -> pruned | max output difference |"
    );
    println!("|---|---|---|---|---|---|");
    for (lambda, seed, kept, report) in &pruned {
        match report {
            Some(r) => println!(
                "| {lambda} | {seed} | {kept} | {} -> {} | {:.2} -> {:.2} | {:.1e} |",
                r.parameters.0,
                r.parameters.1,
                r.milliseconds.0,
                r.milliseconds.1,
                r.max_difference
            ),
            None => println!(
                "| {lambda} | {seed} | {kept} | a block keeps no channel: not pruned | | |"
            ),
        }
    }
    std::fs::create_dir_all(&out)?;
    RunsWriter::create(&out.join("runs.csv"), true)?.append(&records)?;
    plot_score_against(
        &out.join("accuracy_vs_macs.svg"),
        &summary,
        "multiply-adds executed per image",
        &|c| c.macs,
        "accuracy",
        Scale::Log,
    )?;
    println!("wrote {}", out.display());
    Ok(())
}
