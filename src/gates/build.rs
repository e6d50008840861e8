//! Building a gate of any kind from its configuration.

use super::*;
use tch::nn;

/// A gate layer configured by `config` (a [`GateConfig`], or a [`GateKind`] for its defaults)
/// with `units` units under `vs`, the member axis `members`, and `noise` replacing the
/// configuration's noise when set. The correlated kind uses `factor` (independent gates when
/// `None`).
pub fn build_gate(
    vs: &nn::Path,
    config: impl Into<GateConfig>,
    units: i64,
    members: Option<i64>,
    noise: Option<Noise>,
    factor: Option<CorrelationFactor>,
) -> Box<dyn Gate> {
    match config.into().with_members(members) {
        GateConfig::Stg(c) => Box::new(stg(
            vs,
            units,
            StgConfig {
                noise: noise.unwrap_or(c.noise),
                ..c
            },
        )),
        GateConfig::Ste(c) => Box::new(ste(
            vs,
            units,
            SteConfig {
                noise: noise.unwrap_or(c.noise),
                ..c
            },
        )),
        GateConfig::Gumbel(c) => Box::new(gumbel(
            vs,
            units,
            GumbelConfig {
                noise: noise.unwrap_or(c.noise),
                ..c
            },
        )),
        GateConfig::Correlated(c) => Box::new(correlated(
            vs,
            factor.unwrap_or_else(|| CorrelationFactor::identity(units)),
            CorrelatedConfig {
                noise: noise.unwrap_or(c.noise),
                ..c
            },
        )),
        GateConfig::HardConcrete(c) => Box::new(hard_concrete(
            vs,
            units,
            HardConcreteConfig {
                noise: noise.unwrap_or(c.noise),
                ..c
            },
        )),
        GateConfig::L1(c) => Box::new(l1(vs, units, c)),
    }
}
