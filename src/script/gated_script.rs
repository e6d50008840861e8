//! Gates around a frozen TorchScript model, in three layouts:
//! - `Input`: one gate layer in front of `forward` (features of `[N, D]`, or input channels);
//! - `Stages`: the model exports `stage0 ... stageK`, or comes as a list of files, one stage
//!   each; gate layers on axis 1 between stages, their sizes found by one probe forward;
//! - `Protocol`: the model exports `gate_dims() -> List[int]` and `forward_gates(x, gates)` and
//!   multiplies its channels by the gate vectors wherever its author wants (inside residual
//!   blocks); gate noise is then drawn once per batch.
//!
//! The model is loaded with `tch::CModule` and put in eval mode; only the gate parameters train
//! (Adam, with a lambda warm-up), unless [`GatedScript::train_backbone`] lets the backbone
//! fine-tune too; a refit then trains the backbone alone under the chosen gates. Rows of the data
//! are reshaped to `input_shape` (`C, H, W`) when given. A model may export
//! `macs(units: List[int]) -> int` (multiply-adds per example when gate layer i keeps units[i]
//! units) for [`GatedScript::macs`].

use crate::gates::{Gate, GateKind, build_gate};
use crate::train::{Metrics, Part, Prepared, check_lambdas, metrics, task_loss};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::nn::OptimizerConfig;
use tch::{Device, Kind, Tensor, nn};

/// Where the gates of a [`GatedScript`] act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One gate layer in front of `forward`.
    Input,
    /// Gate layers between the exported `stage0 ... stage{n-1}` methods.
    Stages(usize),
    /// Gate layers between stages saved as separate files, each called through `forward`.
    StageFiles,
    /// Gate vectors passed to the exported `forward_gates(x, gates)`.
    Protocol,
}

/// How [`GatedScript::fit`] trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptFitConfig {
    /// Penalty weight (sum convention).
    pub lambda: f64,
    /// Epochs.
    pub epochs: usize,
    /// Epochs over which lambda ramps up from 0; the best state is only taken after them.
    pub warmup: usize,
    /// Adam learning rate of the gates.
    pub gate_lr: f64,
    /// Adam learning rate of the backbone (after [`GatedScript::train_backbone`]).
    pub backbone_lr: f64,
    /// Mini-batch size; `None` trains on the full batch.
    pub batch_size: Option<usize>,
    /// Refit: train the backbone alone, with the gates fixed at their inference values (dropped
    /// units exactly 0) and no penalty, so that the weights adapt to the units that remain.
    /// Needs [`GatedScript::train_backbone`].
    pub refit: bool,
    /// The seed libtorch's generator was set to for this fit (named in errors; the caller seeds).
    pub seed: u64,
}

impl Default for ScriptFitConfig {
    fn default() -> Self {
        ScriptFitConfig {
            lambda: 0.05,
            epochs: 300,
            warmup: 30,
            gate_lr: 0.05,
            backbone_lr: 1e-3,
            batch_size: None,
            refit: false,
            seed: 0,
        }
    }
}

/// A TorchScript model with gate layers.
#[derive(Debug)]
pub struct GatedScript {
    /// The frozen backbone: one module, or one per stage file.
    pub modules: Vec<tch::CModule>,
    /// The gate layers, in the model's order.
    pub gates: Vec<Box<dyn Gate>>,
    /// Where the gates act.
    pub layout: Layout,
    /// Where the modules were loaded from (for errors and the export).
    pub paths: Vec<PathBuf>,
    input_shape: Option<Vec<i64>>,
    vs: nn::VarStore,
    backbone_trains: bool,
}

fn script_error(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    // The first line of libtorch's message (the rest is its C++ backtrace).
    let text = e.to_string();
    let first = text.lines().next().unwrap_or(&text);
    Error::Script {
        model: path.to_path_buf(),
        reason: format!("{what}: {first}"),
    }
}

/// Loads the TorchScript file `path` on `device`, in eval mode.
fn load(path: &Path, device: Device) -> Result<tch::CModule> {
    if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such model file"),
        ));
    }
    let mut module = tch::CModule::load_on_device(path, device)
        .map_err(|e| script_error(path, "not a TorchScript model", e))?;
    module
        .f_set_eval()
        .map_err(|e| script_error(path, "eval", e))?;
    Ok(module)
}

/// Loads `path` with no gates yet, for rows of `units` values reshaped to `input_shape`.
fn ungated(
    path: &Path,
    units: i64,
    input_shape: Option<&[i64]>,
    device: Device,
) -> Result<GatedScript> {
    if let Some(shape) = input_shape
        && shape.iter().product::<i64>() != units
    {
        return Err(Error::shape(
            "--input-shape",
            format!("{shape:?} does not hold {units} values per row"),
        ));
    }
    Ok(GatedScript {
        modules: vec![load(path, device)?],
        gates: Vec::new(),
        layout: Layout::Input,
        paths: vec![path.to_path_buf()],
        input_shape: input_shape.map(<[i64]>::to_vec),
        vs: nn::VarStore::new(device),
        backbone_trains: false,
    })
}

/// Loads `path` and puts a gate of `kind` in front: on the `units` features of `[N, D]` rows, or
/// on the channels (the first entry) of `input_shape`.
pub fn gated_script(
    path: impl AsRef<Path>,
    kind: GateKind,
    units: i64,
    input_shape: Option<&[i64]>,
    device: Device,
) -> Result<GatedScript> {
    let mut script = ungated(path.as_ref(), units, input_shape, device)?;
    let gated_units = input_shape.map_or(units, |shape| shape[0]);
    script.gates = vec![build_gate(
        &(script.vs.root().set_group(1) / "input_gate"),
        kind,
        gated_units,
        None,
        None,
        None,
    )];
    Ok(script)
}

/// Loads `path` and puts gate layers of `kind` inside it: between its stage methods, or where
/// its gate protocol says. `probe` is one batch of rows `[N, D]` (reshaped to `input_shape`),
/// used to find the channel counts between stages and to check `forward_gates`.
pub fn gated_stages(
    path: impl AsRef<Path>,
    kind: GateKind,
    probe: &Tensor,
    input_shape: Option<&[i64]>,
    device: Device,
) -> Result<GatedScript> {
    let path = path.as_ref();
    let probe = probe.to_device(device);
    let mut script = ungated(path, probe.size()[1], input_shape, device)?;
    let dims: Vec<i64> = match script.modules[0].method_is::<tch::IValue>("gate_dims", &[]) {
        Ok(tch::IValue::IntList(dims)) => {
            script.layout = Layout::Protocol;
            dims
        }
        Ok(other) => {
            return Err(script_error(
                path,
                "gate_dims",
                format!("returned {other:?}, not a list of ints"),
            ));
        }
        Err(_) => {
            let mut h = script.shaped(&probe)?;
            let mut dims = Vec::new();
            while let Ok(out) = tch::no_grad(|| script.stage(dims.len(), &h)) {
                dims.push(out.size().get(1).copied().unwrap_or(0));
                h = out;
            }
            if dims.len() < 2 {
                return Err(script_error(
                    path,
                    "gates",
                    "exports neither stage0 and stage1 nor gate_dims and forward_gates",
                ));
            }
            script.layout = Layout::Stages(dims.len());
            dims.pop(); // no gate after the last stage
            dims
        }
    };
    script.gates = script.inside_gates(kind, &dims);
    if script.layout == Layout::Protocol {
        let _ = tch::no_grad(|| script.forward(&probe, false))?;
    }
    script.macs(&dims)?; // a macs method that fails for these units fails now, not after training
    Ok(script)
}

/// Loads the stage files `paths` (TorchScript modules whose `forward` is one stage each, in
/// order) and puts gate layers of `kind` between consecutive stages, on axis 1, sized by one
/// forward of `probe` (rows `[N, D]`, reshaped to `input_shape`).
pub fn gated_stage_files(
    paths: &[PathBuf],
    kind: GateKind,
    probe: &Tensor,
    input_shape: Option<&[i64]>,
    device: Device,
) -> Result<GatedScript> {
    if paths.len() < 2 {
        return Err(Error::config(
            "--model",
            format!(
                "stage files: {} given, at least two are needed",
                paths.len()
            ),
        ));
    }
    let probe = probe.to_device(device);
    let mut script = ungated(&paths[0], probe.size()[1], input_shape, device)?;
    for path in &paths[1..] {
        script.modules.push(load(path, device)?);
        script.paths.push(path.clone());
    }
    script.layout = Layout::StageFiles;
    let mut h = script.shaped(&probe)?;
    let mut dims = Vec::new();
    for k in 0..paths.len() {
        h = tch::no_grad(|| script.stage(k, &h))?;
        dims.push(h.size().get(1).copied().unwrap_or(0));
    }
    dims.pop(); // no gate after the last stage
    script.gates = script.inside_gates(kind, &dims);
    script.macs(&dims)?;
    Ok(script)
}

impl GatedScript {
    /// Gate layers `gate0, gate1, ...` of `kind` with `dims` units each.
    fn inside_gates(&self, kind: GateKind, dims: &[i64]) -> Vec<Box<dyn Gate>> {
        dims.iter()
            .enumerate()
            .map(|(i, d)| {
                build_gate(
                    &(self.vs.root().set_group(1) / format!("gate{i}")),
                    kind,
                    *d,
                    None,
                    None,
                    None,
                )
            })
            .collect()
    }

    /// Stage `k` of a staged model on `h`: the method `stage{k}`, or the forward of file `k`.
    fn stage(&self, k: usize, h: &Tensor) -> Result<Tensor> {
        if self.layout == Layout::StageFiles {
            return self.modules[k]
                .forward_ts(&[h])
                .map_err(|e| script_error(&self.paths[k], "forward", e));
        }
        let name = format!("stage{k}");
        self.modules[0]
            .method_ts(&name, &[h])
            .map_err(|e| script_error(&self.paths[0], &name, e))
    }

    fn shaped(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match &self.input_shape {
            Some(shape) => {
                let mut s = vec![x.size()[0]];
                s.extend(shape);
                x.f_view(s.as_slice())?
            }
            None => x.shallow_clone(),
        })
    }

    /// The model's output for rows `x` (`[N, D]`), with the training or the inference gates.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = self.shaped(x)?;
        match &self.layout {
            Layout::Input => {
                crate::gates::check_input(self.gates[0].as_ref(), &x)?;
                let gated = self.gates[0].gate_input(&x, train);
                self.modules[0]
                    .forward_ts(&[gated])
                    .map_err(|e| script_error(&self.paths[0], "forward", e))
            }
            Layout::Stages(_) | Layout::StageFiles => {
                let n = match self.layout {
                    Layout::Stages(n) => n,
                    _ => self.modules.len(),
                };
                let mut h = x;
                for k in 0..n {
                    h = self.stage(k, &h)?;
                    if let Some(g) = self.gates.get(k) {
                        crate::gates::check_input(g.as_ref(), &h)?;
                        h = g.gate_input(&h, train);
                    }
                }
                Ok(h)
            }
            Layout::Protocol => {
                let gates: Vec<Tensor> = self
                    .gates
                    .iter()
                    .map(|g| {
                        if train {
                            g.training_gate(1).squeeze_dim(0)
                        } else {
                            g.inference_gate()
                        }
                    })
                    .collect();
                match self.modules[0].method_is(
                    "forward_gates",
                    &[tch::IValue::Tensor(x), tch::IValue::TensorList(gates)],
                ) {
                    Ok(tch::IValue::Tensor(out)) => Ok(out),
                    Ok(other) => Err(script_error(
                        &self.paths[0],
                        "forward_gates",
                        format!("returned {other:?}, not a tensor"),
                    )),
                    Err(e) => Err(script_error(
                        &self.paths[0],
                        "forward_gates (do its gates match gate_dims?)",
                        e,
                    )),
                }
            }
        }
    }

    /// Lets the backbone's parameters train too (with their own learning rate in [`fit`]).
    ///
    /// [`fit`]: GatedScript::fit
    pub fn train_backbone(&mut self) -> Result<()> {
        for (k, (module, path)) in self.modules.iter().zip(&self.paths).enumerate() {
            let params = module
                .named_parameters()
                .map_err(|e| script_error(path, "parameters", e))?;
            let root = self.vs.root() / format!("backbone{k}");
            for (name, tensor) in params {
                let _ = root.add(&name.replace('.', "_"), tensor, true);
            }
        }
        self.backbone_trains = true;
        Ok(())
    }

    /// Trains the gates (and the backbone after [`GatedScript::train_backbone`]) with Adam on
    /// `task + lambda * ramp * sum of gate penalties`, lambda ramping up over `warmup` epochs,
    /// on mini-batches or the full batch. After the warm-up, the state with the best validation
    /// objective (task loss of the inference network plus lambda times its open gates) is kept
    /// and restored at the end. Returns the epoch of that state (0 when none was better).
    /// With `config.refit` only the backbone trains, under the inference gates, and the starting
    /// state counts as epoch 0.
    pub fn fit(&mut self, data: &Prepared, config: &ScriptFitConfig) -> Result<usize> {
        let lambda = config.lambda;
        check_lambdas(&[lambda])?;
        if config.refit && !self.backbone_trains {
            return Err(Error::config(
                "refit",
                "a refit trains the backbone: call train_backbone first (--train-backbone)",
            ));
        }
        let gate_lr = if config.refit { 0.0 } else { config.gate_lr };
        let mut opt = nn::Adam::default().build(&self.vs, gate_lr)?;
        opt.set_lr_group(1, gate_lr);
        if self.backbone_trains {
            opt.set_lr_group(0, config.backbone_lr);
        }
        let n = data.train.len();
        let batch = config.batch_size.map_or(n, |b| (b.max(1) as i64).min(n));
        let best = crate::train::BestState::whole(&self.vs);
        let mut best_objective = f64::INFINITY;
        let mut best_epoch = 0;
        if config.refit {
            // A refit never ends worse than it started: the starting state is a candidate.
            self.set_train(false)?;
            best_objective = self.objective(data, lambda)?;
            best.keep(&[true]);
        }
        for epoch in 0..config.epochs {
            let ramp = if config.warmup == 0 {
                1.0
            } else {
                ((epoch + 1) as f64 / config.warmup as f64).min(1.0)
            };
            self.set_train(true)?;
            let order = Tensor::randperm(n, (Kind::Int64, data.train.x.device()));
            // Summed on the device and read once per epoch: no host sync per mini-batch.
            let mut epoch_loss = Tensor::zeros([], (Kind::Float, data.train.x.device()));
            for idx in order.split(batch, 0) {
                let out = self.forward(&data.train.x.index_select(0, &idx), !config.refit)?;
                let mut penalty = Tensor::zeros([], (Kind::Float, out.device()));
                if !config.refit {
                    for g in &self.gates {
                        penalty += g.penalty(crate::gates::Reduction::Sum, None);
                    }
                }
                let y = data.train.y.index_select(0, &idx);
                let loss = task_loss(data.task, &out.unsqueeze(0), &y).sum(Kind::Float)
                    + penalty * (lambda * ramp);
                epoch_loss += loss.detach();
                opt.backward_step(&loss);
                for g in &self.gates {
                    g.clamp_parameters();
                }
            }
            let value = epoch_loss.double_value(&[]);
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    gate: self.gates[0].kind().to_string(),
                    lambda,
                    seed: config.seed,
                    epoch: epoch + 1,
                    value,
                });
            }
            self.set_train(false)?;
            if epoch + 1 >= config.warmup {
                let objective = self.objective(data, lambda)?;
                if objective < best_objective {
                    best_objective = objective;
                    best_epoch = epoch + 1;
                    best.keep(&[true]);
                }
            }
        }
        if best_epoch > 0 || config.refit {
            best.restore();
        }
        Ok(best_epoch)
    }

    /// Validation task loss of the inference network plus lambda times its open gates.
    fn objective(&self, data: &Prepared, lambda: f64) -> Result<f64> {
        let out = tch::no_grad(|| self.forward(&data.val.x, false))?;
        let task = task_loss(data.task, &out.unsqueeze(0), &data.val.y).double_value(&[0]);
        let open: usize = self.selected()?.iter().map(Vec::len).sum();
        Ok(task + lambda * open as f64)
    }

    /// Puts the backbone in training or evaluation mode (dropout, batch norm) when it trains.
    fn set_train(&mut self, train: bool) -> Result<()> {
        if !self.backbone_trains {
            return Ok(());
        }
        for (module, path) in self.modules.iter_mut().zip(&self.paths) {
            let result = if train {
                module.f_set_train()
            } else {
                module.f_set_eval()
            };
            result.map_err(|e| script_error(path, "train mode", e))?;
        }
        Ok(())
    }

    /// Where [`export_pruned`] writes for `out`: `out` itself, or for stage files one file per
    /// stage, `out`'s stem with `_stage{k}` (`pruned_stage0.pt`, ...).
    ///
    /// [`export_pruned`]: GatedScript::export_pruned
    pub fn export_paths(&self, out: impl AsRef<Path>) -> Vec<PathBuf> {
        let out = out.as_ref();
        if self.modules.len() == 1 {
            return vec![out.to_path_buf()];
        }
        // `out` is the export file stog names (`.../pruned.pt`); a bare folder keeps "pruned".
        let stem = out
            .file_stem()
            .map_or(std::borrow::Cow::Borrowed("pruned"), |s| {
                s.to_string_lossy()
            });
        (0..self.modules.len())
            .map(|k| out.with_file_name(format!("{stem}_stage{k}.pt")))
            .collect()
    }

    /// Writes the model without gates (see [`export_paths`] for the files) in which dropped units
    /// are exactly unused, and returns, per gate layer, the parameter that now carries its gate
    /// (for stage files as `file:parameter`).
    ///
    /// Each gate's inference values scale the first parameter (in the model's order, after the
    /// previous gate's; for stage files, in the next stage) that reads that many units on axis 1:
    /// a Linear weight `[out, D]` or a Conv weight `[out, C, ...]`. Dropped units' columns become
    /// exactly 0 and kept ones carry the gate's scale. This equals the gated model when the gated
    /// units go (through ReLU or pooling, which commute with a gate in [0, 1]) into that layer;
    /// the export checks it on the rows `probe` and refuses with an error when the pruned
    /// model's outputs differ.
    ///
    /// [`export_paths`]: GatedScript::export_paths
    pub fn export_pruned(&self, out: impl AsRef<Path>, probe: &Tensor) -> Result<Vec<String>> {
        let device = self.vs.device();
        let mut modules = Vec::new();
        // Every parameter in the model's order: (module, name, tensor).
        let mut params = Vec::new();
        for (k, (live, path)) in self.modules.iter().zip(&self.paths).enumerate() {
            let module = tch::CModule::load_on_device(path, device)
                .map_err(|e| script_error(path, "reload", e))?;
            // The reloaded module gets the current (possibly fine-tuned) weights.
            let live: std::collections::HashMap<String, Tensor> = live
                .named_parameters()
                .map_err(|e| script_error(path, "parameters", e))?
                .into_iter()
                .collect();
            for (name, p) in module
                .named_parameters()
                .map_err(|e| script_error(path, "parameters", e))?
            {
                if let Some(v) = live.get(&name) {
                    crate::gates::assign(&p, v);
                }
                params.push((k, name, p));
            }
            modules.push(module);
        }
        let stage_files = self.layout == Layout::StageFiles;
        let mut carriers = Vec::new();
        let mut from = 0;
        for (j, (g, name)) in self.gates.iter().zip(self.gate_names()).enumerate() {
            let units = g.units();
            let (i, (k, param, weight)) = params
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, (k, _, p))| {
                    (!stage_files || *k == j + 1) && p.dim() >= 2 && p.size()[1] == units
                })
                .ok_or_else(|| {
                    script_error(
                        &self.paths[0],
                        "export",
                        format!("no parameter after the previous gate's reads the {units} units of gate {name} on axis 1"),
                    )
                })?;
            let mut shape = vec![1, units];
            shape.extend(std::iter::repeat_n(1, weight.dim() - 2));
            let z = g
                .inference_gate()
                .detach()
                .to_kind(weight.kind())
                .view(shape.as_slice());
            tch::no_grad(|| crate::gates::assign(weight, &(weight * z)));
            carriers.push(if stage_files {
                // The stage file's name; a path without one (never loaded) shows whole.
                let path = &self.paths[*k];
                let file = path.file_name().unwrap_or(path.as_os_str());
                format!("{}:{param}", file.to_string_lossy())
            } else {
                param.clone()
            });
            from = i + 1;
        }
        let gated = tch::no_grad(|| self.forward(probe, false))?;
        let mut pruned = self.shaped(probe)?;
        for (module, path) in modules.iter().zip(&self.paths) {
            pruned = tch::no_grad(|| module.forward_ts(&[&pruned]))
                .map_err(|e| script_error(path, "forward of the pruned model", e))?;
        }
        let scale = 1.0 + gated.abs().max().double_value(&[]);
        let diff = (&gated - &pruned).abs().max().double_value(&[]);
        // NaN differences count as differences.
        if diff.is_nan() || diff > 1e-5 * scale {
            return Err(script_error(
                &self.paths[0],
                "export",
                format!(
                    "the pruned model's outputs differ from the gated model's by {diff:.3e}: the gated units do not go straight into {}",
                    carriers.join(", ")
                ),
            ));
        }
        for ((module, path), file) in modules.iter().zip(&self.paths).zip(self.export_paths(out)) {
            module
                .save(&file)
                .map_err(|e| script_error(path, "save", e))?;
        }
        Ok(carriers)
    }

    /// Multiply-adds per example when the gate layers inside the model keep `units` units each,
    /// from the model's own exported `macs(units: List[int]) -> int` (of the first file, for
    /// stage files: stog cannot count the operations of an arbitrary TorchScript graph); `None`
    /// when the model exports no such method, and for an input gate (the method counts the
    /// model's inside units).
    pub fn macs(&self, units: &[i64]) -> Result<Option<i64>> {
        if self.layout == Layout::Input {
            return Ok(None);
        }
        match self.modules[0].method_is("macs", &[tch::IValue::IntList(units.to_vec())]) {
            Ok(tch::IValue::Int(macs)) => Ok(Some(macs)),
            Ok(other) => Err(script_error(
                &self.paths[0],
                "macs",
                format!("returned {other:?}, not an int"),
            )),
            Err(e) if e.to_string().contains("is not defined") => Ok(None),
            Err(e) => Err(script_error(&self.paths[0], "macs", e)),
        }
    }

    /// Names of the gate layers: `input`, or `gate0`, `gate1`, ... inside the model.
    pub fn gate_names(&self) -> Vec<String> {
        match self.layout {
            Layout::Input => vec!["input".to_string()],
            _ => (0..self.gates.len()).map(|i| format!("gate{i}")).collect(),
        }
    }

    /// Units used at inference, per gate layer.
    pub fn selected(&self) -> Result<Vec<Vec<i64>>> {
        self.gates.iter().map(|g| g.selected()).collect()
    }

    /// Metrics of the inference network (dropped units exactly 0) on `part`.
    pub fn score(&self, task: crate::data::Task, part: &Part) -> Result<Metrics> {
        let out = tch::no_grad(|| self.forward(&part.x, false))?;
        Ok(metrics(task, &out.unsqueeze(0), &part.y, 1.0)?[0])
    }
}
