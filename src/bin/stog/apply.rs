//! `stog predict` and `stog transform`: a model written by `stog select` applied to the rows of a
//! data file, its columns matched by name.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use stog::data::{Format, Source, Task, write_columns};
use stog::ndarray::{Array2, Axis, concatenate};
use stog::selector::FittedSelector;
use stog::train::parse_device;

/// Arguments of `stog predict` and `stog transform`.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// The output folder of `stog select` (selector.json and model.safetensors).
    #[arg(long)]
    model: PathBuf,
    /// Data file: .csv, .parquet/.pq, .npy or .npz; its columns are matched to the model's
    /// selected features by name (any order; other columns, the dropped features included, may
    /// be absent or are ignored). No target is needed.
    #[arg(long)]
    data: PathBuf,
    /// Column names of .npy/.npz data, one per line (default: FILE.names when it exists, else
    /// x0, x1, ...).
    #[arg(long)]
    feature_names: Option<PathBuf>,
    /// Output file: .csv or .parquet/.pq.
    #[arg(long)]
    out: PathBuf,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    device: String,
}

impl ApplyArgs {
    /// The model and the data file's source, after checking the output's format.
    fn open(&self) -> Result<(FittedSelector, Source)> {
        match Format::of(&self.out).ok() {
            Some(Format::Csv | Format::Parquet) => {}
            _ => anyhow::bail!("--out {}: write .csv or .parquet (.pq)", self.out.display()),
        }
        let device = parse_device(&self.device)?;
        let model = FittedSelector::load(&self.model, device)
            .with_context(|| format!("--model {}", self.model.display()))?;
        let source = Source {
            path: self.data.clone(),
            target: Some(model.info.target_name.clone()),
            task: model.info.task,
            feature_names: self.feature_names.clone(),
        };
        Ok((model, source))
    }
}

/// `stog predict`: a `prediction` column and, for classification, `proba_<label>` per class.
pub fn predict(args: ApplyArgs) -> Result<()> {
    let (model, source) = args.open()?;
    let x = source.read_columns(&model.selected_names())?;
    let prediction = model.predict_selected(x.view())?.insert_axis(Axis(1));
    let mut names = vec!["prediction".to_string()];
    let out = match model.info.task {
        Task::Classification => {
            names.extend(model.classes().iter().map(|c| format!("proba_{c}")));
            concatenate(
                Axis(1),
                &[
                    prediction.view(),
                    model.predict_proba_selected(x.view())?.view(),
                ],
            )?
        }
        Task::Regression => prediction,
    };
    write_columns(&args.out, &names, out.view())?;
    eprintln!(
        "stog predict: {} rows of {} -> {}",
        out.nrows(),
        args.data.display(),
        args.out.display()
    );
    Ok(())
}

/// `stog transform`: the kept columns, and the target column when the file has one.
pub fn transform(args: ApplyArgs) -> Result<()> {
    let (model, source) = args.open()?;
    let mut names = model.selected_names();
    let kept = source.read_columns(&names)?;
    let target = &model.info.target_name;
    let out: Array2<f64> = if source.column_names()?.contains(target) {
        names.push(target.clone());
        let y = source.read_columns(std::slice::from_ref(target))?;
        concatenate(Axis(1), &[kept.view(), y.view()])?
    } else {
        kept
    };
    write_columns(&args.out, &names, out.view())?;
    eprintln!(
        "stog transform: {} rows x {} kept columns of {} -> {}",
        out.nrows(),
        model.selected().len(),
        args.data.display(),
        args.out.display()
    );
    Ok(())
}
