//! Helpers shared by the test files: temporary folders, the `stog` binary, and the lock that
//! runs tests touching libtorch's process-wide state one at a time.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// A fresh (removed) temporary folder for test `name` of the file `file`, unique to this process.
pub fn tmp(file: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stog-{file}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the `stog` binary with `args` on one thread: its exit code and its stdout + stderr.
pub fn stog(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stog"))
        .env("OMP_NUM_THREADS", "1")
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Runs the tests of a file that draw from libtorch's random generator or train one at a time,
/// on one intra-op thread. The generator is process-wide and a file's tests run on parallel
/// threads: a draw of one test would otherwise land between another's seed and its draws. One
/// thread: small models gain nothing from more, and on a busy machine libtorch's spinning
/// threads are very slow.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    guard
}

/// A `.npy` file: version 1 header with `descr`, `fortran` and `shape`, then `data`.
pub fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let order = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// Little-endian float64 bytes of `v`, the values of a `<f8` array.
pub fn f8(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
