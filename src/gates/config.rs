//! [`GateConfig`]: a gate kind with its settings, one type for the API, the command line
//! (`stg:sigma=0.25`), saved models and sweep manifests.

use super::{
    CorrelatedConfig, GateKind, GumbelConfig, HardConcreteConfig, L1Config, SteConfig, StgConfig,
};
use crate::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A gate kind and its settings (the per-kind configuration).
///
/// In JSON it is tagged by `kind`, e.g. `{"kind": "stg", "sigma": 0.25}` (missing settings take
/// their defaults); a plain kind name such as `"stg"`, as written before settings could be
/// given, reads as that kind's defaults. On the command line it is `KIND[:KEY=VALUE,...]`, e.g.
/// `stg:sigma=0.25` or `hard-concrete:beta=0.5,log_alpha_init=2`, with the JSON field names as
/// keys. The member axis (`members`) is set by the model that builds the gate, and a model's
/// `noise` override, when set, replaces the configuration's `noise`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", tag = "kind", rename_all = "kebab-case")]
pub enum GateConfig {
    /// Gaussian hard-sigmoid gate.
    Stg(StgConfig),
    /// Straight-through Bernoulli gate.
    Ste(SteConfig),
    /// Binary concrete / Gumbel-softmax gate.
    Gumbel(GumbelConfig),
    /// Correlated STG with a Gaussian copula.
    Correlated(CorrelatedConfig),
    /// Hard-concrete L0 gate.
    HardConcrete(HardConcreteConfig),
    /// L1-penalised scaling weights.
    L1(L1Config),
}

impl GateConfig {
    /// The kind of gate this configures.
    pub fn kind(&self) -> GateKind {
        match self {
            GateConfig::Stg(_) => GateKind::Stg,
            GateConfig::Ste(_) => GateKind::Ste,
            GateConfig::Gumbel(_) => GateKind::Gumbel,
            GateConfig::Correlated(_) => GateKind::Correlated,
            GateConfig::HardConcrete(_) => GateKind::HardConcrete,
            GateConfig::L1(_) => GateKind::L1,
        }
    }

    /// The settings a command line or [`GateConfig::set`] may change, as `(key, value)` texts
    /// in key order (JSON field names; the member axis is the model's, so not among them).
    pub fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .fields()?
            .into_iter()
            .filter(|(k, _)| k != "members")
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s,
                    v => v.to_string(),
                };
                (k, text)
            })
            .collect())
    }

    /// The keys of [`GateConfig::settings`].
    pub fn keys(&self) -> Result<Vec<String>> {
        Ok(self.settings()?.into_iter().map(|(k, _)| k).collect())
    }

    /// Sets the setting `key` from its text `value` (a number, `true`/`false`, or a noise mode
    /// such as `per-example`); an [`Error::GateSpec`] naming the key when it is unknown or the
    /// value does not fit it. Ranges are checked by [`GateConfig::validate`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let spec = self.to_string();
        let fail = |reason: String| Error::GateSpec {
            spec: spec.clone(),
            key: Some(key.to_string()),
            reason,
        };
        let keys = self.keys()?;
        let mut json = self.to_json()?;
        let slot = match json.get_mut(key) {
            Some(slot) if keys.iter().any(|k| k == key) => slot,
            _ => {
                return Err(fail(format!(
                    "unknown key `{key}` for a {} gate; expected one of {}",
                    self.kind(),
                    keys.join(", ")
                )));
            }
        };
        *slot = match slot {
            Value::Number(_) => value
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| fail(format!("`{key}={value}`: expected a finite number")))?,
            Value::Bool(_) => Value::Bool(
                value
                    .parse::<bool>()
                    .map_err(|_| fail(format!("`{key}={value}`: expected true or false")))?,
            ),
            _ => Value::String(value.to_string()),
        };
        *self = GateConfig::deserialize(json).map_err(|e| fail(format!("`{key}={value}`: {e}")))?;
        Ok(())
    }

    /// Checks that every setting lies in its range (temperatures and the STG noise scale
    /// positive, the hard-concrete stretch around [0, 1], the L1 threshold not negative,
    /// everything finite); an [`Error::GateSpec`] naming the key otherwise.
    pub fn validate(&self) -> Result<()> {
        for (key, value) in self.fields()? {
            if let Value::Number(n) = &value
                && !n.as_f64().is_some_and(f64::is_finite)
            {
                return Err(self.out_of_range(&key, "must be finite"));
            }
        }
        let positive = |key: &str, v: f64| {
            if v > 0.0 {
                Ok(())
            } else {
                Err(self.out_of_range(key, "must be positive"))
            }
        };
        match self {
            GateConfig::Stg(c) => positive("sigma", c.sigma),
            GateConfig::Gumbel(GumbelConfig { tau, tau_min, .. })
            | GateConfig::Correlated(CorrelatedConfig { tau, tau_min, .. }) => {
                positive("tau", *tau)?;
                positive("tau_min", *tau_min)
            }
            GateConfig::HardConcrete(c) => {
                positive("beta", c.beta)?;
                if c.gamma >= 0.0 {
                    return Err(self.out_of_range("gamma", "must be negative"));
                }
                if c.zeta <= 1.0 {
                    return Err(self.out_of_range("zeta", "must be above 1"));
                }
                Ok(())
            }
            GateConfig::L1(c) if c.threshold < 0.0 => {
                Err(self.out_of_range("threshold", "must not be negative"))
            }
            GateConfig::Ste(_) | GateConfig::L1(_) => Ok(()),
        }
    }

    /// This configuration with `members` set (the model's member axis).
    pub fn with_members(self, members: Option<i64>) -> Self {
        match self {
            GateConfig::Stg(c) => GateConfig::Stg(StgConfig { members, ..c }),
            GateConfig::Ste(c) => GateConfig::Ste(SteConfig { members, ..c }),
            GateConfig::Gumbel(c) => GateConfig::Gumbel(GumbelConfig { members, ..c }),
            GateConfig::Correlated(c) => GateConfig::Correlated(CorrelatedConfig { members, ..c }),
            GateConfig::HardConcrete(c) => {
                GateConfig::HardConcrete(HardConcreteConfig { members, ..c })
            }
            GateConfig::L1(c) => GateConfig::L1(L1Config { members, ..c }),
        }
    }

    fn out_of_range(&self, key: &str, reason: &str) -> Error {
        Error::GateSpec {
            spec: self.to_string(),
            key: Some(key.to_string()),
            reason: format!("`{key}` {reason}"),
        }
    }

    /// The tagged JSON object of this configuration.
    fn to_json(self) -> Result<Value> {
        GateConfig::serialize(&self, serde_json::value::Serializer).map_err(|e| Error::GateSpec {
            spec: self.kind().to_string(),
            key: None,
            reason: e.to_string(),
        })
    }

    /// The settings as `(key, value)`, in key order, without the `kind` tag.
    fn fields(&self) -> Result<Vec<(String, Value)>> {
        match self.to_json()? {
            Value::Object(map) => Ok(map.into_iter().filter(|(k, _)| k != "kind").collect()),
            other => Err(Error::GateSpec {
                spec: self.kind().to_string(),
                key: None,
                reason: format!("serialised as {other}, not an object"),
            }),
        }
    }
}

impl From<GateKind> for GateConfig {
    /// The kind's default settings.
    fn from(kind: GateKind) -> Self {
        match kind {
            GateKind::Stg => GateConfig::Stg(StgConfig::default()),
            GateKind::Ste => GateConfig::Ste(SteConfig::default()),
            GateKind::Gumbel => GateConfig::Gumbel(GumbelConfig::default()),
            GateKind::Correlated => GateConfig::Correlated(CorrelatedConfig::default()),
            GateKind::HardConcrete => GateConfig::HardConcrete(HardConcreteConfig::default()),
            GateKind::L1 => GateConfig::L1(L1Config::default()),
        }
    }
}

impl std::str::FromStr for GateConfig {
    type Err = Error;

    /// Reads `KIND[:KEY=VALUE,...]` and checks the ranges.
    fn from_str(spec: &str) -> Result<Self> {
        let fail = |key: Option<&str>, reason: String| Error::GateSpec {
            spec: spec.to_string(),
            key: key.map(str::to_string),
            reason,
        };
        let (name, settings) = match spec.split_once(':') {
            Some((name, settings)) => (name, Some(settings)),
            None => (spec, None),
        };
        let kind: GateKind = name.trim().parse().map_err(|_| {
            let names: Vec<_> = GateKind::ALL.iter().map(|k| k.name()).collect();
            fail(
                None,
                format!(
                    "unknown gate kind `{}` (possible values: {})",
                    name.trim(),
                    names.join(", ")
                ),
            )
        })?;
        let mut config = GateConfig::from(kind);
        for setting in settings.into_iter().flat_map(|s| s.split(',')) {
            let Some((key, value)) = setting.split_once('=') else {
                return Err(fail(
                    None,
                    format!("`{setting}` is not KEY=VALUE (form: KIND[:KEY=VALUE,...])"),
                ));
            };
            let key = key.trim();
            config.set(key, value.trim()).map_err(|e| match e {
                Error::GateSpec { reason, .. } => fail(Some(key), reason),
                other => other,
            })?;
        }
        config.validate().map_err(|e| match e {
            Error::GateSpec { key, reason, .. } => fail(key.as_deref(), reason),
            other => other,
        })?;
        Ok(config)
    }
}

impl std::fmt::Display for GateConfig {
    /// The command-line form: the kind, then the settings that differ from its defaults.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind();
        f.write_str(kind.name())?;
        let ours = self.settings().map_err(|_| std::fmt::Error)?;
        let defaults = GateConfig::from(kind)
            .settings()
            .map_err(|_| std::fmt::Error)?;
        let mut sep = ':';
        for ((key, value), (_, default)) in ours.iter().zip(&defaults) {
            if value != default {
                write!(f, "{sep}{key}={value}")?;
                sep = ',';
            }
        }
        Ok(())
    }
}

impl Serialize for GateConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        GateConfig::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for GateConfig {
    /// The tagged object, or a plain kind name (that kind's defaults).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = GateConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"a gate kind such as "stg" or an object {"kind": "stg", ...}"#)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<GateConfig, E> {
                s.parse::<GateKind>()
                    .map(GateConfig::from)
                    .map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<GateConfig, A::Error> {
                GateConfig::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_any(Either)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_kind_reads_as_its_defaults_and_settings_round_trip() {
        let old: GateConfig = serde_json::from_str(r#""hard-concrete""#).unwrap();
        assert_eq!(old, GateConfig::from(GateKind::HardConcrete));
        let c: GateConfig = "stg:sigma=0.25,noise=per-example".parse().unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""kind":"stg""#), "{json}");
        assert_eq!(serde_json::from_str::<GateConfig>(&json).unwrap(), c);
        let partial: GateConfig = serde_json::from_str(r#"{"kind":"stg","sigma":0.25}"#).unwrap();
        assert_eq!(partial.to_string(), "stg:sigma=0.25");
        assert_eq!(c.to_string(), "stg:noise=per-example,sigma=0.25");
        assert_eq!(c.to_string().parse::<GateConfig>().unwrap(), c);
        assert_eq!(GateConfig::from(GateKind::L1).to_string(), "l1");
        assert!(serde_json::from_str::<GateConfig>(r#"{"kind":"stg","sgma":1}"#).is_err());
    }
}
