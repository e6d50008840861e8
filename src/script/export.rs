//! Exporting a [`GatedScript`] without its gates: dropped units exactly unused, kept ones scaled
//! by their gate, checked against the gated model.

use super::{GatedScript, Layout, script_error};
use crate::Result;
use std::path::{Path, PathBuf};
use tch::Tensor;

impl GatedScript {
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
}
