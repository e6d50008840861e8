//! Pruning a gated MLP to the units its inference gates keep: the pruned network has only those
//! units (weights, biases, batch-norm entries), no gates, the same outputs, and saves and loads
//! with its shapes checked; a gate that drops every unit leaves a constant network.

use stog::Error;
use stog::gates::{GateKind, assign};
use stog::model::{ConditionalConfig, GatedMlp, GatedMlpConfig, KeptUnits, PrunedMlp, gated_mlp};
use tch::{Device, Kind, Tensor, nn};

/// `6 -> 5 -> 4 -> 3`, batch norm, dropout, STG gates at the input and after each hidden layer,
/// two members; its batch-norm statistics moved off their initial values by training passes.
fn network() -> (nn::VarStore, GatedMlp) {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let config = GatedMlpConfig {
        hidden: vec![5, 4],
        dropout: vec![0.2, 0.1],
        ..GatedMlpConfig::paper_network(6, 3, GateKind::Stg).with_hidden_gates(GateKind::Stg)
    };
    let model = gated_mlp(&vs.root(), &config, &[1, 2], None).unwrap();
    for _ in 0..5 {
        let _ = model.forward_t(&Tensor::randn([32, 6], (Kind::Float, Device::Cpu)), true);
    }
    (vs, model)
}

/// Sets gate layer `layer` of member `member` so its inference gate is `z` (STG: `mu + 0.5`,
/// clamped to [0, 1]).
fn set_gate(model: &GatedMlp, layer: usize, member: i64, z: &[f32]) {
    let mu = &model.gates[layer].gate.parameters()[0];
    assign(&mu.get(member), &(Tensor::from_slice(z) - 0.5));
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn shapes(p: &PrunedMlp) -> Vec<(String, Vec<i64>)> {
    p.tensors()
        .into_iter()
        .map(|(n, t)| (n, t.size()))
        .collect()
}

#[test]
fn a_pruned_network_keeps_only_the_open_units_and_gives_the_same_outputs() {
    let (_vs, model) = network();
    // Member 1 keeps inputs 0, 2, 5, units 1, 3, 4 of the first hidden layer and 0, 2 of the
    // second, some at gate values below 1 (folded into the weights that read them).
    set_gate(&model, 0, 1, &[1.0, 0.0, 0.7, 0.0, 0.0, 1.0]);
    set_gate(&model, 1, 1, &[0.0, 0.4, 0.0, 1.0, 0.9]);
    set_gate(&model, 2, 1, &[1.0, 0.0, 0.25, 0.0]);
    let pruned = model.prune(1).unwrap();
    assert_eq!(
        pruned.kept,
        KeptUnits {
            inputs: vec![0, 2, 5],
            hidden: vec![vec![1, 3, 4], vec![0, 2]],
        }
    );
    let expected: Vec<(String, Vec<i64>)> = [
        ("net.linear0.weight", vec![1, 3, 3]),
        ("net.linear0.bias", vec![1, 3]),
        ("net.linear1.weight", vec![1, 3, 2]),
        ("net.linear1.bias", vec![1, 2]),
        ("net.linear2.weight", vec![1, 2, 3]),
        ("net.linear2.bias", vec![1, 3]),
        ("net.norm0.weight", vec![1, 3]),
        ("net.norm0.bias", vec![1, 3]),
        ("net.norm0.running_mean", vec![1, 3]),
        ("net.norm0.running_var", vec![1, 3]),
        ("net.norm1.weight", vec![1, 2]),
        ("net.norm1.bias", vec![1, 2]),
        ("net.norm1.running_mean", vec![1, 2]),
        ("net.norm1.running_var", vec![1, 2]),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s))
    .collect();
    assert_eq!(shapes(&pruned), expected);
    assert!(pruned.net.gates.is_empty());
    // Weights and biases 6*5+5 + 5*4+4 + 4*3+3, batch norm 2*(5+4), gates 6+5+4; pruned:
    // 3*3+3 + 3*2+2 + 2*3+3, batch norm 2*(3+2).
    assert_eq!(model.parameter_count(), 74 + 18 + 15);
    assert_eq!(pruned.parameter_count(), 29 + 10);
    // The same outputs as the gated member, on rows of every feature.
    let x = Tensor::randn([50, 6], (Kind::Float, Device::Cpu));
    let gated = model.infer(&x).get(1);
    let inputs = Tensor::from_slice(&pruned.kept.inputs);
    let out = pruned.net.infer(&x.index_select(1, &inputs)).get(0);
    assert!(max_diff(&gated, &out) < 1e-5, "{}", max_diff(&gated, &out));
    // What it uses is what the gated member reports.
    assert_eq!(pruned.usage(&model.config), model.usage().unwrap()[1]);
}

#[test]
fn a_saved_pruned_network_loads_with_its_shapes_checked() {
    let (_vs, model) = network();
    set_gate(&model, 0, 0, &[0.0, 1.0, 1.0, 0.0, 0.5, 0.0]);
    set_gate(&model, 1, 0, &[1.0, 1.0, 0.0, 0.0, 0.0]);
    let pruned = model.prune(0).unwrap();
    let dir = std::env::temp_dir().join(format!("stog-prune-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.safetensors");
    pruned.save(&path).unwrap();
    let back = PrunedMlp::load(&path, &model.config, pruned.kept.clone(), Device::Cpu).unwrap();
    let x = Tensor::randn([20, 3], (Kind::Float, Device::Cpu));
    assert!(back.net.infer(&x).equal(&pruned.net.infer(&x)));
    // Other kept units than the file's: refused naming the tensor and both shapes.
    let mut other = pruned.kept.clone();
    other.inputs = vec![1, 2];
    let e = PrunedMlp::load(&path, &model.config, other, Device::Cpu).unwrap_err();
    assert!(matches!(e, Error::Data { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("net.linear0.weight")
            && text.contains("[1, 3, 2]")
            && text.contains("[1, 2, 2]"),
        "{text}"
    );
    // Units that are not the network's.
    let mut outside = pruned.kept.clone();
    outside.hidden[1] = vec![2, 7];
    let e = PrunedMlp::load(&path, &model.config, outside, Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("hidden layer 2"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_gate_that_drops_every_unit_leaves_a_constant_network() {
    let (_vs, model) = network();
    // No input kept: the network's output is the same for every row.
    set_gate(&model, 0, 0, &[0.0; 6]);
    let pruned = model.prune(0).unwrap();
    assert!(pruned.kept.inputs.is_empty());
    assert_eq!(pruned.net.config.inputs, 0);
    assert_eq!(shapes(&pruned)[0].1, vec![1, 0, 5]);
    let x = Tensor::randn([8, 6], (Kind::Float, Device::Cpu));
    let gated = model.infer(&x).get(0);
    let out = pruned
        .net
        .infer(&Tensor::zeros([8, 0], (Kind::Float, Device::Cpu)))
        .get(0);
    assert!(max_diff(&gated, &out) < 1e-5);
    assert!(max_diff(&out, &out.get(0).unsqueeze(0)) == 0.0);
    // A hidden layer with no unit left: every row gets the last layers' constant.
    set_gate(&model, 0, 1, &[1.0; 6]);
    set_gate(&model, 2, 1, &[0.0; 4]);
    let pruned = model.prune(1).unwrap();
    assert_eq!(pruned.net.config.hidden, vec![5, 0]);
    let out = pruned.net.infer(&x).get(0);
    assert!(max_diff(&model.infer(&x).get(1), &out) < 1e-5);
    // Zero-size tensors save and load.
    let path = std::env::temp_dir().join(format!("stog-prune-empty-{}.st", std::process::id()));
    pruned.save(&path).unwrap();
    let back = PrunedMlp::load(&path, &model.config, pruned.kept.clone(), Device::Cpu).unwrap();
    assert!(back.net.infer(&x).equal(&pruned.net.infer(&x)));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn input_dependent_gates_and_a_missing_member_are_typed_errors() {
    let vs = nn::VarStore::new(Device::Cpu);
    let config = GatedMlpConfig {
        input_gate: None,
        conditional: Some(ConditionalConfig::at(vec![1])),
        ..GatedMlpConfig::paper_network(6, 2, GateKind::Stg)
    };
    let model = gated_mlp(&vs.root(), &config, &[0], None).unwrap();
    let e = model.prune(0).unwrap_err();
    assert!(matches!(e, Error::NotApplicable { .. }), "{e}");
    let (_vs, model) = network();
    assert!(matches!(model.prune(2).unwrap_err(), Error::Shape { .. }));
}
