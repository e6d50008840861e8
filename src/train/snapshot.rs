//! Saved model state, one type for the crate ([`Snapshot`]): each member's best state under
//! early stopping, the starting state of a refit, and the state of every point of a lambda path.

use crate::gates::assign;
use crate::{Error, Result};
use tch::{Tensor, nn};

/// Copies of a model's variables, to load back later; kept whole or per member (each member's
/// slice of the member axis updated on its own, [`Snapshot::keep`]). The default holds nothing
/// (a point scored but not kept).
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The copied variables, sorted by name.
    vars: Vec<Copied>,
    /// Size of the leading member axis when kept per member; `None`: kept whole.
    members: Option<i64>,
}

/// One copied variable: its name, the variable (sharing its storage) and the copy.
#[derive(Debug)]
struct Copied {
    name: String,
    var: Tensor,
    copy: Tensor,
}

impl Snapshot {
    /// Copies every variable of `vs`.
    pub fn whole(vs: &nn::VarStore) -> Self {
        Self::of(vs, None)
    }

    /// Copies every member-indexed variable of `vs` (the member axis first, of size `members`),
    /// to be kept per member.
    pub fn members(vs: &nn::VarStore, members: i64) -> Self {
        Self::of(vs, Some(members))
    }

    fn of(vs: &nn::VarStore, members: Option<i64>) -> Self {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        // Every variable of a gated ensemble has the member axis first, except the correlation
        // factor, which is a constant.
        let per_member = |name: &str, t: &Tensor| {
            members.is_none_or(|e| !name.contains("factor_") && t.size().first() == Some(&e))
        };
        let vars = vars
            .into_iter()
            .filter(|(name, var)| per_member(name, var))
            .map(|(name, var)| {
                let copy = var.detach().copy();
                Copied { name, var, copy }
            })
            .collect();
        Snapshot { vars, members }
    }

    /// Takes the current values of the members marked `improved` (of the whole model, when
    /// `improved[0]`, for a snapshot kept whole).
    pub fn keep(&self, improved: &[bool]) {
        let Some(members) = self.members else {
            if improved.first() == Some(&true) {
                tch::no_grad(|| {
                    for v in &self.vars {
                        assign(&v.copy, &v.var);
                    }
                });
            }
            return;
        };
        let Some(device) = self.vars.first().map(|v| v.var.device()) else {
            return;
        };
        let mask = Tensor::from_slice(improved).to_device(device);
        tch::no_grad(|| {
            for v in &self.vars {
                let mut shape = vec![members];
                shape.extend(std::iter::repeat_n(1, v.var.dim() - 1));
                let m = mask.view(shape.as_slice());
                let merged = v.var.where_self(&m, &v.copy);
                assign(&v.copy, &merged);
            }
        });
    }

    /// Copies the kept values back into the variables they were taken from.
    pub fn restore(&self) {
        tch::no_grad(|| {
            for v in &self.vars {
                assign(&v.var, &v.copy);
            }
        });
    }

    /// Loads the kept values into the variables of `vs` of the same names; every one must be
    /// there.
    pub fn load(&self, vs: &nn::VarStore) -> Result<()> {
        let current = vs.variables();
        tch::no_grad(|| {
            for v in &self.vars {
                let var = current.get(&v.name).ok_or_else(|| {
                    Error::config(
                        "state",
                        format!("the model has no variable `{}` to restore", v.name),
                    )
                })?;
                assign(var, &v.copy);
            }
            Ok(())
        })
    }

    /// The kept values by name, to replace some (a refit's weights become a path point's).
    pub fn copies_mut(&mut self) -> impl Iterator<Item = (&str, &mut Tensor)> {
        self.vars.iter_mut().map(|v| (v.name.as_str(), &mut v.copy))
    }
}
