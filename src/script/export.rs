//! Exporting a [`GatedScript`] without its gates and without the units they dropped: the layers
//! that write a dropped unit lose its output rows (with their bias and a following BatchNorm's
//! entries), the layers that read it lose its input columns, and kept columns carry their gate's
//! scale. Which layers those are is read from the TorchScript graph ([`ScriptSurgery::gate_links`]),
//! so that layers of equal widths (a ResNet's) are told apart by the data flow, not by their
//! shapes; a gate multiplied into every write of a residual stream cuts all its writers and
//! readers alike. An input gate exports a model that takes the full input rows and drops the unused
//! columns first. The export is checked against the gated model.

use super::surgery::{GateLinks, GateSite, GateWriter, ScriptSurgery};
use super::{GatedScript, Layout, script_error};
use crate::Result;
use crate::report::PrunedExport;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

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
    /// For each gate layer the TorchScript graph says (calls inlined): the *producer*, the layer
    /// (Conv or Linear) whose output the gate multiplies, through channel-wise ops (BatchNorm,
    /// activations, pooling); and the *carriers*, the layers that read the gated units, through
    /// ops that commute with a gate in [0, 1] (ReLU, pooling, global means). The producer keeps
    /// the rows of the kept units, with its bias and the BatchNorms on the way; the carriers keep
    /// their columns, scaled by the inference gate. An input gate has no producer: the model is
    /// wrapped to read only the kept input columns. A gate that drops every unit keeps one, read
    /// with a zero column (PyTorch has no layer of zero units).
    ///
    /// A gate on a residual stream is one gate that the model multiplies into every write of the
    /// stream (the stem's output, each block's last BatchNorm and downsample, before the sums):
    /// each product has its producer, all cut alike (the coupled group's writers), and the units
    /// go on through the sums of gated operands to the carriers (each block's first conv and
    /// downsample conv, the head). Every value of the stream is then the gate times what the
    /// pruned writers compute, so the gate folds into the carriers as for one producer.
    ///
    /// Where the units reach anything else (a sum with an ungated operand, a BatchNorm after the
    /// gate) the export is refused with an error naming it, and so it is when the pruned model's
    /// outputs differ from the gated model's on the rows `probe`; no file is then left.
    ///
    /// [`export_paths`]: GatedScript::export_paths
    pub fn export_pruned(&self, out: impl AsRef<Path>, probe: &Tensor) -> Result<PrunedExport> {
        let out = out.as_ref();
        let mut modules = self.live_copies(out)?;
        let parameters_before = parameter_count(&modules)?;
        let mut carriers = Vec::new();
        let mut producers = Vec::new();
        let mut stream_writers = Vec::new();
        let mut norms = Vec::new();
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
                keep.push(0);
            }
            let scale: Vec<f64> = keep.iter().map(|u| z[*u as usize]).collect();
            let (before, after, links) = self.links(&modules, j)?;
            let path = &self.paths[after];
            let refuse = |why: String| script_error(path, "export", format!("gate {name}: {why}"));
            if !links.blocked.is_empty() {
                return Err(refuse(format!(
                    "its units reach {} besides the layers that read them (a sum with an operand \
                     the gate does not multiply, or a BatchNorm after the gate, cannot lose \
                     channels; to gate a residual stream, multiply every write into it, before \
                     the sums, by the same gate)",
                    links.blocked.join(", ")
                )));
            }
            if links.carriers.is_empty() {
                return Err(refuse("no Linear or Conv layer reads its units".into()));
            }
            let keep_t = Tensor::from_slice(&keep);
            let mut writers = Vec::new();
            let mut gate_norms = Vec::new();
            if self.layout == Layout::Input {
                inputs_kept = Some(keep.clone());
            } else if links.writers.is_empty() {
                return Err(refuse("no Linear or Conv layer writes its units".into()));
            }
            for writer in &links.writers {
                let Some(producer) = &writer.producer else {
                    return Err(refuse(format!(
                        "no Linear or Conv layer writes its units (the search back from the gate \
                         reached {})",
                        writer.source.as_deref().unwrap_or("nothing")
                    )));
                };
                cut_writer(&mut modules[before], producer, writer, &keep_t)?;
                writers.push(self.label(before, producer));
                gate_norms.extend(writer.norms.iter().map(|n| self.label(before, n)));
            }
            producers.push(match writers.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            });
            stream_writers.push(if writers.len() > 1 { writers } else { vec![] });
            norms.push(gate_norms);
            for carrier in &links.carriers {
                keep_columns(&mut modules[after], carrier, &keep, &scale)?;
            }
            carriers.push(
                links
                    .carriers
                    .iter()
                    .map(|c| self.label(after, c))
                    .collect(),
            );
        }
        if stream_writers.iter().all(Vec::is_empty) {
            stream_writers.clear();
        }
        if let Some(keep) = &inputs_kept {
            modules[0] = modules[0].select_inputs(keep)?;
        }
        let parameters_after = parameter_count(&modules)?;
        let files = self.export_paths(out);
        for (module, file) in modules.iter().zip(&files) {
            module.save(file)?;
        }
        let first_carriers: Vec<String> = carriers.iter().flatten().cloned().collect();
        self.check_export(&files, probe, &first_carriers)?;
        let bytes = |paths: &[PathBuf]| -> u64 {
            paths
                .iter()
                .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
                .sum()
        };
        Ok(PrunedExport {
            carriers,
            producers,
            stream_writers,
            norms,
            inputs_kept,
            parameters_before,
            parameters_after,
            bytes_before: bytes(&self.paths),
            bytes_after: bytes(&files),
        })
    }

    /// The modules as they are now, for surgery: their weights and buffers (a fine-tuned
    /// backbone's BatchNorm statistics too) pass through a file beside `out`, which tch's
    /// modules can write and the surgery read.
    fn live_copies(&self, out: &Path) -> Result<Vec<ScriptSurgery>> {
        let dir = out.parent().unwrap_or(Path::new("."));
        self.modules
            .iter()
            .zip(&self.paths)
            .enumerate()
            .map(|(k, (live, path))| {
                let file = dir.join(format!(".stog-live-{}-{k}.pt", std::process::id()));
                live.save(&file)
                    .map_err(|e| script_error(path, "save the fitted model", e))?;
                let copy = ScriptSurgery::load(&file);
                let _ = std::fs::remove_file(&file);
                copy
            })
            .collect()
    }

    /// The layers around gate `j`: the module that writes its units, the module that reads them
    /// (the same but for stage files), and the links the graphs give.
    fn links(&self, modules: &[ScriptSurgery], j: usize) -> Result<(usize, usize, GateLinks)> {
        Ok(match self.layout {
            Layout::Input => (0, 0, modules[0].gate_links("forward", GateSite::Input)?),
            Layout::Protocol => (
                0,
                0,
                modules[0].gate_links("forward_gates", GateSite::Protocol(j))?,
            ),
            Layout::Stages(_) => {
                let back = modules[0].gate_links(&format!("stage{j}"), GateSite::Output)?;
                let forth = modules[0].gate_links(&format!("stage{}", j + 1), GateSite::Input)?;
                (
                    0,
                    0,
                    GateLinks {
                        carriers: forth.carriers,
                        blocked: forth.blocked,
                        ..back
                    },
                )
            }
            Layout::StageFiles => {
                let back = modules[j].gate_links("forward", GateSite::Output)?;
                let forth = modules[j + 1].gate_links("forward", GateSite::Input)?;
                (
                    j,
                    j + 1,
                    GateLinks {
                        carriers: forth.carriers,
                        blocked: forth.blocked,
                        ..back
                    },
                )
            }
        })
    }

    /// The parameter `name` of module `k` as reports name it: `file:name` for stage files.
    fn label(&self, k: usize, name: &str) -> String {
        if self.layout == Layout::StageFiles {
            let path = &self.paths[k];
            let file = path.file_name().unwrap_or(path.as_os_str());
            format!("{}:{name}", file.to_string_lossy())
        } else {
            name.to_string()
        }
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

/// The layer `producer` that writes a gate's units keeps the rows `keep`, with its bias and the
/// entries of the BatchNorms between it and the gate.
fn cut_writer(
    module: &mut ScriptSurgery,
    producer: &str,
    writer: &GateWriter,
    keep: &Tensor,
) -> Result<()> {
    cut_rows(module, producer, keep)?;
    // A layer built with bias=False reads a bias attribute that is None.
    if let Some(bias) = &writer.bias
        && module.has(bias)?
    {
        cut_rows(module, bias, keep)?;
    }
    for norm in &writer.norms {
        for entry in ["weight", "bias", "running_mean", "running_var"] {
            let entry = format!("{norm}.{entry}");
            if module.has(&entry)? {
                cut_rows(module, &entry, keep)?;
            }
        }
    }
    Ok(())
}

/// `name` keeps the rows `keep` (axis 0).
fn cut_rows(module: &mut ScriptSurgery, name: &str, keep: &Tensor) -> Result<()> {
    let t = module.get(name)?;
    module.set(name, &t.index_select(0, keep))
}

/// The weight `name` keeps the columns `keep` (axis 1), scaled by `scale`.
fn keep_columns(module: &mut ScriptSurgery, name: &str, keep: &[i64], scale: &[f64]) -> Result<()> {
    let w = module.get(name)?;
    let mut shape = vec![1, keep.len() as i64];
    shape.extend(std::iter::repeat_n(1, w.dim().saturating_sub(2)));
    let z = Tensor::from_slice(scale)
        .to_kind(w.kind())
        .view(shape.as_slice());
    module.set(name, &(w.index_select(1, &Tensor::from_slice(keep)) * z))
}
