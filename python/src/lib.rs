//! `stog._core`: the extension module under the `stog` Python package. It fits a stog selector on
//! NumPy arrays ([`fit`]), applies it to new rows ([`Fitted`]), saves and loads it, and gates and
//! prunes TorchScript models ([`prune_script`]). The scikit-learn estimators of `stog/` are written
//! in Python over these calls; they validate their input first, and these functions check it again
//! (stog's own checks), so bad input is a `ValueError` either way.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::sync::{Mutex, MutexGuard, PoisonError};
use stog::data::{Table, Task};
use stog::gates::GateConfig;
use stog::ndarray::ArrayView2;
use stog::selector::{FittedSelector, LambdaChoice, Selector, Validation};
use stog::{Device, Error};

mod script;

/// A stog error as the Python exception scikit-learn expects: bad input or settings are
/// `ValueError` (so is a fit that cannot meet what was asked, e.g. a feature budget no point of the
/// path meets), files `OSError`, anything else (libtorch, a diverged fit) `RuntimeError`.
pub(crate) fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::InvalidConfig { .. }
        | Error::GateSpec { .. }
        | Error::Shape { .. }
        | Error::Data { .. }
        | Error::Array { .. }
        | Error::NotApplicable { .. }
        | Error::ModelFormat { .. }
        | Error::Script { .. }
        | Error::Fit { .. } => PyValueError::new_err(message),
        Error::Io { .. } => PyOSError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// The device named `name` (`cpu`, `cuda`, `cuda:N`, `auto`), or a `ValueError`.
pub(crate) fn device(name: &str) -> PyResult<Device> {
    stog::train::parse_device(name).map_err(to_py)
}

/// Runs `f` with libtorch's intra-op threads set as `stog select` sets them for a fit on `rows` x
/// `features` (one thread for small data, where more threads only spin), restoring the process's
/// setting (PyTorch's too: it is the same libtorch) afterwards.
pub(crate) fn with_fit_threads<T>(
    rows: usize,
    features: usize,
    device: Device,
    f: impl FnOnce() -> T,
) -> T {
    stog::exclusive_rng(|| {
        let before = tch_threads();
        stog::train::set_threads(None, rows, features, device);
        let out = f();
        stog::tch::set_num_threads(before);
        out
    })
}

fn tch_threads() -> i32 {
    stog::tch::get_num_threads().max(1)
}

/// A feature matrix as float64 or float32 NumPy array.
enum Features<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

impl<'py> Features<'py> {
    fn extract(x: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(a) = x.extract::<PyReadonlyArray2<f64>>() {
            return Ok(Features::F64(a));
        }
        if let Ok(a) = x.extract::<PyReadonlyArray2<f32>>() {
            return Ok(Features::F32(a));
        }
        Err(PyTypeError::new_err(
            "x must be a 2-D NumPy array of float64 or float32",
        ))
    }

    fn table(&self, y: ArrayView1, task: Task) -> stog::Result<Table> {
        match self {
            Features::F64(a) => Table::from_arrays(a.as_array(), y, task),
            Features::F32(a) => Table::from_arrays(a.as_array(), y, task),
        }
    }
}

type ArrayView1<'a> = stog::ndarray::ArrayView1<'a, f64>;

/// Fits a selector on `x` (`n x d`, float64 or float32) and `y` (class indices `0..K-1` as
/// floats for `classification`, values for `regression`).
///
/// `lambda_`: a fixed penalty, or `None` for the automatic path; `hidden`: the network's layer
/// sizes (empty: a linear model), or `None` for the automatic choice between a `64, 32` network
/// and a linear model; `validation`: `"auto"`, `"holdout"` or a number of folds as text.
#[pyfunction]
#[pyo3(signature = (x, y, task, *, gate, lambda_, max_features, hidden, validation, epochs, device, seed, feature_names=None))]
#[allow(clippy::too_many_arguments)]
fn fit(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: PyReadonlyArray1<'_, f64>,
    task: &str,
    gate: &str,
    lambda_: Option<f64>,
    max_features: Option<usize>,
    hidden: Option<Vec<i64>>,
    validation: &str,
    epochs: usize,
    device: &str,
    seed: u64,
    feature_names: Option<Vec<String>>,
) -> PyResult<Fitted> {
    let task: Task = task.parse().map_err(to_py)?;
    let gate: GateConfig = gate.parse().map_err(to_py)?;
    let mut params = Selector::params().gate(gate).epochs(epochs).seed(seed);
    if let Some(h) = hidden {
        params = params.hidden(h);
    }
    params.lambda = match lambda_ {
        Some(l) => LambdaChoice::Fixed(l),
        None => LambdaChoice::Auto,
    };
    params.max_features = max_features;
    params.validation = match validation {
        "auto" => Validation::Auto,
        "holdout" => Validation::Holdout,
        k => Validation::Folds(k.parse().map_err(|_| {
            PyValueError::new_err(format!(
                "validation `{k}`: expected \"auto\", \"holdout\" or a number of folds"
            ))
        })?),
    };
    params.validate().map_err(to_py)?;
    let device = self::device(device)?;
    let features = Features::extract(x)?;
    let mut table = features.table(y.as_array(), task).map_err(to_py)?;
    if let Some(names) = feature_names {
        table = table.with_feature_names(names).map_err(to_py)?;
    }
    let (rows, d) = (table.n_rows(), table.n_features());
    // The fit runs without the GIL: other Python threads go on meanwhile.
    let fitted =
        py.detach(move || with_fit_threads(rows, d, device, || params.fit_table(&table, device)));
    Ok(Fitted::new(fitted.map_err(to_py)?))
}

/// Reads a selector saved by [`Fitted::save`] (or `stog select --out-dir`) onto `device`.
#[pyfunction]
fn load(dir: std::path::PathBuf, device: &str) -> PyResult<Fitted> {
    let device = self::device(device)?;
    Ok(Fitted::new(
        FittedSelector::load(dir, device).map_err(to_py)?,
    ))
}

/// Whether `device` names a device this process can use (`cpu`, `cuda`, `cuda:N`, `auto`).
#[pyfunction]
fn device_available(name: &str) -> bool {
    stog::train::parse_device(name).is_ok()
}

/// A fitted selector: what it kept, and its inference network applied to new rows. libtorch's
/// tensors may not be used from two threads at once, so calls from several Python threads take
/// turns.
#[pyclass(module = "stog._core", frozen)]
struct Fitted {
    inner: Mutex<FittedSelector>,
}

impl Fitted {
    fn new(inner: FittedSelector) -> Fitted {
        Fitted {
            inner: Mutex::new(inner),
        }
    }

    fn get(&self) -> MutexGuard<'_, FittedSelector> {
        // A call that panicked changed nothing in the model: its state is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl Fitted {
    /// One bool per feature: whether it is kept.
    fn support(&self) -> Vec<bool> {
        self.get().support()
    }

    /// Indices of the kept features, increasing.
    fn selected(&self) -> Vec<usize> {
        self.get().selected()
    }

    /// Per feature, the gate's open probability; exactly 0 for a dropped feature.
    fn importance(&self) -> Vec<f64> {
        self.get().importance().to_vec()
    }

    /// Per feature, the fraction of the cross-validation folds whose model at the chosen point
    /// keeps it; `None` when lambda was not chosen by cross-validation.
    fn stability(&self) -> Option<Vec<f64>> {
        self.get().stability().map(<[f64]>::to_vec)
    }

    /// The class indices the model was fitted on (empty for regression).
    fn classes(&self) -> Vec<i64> {
        self.get().classes().to_vec()
    }

    /// The names of the features, as the model records them.
    fn feature_names(&self) -> Vec<String> {
        self.get().feature_names().to_vec()
    }

    /// The lambda of the final model (chosen by the path, or the fixed one).
    fn chosen_lambda(&self) -> f64 {
        self.get().info.lambda
    }

    /// The hidden layer sizes of the final network (empty: a linear model).
    fn hidden(&self) -> Vec<i64> {
        self.get().info.network.hidden.clone()
    }

    /// Predictions for `x` (float64, `n x d`): class indices (as floats) or values.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let out = self.get().predict(x.as_array()).map_err(to_py)?;
        Ok(out.into_pyarray(py))
    }

    /// Class probabilities for `x`: one column per class, in the order of `classes()`.
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let out = self.get().predict_proba(x.as_array()).map_err(to_py)?;
        Ok(out.into_pyarray(py))
    }

    /// The kept columns of `x`, in feature order.
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let view: ArrayView2<f64> = x.as_array();
        let out = self.get().transform(view).map_err(to_py)?;
        Ok(out.into_pyarray(py))
    }

    /// Writes `dir/selector.json` and `dir/model.safetensors` (as `stog select` does).
    fn save(&self, dir: std::path::PathBuf) -> PyResult<()> {
        self.get().save(dir).map_err(to_py)
    }
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(device_available, m)?)?;
    m.add_class::<Fitted>()?;
    script::register(m)?;
    Ok(())
}
