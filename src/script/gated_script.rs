//! Gates around a frozen TorchScript model, in three layouts:
//! - `Input`: one gate layer in front of `forward` (features of `[N, D]`, or input channels);
//! - `Stages`: the model exports `stage0 ... stageK`; gate layers on axis 1 between stages, their
//!   sizes found by one probe forward;
//! - `Protocol`: the model exports `gate_dims() -> List[int]` and `forward_gates(x, gates)` and
//!   multiplies its channels by the gate vectors wherever its author wants (inside residual
//!   blocks); gate noise is then drawn once per batch.
//!
//! The model is loaded with `tch::CModule` and put in eval mode; only the gate parameters train
//! (Adam, with a lambda warm-up). Rows of the data are reshaped to `input_shape` (`C, H, W`) when
//! given.

use crate::gates::{Gate, GateKind, build_gate};
use crate::train::{Metrics, Part, Prepared, check_lambdas, metrics, task_loss};
use crate::{Error, Result};
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
    /// Gate vectors passed to the exported `forward_gates(x, gates)`.
    Protocol,
}

/// A TorchScript model with gate layers.
#[derive(Debug)]
pub struct GatedScript {
    /// The frozen backbone.
    pub module: tch::CModule,
    /// The gate layers, in the model's order.
    pub gates: Vec<Box<dyn Gate>>,
    /// Where the gates act.
    pub layout: Layout,
    /// Where the model was loaded from (for errors).
    pub path: PathBuf,
    input_shape: Option<Vec<i64>>,
    vs: nn::VarStore,
    backbone_trains: bool,
}

fn script_error(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    let first = e.to_string().lines().next().unwrap_or_default().to_string();
    Error::Script {
        model: path.to_path_buf(),
        reason: format!("{what}: {first}"),
    }
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
    let path = path.as_ref();
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
    let gated_units = match input_shape {
        Some(shape) if shape.iter().product::<i64>() != units => {
            return Err(Error::shape(
                "--input-shape",
                format!("{shape:?} does not hold {units} values per row"),
            ));
        }
        Some(shape) => shape[0],
        None => units,
    };
    let vs = nn::VarStore::new(device);
    let gate = build_gate(
        &(vs.root().set_group(1) / "input_gate"),
        kind,
        gated_units,
        None,
        None,
        None,
    );
    Ok(GatedScript {
        module,
        gates: vec![gate],
        layout: Layout::Input,
        path: path.to_path_buf(),
        input_shape: input_shape.map(<[i64]>::to_vec),
        vs,
        backbone_trains: false,
    })
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
    let mut script = gated_script(path, kind, probe.size()[1], input_shape, device)?;
    let dims: Vec<i64> = match script.module.method_is::<tch::IValue>("gate_dims", &[]) {
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
            while let Ok(out) = tch::no_grad(|| {
                script
                    .module
                    .method_ts(&format!("stage{}", dims.len()), &[&h])
            }) {
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
    script.gates = dims
        .iter()
        .enumerate()
        .map(|(i, d)| {
            build_gate(
                &(script.vs.root().set_group(1) / format!("gate{i}")),
                kind,
                *d,
                None,
                None,
                None,
            )
        })
        .collect();
    if script.layout == Layout::Protocol {
        let _ = tch::no_grad(|| script.forward(&probe, false))?;
    }
    Ok(script)
}

impl GatedScript {
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
                self.module
                    .forward_ts(&[gated])
                    .map_err(|e| script_error(&self.path, "forward", e))
            }
            Layout::Stages(n) => {
                let mut h = x;
                for k in 0..*n {
                    let name = format!("stage{k}");
                    h = self
                        .module
                        .method_ts(&name, &[&h])
                        .map_err(|e| script_error(&self.path, &name, e))?;
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
                match self.module.method_is(
                    "forward_gates",
                    &[tch::IValue::Tensor(x), tch::IValue::TensorList(gates)],
                ) {
                    Ok(tch::IValue::Tensor(out)) => Ok(out),
                    Ok(other) => Err(script_error(
                        &self.path,
                        "forward_gates",
                        format!("returned {other:?}, not a tensor"),
                    )),
                    Err(e) => Err(script_error(
                        &self.path,
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
        let params = self
            .module
            .named_parameters()
            .map_err(|e| script_error(&self.path, "parameters", e))?;
        let root = self.vs.root() / "backbone";
        for (name, tensor) in params {
            let _ = root.add(&name.replace('.', "_"), tensor, true);
        }
        self.backbone_trains = true;
        Ok(())
    }

    /// Trains the gates (and the backbone after [`GatedScript::train_backbone`], at
    /// `backbone_lr`) for `epochs` full-batch steps with penalty weight `lambda` (ramped from 0
    /// over `warmup` epochs) and gate learning rate `lr`.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        &mut self,
        data: &Prepared,
        lambda: f64,
        epochs: usize,
        warmup: usize,
        lr: f64,
        backbone_lr: f64,
    ) -> Result<()> {
        check_lambdas(&[lambda])?;
        let mut opt = nn::Adam::default().build(&self.vs, lr)?;
        opt.set_lr_group(1, lr);
        if self.backbone_trains {
            opt.set_lr_group(0, backbone_lr);
            self.module
                .f_set_train()
                .map_err(|e| script_error(&self.path, "train mode", e))?;
        }
        for epoch in 0..epochs {
            let ramp = if warmup == 0 {
                1.0
            } else {
                ((epoch + 1) as f64 / warmup as f64).min(1.0)
            };
            let out = self.forward(&data.train.x, true)?;
            let mut penalty = Tensor::zeros([], (Kind::Float, out.device()));
            for g in &self.gates {
                penalty += g.penalty(crate::gates::Reduction::Sum, None);
            }
            let loss = task_loss(data.task, &out.unsqueeze(0), &data.train.y).sum(Kind::Float)
                + penalty * (lambda * ramp);
            let value = loss.double_value(&[]);
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    gate: self.gates[0].kind().to_string(),
                    lambda,
                    seed: 0,
                    epoch: epoch + 1,
                    value,
                });
            }
            opt.backward_step(&loss);
            for g in &self.gates {
                g.clamp_parameters();
            }
        }
        self.module
            .f_set_eval()
            .map_err(|e| script_error(&self.path, "eval mode", e))?;
        Ok(())
    }

    /// Writes a TorchScript model without the gate in which dropped inputs are exactly unused:
    /// the first parameter that reads the gated axis (a Linear weight `[out, D]` or a Conv weight
    /// `[out, C, ...]`, found as the first parameter with `size[1]` equal to the gated units) is
    /// multiplied by the inference gate, so dropped columns become exactly 0 and kept ones carry
    /// the gate's scale. Returns the name of that parameter.
    pub fn export_pruned(&self, out: impl AsRef<Path>) -> Result<String> {
        let out = out.as_ref();
        if self.layout != Layout::Input {
            return Err(script_error(
                &self.path,
                "export",
                "only input gates can be exported yet",
            ));
        }
        let gate = &self.gates[0];
        let module = tch::CModule::load_on_device(&self.path, self.vs.device())
            .map_err(|e| script_error(&self.path, "reload", e))?;
        let params = module
            .named_parameters()
            .map_err(|e| script_error(&self.path, "parameters", e))?;
        // The reloaded module gets the current (possibly fine-tuned) weights.
        let live: std::collections::HashMap<String, Tensor> = self
            .module
            .named_parameters()
            .map_err(|e| script_error(&self.path, "parameters", e))?
            .into_iter()
            .collect();
        for (name, p) in &params {
            if let Some(v) = live.get(name) {
                crate::gates::assign(p, v);
            }
        }
        let units = gate.units();
        let (name, weight) = params
            .into_iter()
            .find(|(_, p)| p.dim() >= 2 && p.size()[1] == units)
            .ok_or_else(|| {
                script_error(
                    &self.path,
                    "export",
                    format!("no parameter reads {units} inputs on axis 1"),
                )
            })?;
        let mut shape = vec![1, units];
        shape.extend(std::iter::repeat_n(1, weight.dim() - 2));
        let gate = gate
            .inference_gate()
            .detach()
            .to_kind(weight.kind())
            .view(shape.as_slice());
        tch::no_grad(|| crate::gates::assign(&weight, &(&weight * gate)));
        module
            .save(out)
            .map_err(|e| script_error(&self.path, "save", e))?;
        Ok(name)
    }

    /// Names of the gate layers: `input`, or `gate0`, `gate1`, ... inside the model.
    pub fn gate_names(&self) -> Vec<String> {
        match self.layout {
            Layout::Input => vec!["input".to_string()],
            _ => (0..self.gates.len()).map(|i| format!("gate{i}")).collect(),
        }
    }

    /// Units used at inference, per gate layer.
    pub fn selected(&self) -> Vec<Vec<i64>> {
        self.gates.iter().map(|g| g.selected()).collect()
    }

    /// Metrics of the inference network (dropped units exactly 0) on `part`.
    pub fn score(&self, task: crate::data::Task, part: &Part) -> Result<Metrics> {
        let out = tch::no_grad(|| self.forward(&part.x, false))?;
        Ok(metrics(task, &out.unsqueeze(0), &part.y, 1.0)[0])
    }
}
