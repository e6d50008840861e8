//! TorchScript models from PyTorch, gated by stog: input gates in front of a loaded model (its
//! features `[N, D]`, or the channels of `[N, C, H, W]` inputs), trained with the backbone frozen.

mod gated_script;

pub use gated_script::*;
