//! The feature correlation that makes copula gates correlated: a factor `F` with `F F^T ~ R`, so
//! that `z = F eps`, `eps ~ N(0, I)`, has correlation `R`.
//!
//! Dense (Cholesky of `R`) up to `max_dense` features; above that a low-rank-plus-diagonal factor
//! `R ~ V diag(lambda) V^T + diag(1 - rowsum(V^2 lambda))` from the top-`rank` eigenvectors,
//! found by subspace iteration on the data without forming `R`. Constant columns get correlation
//! 0 with everything; a singular `R` (duplicated columns) gets jitter `(R + j I) / (1 + j)`.

use crate::{Error, Result};
use serde::Serialize;
use tch::{Device, Kind, Tensor};

/// How a [`CorrelationFactor`] is computed from data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct CorrelationConfig {
    /// Largest number of features factored densely.
    pub max_dense: i64,
    /// Rank of the low-rank part above `max_dense`.
    pub rank: i64,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig {
            max_dense: 4096,
            rank: 64,
        }
    }
}

/// A factor of the feature correlation matrix.
#[derive(Debug)]
pub enum CorrelationFactor {
    /// Lower Cholesky factor `L` of `[D, D]`.
    Dense {
        /// The factor.
        l: Tensor,
        /// Diagonal jitter that was needed (0 when `R` was positive definite).
        jitter: f64,
    },
    /// Low rank plus diagonal.
    LowRank {
        /// `[D, k]` eigenvectors scaled by the square roots of their eigenvalues.
        v: Tensor,
        /// `[D]` standard deviation of the diagonal remainder.
        diag: Tensor,
    },
}

/// Summary of a factor, written into results.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FactorSummary {
    /// `dense` or `low-rank`.
    pub form: String,
    /// Diagonal jitter (dense) or the rank (low rank).
    pub jitter: f64,
    /// Rank of the low-rank part, 0 for dense.
    pub rank: i64,
}

impl CorrelationFactor {
    /// The same factor sharing its tensors.
    pub fn shallow_clone(&self) -> Self {
        match self {
            CorrelationFactor::Dense { l, jitter } => CorrelationFactor::Dense {
                l: l.shallow_clone(),
                jitter: *jitter,
            },
            CorrelationFactor::LowRank { v, diag } => CorrelationFactor::LowRank {
                v: v.shallow_clone(),
                diag: diag.shallow_clone(),
            },
        }
    }

    /// Identity correlation (independent gates) of `d` features.
    pub fn identity(d: i64) -> Self {
        CorrelationFactor::Dense {
            l: Tensor::eye(d, (Kind::Float, Device::Cpu)),
            jitter: 0.0,
        }
    }

    /// Factor of a given correlation matrix `r` (`[D, D]`, symmetric, unit diagonal).
    pub fn from_matrix(r: &Tensor) -> Result<Self> {
        let size = r.size();
        if size.len() != 2 || size[0] != size[1] {
            return Err(Error::shape(
                "correlation matrix",
                format!("{size:?} is not square"),
            ));
        }
        let r = r.to_kind(Kind::Float);
        if !bool::try_from(r.isfinite().all())? {
            return Err(Error::NotPositiveDefinite(
                "it has non-finite entries".into(),
            ));
        }
        let eye = Tensor::eye(size[0], (Kind::Float, r.device()));
        for jitter in [0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1] {
            let rj = (&r + &eye * jitter) / (1.0 + jitter);
            let (l, info) = rj.f_linalg_cholesky_ex(false, false)?;
            if i64::try_from(info)? == 0 {
                return Ok(CorrelationFactor::Dense { l, jitter });
            }
        }
        Err(Error::NotPositiveDefinite(
            "Cholesky fails even with jitter 0.1".into(),
        ))
    }

    /// Factor of the correlation of the columns of `x` (`[N, D]`, training rows only).
    pub fn from_data(x: &Tensor, config: CorrelationConfig) -> Result<Self> {
        let size = x.size();
        if size.len() != 2 || size[0] < 2 {
            return Err(Error::shape(
                "correlation data",
                format!("need [N >= 2, D], got {size:?}"),
            ));
        }
        let x = x.to_kind(Kind::Double);
        if !bool::try_from(x.isfinite().all())? {
            return Err(Error::NotPositiveDefinite(
                "the data has non-finite values".into(),
            ));
        }
        let (n, d) = (size[0], size[1]);
        let centred = &x - x.mean_dim(0, true, Kind::Double);
        let std = centred.square().mean_dim(0, true, Kind::Double).sqrt();
        let constant = std.le(1e-12);
        // Scaled so that `xs^T xs` is the correlation matrix; constant columns are all zero.
        let xs = centred / std.clamp_min(1e-12) * constant.logical_not() / (n as f64).sqrt();
        if d <= config.max_dense {
            let r = xs.transpose(0, 1).mm(&xs);
            let r =
                &r + Tensor::diag_embed(&constant.squeeze_dim(0).to_kind(Kind::Double), 0, -2, -1);
            let r = r.clamp(-1.0, 1.0);
            return Self::from_matrix(&r);
        }
        Ok(Self::low_rank(&xs, config.rank.min(d).min(n)))
    }

    /// Top-`k` eigenpairs of `R = xs^T xs` by subspace iteration.
    fn low_rank(xs: &Tensor, k: i64) -> Self {
        let d = xs.size()[1];
        let mut q = Tensor::randn([d, k], (Kind::Double, xs.device()));
        for _ in 0..8 {
            let y = xs.transpose(0, 1).mm(&xs.mm(&q));
            q = Tensor::linalg_qr(&y, "reduced").0;
        }
        let xq = xs.mm(&q);
        let small = xq.transpose(0, 1).mm(&xq);
        let (evals, evecs) = small.linalg_eigh("L");
        let v = q.mm(&evecs) * evals.clamp_min(0.0).sqrt().unsqueeze(0);
        let rest =
            (v.square().sum_dim_intlist(1, false, Kind::Double) * -1.0 + 1.0).clamp_min(1e-3);
        CorrelationFactor::LowRank {
            v: v.to_kind(Kind::Float),
            diag: rest.sqrt().to_kind(Kind::Float),
        }
    }

    /// Number of features.
    pub fn dim(&self) -> i64 {
        match self {
            CorrelationFactor::Dense { l, .. } => l.size()[0],
            CorrelationFactor::LowRank { v, .. } => v.size()[0],
        }
    }

    /// Correlated standard normals: `eps` (`[..., D]`) mapped to `F eps`. The low-rank form draws
    /// the noise of its rank-k part itself; with `noise` off that part is 0 too.
    pub fn correlate(&self, eps: &Tensor, noise: crate::gates::Noise) -> Tensor {
        match self {
            CorrelationFactor::Dense { l, .. } => eps.matmul(&l.transpose(0, 1)),
            CorrelationFactor::LowRank { v, diag } => {
                let k = v.size()[1];
                let mut shape = eps.size();
                let last = shape.len() - 1;
                shape[last] = k;
                let e2 = crate::gates::standard_normal(noise, &shape, eps.device());
                e2.matmul(&v.transpose(0, 1)) + eps * diag
            }
        }
    }

    /// The factor copied into non-trainable variables of `vs` (saved and loaded with it).
    pub fn registered(&self, vs: &tch::nn::Path) -> Self {
        let copy = |name: &str, t: &Tensor| {
            let var = vs.zeros_no_train(name, &t.size());
            crate::gates::assign(&var, t);
            var
        };
        match self {
            CorrelationFactor::Dense { l, jitter } => CorrelationFactor::Dense {
                l: copy("factor_l", l),
                jitter: *jitter,
            },
            CorrelationFactor::LowRank { v, diag } => CorrelationFactor::LowRank {
                v: copy("factor_v", v),
                diag: copy("factor_diag", diag),
            },
        }
    }

    /// A placeholder of the shape described by `summary`, to be overwritten by loading a model.
    pub fn placeholder(summary: &FactorSummary, d: i64) -> Self {
        let zeros = |shape: &[i64]| Tensor::zeros(shape, (Kind::Float, Device::Cpu));
        match summary.form.as_str() {
            "low-rank" => CorrelationFactor::LowRank {
                v: zeros(&[d, summary.rank]),
                diag: zeros(&[d]),
            },
            _ => CorrelationFactor::Dense {
                l: Tensor::eye(d, (Kind::Float, Device::Cpu)),
                jitter: summary.jitter,
            },
        }
    }

    /// What kind of factor this is, for results.
    pub fn summary(&self) -> FactorSummary {
        match self {
            CorrelationFactor::Dense { jitter, .. } => FactorSummary {
                form: "dense".into(),
                jitter: *jitter,
                rank: 0,
            },
            CorrelationFactor::LowRank { v, .. } => FactorSummary {
                form: "low-rank".into(),
                jitter: 0.0,
                rank: v.size()[1],
            },
        }
    }
}
