//! `E` independent 1-d batch normalisations: each member normalises with its own batch statistics
//! and keeps its own running averages (no statistics shared across members).

use std::borrow::Borrow;
use tch::{Kind, Tensor, nn};

/// Batch normalisation over axis 1 of `[E, N, H]`, per member.
#[derive(Debug)]
pub struct EnsembleBatchNorm {
    /// Scale `[E, H]`.
    pub weight: Tensor,
    /// Shift `[E, H]`.
    pub bias: Tensor,
    /// Running mean `[E, H]` (not trained).
    pub running_mean: Tensor,
    /// Running (unbiased) variance `[E, H]` (not trained).
    pub running_var: Tensor,
    momentum: f64,
    eps: f64,
}

/// Creates batch normalisation for `members` members of `dim` units (PyTorch defaults: momentum
/// 0.1, eps 1e-5).
pub fn ensemble_batch_norm<'a, T: Borrow<nn::Path<'a>>>(
    vs: T,
    members: i64,
    dim: i64,
) -> EnsembleBatchNorm {
    let vs = vs.borrow();
    EnsembleBatchNorm {
        weight: vs.ones("weight", &[members, dim]),
        bias: vs.zeros("bias", &[members, dim]),
        running_mean: vs.zeros_no_train("running_mean", &[members, dim]),
        running_var: vs.ones_no_train("running_var", &[members, dim]),
        momentum: 0.1,
        eps: 1e-5,
    }
}

impl nn::ModuleT for EnsembleBatchNorm {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let (mean, var) = if train && xs.size()[1] > 1 {
            let mean = xs.mean_dim(1, true, Kind::Float);
            let var = (xs - &mean).square().mean_dim(1, true, Kind::Float);
            let n = xs.size()[1] as f64;
            tch::no_grad(|| {
                let m = self.momentum;
                let unbiased = var.squeeze_dim(1) * (n / (n - 1.0));
                let _ = self
                    .running_mean
                    .shallow_clone()
                    .g_mul_scalar_(1.0 - m)
                    .g_add_(&(mean.squeeze_dim(1) * m));
                let _ = self
                    .running_var
                    .shallow_clone()
                    .g_mul_scalar_(1.0 - m)
                    .g_add_(&(unbiased * m));
            });
            (mean, var)
        } else {
            (
                self.running_mean.unsqueeze(1),
                self.running_var.unsqueeze(1),
            )
        };
        (xs - mean) * (var + self.eps).rsqrt() * self.weight.unsqueeze(1) + self.bias.unsqueeze(1)
    }
}
