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
    ///
    /// A layer of at most [`FEW_OUTPUTS`] outputs on inputs that need no gradient (the data)
    /// takes its product as `(W^T x^T)^T` (see [`EnsembleLinear::forward_gated`]).
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        if self.outputs() <= FEW_OUTPUTS && !xs.requires_grad() {
            return transposed_product(xs, &self.weight) + self.bias.unsqueeze(1);
        }
        self.bias.unsqueeze(1).baddbmm(xs, &self.weight, 1.0, 1.0)
    }

    /// The layer on inputs scaled by a gate `z` shared by the rows (`[E, 1, in]`): `(x ⊙ z) W + b`
    /// computed as `x (z ⊙ W) + b`, the product taken as `((z ⊙ W)^T x^T)^T`. Equal up to
    /// rounding; with inputs that need no gradient, its backward is one `[out, N] x [N, in]`
    /// product per member instead of two products with an `[in, out]` side, which BLAS runs
    /// slowly when `out` is small: about 2.5 to 4x faster with 4 to 10 outputs on thousands of
    /// inputs, but slower with 64, so layers of at most [`FEW_OUTPUTS`] outputs take this way.
    pub fn forward_gated(&self, xs: &Tensor, z: &Tensor) -> Tensor {
        transposed_product(xs, &(&self.weight * z.transpose(1, 2))) + self.bias.unsqueeze(1)
    }

    /// Outputs.
    pub fn outputs(&self) -> i64 {
        self.weight.size()[2]
    }
}

/// `xs w` (`[E, N, in] x [E, in, out]`) taken as `(w^T xs^T)^T`.
fn transposed_product(xs: &Tensor, w: &Tensor) -> Tensor {
    w.transpose(1, 2).bmm(&xs.transpose(1, 2)).transpose(1, 2)
}

/// Most outputs of a layer whose product is taken transposed, with an input gate folded into
/// its weights ([`EnsembleLinear::forward_gated`]).
pub const FEW_OUTPUTS: i64 = 16;

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    /// The transposed product and the folded gate give the plain layer's outputs and gradients
    /// (up to rounding), at few outputs where they are taken and at many where they are not.
    #[test]
    fn folded_and_transposed_products_equal_the_plain_layer() {
        let vs = nn::VarStore::new(Device::Cpu);
        for (d, out) in [(300, 4), (300, FEW_OUTPUTS), (50, 64)] {
            tch::manual_seed(1);
            let layer = ensemble_linear(vs.root() / format!("l{d}_{out}"), d, out, &[1, 2, 3]);
            let x = Tensor::randn([3, 17, d], (Kind::Float, Device::Cpu));
            let z = Tensor::rand([3, 1, d], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let plain = layer
                .bias
                .unsqueeze(1)
                .baddbmm(&(&x * &z), &layer.weight, 1.0, 1.0);
            let g_plain = Tensor::run_backward(
                &[plain.sum(Kind::Float)],
                &[&z, &layer.weight],
                false,
                false,
            );
            let folded = layer.forward_gated(&x, &z);
            let g_folded = Tensor::run_backward(
                &[folded.sum(Kind::Float)],
                &[&z, &layer.weight],
                false,
                false,
            );
            assert!(max_diff(&plain, &folded) < 1e-4, "d {d}, out {out}");
            for (a, b) in g_plain.iter().zip(&g_folded) {
                assert!(max_diff(a, b) < 1e-3, "gradients, d {d}, out {out}");
            }
            let ungated = layer.bias.unsqueeze(1).baddbmm(&x, &layer.weight, 1.0, 1.0);
            assert!(max_diff(&ungated, &layer.forward(&x)) < 1e-4);
            assert_eq!(layer.forward(&x).size(), vec![3, 17, out]);
        }
    }
}
