//! JSON files, written whole (to a temporary file, then renamed, so a reader never sees half) and
//! read back as types.

use crate::{Error, Result};
use serde::Serialize;
use std::path::Path;

/// Writes `value` as pretty JSON to `path`.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|error| Error::Json {
        path: path.to_path_buf(),
        error,
    })?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Reads the JSON document at `path` as a `T`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|error| Error::Json {
        path: path.to_path_buf(),
        error,
    })
}

/// Reads back a number that JSON wrote as `null` because it was NaN (serde_json writes NaN so):
/// a statistic of no values, a failed run's loss, a standard error of one value.
pub(super) fn nan_as_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(d)?.unwrap_or(f64::NAN))
}
