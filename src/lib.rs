//! # stog: stochastic gates for feature selection and channel reduction, on libtorch
//!
//! Gate layers ([`gates`]) multiply input features or hidden channels by learnable random gates
//! and add a sparsity penalty; after training, units whose inference gate is exactly 0 are not
//! used. See the README for the CLI and `SPEC.md`-level semantics in each gate's docs.

pub mod data;
mod error;
pub mod gates;

pub use error::{Error, Result};
