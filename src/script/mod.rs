//! TorchScript models from PyTorch, gated by stog: input gates in front of a loaded model (its
//! features `[N, D]`, or the channels of `[N, C, H, W]` inputs), trained with the backbone frozen.

mod choose;
mod export;
mod fit;
mod forward;
mod gated_script;
mod path;
mod point;
mod rows;
mod surgery;

pub use crate::report::PrunedExport;
pub use choose::*;
pub use fit::*;
pub use gated_script::*;
pub use point::*;
pub use rows::*;
pub use surgery::ScriptSurgery;
