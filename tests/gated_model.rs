//! A user's own tch module trains with the shared trainer through `GatedModel`: its whole state
//! is its best state, and a model without a member axis cannot claim several members.

use stog::data::{Split, interaction};
use stog::gates::{Gate, GateKind, build_gate};
use stog::train::{GatedModel, MemberTags, Prepared, TrainConfig, Trainer, fit, to_f64};
use tch::nn::Module;
use tch::{Device, Tensor, nn};

/// An input gate in front of two linear layers; `members` is what it claims to have.
#[derive(Debug)]
struct Mine {
    gate: Box<dyn Gate>,
    hidden: nn::Linear,
    out: nn::Linear,
    members: i64,
}

impl GatedModel for Mine {
    fn members(&self) -> i64 {
        self.members
    }
    fn device(&self) -> Device {
        self.out.ws.device()
    }
    fn gates(&self) -> Vec<&dyn Gate> {
        vec![self.gate.as_ref()]
    }
    fn gates_mut(&mut self) -> Vec<&mut dyn Gate> {
        vec![self.gate.as_mut()]
    }
    fn forward_gated(&self, xs: &Tensor, train: bool) -> stog::Result<Tensor> {
        let h = self.hidden.forward(&self.gate.gate_input(xs, train)).relu();
        Ok(self.out.forward(&h).unsqueeze(0))
    }
}

fn setup(members: i64) -> (nn::VarStore, Mine, Prepared) {
    setup_in_group(members, 1)
}

/// [`setup`] with the gate in optimiser group `group`.
fn setup_in_group(members: i64, group: usize) -> (nn::VarStore, Mine, Prepared) {
    tch::manual_seed(0);
    let table = interaction(200, 6, 0).table;
    let split = Split::of(&table, [0.6, 0.2, 0.2], 0).unwrap();
    let data = Prepared::new(&table, &split, Device::Cpu).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let gate = build_gate(
        &(vs.root().set_group(group) / "gate"),
        GateKind::Stg,
        6,
        None,
        None,
        None,
    );
    let hidden = nn::linear(vs.root() / "hidden", 6, 16, Default::default());
    let out = nn::linear(vs.root() / "out", 16, 2, Default::default());
    let model = Mine {
        gate,
        hidden,
        out,
        members,
    };
    (vs, model, data)
}

#[test]
fn a_users_module_ends_in_its_best_state() {
    tch::set_num_threads(1);
    let (vs, mut model, data) = setup(1);
    let config = TrainConfig {
        epochs: 60,
        warmup_epochs: 5,
        patience: 60,
        lr: 0.05,
        ..TrainConfig::default()
    };
    let tags = MemberTags {
        gate: "stg".into(),
        seeds: vec![0],
    };
    let outcome = fit(&mut model, &vs, &data, &[0.05], &config, &tags, None).unwrap();
    assert_eq!(outcome[0].epochs, 60);
    assert!(outcome[0].best_epoch >= 1 && outcome[0].failure.is_none());
    // Every variable (not only gate parameters) came back: the objective is the best one.
    let mut trainer = Trainer::new(&model, &vs, &config, data.train.len()).unwrap();
    trainer.set_lambdas(&[0.05]).unwrap();
    let objective = to_f64(&trainer.objective(&model, &data).unwrap()).unwrap()[0];
    assert!(
        (objective - outcome[0].best_objective).abs() < 1e-6,
        "{objective} against {}",
        outcome[0].best_objective
    );
}

#[test]
fn several_members_without_a_member_axis_are_a_typed_error() {
    let (vs, mut model, data) = setup(2);
    let tags = MemberTags {
        gate: "stg".into(),
        seeds: vec![0, 1],
    };
    let err = fit(
        &mut model,
        &vs,
        &data,
        &[0.1, 0.2],
        &TrainConfig::default(),
        &tags,
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("member axis"), "{err}");
}

#[test]
fn gates_outside_their_optimiser_group_are_a_typed_error() {
    let (vs, mut model, data) = setup_in_group(1, 0);
    let tags = MemberTags {
        gate: "stg".into(),
        seeds: vec![0],
    };
    let err = fit(
        &mut model,
        &vs,
        &data,
        &[0.1],
        &TrainConfig::default(),
        &tags,
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("group 1"), "{err}");
}
