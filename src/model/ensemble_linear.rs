//! `E` independent linear layers applied with one batched matmul.

use std::borrow::Borrow;
use tch::{Kind, Tensor, nn};

/// `E` linear layers `y_e = x_e W_e + b_e`.
#[derive(Debug)]
pub struct EnsembleLinear {
    /// `[E, in, out]`.
    pub weight: Tensor,
    /// `[E, out]`.
    pub bias: Tensor,
}

/// Creates `members` linear layers `in_dim -> out_dim` (variables `weight`, `bias`), with
/// PyTorch's default initialisation `U(-1/sqrt(in), 1/sqrt(in))` drawn per member from
/// `seeds[e]`, so a member's initial weights depend only on its own seed.
pub fn ensemble_linear<'a, T: Borrow<nn::Path<'a>>>(
    vs: T,
    in_dim: i64,
    out_dim: i64,
    seeds: &[u64],
) -> EnsembleLinear {
    let vs = vs.borrow();
    let e = seeds.len() as i64;
    let weight = vs.zeros("weight", &[e, in_dim, out_dim]);
    let bias = vs.zeros("bias", &[e, out_dim]);
    let bound = 1.0 / (in_dim as f64).sqrt();
    tch::no_grad(|| {
        for (m, seed) in seeds.iter().enumerate() {
            tch::manual_seed(*seed as i64);
            let w = Tensor::empty([in_dim, out_dim], (Kind::Float, vs.device()))
                .uniform_(-bound, bound);
            let b = Tensor::empty([out_dim], (Kind::Float, vs.device())).uniform_(-bound, bound);
            weight.get(m as i64).copy_(&w);
            bias.get(m as i64).copy_(&b);
        }
    });
    EnsembleLinear { weight, bias }
}

impl EnsembleLinear {
    /// The members `idx` only (differentiable gather: gradients reach the full layer).
    pub fn select_members(&self, idx: &Tensor) -> EnsembleLinear {
        EnsembleLinear {
            weight: self.weight.index_select(0, idx),
            bias: self.bias.index_select(0, idx),
        }
    }

    /// `[E, N, in] -> [E, N, out]`.
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        self.bias.unsqueeze(1).baddbmm(xs, &self.weight, 1.0, 1.0)
    }
}
