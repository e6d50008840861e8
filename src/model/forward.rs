//! The forward pass of a gated MLP, training or inference, with the gates it applied.

use super::{ConditionalGate, GatedMlp};
use crate::gates::apply_gate;
use tch::Tensor;
use tch::nn::ModuleT;

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
        let mut gate = |pos: usize, h: &Tensor, z: Option<Tensor>| match z {
            Some(z) => {
                let out = apply_gate(h, &z, 1);
                applied.push((pos, z));
                out
            }
            None => h.shallow_clone(),
        };
        let z = decide(0, &h);
        h = gate(0, &h, z);
        let last = self.linears.len() - 1;
        for (l, linear) in self.linears.iter().enumerate() {
            let z = if l == last { None } else { decide(l + 1, &h) };
            h = linear.forward(&h);
            if l == last {
                break;
            }
            if let Some(norm) = self.norms.get(l) {
                h = norm.forward_t(&h, train);
            }
            h = self.config.activation.apply(&h);
            h = gate(l + 1, &h, z);
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
}
