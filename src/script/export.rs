//! Exporting a [`GatedScript`] without its gates and without the units they dropped: the layers
//! that write a dropped unit lose its output rows (with their bias and a following BatchNorm's
//! entries), the layers that read it lose its input columns, and kept columns carry their gate's
//! scale. An input gate exports a model that takes the full input rows and drops the unused
//! columns first. The export is checked against the gated model.

use super::surgery::ScriptSurgery;
use super::{GatedScript, Layout, script_error};
use crate::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// What the physical pruning of an export removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrunedExport {
    /// Per gate layer, the parameter that reads its units: it now reads only the kept ones,
    /// scaled by their gate (for stage files as `file:parameter`).
    pub carriers: Vec<String>,
    /// Per gate layer, the parameter whose output rows produce its units (it now writes only the
    /// kept ones); `None` for an input gate.
    pub producers: Vec<Option<String>>,
    /// The input columns (features, or channels on axis 1) the exported model reads, for an
    /// input gate: it takes the full input rows and drops the other columns first.
    pub inputs_kept: Option<Vec<i64>>,
    /// Numbers in the parameters of the model as loaded.
    pub parameters_before: i64,
    /// Numbers in the parameters of the exported model.
    pub parameters_after: i64,
    /// Bytes of the model's file(s) as loaded.
    pub bytes_before: u64,
    /// Bytes of the exported file(s).
    pub bytes_after: u64,
}

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

    /// Writes the model without gates and without the units they dropped (see
    /// [`export_paths`] for the files), and says what it removed.
    ///
    /// Per gate layer, in the model's order: the *carrier* is the first parameter after the
    /// previous gate's carrier (for stage files, in the next stage) that reads that many units
    /// on axis 1 (a Linear weight `[out, D]` or a Conv weight `[out, C, ...]`); it keeps the
    /// columns of the kept units, scaled by their inference gate. The *producer* is the last
    /// weight before the carrier (from the previous carrier on; for stage files, in this stage)
    /// that writes that many units on axis 0; it keeps their rows, and so do its bias and the
    /// weight, bias, running mean and variance of the BatchNorm that follows it. An input gate
    /// has no producer: the model is wrapped to read only the kept input columns.
    ///
    /// A gate that drops every unit keeps one, read with a zero column (PyTorch has no layer of
    /// zero units).
    ///
    /// This equals the gated model when the gated units come straight from the producer (through
    /// BatchNorm, ReLU or pooling) and go straight into the carrier; the export checks it on the
    /// rows `probe` and refuses with an error when the outputs differ (a residual sum between
    /// them, for instance).
    ///
    /// [`export_paths`]: GatedScript::export_paths
    pub fn export_pruned(&self, out: impl AsRef<Path>, probe: &Tensor) -> Result<PrunedExport> {
        let mut modules = self
            .paths
            .iter()
            .map(|p| ScriptSurgery::load(p))
            .collect::<Result<Vec<_>>>()?;
        // The copies get the current (possibly fine-tuned) weights.
        for ((live, module), path) in self.modules.iter().zip(&mut modules).zip(&self.paths) {
            let weights = live
                .named_parameters()
                .map_err(|e| script_error(path, "parameters", e))?;
            for (name, value) in weights {
                module.set(&name, &value.detach())?;
            }
        }
        let parameters_before = parameter_count(&modules)?;
        let mut plan = Plan::new(&modules, &self.paths, self.layout == Layout::StageFiles)?;
        let mut carriers = Vec::new();
        let mut producers = Vec::new();
        let mut inputs_kept = None;
        for (j, (g, name)) in self.gates.iter().zip(self.gate_names()).enumerate() {
            let z = g
                .inference_gate()
                .detach()
                .to_device(Device::Cpu)
                .to_kind(Kind::Double);
            let z = Vec::<f64>::try_from(&z.reshape([-1]))?;
            let mut keep: Vec<i64> = (0..z.len() as i64)
                .filter(|u| z[*u as usize] != 0.0)
                .collect();
            if keep.is_empty() {
                // Layers of zero units are not valid in PyTorch: a gate that drops every unit
                // leaves its first, which the carrier reads with a zero column.
                keep.push(0);
            }
            let scale: Vec<f64> = keep.iter().map(|u| z[*u as usize]).collect();
            let carrier = plan.carrier(&modules, j, g.units(), &name)?;
            if self.layout == Layout::Input {
                inputs_kept = Some(keep.clone());
                producers.push(None);
            } else {
                let producer = plan.producer(&mut modules, j, carrier, g.units(), &keep, &name)?;
                producers.push(Some(plan.label(producer)));
            }
            plan.keep_columns(&mut modules, carrier, &keep, &scale)?;
            carriers.push(plan.label(carrier));
            plan.previous = Some(carrier);
        }
        if let Some(keep) = &inputs_kept {
            modules[0] = modules[0].select_inputs(keep)?;
        }
        let parameters_after = parameter_count(&modules)?;
        let files = self.export_paths(out);
        for (module, file) in modules.iter().zip(&files) {
            module.save(file)?;
        }
        self.check_export(&files, probe, &carriers)?;
        let bytes = |paths: &[PathBuf]| -> u64 {
            paths
                .iter()
                .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
                .sum()
        };
        Ok(PrunedExport {
            carriers,
            producers,
            inputs_kept,
            parameters_before,
            parameters_after,
            bytes_before: bytes(&self.paths),
            bytes_after: bytes(&files),
        })
    }

    /// Checks that the exported `files` compute the gated model on `probe`; removes them and
    /// errs when they do not.
    fn check_export(&self, files: &[PathBuf], probe: &Tensor, carriers: &[String]) -> Result<()> {
        let device = self.vs.device();
        let gated = tch::no_grad(|| self.forward(probe, false))?;
        let mut pruned = self.shaped(probe)?;
        for file in files {
            let mut module = tch::CModule::load_on_device(file, device)
                .map_err(|e| script_error(file, "reload the export", e))?;
            module.set_eval();
            pruned = tch::no_grad(|| module.forward_ts(&[&pruned]))
                .map_err(|e| script_error(file, "forward of the pruned model", e))?;
        }
        let scale = 1.0 + gated.abs().max().double_value(&[]);
        let diff = if pruned.size() == gated.size() {
            (&gated - &pruned).abs().max().double_value(&[])
        } else {
            f64::NAN
        };
        // NaN differences count as differences.
        if diff.is_nan() || diff > 1e-5 * scale {
            for file in files {
                let _ = std::fs::remove_file(file);
            }
            return Err(script_error(
                &self.paths[0],
                "export",
                format!(
                    "the pruned model's outputs differ from the gated model's by {diff:.3e}: the gated units do not go straight from the layer that writes them into {}",
                    carriers.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// Numbers in the parameters of `modules`.
fn parameter_count(modules: &[ScriptSurgery]) -> Result<i64> {
    let mut n = 0;
    for m in modules {
        for name in m.parameter_names()? {
            n += m.get(&name)?.numel() as i64;
        }
    }
    Ok(n)
}

/// Every parameter of the modules in the model's order, and where the next gate's search
/// starts.
struct Plan {
    /// (module, parameter name), in the model's order.
    order: Vec<(usize, String)>,
    /// The file of each module.
    paths: Vec<PathBuf>,
    /// Stage files: gate `j`'s producer is in module `j`, its carrier in module `j + 1`.
    stage_files: bool,
    /// Index in `order` of the previous gate's carrier (set once a gate is done).
    previous: Option<usize>,
    /// Normalisation layers (module, path) already cut for an earlier gate.
    norms_taken: Vec<(usize, String)>,
}

impl Plan {
    fn new(modules: &[ScriptSurgery], paths: &[PathBuf], stage_files: bool) -> Result<Plan> {
        let mut order = Vec::new();
        for (k, m) in modules.iter().enumerate() {
            order.extend(m.parameter_names()?.into_iter().map(|n| (k, n)));
        }
        Ok(Plan {
            order,
            paths: paths.to_vec(),
            stage_files,
            previous: None,
            norms_taken: Vec::new(),
        })
    }

    fn size(&self, modules: &[ScriptSurgery], i: usize) -> Result<Vec<i64>> {
        let (k, name) = &self.order[i];
        Ok(modules[*k].get(name)?.size())
    }

    /// The parameter `i` as reports name it.
    fn label(&self, i: usize) -> String {
        let (k, name) = &self.order[i];
        if self.stage_files {
            let path = &self.paths[*k];
            let file = path.file_name().unwrap_or(path.as_os_str());
            format!("{}:{name}", file.to_string_lossy())
        } else {
            name.clone()
        }
    }

    /// Gate `j`'s carrier: the first weight after the previous one that reads `units` on axis 1.
    fn carrier(
        &self,
        modules: &[ScriptSurgery],
        j: usize,
        units: i64,
        gate: &str,
    ) -> Result<usize> {
        let from = self.previous.map_or(0, |p| p + 1);
        for i in from..self.order.len() {
            if self.stage_files && self.order[i].0 != j + 1 {
                continue;
            }
            let size = self.size(modules, i)?;
            if size.len() >= 2 && size[1] == units {
                return Ok(i);
            }
        }
        Err(script_error(
            &self.paths[0],
            "export",
            format!(
                "no parameter after the previous gate's reads the {units} units of gate {gate} on axis 1"
            ),
        ))
    }

    /// Gate `j`'s producer (the last weight before `carrier`, from the previous gate's carrier
    /// on, that writes `units` rows), with its rows, its bias and the entries of the
    /// normalisation layer after it ([`Plan::norm_after`]) cut to `keep`.
    fn producer(
        &mut self,
        modules: &mut [ScriptSurgery],
        j: usize,
        carrier: usize,
        units: i64,
        keep: &[i64],
        gate: &str,
    ) -> Result<usize> {
        // From the previous gate's carrier on: it may write this gate's units (a conv between
        // two gates).
        let lo = self.previous.unwrap_or(0);
        let mut producer = None;
        for i in (lo..carrier).rev() {
            if self.stage_files && self.order[i].0 != j {
                continue;
            }
            let size = self.size(modules, i)?;
            if size.len() >= 2 && size[0] == units {
                producer = Some(i);
                break;
            }
        }
        let Some(p) = producer else {
            return Err(script_error(
                &self.paths[self.order[carrier].0],
                "export",
                format!(
                    "no layer before {} writes the {units} units of gate {gate} on axis 0",
                    self.order[carrier].1
                ),
            ));
        };
        let keep = Tensor::from_slice(keep);
        let k = self.order[p].0;
        let name = self.order[p].1.clone();
        cut_rows(&mut modules[k], &name, &keep)?;
        let bias = format!("{}.bias", prefix(&name));
        if self.order.iter().any(|(ki, n)| *ki == k && *n == bias) {
            cut_rows(&mut modules[k], &bias, &keep)?;
        }
        if let Some(norm) = self.norm_after(modules, p, units)? {
            self.norms_taken.push((k, norm.clone()));
            let mut names: Vec<String> = self
                .order
                .iter()
                .filter(|(ki, _)| *ki == k)
                .map(|(_, n)| n.clone())
                .collect();
            names.extend(modules[k].buffer_names()?);
            for n in names.iter().filter(|n| prefix(n) == norm) {
                if modules[k].get(n)?.size() == [units] {
                    cut_rows(&mut modules[k], n, &keep)?;
                }
            }
        }
        Ok(p)
    }

    /// The normalisation layer (a module with a `running_mean` buffer of `units` values, not
    /// taken by an earlier gate) that follows the producer `p`: the first after it in the order
    /// of the parameters, else the first at all (registration order need not follow the data;
    /// the export's check catches a wrong guess).
    fn norm_after(
        &self,
        modules: &[ScriptSurgery],
        p: usize,
        units: i64,
    ) -> Result<Option<String>> {
        let k = self.order[p].0;
        let mut candidates = Vec::new();
        for b in modules[k].buffer_names()? {
            let q = prefix(&b).to_string();
            if b.ends_with(".running_mean")
                && modules[k].get(&b)?.size() == [units]
                && !self.norms_taken.contains(&(k, q.clone()))
            {
                candidates.push(q);
            }
        }
        let position = |q: &str| {
            self.order
                .iter()
                .position(|(ki, n)| *ki == k && prefix(n) == q)
        };
        let after = candidates
            .iter()
            .find(|q| position(q).is_some_and(|i| i > p))
            .cloned();
        Ok(after.or_else(|| candidates.first().cloned()))
    }

    /// The carrier keeps the columns `keep` (axis 1), scaled by `scale`.
    fn keep_columns(
        &self,
        modules: &mut [ScriptSurgery],
        carrier: usize,
        keep: &[i64],
        scale: &[f64],
    ) -> Result<()> {
        let (k, name) = &self.order[carrier];
        let w = modules[*k].get(name)?;
        let mut shape = vec![1, keep.len() as i64];
        shape.extend(std::iter::repeat_n(1, w.dim() - 2));
        let z = Tensor::from_slice(scale)
            .to_kind(w.kind())
            .view(shape.as_slice());
        let cut = w.index_select(1, &Tensor::from_slice(keep)) * z;
        modules[*k].set(name, &cut)
    }
}

/// The module path of a parameter or buffer name (`layer1.0.bn1` of `layer1.0.bn1.weight`).
fn prefix(name: &str) -> &str {
    name.rsplit_once('.').map_or("", |(p, _)| p)
}

/// `name` keeps the rows `keep` (axis 0).
fn cut_rows(module: &mut ScriptSurgery, name: &str, keep: &Tensor) -> Result<()> {
    let t = module.get(name)?;
    module.set(name, &t.index_select(0, keep))
}
