//! The sweep grid and its execution. A chunk is one gate kind and one seed with every lambda as a
//! member of one batched ensemble; chunks are the unit of determinism (a chunk's numbers depend
//! only on the config, its gate and its seed).

use crate::data::{Split, Table};
use crate::gates::{CorrelationConfig, CorrelationFactor, GateConfig, GateKind, Noise};
use crate::model::{ConditionalConfig, GatedMlpConfig, gated_mlp};
use crate::report::RunRecord;
use crate::train::{MemberTags, Prepared, TrainConfig, evaluate, fit};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, nn};

/// Where the gates go (the command line lists these, with these lines, in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "cli",
    derive(clap::ValueEnum),
    value(rename_all = "kebab-case")
)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// One gate layer in front of the network (feature selection).
    Input,
    /// Gates after every hidden activation (channel reduction).
    Hidden,
    /// Both.
    All,
    /// Input-dependent (conditional) gates on every hidden layer: each example runs its own
    /// subset of units. Binary-concrete gates, so only `gumbel` goes with it.
    Dynamic,
}

impl std::str::FromStr for Placement {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "input" => Ok(Placement::Input),
            "hidden" => Ok(Placement::Hidden),
            "all" => Ok(Placement::All),
            "dynamic" => Ok(Placement::Dynamic),
            _ => Err(Error::config(
                "placement",
                format!("unknown placement `{s}`; expected input, hidden, all or dynamic"),
            )),
        }
    }
}

impl Placement {
    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Placement::Input => "input",
            Placement::Hidden => "hidden",
            Placement::All => "all",
            Placement::Dynamic => "dynamic",
        }
    }
}

/// The default hidden width of conditional gate networks.
pub fn default_bottleneck() -> i64 {
    8
}

/// Seeds per chunk unless a sweep says otherwise.
pub fn default_seeds_per_chunk() -> usize {
    1
}

/// A whole sweep: gates x lambdas x seeds on one network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    /// The gates, at most one configuration per kind (runs are named by their gate kind).
    pub gates: Vec<GateConfig>,
    /// Lambdas (the members of every chunk).
    pub lambdas: Vec<f64>,
    /// Seeds: each is a split (of the split file, or a stratified split) and an initialisation.
    pub seeds: Vec<u64>,
    /// Where gates go.
    pub placement: Placement,
    /// Hidden layer sizes.
    pub hidden: Vec<i64>,
    /// BatchNorm after hidden layers.
    pub batch_norm: bool,
    /// Dropout per hidden layer.
    pub dropout: Vec<f64>,
    /// Noise override for the gates.
    pub noise: Option<Noise>,
    /// Hidden width of the conditional gates' networks (`dynamic` placement).
    #[serde(default = "default_bottleneck")]
    pub bottleneck: i64,
    /// Seeds trained together as one batched ensemble (1 on CPU, where bigger ensembles gain
    /// nothing; more on a GPU, where they fill the device). Only classification sweeps of kinds
    /// without a per-split correlation factor group seeds; others run one seed at a time.
    #[serde(default = "default_seeds_per_chunk")]
    pub seeds_per_chunk: usize,
    /// Training loop settings.
    pub train: TrainConfig,
}

impl SweepConfig {
    /// The sweep of the SToG technical report (the paper stog reimplements: its network, 300
    /// epochs, patience 50, full batch) over `gates`, `lambdas` and seeds `0..seeds`; each gate a
    /// [`GateConfig`] or a [`GateKind`] (defaults).
    pub fn paper_sweep(
        gates: impl IntoIterator<Item = impl Into<GateConfig>>,
        lambdas: Vec<f64>,
        seeds: u64,
        placement: Placement,
    ) -> Self {
        SweepConfig {
            gates: gates.into_iter().map(Into::into).collect(),
            lambdas,
            seeds: (0..seeds).collect(),
            placement,
            hidden: vec![64, 32],
            batch_norm: true,
            dropout: vec![0.3, 0.2],
            noise: None,
            bottleneck: default_bottleneck(),
            seeds_per_chunk: default_seeds_per_chunk(),
            train: TrainConfig::default(),
        }
    }

    /// Checks the grid and the training settings.
    pub fn validate(&self) -> Result<()> {
        if self.gates.is_empty() || self.lambdas.is_empty() || self.seeds.is_empty() {
            return Err(Error::config(
                "sweep",
                "needs at least one gate, one lambda and one seed",
            ));
        }
        crate::train::check_lambdas(&self.lambdas)?;
        if self.seeds_per_chunk < 1 {
            return Err(Error::config("seeds_per_chunk", "must be at least 1"));
        }
        if self.bottleneck < 1 {
            return Err(Error::config("bottleneck", "must be at least 1"));
        }
        if self.placement == Placement::Dynamic
            && self
                .gates
                .iter()
                .map(GateConfig::kind)
                .ne([GateKind::Gumbel])
        {
            return Err(Error::config(
                "gates",
                "dynamic placement uses binary-concrete gates: give --gates gumbel",
            ));
        }
        for (i, l) in self.lambdas.iter().enumerate() {
            if self.lambdas[..i].contains(l) {
                return Err(Error::config("lambdas", format!("{l} appears twice")));
            }
        }
        for (i, g) in self.gates.iter().enumerate() {
            if self.gates[..i].iter().any(|h| h.kind() == g.kind()) {
                return Err(Error::config(
                    "gates",
                    format!(
                        "{} appears twice (runs are named by gate kind: one configuration per kind)",
                        g.kind()
                    ),
                ));
            }
        }
        for (i, s) in self.seeds.iter().enumerate() {
            if self.seeds[..i].contains(s) {
                return Err(Error::config("seeds", format!("{s} appears twice")));
            }
        }
        // The network's own checks (layer sizes, one dropout per hidden layer), before any file
        // is written; inputs and outputs are the data's, checked when it is read.
        for gate in &self.gates {
            self.network(1, 1, *gate).validate()?;
        }
        self.train.validate()
    }

    /// The network of a chunk with gate `gate`.
    pub fn network(&self, inputs: i64, outputs: i64, gate: GateConfig) -> GatedMlpConfig {
        let input = matches!(self.placement, Placement::Input | Placement::All);
        let hidden = matches!(self.placement, Placement::Hidden | Placement::All);
        GatedMlpConfig {
            inputs,
            hidden: self.hidden.clone(),
            outputs,
            activation: Default::default(),
            batch_norm: self.batch_norm,
            dropout: self.dropout.clone(),
            input_gate: input.then_some(gate),
            hidden_gates: if hidden {
                vec![Some(gate); self.hidden.len()]
            } else {
                vec![]
            },
            conditional: (self.placement == Placement::Dynamic).then(|| ConditionalConfig {
                bottleneck: self.bottleneck,
                ..ConditionalConfig::at((1..=self.hidden.len()).collect())
            }),
            noise: self.noise,
            factor: None,
        }
    }

    /// The sweep's configuration of gate kind `kind` (an error when the sweep has none).
    pub fn gate(&self, kind: GateKind) -> Result<GateConfig> {
        self.gates
            .iter()
            .find(|g| g.kind() == kind)
            .copied()
            .ok_or_else(|| Error::config("gates", format!("the sweep has no {kind} gate")))
    }

    /// Every chunk of the grid, in a fixed order (gate-major).
    pub fn chunks(&self) -> Vec<Chunk> {
        self.groups().into_iter().flatten().collect()
    }

    /// The chunks as they train: consecutive seeds of one gate kind, `seeds_per_chunk` at a time
    /// (one at a time for the correlated gate, whose factor comes from each split's training
    /// rows). A group is the unit of determinism, of sharding and of resuming.
    pub fn groups(&self) -> Vec<Vec<Chunk>> {
        let mut groups = Vec::new();
        for g in self.gates.iter().map(GateConfig::kind) {
            let size = if g == GateKind::Correlated {
                1
            } else {
                self.seeds_per_chunk.max(1)
            };
            for seeds in self.seeds.chunks(size) {
                groups.push(seeds.iter().map(|s| Chunk { gate: g, seed: *s }).collect());
            }
        }
        groups
    }
}

/// One gate kind and one seed; its members are the sweep's lambdas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chunk {
    /// Gate kind.
    pub gate: GateKind,
    /// Seed.
    pub seed: u64,
}

impl Chunk {
    /// The random seed of the chunk's training: a function of its gate and seed only.
    pub fn rng_seed(&self) -> i64 {
        let g = GateKind::ALL
            .iter()
            .position(|k| *k == self.gate)
            .unwrap_or(0) as i64;
        (self.seed as i64).wrapping_mul(7919).wrapping_add(g)
    }
}

/// Trains a group of chunks (see [`SweepConfig::groups`]) as one batched ensemble, chunk `i` on
/// `splits[i]`: its members are every seed x lambda, each seed's members on that seed's rows.
/// When the splits' parts differ in size (or for regression) the chunks train one by one.
/// Records come in chunk order, one per lambda.
///
/// Runs under [`crate::exclusive_rng`]: a group seeds libtorch's generator and draws from it
/// until it ends.
pub fn run_group(
    config: &SweepConfig,
    group: &[Chunk],
    table: &Table,
    splits: &[&Split],
    device: Device,
) -> Result<Vec<RunRecord>> {
    crate::exclusive_rng(|| run_group_alone(config, group, table, splits, device))
}

fn run_group_alone(
    config: &SweepConfig,
    group: &[Chunk],
    table: &Table,
    splits: &[&Split],
    device: Device,
) -> Result<Vec<RunRecord>> {
    let Some(first) = group.first() else {
        return Ok(vec![]);
    };
    let start = std::time::Instant::now();
    let sets = splits
        .iter()
        .map(|split| Prepared::new(table, split, device))
        .collect::<Result<Vec<_>>>()?;
    let l = config.lambdas.len();
    let data = match sets.len() {
        1 => sets.into_iter().next(),
        _ => Prepared::stack(&sets, l as i64),
    };
    let Some(data) = data else {
        let mut rows = Vec::new();
        for (chunk, split) in group.iter().zip(splits) {
            rows.extend(run_group(config, &[*chunk], table, &[*split], device)?);
        }
        return Ok(rows);
    };
    let gate = config.gate(first.gate)?;
    let network = config.network(table.n_features() as i64, data.outputs, gate);
    // The low-rank factor draws random numbers: seed first so a group depends only on itself.
    tch::manual_seed(first.rng_seed());
    let factor = match (first.gate, network.input_gate, group.len()) {
        (GateKind::Correlated, Some(_), 1) => Some(CorrelationFactor::from_data(
            &data.train.x,
            CorrelationConfig::default(),
        )?),
        _ => None,
    };
    let e = group.len() * l;
    let seeds: Vec<u64> = (0..e).map(|m| group[m / l].seed).collect();
    let lambdas: Vec<f64> = (0..e).map(|m| config.lambdas[m % l]).collect();
    tch::manual_seed(first.rng_seed());
    let vs = nn::VarStore::new(device);
    let mut model = gated_mlp(&vs.root(), &network, &seeds, factor)?;
    tch::manual_seed(first.rng_seed());
    let tags = MemberTags {
        gate: gate.to_string(),
        seeds: seeds.clone(),
    };
    let outcomes = fit(&mut model, &vs, &data, &lambdas, &config.train, &tags, None)?;
    let (val, test) = (
        evaluate(&model, &data, &data.val)?,
        evaluate(&model, &data, &data.test)?,
    );
    let seconds = start.elapsed().as_secs_f64() / e as f64;
    let join = |v: &[i64]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(";")
    };
    // Conditional networks run a subset per row: their cost is measured on the test rows.
    Ok(model
        .usage_on(&data.test.x)?
        .into_iter()
        .enumerate()
        .map(|(m, u)| RunRecord {
            gate: first.gate.to_string(),
            lambda: lambdas[m],
            seed: seeds[m],
            placement: config.placement.name().to_string(),
            n_selected: u.selected_inputs.len(),
            units_kept: join(&u.units_kept),
            units_total: join(&u.units_total),
            macs: u.macs,
            macs_full: u.macs_full,
            val_score: val[m].score(),
            test_score: test[m].score(),
            val_loss: val[m].loss(),
            test_loss: test[m].loss(),
            epochs: outcomes[m].epochs,
            best_epoch: outcomes[m].best_epoch,
            fit_seconds: seconds,
            selected: join(&u.selected_inputs),
            failure: outcomes[m]
                .failure
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
        })
        .collect())
}
