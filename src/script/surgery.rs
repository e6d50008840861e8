//! TorchScript module surgery that tch does not expose (`cpp/surgery.cpp`, compiled by
//! `build.rs` against the same libtorch): parameters and buffers read and replaced by name with
//! another shape, and a wrapper that feeds a module only some input columns. The physical
//! pruning of [`super::GatedScript::export_pruned`] is made of these.

use crate::{Error, Result};
use std::ffi::{CStr, CString, c_char, c_void};
use std::path::{Path, PathBuf};
use tch::Tensor;

unsafe extern "C" {
    fn stog_free_string(s: *mut c_char);
    fn stog_module_load(path: *const c_char, err: *mut *mut c_char) -> *mut c_void;
    fn stog_module_free(m: *mut c_void);
    fn stog_module_save(m: *mut c_void, path: *const c_char, err: *mut *mut c_char) -> i32;
    fn stog_module_names(m: *mut c_void, buffers: i32, err: *mut *mut c_char) -> *mut c_char;
    fn stog_module_get(m: *mut c_void, name: *const c_char, err: *mut *mut c_char) -> *mut c_void;
    fn stog_module_set(
        m: *mut c_void,
        name: *const c_char,
        value: *const c_void,
        err: *mut *mut c_char,
    ) -> i32;
    fn stog_module_gate_links(
        m: *mut c_void,
        method: *const c_char,
        gate: i64,
        err: *mut *mut c_char,
    ) -> *mut c_char;
    fn stog_module_select_inputs(
        m: *mut c_void,
        keep: *const c_void,
        err: *mut *mut c_char,
    ) -> *mut c_void;
}

/// Where, in a TorchScript graph, to look for a gate's layers ([`ScriptSurgery::gate_links`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateSite {
    /// The gate vector `gates[i]` of the gate protocol's `forward_gates`: what it multiplies,
    /// and what reads the product.
    Protocol(usize),
    /// The method's return value (the stage before a gate).
    Output,
    /// The method's input (the stage or model after a gate).
    Input,
}

/// One write of a gate's units, read back from a product by the gate: the layer whose output
/// rows it multiplies, through channel-wise ops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateWriter {
    /// The weight (`layer1.0.conv1.weight`) that writes the units on axis 0.
    pub producer: Option<String>,
    /// The producer's bias.
    pub bias: Option<String>,
    /// BatchNorm layers between the producer and the gate.
    pub norms: Vec<String>,
    /// What the search back from the gate reached instead of a layer (the model's input, a
    /// residual sum).
    pub source: Option<String>,
}

/// The layers around a gate, read from the TorchScript graph (calls inlined): the layers that
/// write its units, the layers that read them, and what else the units reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateLinks {
    /// Each write of the units: one for a gate between two layers, one per layer that writes a
    /// residual stream when the model multiplies every such write by the same gate.
    pub writers: Vec<GateWriter>,
    /// The weights that read the units on axis 1 (through ops that commute with the gate, and
    /// sums of gated units).
    pub carriers: Vec<String>,
    /// Ops the units reach that are not a layer and do not commute with the gate (a sum with an
    /// ungated operand, a BatchNorm after the gate, the method's return).
    pub blocked: Vec<String>,
}

/// A TorchScript module loaded (on the CPU) for surgery.
#[derive(Debug)]
pub struct ScriptSurgery {
    module: *mut c_void,
    /// Where it was loaded from, for errors.
    path: PathBuf,
}

impl Drop for ScriptSurgery {
    fn drop(&mut self) {
        // SAFETY: `module` came from stog_module_load or stog_module_select_inputs and is freed
        // once, here.
        unsafe { stog_module_free(self.module) }
    }
}

/// The C string of `s`, or an error naming `what`.
fn c_string(s: &str, what: &str, path: &Path) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Script {
        model: path.to_path_buf(),
        reason: format!("{what} `{s}` holds a NUL byte"),
    })
}

impl ScriptSurgery {
    /// Loads the TorchScript module saved at `path`.
    pub fn load(path: &Path) -> Result<ScriptSurgery> {
        let c = c_string(&path.to_string_lossy(), "path", path)?;
        let module = call(path, "load", |err| unsafe {
            stog_module_load(c.as_ptr(), err)
        })?;
        Ok(ScriptSurgery {
            module,
            path: path.to_path_buf(),
        })
    }

    /// Saves the module to `path` (loadable by `torch.jit.load`).
    pub fn save(&self, path: &Path) -> Result<()> {
        let c = c_string(&path.to_string_lossy(), "path", path)?;
        call_status(&self.path, "save", |err| unsafe {
            stog_module_save(self.module, c.as_ptr(), err)
        })
    }

    /// Names of the parameters, submodules included, in the module's order.
    pub fn parameter_names(&self) -> Result<Vec<String>> {
        self.names(0)
    }

    /// Names of the buffers (BatchNorm's running statistics, ...), in the module's order.
    pub fn buffer_names(&self) -> Result<Vec<String>> {
        self.names(1)
    }

    fn names(&self, buffers: i32) -> Result<Vec<String>> {
        let text = call(&self.path, "names", |err| unsafe {
            stog_module_names(self.module, buffers, err)
        })?;
        // SAFETY: a NUL-terminated string from dup(), freed once after copying.
        let names = unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned();
        unsafe { stog_free_string(text) };
        Ok(names.lines().map(str::to_string).collect())
    }

    /// Whether the module has a parameter or buffer `name`.
    pub fn has(&self, name: &str) -> Result<bool> {
        Ok(self.parameter_names()?.iter().any(|n| n == name)
            || self.buffer_names()?.iter().any(|n| n == name))
    }

    /// The tensor of the parameter or buffer `name` (it shares the module's storage).
    pub fn get(&self, name: &str) -> Result<Tensor> {
        let c = c_string(name, "attribute", &self.path)?;
        let t = call(&self.path, &format!("read {name}"), |err| unsafe {
            stog_module_get(self.module, c.as_ptr(), err)
        })?;
        // SAFETY: a heap `torch::Tensor*`, as tch's own; the Tensor owns and frees it.
        Ok(unsafe { Tensor::from_ptr(t.cast()) })
    }

    /// Replaces the parameter or buffer `name` by `value`, which may have another shape.
    pub fn set(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let c = c_string(name, "attribute", &self.path)?;
        let value = value.to_device(tch::Device::Cpu).contiguous();
        call_status(&self.path, &format!("replace {name}"), |err| unsafe {
            stog_module_set(self.module, c.as_ptr(), value.as_ptr().cast(), err)
        })
    }

    /// The layers around the gate at `site` of `method`, from its inlined graph.
    pub fn gate_links(&self, method: &str, site: GateSite) -> Result<GateLinks> {
        let c = c_string(method, "method", &self.path)?;
        let gate = match site {
            GateSite::Protocol(i) => i as i64,
            GateSite::Output => -1,
            GateSite::Input => -2,
        };
        let text = call(&self.path, &format!("trace {method}"), |err| unsafe {
            stog_module_gate_links(self.module, c.as_ptr(), gate, err)
        })?;
        // SAFETY: a NUL-terminated string from dup(), freed once after copying.
        let lines = unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned();
        unsafe { stog_free_string(text) };
        let mut links = GateLinks::default();
        for line in lines.lines() {
            if line == "site" {
                links.writers.push(GateWriter::default());
                continue;
            }
            let Some((role, what)) = line.split_once(' ') else {
                continue;
            };
            let what = what.to_string();
            match (role, links.writers.last_mut()) {
                ("producer", Some(w)) => w.producer = Some(what),
                ("bias", Some(w)) => w.bias = Some(what),
                ("norm", Some(w)) if !w.norms.contains(&what) => w.norms.push(what),
                ("none", Some(w)) => w.source = Some(what),
                ("carrier", _) if !links.carriers.contains(&what) => links.carriers.push(what),
                ("blocked", _) if !links.blocked.contains(&what) => links.blocked.push(what),
                _ => {}
            }
        }
        // A layer whose output the model multiplies by the gate twice is one writer.
        let mut seen = Vec::new();
        links.writers.retain(|w| {
            w.producer.is_none() || {
                let new = !seen.contains(&w.producer);
                seen.push(w.producer.clone());
                new
            }
        });
        Ok(links)
    }

    /// A module that reads only the columns `keep` (on axis 1) of its input and hands them to
    /// this one: `forward(x) = self(x.index_select(1, keep))`.
    pub fn select_inputs(&self, keep: &[i64]) -> Result<ScriptSurgery> {
        let keep = Tensor::from_slice(keep);
        let module = call(&self.path, "wrap", |err| unsafe {
            stog_module_select_inputs(self.module, keep.as_ptr().cast(), err)
        })?;
        Ok(ScriptSurgery {
            module,
            path: self.path.clone(),
        })
    }
}

/// Runs `f`, which returns a pointer or null with a message in its error slot.
fn call<T>(path: &Path, what: &str, f: impl FnOnce(*mut *mut c_char) -> *mut T) -> Result<*mut T> {
    let mut err: *mut c_char = std::ptr::null_mut();
    let out = f(&mut err);
    if out.is_null() {
        return Err(error(path, what, err));
    }
    Ok(out)
}

/// Runs `f`, which returns 0, or not 0 with a message in its error slot.
fn call_status(path: &Path, what: &str, f: impl FnOnce(*mut *mut c_char) -> i32) -> Result<()> {
    let mut err: *mut c_char = std::ptr::null_mut();
    match f(&mut err) {
        0 => Ok(()),
        _ => Err(error(path, what, err)),
    }
}

fn error(path: &Path, what: &str, err: *mut c_char) -> Error {
    let reason = if err.is_null() {
        "failed without a message".to_string()
    } else {
        // SAFETY: set by dup() in the C++ side, freed once after copying.
        let text = unsafe { CStr::from_ptr(err) }
            .to_string_lossy()
            .into_owned();
        unsafe { stog_free_string(err) };
        text.trim().to_string()
    };
    super::script_error(path, what, reason)
}
