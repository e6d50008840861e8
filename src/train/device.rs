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

/// Training rows x features up to which a CPU fit runs on one intra-op thread: libtorch's
/// OpenMP workers spin while they wait, and on the fits measured (README "Threads", up to
/// 12,000 training rows x 500 features, the value of this constant) one thread was faster
/// than two, in wall time and far more in CPU time.
pub const ONE_THREAD_UP_TO: usize = 6_000_000;

/// The intra-op threads for a CPU fit on `rows` training rows of `features` values each, with
/// `cores` cores: one up to [`ONE_THREAD_UP_TO`] values, else every core.
pub fn threads_for(rows: usize, features: usize, cores: usize) -> usize {
    if rows.saturating_mul(features) <= ONE_THREAD_UP_TO {
        1
    } else {
        cores.max(1)
    }
}

/// Parses `--threads`: `auto` or `0` (`None`: choose from the work with [`threads_for`]), or a
/// number of threads.
pub fn parse_threads(s: &str) -> Result<Option<usize>> {
    match s.trim() {
        "auto" | "0" => Ok(None),
        n => n.parse::<usize>().map(Some).map_err(|_| {
            Error::config(
                "threads",
                format!("`{s}`: expected auto, 0 or a number of threads"),
            )
        }),
    }
}

/// Sets libtorch's intra-op threads for a fit on `rows x features` on `device`: `threads`, or
/// when `None` the rule of [`threads_for`] over the machine's cores (on a GPU libtorch's default
/// is kept). Returns libtorch's intra-op threads afterwards.
pub fn set_threads(threads: Option<usize>, rows: usize, features: usize, device: Device) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match (threads, device) {
        (Some(n), _) => tch::set_num_threads(n.max(1) as i32),
        (None, Device::Cpu) => tch::set_num_threads(threads_for(rows, features, cores) as i32),
        (None, _) => {}
    }
    tch::get_num_threads().max(1) as usize
}

/// A short name of a device for logs and results.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => match tch::get_num_threads() {
            1 => "cpu (1 thread)".to_string(),
            n => format!("cpu ({n} threads)"),
        },
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}"),
    }
}
