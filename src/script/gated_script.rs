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
//!
//! This file loads a model and builds its gates; `forward.rs` runs the layouts, `fit.rs` trains,
//! `path.rs` runs a warm-started lambda path, `export.rs` writes the pruned model, `point.rs`
//! scores a fitted point, `rows.rs` writes the test rows with their outputs, `choose.rs` holds
//! the default grid and the choice of the path's point.

use crate::gates::{Gate, GateConfig, build_gate};
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use tch::{Device, Tensor, nn};

/// Where `stog script` puts the gates: in front of the model, or inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(
    feature = "cli",
    derive(clap::ValueEnum),
    value(rename_all = "kebab-case")
)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptPlacement {
    /// In front of forward: the input features, or the input channels with --input-shape.
    Input,
    /// Between the exported stage0..stageK methods or the stage files, or where the model's
    /// gate_dims / forward_gates protocol says.
    Inside,
}

impl ScriptPlacement {
    /// The name the command line and `config.json` give it (its serde name).
    pub fn name(self) -> &'static str {
        match self {
            ScriptPlacement::Input => "input",
            ScriptPlacement::Inside => "inside",
        }
    }
}

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
    pub(super) input_shape: Option<Vec<i64>>,
    pub(super) vs: nn::VarStore,
    pub(super) backbone_trains: bool,
}

pub(super) fn script_error(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    // The first line of libtorch's message (the rest is its C++ backtrace or the TorchScript
    // traceback), and the Python-style error line a traceback ends with.
    let text = e.to_string();
    let first = text.lines().next().unwrap_or(&text);
    let cause = text
        .lines()
        .rev()
        .find(|l| l.starts_with("RuntimeError: ") || l.starts_with("ValueError: "))
        .map_or(String::new(), |l| format!(" ({l})"));
    Error::Script {
        model: path.to_path_buf(),
        reason: format!("{what}: {first}{cause}"),
    }
}

/// Loads the TorchScript file `path` on `device`, in eval mode.
pub(super) fn load(path: &Path, device: Device) -> Result<tch::CModule> {
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

/// Loads `path` and puts the gate `gate` (a [`GateConfig`], or a [`crate::gates::GateKind`] for
/// its defaults) in front: on the `units` features of `[N, D]` rows, or
/// on the channels (the first entry) of `input_shape`.
pub fn gated_script(
    path: impl AsRef<Path>,
    gate: impl Into<GateConfig>,
    units: i64,
    input_shape: Option<&[i64]>,
    device: Device,
) -> Result<GatedScript> {
    let mut script = ungated(path.as_ref(), units, input_shape, device)?;
    let gated_units = input_shape.map_or(units, |shape| shape[0]);
    script.gates = vec![build_gate(
        &(script.vs.root().set_group(1) / "input_gate"),
        gate,
        gated_units,
        None,
        None,
        None,
    )];
    Ok(script)
}

/// Loads `path` and puts gate layers `gate` inside it: between its stage methods, or where
/// its gate protocol says. `probe` is one batch of rows `[N, D]` (reshaped to `input_shape`),
/// used to find the channel counts between stages and to check `forward_gates`.
pub fn gated_stages(
    path: impl AsRef<Path>,
    gate: impl Into<GateConfig>,
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
    script.gates = script.inside_gates(gate.into(), &dims);
    if script.layout == Layout::Protocol {
        let _ = tch::no_grad(|| script.forward(&probe, false))?;
    }
    script.macs(&dims)?; // a macs method that fails for these units fails now, not after training
    Ok(script)
}

/// Loads the stage files `paths` (TorchScript modules whose `forward` is one stage each, in
/// order) and puts gate layers `gate` between consecutive stages, on axis 1, sized by one
/// forward of `probe` (rows `[N, D]`, reshaped to `input_shape`).
pub fn gated_stage_files(
    paths: &[PathBuf],
    gate: impl Into<GateConfig>,
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
    script.gates = script.inside_gates(gate.into(), &dims);
    script.macs(&dims)?;
    Ok(script)
}

impl GatedScript {
    /// Gate layers `gate0, gate1, ...` configured by `gate` with `dims` units each.
    fn inside_gates(&self, gate: GateConfig, dims: &[i64]) -> Vec<Box<dyn Gate>> {
        dims.iter()
            .enumerate()
            .map(|(i, d)| {
                build_gate(
                    &(self.vs.root().set_group(1) / format!("gate{i}")),
                    gate,
                    *d,
                    None,
                    None,
                    None,
                )
            })
            .collect()
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
}
