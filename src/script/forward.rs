//! The forward pass of a [`GatedScript`] in each layout, and the score of its inference network.

use super::{GatedScript, Layout, script_error};
use crate::Result;
use crate::train::{Metrics, Part, metrics};
use tch::Tensor;

impl GatedScript {
    /// Stage `k` of a staged model on `h`: the method `stage{k}`, or the forward of file `k`.
    pub(super) fn stage(&self, k: usize, h: &Tensor) -> Result<Tensor> {
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

    /// Rows `x` (`[N, D]`) reshaped to `[N, input_shape...]` when the model has an input shape.
    pub(super) fn shaped(&self, x: &Tensor) -> Result<Tensor> {
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

    /// Metrics of the inference network (dropped units exactly 0) on `part`.
    pub fn score(&self, task: crate::data::Task, part: &Part) -> Result<Metrics> {
        let out = tch::no_grad(|| self.forward(&part.x, false))?;
        Ok(metrics(task, &out.unsqueeze(0), &part.y, 1.0)?[0])
    }
}
