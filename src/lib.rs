//! # stog: stochastic gates for feature selection and channel reduction, on libtorch
//!
//! Gate layers ([`gates`]) multiply input features or hidden channels by learnable random gates
//! and add a sparsity penalty; after training, units whose inference gate is exactly 0 are not
//! used. Each gate's docs give its formula and paper.
//!
//! As a component: build a [`data::Table`] from arrays ([`data::Table::from_arrays`]), fit with
//! [`selector::SelectorParams::fit_table`], then apply the [`selector::FittedSelector`] to new
//! rows (`predict`, `predict_proba`, `transform`, `support`) and save / load it. Fits are
//! serialised per process ([`exclusive_rng`]), so concurrent fits never change each other's
//! results.
//!
//! ## The API
//!
//! - Fit a selector from arrays: [`data::Table::from_arrays`], [`selector::SelectorParams`],
//!   [`selector::FittedSelector`].
//! - Sweep a grid: [`sweep::SweepConfig`], [`sweep::Sweep`], [`sweep::Shard`].
//! - Gate a TorchScript model: [`script`].
//! - Gate layers for your own tch model: [`gates::GateConfig`], [`gates::build_gate`],
//!   [`gates::Gate`]; a gated MLP: [`model::GatedMlp`].
//! - Data readers: [`data::Format`], [`data::Source`], [`data::Table`].

mod allocator;
pub mod data;
mod error;
pub mod gates;
mod host;
pub mod model;
pub mod report;
mod rng;
pub mod script;
pub mod selector;
mod stats;
pub mod sweep;
pub mod train;

pub use allocator::reuse_freed_memory;

pub use error::{Error, Result};
pub use rng::exclusive_rng;

/// The array crate of the component API, re-exported so that a user needs no matching version.
pub use ndarray;
/// tch, re-exported for its `Device` and `Tensor` types.
pub use tch;
/// Where a fit runs: `Device::Cpu`, `Device::Cuda(i)`, or `Device::cuda_if_available()`.
pub use tch::Device;

/// Keeps `libtorch_cuda` linked into every binary that uses stog, including dependent crates,
/// so that `tch::Cuda::is_available()` is true on a GPU (the linker drops unreferenced libraries).
#[cfg(torch_cuda)]
mod cuda_anchor {
    #[link(name = "torch_cuda")]
    unsafe extern "C" {
        // at::cuda::warp_size() in libtorch_cuda.so 2.11
        #[link_name = "_ZN2at4cuda9warp_sizeEv"]
        fn at_cuda_warp_size() -> i32;
    }
    #[used]
    static ANCHOR: unsafe extern "C" fn() -> i32 = at_cuda_warp_size;
}

/// The README's code blocks, checked as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The code blocks of the library guide, checked as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/library.md")]
pub struct LibraryDoctests;
