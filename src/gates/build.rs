//! Building a gate of any kind from its name, with default settings.

use super::*;
use tch::nn;

/// A gate layer of `kind` with `units` units under `vs`, default settings, an optional member
/// axis and noise override. The correlated kind uses `factor` (independent gates when `None`).
pub fn build_gate(
    vs: &nn::Path,
    kind: GateKind,
    units: i64,
    members: Option<i64>,
    noise: Option<Noise>,
    factor: Option<CorrelationFactor>,
) -> Box<dyn Gate> {
    match kind {
        GateKind::Stg => {
            let c = StgConfig {
                members,
                noise: noise.unwrap_or(Noise::PerBatch),
                ..Default::default()
            };
            Box::new(stg(vs, units, c))
        }
        GateKind::Ste => {
            let c = SteConfig {
                members,
                noise: noise.unwrap_or(Noise::PerBatch),
                ..Default::default()
            };
            Box::new(ste(vs, units, c))
        }
        GateKind::Gumbel => {
            let c = GumbelConfig {
                members,
                noise: noise.unwrap_or(Noise::PerBatch),
                ..Default::default()
            };
            Box::new(gumbel(vs, units, c))
        }
        GateKind::Correlated => {
            let c = CorrelatedConfig {
                members,
                noise: noise.unwrap_or(Noise::PerExample),
                ..Default::default()
            };
            Box::new(correlated(
                vs,
                factor.unwrap_or_else(|| CorrelationFactor::identity(units)),
                c,
            ))
        }
        GateKind::HardConcrete => {
            let c = HardConcreteConfig {
                members,
                noise: noise.unwrap_or(Noise::PerBatch),
                ..Default::default()
            };
            Box::new(hard_concrete(vs, units, c))
        }
        GateKind::L1 => Box::new(l1(
            vs,
            units,
            L1Config {
                members,
                ..Default::default()
            },
        )),
    }
}
