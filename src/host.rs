//! Copying small tensors to the host as typed values, with a typed error instead of an empty
//! result. Gates, models and training all read values back this way.

use crate::{Error, Result};
use tch::{Kind, Tensor};

/// Copies a small tensor to the host as `f64` values (one device sync).
pub fn to_f64(t: &Tensor) -> Result<Vec<f64>> {
    read_back(
        &t.to_kind(Kind::Double)
            .to_device(tch::Device::Cpu)
            .flatten(0, -1),
        "values",
    )
}

/// The values of a 1-D tensor as `T`; [`Error::ReadBack`] naming `what` when it is not 1-D or
/// cannot be copied (never an empty vector in place of the values).
pub fn read_back<T: tch::kind::Element + Copy>(t: &Tensor, what: &str) -> Result<Vec<T>> {
    Vec::<T>::try_from(t).map_err(|error| Error::ReadBack {
        what: what.to_string(),
        error,
    })
}
