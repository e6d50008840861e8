//! The forward pass of a gated MLP, training or inference, with the gates it applied.

use super::{ConditionalGate, GatedMlp};
use crate::gates::apply_gate;
use tch::Tensor;
use tch::nn::ModuleT;

/// Rows per block of [`GatedMlp::infer`].
pub const INFER_BLOCK_ROWS: i64 = 65_536;

/// A forward pass with what its gates did.
#[derive(Debug)]
pub struct Pass {
    /// Network output `[E, N, outputs]`.
    pub out: Tensor,
    /// Gate applied at each gated position, in position order: `(position, [E, S, D])`, with
    /// `S = N` for conditional gates and noise per example, else 1.
    pub applied: Vec<(usize, Tensor)>,
    /// Logits `[E, N, D]` of each conditional layer, in layer order.
    pub logits: Vec<Tensor>,
}

impl GatedMlp {
    /// Forward pass. `xs` is `[N, D]` (the same data for every member) or `[E, N, D]`; the
    /// output is `[E, N, outputs]`.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.pass(xs, train).out
    }

    /// The inference network's output `[E, N, outputs]` for `xs` (as [`GatedMlp::forward_t`]),
    /// computed [`INFER_BLOCK_ROWS`] rows at a time and without gradients: on tall data the
    /// activations of every row at once would cost more memory than the data. Each row's output
    /// depends on that row only at inference (batch norm uses its running statistics), so the
    /// blocks give the same output as one pass.
    pub fn infer(&self, xs: &Tensor) -> Tensor {
        let axis = xs.dim() as i64 - 2;
        let n = xs.size()[axis as usize];
        tch::no_grad(|| {
            if n <= INFER_BLOCK_ROWS {
                return self.forward_t(xs, false);
            }
            let blocks: Vec<Tensor> = (0..n)
                .step_by(INFER_BLOCK_ROWS as usize)
                .map(|start| {
                    let len = INFER_BLOCK_ROWS.min(n - start);
                    self.forward_t(&xs.narrow(axis, start, len), false)
                })
                .collect();
            Tensor::cat(&blocks, 1)
        })
    }

    /// Forward pass with the gates it applied and the logits of its conditional gates.
    pub fn pass(&self, xs: &Tensor, train: bool) -> Pass {
        let mut h = if xs.dim() == 2 {
            xs.unsqueeze(0).expand([self.members, -1, -1], false)
        } else {
            xs.shallow_clone()
        };
        let mut applied = Vec::new();
        let mut logits = Vec::new();
        // The conditional gate of `pos` reads the input of the layer that makes those units.
        let mut decide = |pos: usize, h_in: &Tensor| -> Option<Tensor> {
            if let Some(g) = self.gates.iter().find(|g| g.position == pos) {
                return Some(if train {
                    g.gate.training_gate(h_in.size()[1])
                } else {
                    g.gate.inference_gate().unsqueeze(1)
                });
            }
            let c = self.conditional.iter().find(|c| c.position == pos)?;
            let l = c.gate.logits(h_in);
            let z = if train {
                c.gate.training_gate(&l)
            } else {
                ConditionalGate::inference_gate(&l)
            };
            logits.push(l);
            Some(z)
        };
        // Records the gate applied at `pos`; scales `h` by it unless the next layer does.
        let mut gate = |pos: usize, h: &Tensor, z: Option<Tensor>, scale: bool| match z {
            Some(z) => {
                let out = match scale {
                    true => apply_gate(h, &z, 1),
                    false => h.shallow_clone(),
                };
                applied.push((pos, z));
                out
            }
            None => h.shallow_clone(),
        };
        let z = decide(0, &h);
        let folded = self.folded_input_gate(z.as_ref(), &h);
        h = gate(0, &h, z, folded.is_none());
        let last = self.linears.len() - 1;
        for (l, linear) in self.linears.iter().enumerate() {
            let z = if l == last { None } else { decide(l + 1, &h) };
            h = match (&folded, l) {
                (Some(z0), 0) => linear.forward_gated(&h, z0),
                _ => linear.forward(&h),
            };
            if l == last {
                break;
            }
            if let Some(norm) = self.norms.get(l) {
                h = norm.forward_t(&h, train);
            }
            h = self.config.activation.apply(&h);
            h = gate(l + 1, &h, z, true);
            if let Some(p) = self.config.dropout.get(l).filter(|p| **p > 0.0) {
                h = super::dropout(&h, *p, train);
            }
        }
        Pass {
            out: h,
            applied,
            logits,
        }
    }

    /// The input gate `z` when it folds into the first layer's weights
    /// ([`super::EnsembleLinear::forward_gated`]: same values up to rounding, faster): a gate
    /// shared by the rows (`[E, 1, D]`), on inputs that need no gradient, before a layer of at
    /// most [`super::FEW_OUTPUTS`] outputs, in a model without conditional gates (they read the
    /// gated input).
    fn folded_input_gate(&self, z: Option<&Tensor>, xs: &Tensor) -> Option<Tensor> {
        let z = z.filter(|z| z.dim() == 3 && z.size()[1] == 1)?;
        let narrow = self
            .linears
            .first()
            .is_some_and(|l| l.outputs() <= super::FEW_OUTPUTS);
        (narrow && self.conditional.is_empty() && !xs.requires_grad()).then(|| z.shallow_clone())
    }
}
