//! Input gates in front of a frozen TorchScript model.
//!
//! The model is loaded with `tch::CModule` and put in eval mode; only the gate parameters train
//! (Adam, with the lambda warm-up of the trainer). Rows of the data are reshaped to `input_shape`
//! (`C, H, W`) when given, and then the gate acts on the channel axis.

use crate::gates::{Gate, GateKind, build_gate};
use crate::train::{Metrics, Part, Prepared, check_lambdas, metrics, task_loss};
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use tch::nn::OptimizerConfig;
use tch::{Device, Kind, Tensor, nn};

/// A TorchScript model with a gate layer in front.
#[derive(Debug)]
pub struct GatedScript {
    /// The frozen backbone.
    pub module: tch::CModule,
    /// The input gate.
    pub gate: Box<dyn Gate>,
    /// Where the model was loaded from (for errors).
    pub path: PathBuf,
    input_shape: Option<Vec<i64>>,
    vs: nn::VarStore,
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
        &(vs.root() / "input_gate"),
        kind,
        gated_units,
        None,
        None,
        None,
    );
    Ok(GatedScript {
        module,
        gate,
        path: path.to_path_buf(),
        input_shape: input_shape.map(<[i64]>::to_vec),
        vs,
    })
}

impl GatedScript {
    /// The model's output for rows `x` (`[N, D]`), with the training or the inference gate.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = match &self.input_shape {
            Some(shape) => {
                let mut s = vec![x.size()[0]];
                s.extend(shape);
                x.f_view(s.as_slice())?
            }
            None => x.shallow_clone(),
        };
        crate::gates::check_input(self.gate.as_ref(), &x)?;
        let gated = self.gate.gate_input(&x, train);
        self.module
            .forward_ts(&[gated])
            .map_err(|e| script_error(&self.path, "forward", e))
    }

    /// Trains the gate for `epochs` full-batch steps with penalty weight `lambda` (ramped from 0
    /// over `warmup` epochs) and gate learning rate `lr`; the backbone stays frozen.
    pub fn fit(
        &mut self,
        data: &Prepared,
        lambda: f64,
        epochs: usize,
        warmup: usize,
        lr: f64,
    ) -> Result<()> {
        check_lambdas(&[lambda])?;
        let mut opt = nn::Adam::default().build(&self.vs, lr)?;
        for epoch in 0..epochs {
            let ramp = if warmup == 0 {
                1.0
            } else {
                ((epoch + 1) as f64 / warmup as f64).min(1.0)
            };
            let out = self.forward(&data.train.x, true)?;
            let loss = task_loss(data.task, &out.unsqueeze(0), &data.train.y).sum(Kind::Float)
                + self.gate.penalty(crate::gates::Reduction::Sum, None) * (lambda * ramp);
            let value = loss.double_value(&[]);
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    gate: self.gate.kind().to_string(),
                    lambda,
                    seed: 0,
                    epoch: epoch + 1,
                    value,
                });
            }
            opt.backward_step(&loss);
            self.gate.clamp_parameters();
        }
        Ok(())
    }

    /// Writes a TorchScript model without the gate in which dropped inputs are exactly unused:
    /// the first parameter that reads the gated axis (a Linear weight `[out, D]` or a Conv weight
    /// `[out, C, ...]`, found as the first parameter with `size[1]` equal to the gated units) is
    /// multiplied by the inference gate, so dropped columns become exactly 0 and kept ones carry
    /// the gate's scale. Returns the name of that parameter.
    pub fn export_pruned(&self, out: impl AsRef<Path>) -> Result<String> {
        let out = out.as_ref();
        let module = tch::CModule::load_on_device(&self.path, self.vs.device())
            .map_err(|e| script_error(&self.path, "reload", e))?;
        let params = module
            .named_parameters()
            .map_err(|e| script_error(&self.path, "parameters", e))?;
        let units = self.gate.units();
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
        let gate = self
            .gate
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

    /// Gated units used at inference.
    pub fn selected(&self) -> Vec<i64> {
        self.gate.selected()
    }

    /// Metrics of the inference network (dropped units exactly 0) on `part`.
    pub fn score(&self, task: crate::data::Task, part: &Part) -> Result<Metrics> {
        let out = tch::no_grad(|| self.forward(&part.x, false))?;
        Ok(metrics(task, &out.unsqueeze(0), &part.y, 1.0)[0])
    }
}
