//! Arguments and steps shared by the subcommands: data, split, device, output folder.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use stog::data::{Source, Split, Table, Task};
use stog::gates::{GateConfig, GateKind};
use stog::report::DataRecord;

/// Where the data comes from and how it is split.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data file: .csv (with a header row), .parquet/.pq, .npy or .npz.
    #[arg(long)]
    pub data: PathBuf,
    /// Target column: a name (CSV, Parquet), a name or column index (.npy), the target array
    /// (.npz). Default: `target`, or `y` for .npz.
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<String>,
    /// Column names of .npy/.npz data, one per line (default: FILE.names when it exists, else
    /// x0, x1, ...).
    #[arg(long)]
    pub feature_names: Option<PathBuf>,
    /// classification or regression.
    #[arg(long, default_value = "classification")]
    pub task: String,
    /// Train, validation and test fractions (stratified for classification).
    #[arg(long, default_value = "0.6,0.2,0.2", conflicts_with = "splits")]
    pub split: String,
    /// A split file `seed,row,split` instead of fractions.
    #[arg(long)]
    pub splits: Option<PathBuf>,
    /// Which seed of the split file to use (and the seed of a fraction split).
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: String,
}

impl DataArgs {
    /// Reads the table (its format by extension) and makes the split.
    pub fn load(&self) -> Result<(Table, Split)> {
        let table = self.source()?.read()?;
        let split = self.split_for(&table)?;
        Ok((table, split))
    }

    /// Reads the table, keeping rows with a missing target apart as unlabeled rows.
    pub fn load_semi_supervised(&self) -> Result<(Table, Split, Vec<f64>)> {
        let (table, unlabeled) = self.source()?.read_semi_supervised()?;
        let split = self.split_for(&table)?;
        Ok((table, split, unlabeled))
    }

    /// The record of these arguments in config.json, with the target the format defaults to
    /// written in: the same data reads the same record whether `--target` was given or not.
    pub fn record(&self) -> Result<DataRecord> {
        let source = self.source()?;
        Ok(DataRecord {
            target: source.target()?,
            data: self.data.clone(),
            feature_names: self.feature_names.clone(),
            task: source.task,
            split: self.split.clone(),
            splits: self.splits.clone(),
            split_seed: self.split_seed,
            device: self.device.clone(),
        })
    }

    fn source(&self) -> Result<Source> {
        let task: Task = self.task.parse()?;
        Ok(Source {
            path: self.data.clone(),
            target: self.target.clone(),
            task,
            feature_names: self.feature_names.clone(),
        })
    }

    fn split_for(&self, table: &Table) -> Result<Split> {
        let split = match &self.splits {
            Some(path) => Split::from_file(path, self.split_seed, table.n_rows())?,
            None => Split::of(table, parse_fractions(&self.split)?, self.split_seed)?,
        };
        Ok(split)
    }
}

/// Parses `a,b,c` into three fractions.
pub fn parse_fractions(s: &str) -> Result<[f64; 3]> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--split `{s}`: not three numbers"))?;
    match v.as_slice() {
        [a, b, c] => Ok([*a, *b, *c]),
        _ => bail!("--split `{s}`: expected three fractions train,val,test"),
    }
}

/// Parses a comma-separated list of sizes like `64,32` (empty: none).
pub fn parse_sizes(s: &str) -> Result<Vec<i64>> {
    if s.trim().is_empty() {
        return Ok(vec![]);
    }
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<i64>()
                .with_context(|| format!("`{s}`: `{p}` is not a layer size"))
        })
        .collect()
}

/// Creates the output folder and checks that it is writable.
pub fn prepare_out_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--out-dir {}: cannot create", dir.display()))?;
    let probe = dir.join(".stog-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("--out-dir {}: not writable", dir.display()))?;
    std::fs::remove_file(&probe).ok();
    Ok(())
}

/// The long help of a gate flag: `first` (what the flag sets), the form, and every kind with its
/// settings and their defaults, read from the library so that it stays true.
pub fn gate_help(first: &str) -> String {
    let mut help = format!(
        "{first}\n\nForm: KIND[:KEY=VALUE,...], e.g. stg:sigma=0.25 or \
         hard-concrete:beta=0.5,log_alpha_init=2. Kinds and their settings (defaults):"
    );
    for kind in GateKind::ALL {
        let settings = GateConfig::from(kind)
            .settings()
            .map(|s| {
                s.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|e| e.to_string());
        help.push_str(&format!("\n  {:<14} {settings}", kind.name()));
    }
    help
}
