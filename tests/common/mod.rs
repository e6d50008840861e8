//! Helpers shared by the test files that run the `stog` binary.
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
