//! `GateConfig`: the command-line form reaches the built gate, bad forms are typed errors that
//! name the key, and JSON written before settings existed (a plain kind name) still reads.

use stog::Error;
use stog::gates::*;
use stog::model::{GatedMlpConfig, gated_mlp};
use tch::{Device, Kind, Tensor, nn};

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

fn parse(spec: &str) -> GateConfig {
    spec.parse().unwrap()
}

/// The key an error names (`None`: the kind or the form), or a panic for another error.
fn key_of(spec: &str) -> Option<String> {
    match spec.parse::<GateConfig>() {
        Err(Error::GateSpec { key, spec: s, .. }) => {
            assert_eq!(s, spec);
            key
        }
        other => panic!("{spec}: {other:?}"),
    }
}

#[test]
fn a_non_default_sigma_reaches_the_stg_gate_and_changes_its_penalty() {
    let vs = nn::VarStore::new(Device::Cpu);
    let sharp = build_gate(
        &(vs.root() / "a"),
        parse("stg:sigma=0.25"),
        3,
        None,
        None,
        None,
    );
    let plain = build_gate(&(vs.root() / "b"), GateKind::Stg, 3, None, None, None);
    match sharp.config() {
        GateConfig::Stg(c) => assert_eq!(c.sigma, 0.25),
        other => panic!("{other:?}"),
    }
    // P(open) = Phi((mu + 0.5) / sigma) with mu = 0: Phi(2) with sigma 0.25, Phi(1) with 0.5.
    for (p, want) in [
        (values(&sharp.unit_penalty()), 0.977_249_9),
        (values(&plain.unit_penalty()), 0.841_344_7),
    ] {
        assert!(p.iter().all(|v| (v - want).abs() < 1e-5), "{p:?} vs {want}");
    }
    // The training gate mu + 0.5 + sigma eps (unclamped here) spreads by sigma.
    let noisy = build_gate(
        &(vs.root() / "c"),
        parse("stg:sigma=0.05,noise=per-example"),
        4,
        None,
        None,
        None,
    );
    let z = values(&noisy.training_gate(2000));
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let sd = (z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / z.len() as f64).sqrt();
    assert!((sd - 0.05).abs() < 0.005, "sd {sd}");
}

#[test]
fn a_temperature_reaches_gumbel_and_hard_concrete_gates() {
    let vs = nn::VarStore::new(Device::Cpu);
    let g = build_gate(
        &vs.root(),
        parse("gumbel:tau=0.5,tau_min=0.05"),
        2,
        None,
        None,
        None,
    );
    assert_eq!(g.temperature(), Some(0.5));
    assert_eq!(g.temperature_range(), Some((0.5, 0.05)));
    let hc = parse("hard-concrete:beta=0.33,log_alpha_init=1");
    let h = build_gate(&(vs.root() / "hc"), hc, 2, Some(3), None, None);
    match h.config() {
        GateConfig::HardConcrete(c) => {
            assert_eq!((c.beta, c.log_alpha_init, c.members), (0.33, 1.0, Some(3)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(values(&h.parameters()[0]), vec![1.0; 6]);
    // The penalty sigmoid(log alpha - beta log(-gamma / zeta)) uses the new beta.
    let want = 1.0 / (1.0 + (-(1.0 - 0.33 * (0.1f64 / 1.1).ln())).exp());
    assert!(
        values(&h.unit_penalty())
            .iter()
            .all(|p| (p - want).abs() < 1e-5)
    );
    // A model's noise override replaces the configuration's noise; the rest is kept.
    let n = build_gate(
        &(vs.root() / "n"),
        parse("ste:logit_init=1"),
        2,
        None,
        Some(Noise::Off),
        None,
    );
    assert_eq!(n.noise(), Noise::Off);
    assert_eq!(values(&n.parameters()[0]), vec![1.0, 1.0]);
}

#[test]
fn the_model_builds_the_configured_gates() {
    let vs = nn::VarStore::new(Device::Cpu);
    let config = GatedMlpConfig::paper_network(5, 2, parse("stg:sigma=0.25"))
        .with_hidden_gates(parse("l1:threshold=0.2"));
    let model = gated_mlp(&vs.root(), &config, &[0, 1], None).unwrap();
    assert_eq!(
        model.gates[0].gate.config(),
        parse("stg:sigma=0.25").with_members(Some(2))
    );
    for g in &model.gates[1..] {
        match g.gate.config() {
            GateConfig::L1(c) => assert_eq!(c.threshold, 0.2),
            other => panic!("{other:?}"),
        }
    }
    // Out-of-range settings set through the API are refused when the model is built.
    let mut bad = GatedMlpConfig::paper_network(5, 2, GateKind::Stg);
    bad.input_gate = Some(GateConfig::Stg(StgConfig::default().with_sigma(0.0)));
    match gated_mlp(&vs.root(), &bad, &[0], None) {
        Err(Error::GateSpec { key, .. }) => assert_eq!(key.as_deref(), Some("sigma")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_forms_are_typed_errors_that_name_the_key() {
    assert_eq!(key_of("stg:sgma=0.5").as_deref(), Some("sgma"));
    assert_eq!(key_of("stg:sigma=abc").as_deref(), Some("sigma"));
    assert_eq!(key_of("stg:sigma=nan").as_deref(), Some("sigma"));
    assert_eq!(key_of("stg:sigma=-1").as_deref(), Some("sigma"));
    assert_eq!(key_of("stg:noise=sometimes").as_deref(), Some("noise"));
    assert_eq!(key_of("stg:members=3").as_deref(), Some("members"));
    assert_eq!(key_of("gumbel:hard=maybe").as_deref(), Some("hard"));
    assert_eq!(key_of("gumbel:tau_min=0").as_deref(), Some("tau_min"));
    assert_eq!(key_of("hard-concrete:gamma=0.1").as_deref(), Some("gamma"));
    assert_eq!(key_of("hard-concrete:zeta=1").as_deref(), Some("zeta"));
    assert_eq!(key_of("l1:threshold=-0.1").as_deref(), Some("threshold"));
    assert_eq!(key_of("l1:sigma=1").as_deref(), Some("sigma"));
    assert_eq!(key_of("magic"), None);
    assert_eq!(key_of("stg:sigma"), None);
    assert_eq!(key_of("stg:"), None);
    let e = "stg:sgma=0.5"
        .parse::<GateConfig>()
        .unwrap_err()
        .to_string();
    assert!(e.contains("`sgma`") && e.contains("sigma"), "{e}");
    let e = "magic".parse::<GateConfig>().unwrap_err().to_string();
    assert!(e.contains("hard-concrete"), "{e}");
}

#[test]
fn every_kind_parses_from_its_name_and_round_trips_through_text_and_json() {
    for kind in GateKind::ALL {
        let c = parse(kind.name());
        assert_eq!(c, GateConfig::from(kind));
        assert_eq!(c.kind(), kind);
        assert_eq!(c.to_string(), kind.name());
    }
    for spec in [
        "stg:sigma=0.25",
        "ste:deterministic=true,noise=off",
        "gumbel:hard=true,tau=2",
        "correlated:noise=per-batch,tau_min=0.2",
        "hard-concrete:beta=0.5,log_alpha_init=2",
        "l1:threshold=0.1",
    ] {
        let c = parse(spec);
        assert_eq!(parse(&c.to_string()), c, "{spec}");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            serde_json::from_str::<GateConfig>(&json).unwrap(),
            c,
            "{json}"
        );
    }
}

#[test]
fn model_json_written_with_plain_kind_names_still_reads() {
    let old = r#"{"inputs":4,"hidden":[3],"outputs":2,"activation":"relu","batch_norm":false,
        "dropout":[],"input_gate":"hard-concrete","hidden_gates":[null,"ste"],"noise":null,
        "factor":null}"#
        .replace("[null,", "[");
    let c: GatedMlpConfig = serde_json::from_str(&old).unwrap();
    assert_eq!(c.input_gate, Some(GateConfig::from(GateKind::HardConcrete)));
    assert_eq!(c.hidden_gates, vec![Some(GateConfig::from(GateKind::Ste))]);
    let again: GatedMlpConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(again, c);
    let partial = r#"{"kind":"stg","sigma":0.25}"#;
    assert_eq!(
        serde_json::from_str::<GateConfig>(partial).unwrap(),
        parse("stg:sigma=0.25")
    );
    assert!(serde_json::from_str::<GateConfig>(r#"{"kind":"stg","sgma":1}"#).is_err());
    assert!(serde_json::from_str::<GateConfig>(r#""magic""#).is_err());
}
