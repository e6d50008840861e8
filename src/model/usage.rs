//! Usage accounting: the units and multiply-adds each member's inference network really uses.

use super::GatedMlp;
use crate::Result;
use crate::host::to_f64;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// What one member's inference network really uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberUsage {
    /// Units kept per gate layer, in layer order (input first).
    pub units_kept: Vec<i64>,
    /// Units per gate layer.
    pub units_total: Vec<i64>,
    /// Input features used (all when there is no input gate).
    pub selected_inputs: Vec<i64>,
    /// Multiply-adds per example of the pruned network (linear layers; BatchNorm folds in).
    pub macs: i64,
    /// Multiply-adds per example of the unpruned network.
    pub macs_full: i64,
}

impl GatedMlp {
    /// What each member's inference network uses: kept units and multiply-adds.
    pub fn usage(&self) -> Result<Vec<MemberUsage>> {
        let widths = self.config.widths();
        let e = self.members as usize;
        let kept: Vec<Vec<Vec<f64>>> = self
            .gates
            .iter()
            .map(|g| {
                let inf = g.gate.inference_gate();
                (0..e)
                    .map(|m| to_f64(&inf.get(m as i64)))
                    .collect::<Result<_>>()
            })
            .collect::<Result<_>>()?;
        Ok((0..e)
            .map(|m| {
                let mut active = widths.clone();
                let mut units_kept = Vec::new();
                let mut selected_inputs: Vec<i64> = (0..widths[0]).collect();
                for (g, k) in self.gates.iter().zip(&kept) {
                    let on: Vec<i64> = k[m]
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v != 0.0)
                        .map(|(i, _)| i as i64)
                        .collect();
                    active[g.position] = on.len() as i64;
                    units_kept.push(on.len() as i64);
                    if g.position == 0 {
                        selected_inputs = on;
                    }
                }
                let macs = active.windows(2).map(|w| w[0] * w[1]).sum();
                let macs_full = widths.windows(2).map(|w| w[0] * w[1]).sum();
                let units_total = self.gates.iter().map(|g| widths[g.position]).collect();
                MemberUsage {
                    units_kept,
                    units_total,
                    selected_inputs,
                    macs,
                    macs_full,
                }
            })
            .collect())
    }

    /// What each member's inference network uses on the rows `x` (`[N, D]`): [`Self::usage`],
    /// with conditional layers added to `units_kept` (units open for at least one row) and
    /// `macs` the mean multiply-adds executed per row: each row runs only its open units, and
    /// the gate networks it runs are counted too.
    pub fn usage_on(&self, x: &Tensor) -> Result<Vec<MemberUsage>> {
        let mut usage = self.usage()?;
        if self.conditional.is_empty() {
            return Ok(usage);
        }
        let pass = tch::no_grad(|| self.pass(x, false));
        let widths = self.config.widths();
        let (e, n) = (self.members, x.size()[x.dim() - 2]);
        let opts = (Kind::Float, self.device());
        // Units each row runs at every position, [E, N].
        let kept: Vec<Tensor> = (0..widths.len())
            .map(|p| match pass.applied.iter().find(|(q, _)| *q == p) {
                Some((_, z)) => z
                    .ne(0.0)
                    .sum_dim_intlist(-1, false, Kind::Float)
                    .expand([e, n], false),
                None => Tensor::full([e, n], widths[p] as f64, opts),
            })
            .collect();
        let mut macs = Tensor::zeros([e, n], opts);
        for w in kept.windows(2) {
            macs += &w[0] * &w[1];
        }
        for c in &self.conditional {
            // The input gate reads every feature; a hidden one reads the previous layer's units.
            macs += match c.position {
                0 => c.gate.macs(&Tensor::full([e, n], widths[0] as f64, opts)),
                p => c.gate.macs(&kept[p - 1]),
            };
        }
        let macs = to_f64(&macs.mean_dim(1, false, Kind::Double))?;
        let any_open: Vec<Vec<f64>> = self
            .conditional
            .iter()
            .map(|c| {
                let (_, z) = pass
                    .applied
                    .iter()
                    .find(|(q, _)| *q == c.position)
                    .expect("every conditional layer applies a gate");
                let any = z
                    .ne(0.0)
                    .any_dim(1, false)
                    .sum_dim_intlist(-1, false, Kind::Float);
                to_f64(&any)
            })
            .collect::<Result<_>>()?;
        for (m, u) in usage.iter_mut().enumerate() {
            let mut layers: Vec<(usize, i64, i64)> = self
                .gates
                .iter()
                .zip(u.units_kept.iter().zip(&u.units_total))
                .map(|(g, (k, t))| (g.position, *k, *t))
                .collect();
            for (c, any) in self.conditional.iter().zip(&any_open) {
                layers.push((c.position, any[m] as i64, widths[c.position]));
            }
            layers.sort_unstable();
            u.units_kept = layers.iter().map(|l| l.1).collect();
            u.units_total = layers.iter().map(|l| l.2).collect();
            u.macs = macs[m].round() as i64;
        }
        Ok(usage)
    }
}
