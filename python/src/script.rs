//! `stog._core.prune_script`: what `stog script` runs, on arrays from Python. A TorchScript model
//! file gets gate layers (in front of `forward`, or inside it: between its stage methods or where
//! its gate protocol says), a warm-started lambda path is fitted, and each point's pruned export
//! and `result.json` are written into `out_dir/lambda_L/`; with the automatic lambda the chosen
//! point's files are also copied into `out_dir` itself, beside `path.json`.

use crate::{Features, to_py, with_fit_threads};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::{Path, PathBuf};
use stog::data::{Split, Task};
use stog::gates::GateConfig;
use stog::report::{ScriptPathReport, write_json};
use stog::script::{
    DEFAULT_SCRIPT_LAMBDAS, GatedScript, RESULT_FILE, ScriptFitConfig, ScriptPoint,
    choose_script_point, gated_script, gated_stages, script_point_dir,
};
use stog::train::{Prepared, check_lambdas};

/// Gates, fits and prunes the TorchScript model at `model` on rows `x` with targets `y` (class
/// indices as floats, or values), split into training, validation and test rows by `fractions`
/// (stratified for classification, seeded by `seed`). `lambda_` is a fixed penalty (one fit,
/// written into `out_dir`) or `None` for the automatic choice over `lambdas` (default: stog
/// script's grid). Returns the lambda of the model in `out_dir`.
#[pyfunction]
#[pyo3(signature = (model, x, y, task, out_dir, *, placement, input_shape, gate, lambda_, lambdas, epochs, warmup_epochs, batch_size, gate_lr, train_backbone, backbone_lr, refit_epochs, fractions, seed, device))]
#[allow(clippy::too_many_arguments)]
fn prune_script(
    py: Python<'_>,
    model: PathBuf,
    x: &Bound<'_, PyAny>,
    y: PyReadonlyArray1<'_, f64>,
    task: &str,
    out_dir: PathBuf,
    placement: &str,
    input_shape: Option<Vec<i64>>,
    gate: &str,
    lambda_: Option<f64>,
    lambdas: Option<Vec<f64>>,
    epochs: usize,
    warmup_epochs: usize,
    batch_size: Option<usize>,
    gate_lr: f64,
    train_backbone: bool,
    backbone_lr: f64,
    refit_epochs: usize,
    fractions: [f64; 3],
    seed: u64,
    device: &str,
) -> PyResult<f64> {
    let task: Task = task.parse().map_err(to_py)?;
    let gate: GateConfig = gate.parse().map_err(to_py)?;
    let inside = match placement {
        "input" => false,
        "inside" => true,
        other => {
            return Err(PyValueError::new_err(format!(
                "placement `{other}`: expected \"input\" or \"inside\""
            )));
        }
    };
    if refit_epochs > 0 && !train_backbone {
        return Err(PyValueError::new_err(
            "refit_epochs > 0 trains the backbone under the chosen gates: it needs train_backbone=True",
        ));
    }
    if fractions[2] <= 0.0 {
        return Err(PyValueError::new_err(
            "the split scores the pruned model on test rows: give them a fraction > 0",
        ));
    }
    let grid = match (lambda_, lambdas) {
        (Some(l), None) => vec![l],
        (None, Some(l)) => l,
        (None, None) => DEFAULT_SCRIPT_LAMBDAS.to_vec(),
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "lambdas is the grid of the automatic choice: give it with lambda_=\"auto\"",
            ));
        }
    };
    check_lambdas(&grid).map_err(to_py)?;
    let device = crate::device(device)?;
    let table = Features::extract(x)?
        .table(y.as_array(), task)
        .map_err(to_py)?;
    let split = Split::of(&table, fractions, seed).map_err(to_py)?;
    let rows = split.train.len();
    let features = table.n_features();
    let config = ScriptFitConfig {
        lambda: grid[0],
        epochs,
        warmup: warmup_epochs,
        gate_lr,
        backbone_lr,
        batch_size,
        refit: false,
        seed,
    };
    let run = move || -> stog::Result<f64> {
        let data = Prepared::new(&table, &split, device)?;
        stog::tch::manual_seed(seed as i64);
        let mut g = if inside {
            gated_stages(&model, gate, &data.train.x, input_shape.as_deref(), device)?
        } else {
            let units = data.train.x.size()[1];
            gated_script(&model, gate, units, input_shape.as_deref(), device)?
        };
        if train_backbone {
            g.train_backbone()?;
        }
        std::fs::create_dir_all(&out_dir).map_err(|e| stog::Error::io(&out_dir, e))?;
        if lambda_.is_some() {
            g.warm_path(&data, &grid, &config, refit_epochs, |g, lambda, best| {
                write_point(g, &data, lambda, best, &out_dir)
            })?;
            return Ok(grid[0]);
        }
        let points = g.warm_path(&data, &grid, &config, refit_epochs, |g, lambda, best| {
            let dir = script_point_dir(&out_dir, lambda);
            std::fs::create_dir_all(&dir).map_err(|e| stog::Error::io(&dir, e))?;
            write_point(g, &data, lambda, best, &dir)
        })?;
        let chosen = choose_script_point(&points);
        write_json(
            &out_dir.join("path.json"),
            &ScriptPathReport {
                path: points.clone(),
                chosen_lambda: chosen.map(|i| points[i].lambda),
            },
        )?;
        let i = chosen.ok_or_else(|| {
            stog::Error::config("lambda", "no point of the path was chosen (no points)")
        })?;
        g.copy_point_files(&script_point_dir(&out_dir, points[i].lambda), &out_dir)?;
        Ok(points[i].lambda)
    };
    py.detach(move || with_fit_threads(rows, features, device, run))
        .map_err(to_py)
}

/// Scores the fitted model at `lambda` and writes its pruned export and `result.json` into `dir`.
fn write_point(
    g: &GatedScript,
    data: &Prepared,
    lambda: f64,
    best_epoch: usize,
    dir: &Path,
) -> stog::Result<stog::report::ScriptPathPoint> {
    let ScriptPoint { report, point } = g.point_report(data, lambda, best_epoch, dir)?;
    write_json(&dir.join(RESULT_FILE), &report)?;
    Ok(point)
}

/// Adds the module's TorchScript functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(prune_script, m)?)
}
