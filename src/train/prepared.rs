//! A table split into train / validation / test tensors on a device, standardised with the
//! training rows only (features, and the target for regression).

use crate::data::{Split, Standardizer, Table, Task};
use crate::{Error, Result};
use tch::{Device, Kind, Tensor};

/// Features `[N, D]` and targets of one part of the data.
#[derive(Debug)]
pub struct Part {
    /// Standardised features, float `[N, D]` (or `[E, N, D]`: one version per member).
    pub x: Tensor,
    /// Class indices int64 `[N]` (classification) or standardised targets float `[N, 1]`; with a
    /// leading member axis (`[E, N]`, `[E, N, 1]`) when members have different rows.
    pub y: Tensor,
}

impl Part {
    /// Number of rows.
    pub fn len(&self) -> i64 {
        self.x.size()[self.x.dim() - 2]
    }
    /// Whether each member has its own targets (a leading member axis on `y`).
    pub fn per_member_targets(&self) -> bool {
        // Class indices are `[N]` and regression targets `[N, 1]` when shared.
        let shared_dims = if self.y.kind() == tch::Kind::Int64 {
            1
        } else {
            2
        };
        self.y.dim() > shared_dims
    }
    /// Whether the part has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Train, validation and test parts ready for training.
#[derive(Debug)]
pub struct Prepared {
    /// Training rows.
    pub train: Part,
    /// Validation rows (early stopping, choosing lambda).
    pub val: Part,
    /// Test rows (reported only).
    pub test: Part,
    /// Classification or regression.
    pub task: Task,
    /// Number of classes, or 1 for regression.
    pub outputs: i64,
    /// The feature standardisation fitted on the training rows.
    pub scaler: Standardizer,
    /// Mean and scale of the regression target on the training rows (0 and 1 otherwise).
    pub target_scale: (f64, f64),
}

impl Prepared {
    /// The features that per-member gates `[E, D]` let through: the columns some member keeps
    /// (`[K]`, returned) multiplied by each member's gates, `[E, N, K]` inputs (from rows shared
    /// by the members or, stacked, each member's own). An inference
    /// network with those input gates computes the same as one fed these columns; the columns no
    /// member keeps are left out, so a refit costs what the kept features cost. With every gate
    /// closed, column 0 stays (as zeros) so that the network still has an input.
    pub fn masked_columns(&self, gates: &Tensor) -> (Prepared, Tensor) {
        let gates = gates.detach();
        let kept = gates.ne(0.0).any_dim(0, false).nonzero().view([-1]);
        let kept = if kept.numel() == 0 {
            Tensor::zeros([1], (Kind::Int64, gates.device()))
        } else {
            kept
        };
        let g = gates.index_select(1, &kept).unsqueeze(1);
        // Rows `[N, D]` shared by every member, or each member's own `[E, N, D]` (stacked sets).
        let part = |p: &Part| {
            let x = p.x.index_select(-1, &kept);
            let x = if x.dim() == 2 { x.unsqueeze(0) } else { x };
            Part {
                x: x * &g,
                y: p.y.shallow_clone(),
            }
        };
        let prepared = Prepared {
            train: part(&self.train),
            val: part(&self.val),
            test: part(&self.test),
            task: self.task,
            outputs: self.outputs,
            scaler: self.scaler.clone(),
            target_scale: self.target_scale,
        };
        (prepared, kept)
    }

    /// The parts of several classification data sets with equal part sizes (several splits of
    /// one table) as one, each repeated `repeats` times along a leading member axis: member `m`
    /// sees data set `m / repeats`. `None` when the sizes differ or the task is regression (the
    /// target scale is per split).
    pub fn stack(sets: &[Prepared], repeats: i64) -> Option<Prepared> {
        let first = sets.first()?;
        if first.task != Task::Classification {
            return None;
        }
        let parts = |f: &dyn Fn(&Prepared) -> &Part| -> Option<Part> {
            let n = f(first).len();
            if sets.iter().any(|p| f(p).len() != n || f(p).x.dim() != 2) {
                return None;
            }
            let x: Vec<Tensor> = sets.iter().map(|p| f(p).x.shallow_clone()).collect();
            let y: Vec<Tensor> = sets.iter().map(|p| f(p).y.shallow_clone()).collect();
            Some(Part {
                x: Tensor::stack(&x, 0).repeat_interleave_self_int(repeats, 0, None),
                y: Tensor::stack(&y, 0).repeat_interleave_self_int(repeats, 0, None),
            })
        };
        Some(Prepared {
            train: parts(&|p| &p.train)?,
            val: parts(&|p| &p.val)?,
            test: parts(&|p| &p.test)?,
            task: first.task,
            outputs: first.outputs,
            scaler: first.scaler.clone(),
            target_scale: first.target_scale,
        })
    }

    /// Splits and standardises `table` on `device`.
    pub fn new(table: &Table, split: &Split, device: Device) -> Result<Prepared> {
        let n = table.n_rows();
        if let Some(r) = split
            .train
            .iter()
            .chain(&split.val)
            .chain(&split.test)
            .find(|r| **r >= n)
        {
            return Err(Error::shape(
                "split",
                format!("row {r} is out of range for {n} rows"),
            ));
        }
        if split.train.len() < 2 || split.val.is_empty() {
            return Err(Error::config(
                "split",
                format!(
                    "need >= 2 train and >= 1 validation rows, got {} and {}",
                    split.train.len(),
                    split.val.len()
                ),
            ));
        }
        let scaler = Standardizer::fit(table, &split.train);
        let target_scale = match table.task {
            Task::Regression => {
                let s = Standardizer::fit_values(&table.y, 1, &split.train);
                (s.mean[0], s.scale[0])
            }
            Task::Classification => (0.0, 1.0),
        };
        let part = |rows: &[usize]| {
            let x = standardized(table, &scaler, rows, device);
            let y = match table.task {
                Task::Classification => {
                    let y: Vec<i64> = rows.iter().map(|r| table.y[*r] as i64).collect();
                    Tensor::from_slice(&y).to_device(device)
                }
                Task::Regression => {
                    let y: Vec<f32> = rows
                        .iter()
                        .map(|r| ((table.y[*r] - target_scale.0) / target_scale.1) as f32)
                        .collect();
                    Tensor::from_slice(&y)
                        .view([rows.len() as i64, 1])
                        .to_device(device)
                }
            };
            Part { x, y }
        };
        Ok(Prepared {
            train: part(&split.train),
            val: part(&split.val),
            test: part(&split.test),
            task: table.task,
            outputs: table.n_classes() as i64,
            scaler,
            target_scale,
        })
    }
}

/// Rows standardised per block by [`standardized`].
const BLOCK_ROWS: usize = 65_536;

/// `rows` of `table` standardised by `scaler`, a float `[rows, D]` tensor on `device`, filled one
/// block of rows at a time: the host holds one block beside the table, never a second full copy.
fn standardized(table: &Table, scaler: &Standardizer, rows: &[usize], device: Device) -> Tensor {
    let d = table.n_features() as i64;
    let x = Tensor::empty([rows.len() as i64, d], (Kind::Float, device));
    for (i, block) in rows.chunks(BLOCK_ROWS).enumerate() {
        let values = Tensor::from_slice(&scaler.transform_values(&table.x, block));
        x.narrow(0, (i * BLOCK_ROWS) as i64, block.len() as i64)
            .copy_(&values.view([block.len() as i64, d]));
    }
    x
}
