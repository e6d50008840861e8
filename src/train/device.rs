//! Choosing the compute device: `auto` (CUDA when available), `cpu` or `cuda`.

use crate::{Error, Result};
use tch::Device;

/// Parses `auto|cpu|cuda` (or `cuda:N`) into a device; `cuda` without a GPU is an error.
pub fn parse_device(name: &str) -> Result<Device> {
    match name {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" | "gpu" if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        s if s.starts_with("cuda:") && tch::Cuda::is_available() => {
            let i: usize = s[5..]
                .parse()
                .map_err(|_| Error::config("device", format!("`{s}` is not cuda:N")))?;
            if i as i64 >= tch::Cuda::device_count() {
                return Err(Error::config(
                    "device",
                    format!("`{s}`: only {} CUDA device(s)", tch::Cuda::device_count()),
                ));
            }
            Ok(Device::Cuda(i))
        }
        s if s.starts_with("cuda") || s == "gpu" => Err(Error::config(
            "device",
            format!("`{s}` requested but CUDA is not available"),
        )),
        s => Err(Error::config(
            "device",
            format!("unknown device `{s}`; expected auto, cpu or cuda"),
        )),
    }
}

/// A short name of a device for logs and results.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => format!("cpu ({} threads)", tch::get_num_threads()),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}"),
    }
}
