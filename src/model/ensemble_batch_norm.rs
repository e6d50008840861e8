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
    /// For a member subset: the full running statistics and the subset's indices into them,
    /// where training-mode updates are written.
    full_running: Option<(Tensor, Tensor, Tensor)>,
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
        full_running: None,
    }
}

impl EnsembleBatchNorm {
    /// A batch normalisation with these parameters and running statistics (`[E, H]` each) and
    /// the defaults of [`ensemble_batch_norm`]: a pruned or loaded layer.
    pub fn from_parts(
        weight: Tensor,
        bias: Tensor,
        running_mean: Tensor,
        running_var: Tensor,
    ) -> EnsembleBatchNorm {
        EnsembleBatchNorm {
            weight,
            bias,
            running_mean,
            running_var,
            momentum: 0.1,
            eps: 1e-5,
            full_running: None,
        }
    }

    /// The members `idx` only: parameters gathered differentiably, running statistics updated
    /// in the full layer.
    pub fn select_members(&self, idx: &Tensor) -> EnsembleBatchNorm {
        EnsembleBatchNorm {
            weight: self.weight.index_select(0, idx),
            bias: self.bias.index_select(0, idx),
            running_mean: self.running_mean.index_select(0, idx),
            running_var: self.running_var.index_select(0, idx),
            momentum: self.momentum,
            eps: self.eps,
            full_running: Some((
                self.running_mean.shallow_clone(),
                self.running_var.shallow_clone(),
                idx.shallow_clone(),
            )),
        }
    }

    /// Moves the running statistics towards a batch's `mean` and unbiased `var` (`[E, H]`).
    fn update_running(&self, mean: &Tensor, var: &Tensor) {
        let m = self.momentum;
        let new_mean = &self.running_mean * (1.0 - m) + mean * m;
        let new_var = &self.running_var * (1.0 - m) + var * m;
        match &self.full_running {
            Some((full_mean, full_var, idx)) => {
                let _ = full_mean.shallow_clone().index_copy_(0, idx, &new_mean);
                let _ = full_var.shallow_clone().index_copy_(0, idx, &new_var);
            }
            None => {
                crate::gates::assign(&self.running_mean, &new_mean);
                crate::gates::assign(&self.running_var, &new_var);
            }
        }
    }
}

impl nn::ModuleT for EnsembleBatchNorm {
    /// Per member and unit: `(x - mean) / sqrt(var + eps) * weight + bias` over the batch axis.
    ///
    /// Written with few full-size kernels (the scale is folded into one `[E, 1, H]` factor and
    /// applied by one `addcmul`), but only with reductions along the batch axis, so a member's
    /// numbers are bit for bit those of the same member alone. (libtorch's fused batch norm over
    /// `E * H` channels is faster but its backward rounds differently for different `E`.)
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let n = xs.size()[1];
        let (centered, var) = if train && n > 1 {
            let mean = xs.mean_dim(1, true, Kind::Float);
            let centered = xs - &mean;
            let var = centered.square().mean_dim(1, true, Kind::Float);
            tch::no_grad(|| {
                let unbiased = var.squeeze_dim(1) * (n as f64 / (n - 1) as f64);
                self.update_running(&mean.squeeze_dim(1), &unbiased);
            });
            (centered, var)
        } else {
            (
                xs - self.running_mean.unsqueeze(1),
                self.running_var.unsqueeze(1),
            )
        };
        let scale = (var + self.eps).rsqrt() * self.weight.unsqueeze(1);
        self.bias.unsqueeze(1).addcmul(&centered, &scale)
    }
}
