//! Optimizers and gradient clipping: parity with PyTorch's trajectories
//! (`tests/fixtures/optim.*`), parameter groups, skipped parameters, validation, and exact
//! resumption from a saved state.

// The fixture reader is shared with sinapsis-core's tests.
#[path = "../../sinapsis-core/tests/common/mod.rs"]
mod common;

use common::{assert_close, Fixtures};
use serde_json::Value;
use sinapsis::optim::{
    clip_grad_norm_, clip_grad_value_, Adagrad, AdagradConfig, Adam, AdamConfig, AdamW,
    AdamWConfig, GroupState, HyperParam, Optimizer, OptimizerState, ParamGroup, RMSprop,
    RmspropConfig, SgdConfig, SGD,
};
use sinapsis::{DType, Tensor};

const TOL: f64 = 1e-10;

fn named(pairs: &[(&str, &Tensor)]) -> Vec<(String, Tensor)> {
    pairs
        .iter()
        .map(|(n, t)| (n.to_string(), (*t).clone()))
        .collect()
}

/// A fresh copy (own storage) of a tensor.
fn fresh(t: &Tensor) -> Tensor {
    Tensor::from_vec(t.to_vec::<f64>().unwrap(), t.dims()).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn flag(v: &Value) -> bool {
    v.as_bool().unwrap_or_else(|| panic!("not a bool: {v}"))
}

/// Our optimizer for a fixture case, from its `config` (PyTorch keyword arguments) over our
/// `Default`; also checks that our defaults plus `config` equal PyTorch's full `defaults`.
fn build(case: &Value, params: Vec<(String, Tensor)>) -> Box<dyn Optimizer> {
    let name = case["name"].as_str().unwrap();
    let config = case["config"].as_object().unwrap();
    let opt: Box<dyn Optimizer> = match case["optimizer"].as_str().unwrap() {
        "sgd" => {
            let mut c = SgdConfig::default();
            for (k, v) in config {
                match k.as_str() {
                    "lr" => c.lr = num(v),
                    "momentum" => c.momentum = num(v),
                    "dampening" => c.dampening = num(v),
                    "weight_decay" => c.weight_decay = num(v),
                    "nesterov" => c.nesterov = flag(v),
                    other => panic!("{name}: unhandled SGD option {other}"),
                }
            }
            Box::new(SGD::new(params, c).unwrap())
        }
        kind @ ("adam" | "adamw") => {
            let (mut lr, mut betas, mut eps, mut wd, mut amsgrad) = if kind == "adam" {
                let d = AdamConfig::default();
                (d.lr, d.betas, d.eps, d.weight_decay, d.amsgrad)
            } else {
                let d = AdamWConfig::default();
                (d.lr, d.betas, d.eps, d.weight_decay, d.amsgrad)
            };
            for (k, v) in config {
                match k.as_str() {
                    "lr" => lr = num(v),
                    "betas" => betas = (num(&v[0]), num(&v[1])),
                    "eps" => eps = num(v),
                    "weight_decay" => wd = num(v),
                    "amsgrad" => amsgrad = flag(v),
                    other => panic!("{name}: unhandled Adam option {other}"),
                }
            }
            if kind == "adam" {
                let c = AdamConfig::default()
                    .lr(lr)
                    .betas(betas.0, betas.1)
                    .eps(eps)
                    .weight_decay(wd)
                    .amsgrad(amsgrad);
                Box::new(Adam::new(params, c).unwrap())
            } else {
                let c = AdamWConfig::default()
                    .lr(lr)
                    .betas(betas.0, betas.1)
                    .eps(eps)
                    .weight_decay(wd)
                    .amsgrad(amsgrad);
                Box::new(AdamW::new(params, c).unwrap())
            }
        }
        "rmsprop" => {
            let mut c = RmspropConfig::default();
            for (k, v) in config {
                match k.as_str() {
                    "lr" => c.lr = num(v),
                    "alpha" => c.alpha = num(v),
                    "eps" => c.eps = num(v),
                    "weight_decay" => c.weight_decay = num(v),
                    "momentum" => c.momentum = num(v),
                    "centered" => c.centered = flag(v),
                    other => panic!("{name}: unhandled RMSprop option {other}"),
                }
            }
            Box::new(RMSprop::new(params, c).unwrap())
        }
        "adagrad" => {
            let mut c = AdagradConfig::default();
            for (k, v) in config {
                match k.as_str() {
                    "lr" => c.lr = num(v),
                    "lr_decay" => c.lr_decay = num(v),
                    "weight_decay" => c.weight_decay = num(v),
                    "initial_accumulator_value" => c.initial_accumulator_value = num(v),
                    "eps" => c.eps = num(v),
                    other => panic!("{name}: unhandled Adagrad option {other}"),
                }
            }
            Box::new(Adagrad::new(params, c).unwrap())
        }
        other => panic!("{name}: unknown optimizer {other}"),
    };
    // Every hyperparameter we keep equals PyTorch's value for it.
    let ours = &opt.state_dict().unwrap().groups[0].hyperparameters;
    let theirs = &case["defaults"];
    for (key, value) in ours {
        let want = match key.as_str() {
            "beta1" => theirs["betas"][0].clone(),
            "beta2" => theirs["betas"][1].clone(),
            k => theirs[k].clone(),
        };
        let matches = match value {
            HyperParam::Float(v) => want.as_f64() == Some(*v),
            HyperParam::Bool(b) => want.as_bool() == Some(*b),
        };
        assert!(matches, "{name}: {key} is {value:?}, PyTorch has {want}");
    }
    opt
}

fn optimizer_cases(fx: &Fixtures) -> Vec<&Value> {
    fx.cases()
        .iter()
        .filter(|c| c.get("optimizer").is_some())
        .collect()
}

/// The fixture's two parameters, fresh.
fn initial_params(fx: &Fixtures) -> (Tensor, Tensor) {
    let w = fx.tensor("params0/weight").requires_grad_(true).unwrap();
    let b = fx.tensor("params0/bias").requires_grad_(true).unwrap();
    (w, b)
}

fn give_grads(fx: &Fixtures, t: usize, w: &Tensor, b: &Tensor) {
    w.set_grad(Some(fx.tensor(&format!("grads/{t}/weight"))));
    b.set_grad(Some(fx.tensor(&format!("grads/{t}/bias"))));
}

#[test]
fn every_optimizer_trajectory_matches_pytorch() {
    let fx = Fixtures::load("optim");
    let mut cases_checked = 0;
    let mut steps_checked = 0;
    for case in optimizer_cases(&fx) {
        let name = case["name"].as_str().unwrap();
        let (w, b) = initial_params(&fx);
        let mut opt = build(case, named(&[("weight", &w), ("bias", &b)]));
        let trajectory = case["trajectory"].as_array().unwrap();
        assert_eq!(trajectory.len() as u64, case["steps"].as_u64().unwrap());
        for (t, want) in trajectory.iter().enumerate() {
            opt.zero_grad();
            assert!(w.grad().is_none());
            give_grads(&fx, t, &w, &b);
            opt.step().unwrap();
            for (p, key) in [(&w, "weight"), (&b, "bias")] {
                let expected = fx.tensor(want[key].as_str().unwrap());
                assert_close(&format!("{name} step {t} {key}"), p, &expected, TOL);
            }
            steps_checked += 1;
        }
        cases_checked += 1;
    }
    // 5 SGD, 3 Adam, 2 AdamW, 2 RMSprop, 1 Adagrad, 10 steps each.
    assert_eq!(cases_checked, 13);
    assert_eq!(steps_checked, 130);
}

#[test]
fn f32_parameters_follow_the_f64_trajectories() {
    let fx = Fixtures::load("optim");
    let f32_of = |t: &Tensor| t.to_dtype(DType::F32).unwrap();
    for case in optimizer_cases(&fx) {
        let name = case["name"].as_str().unwrap();
        let w = f32_of(&fx.tensor("params0/weight"));
        let b = f32_of(&fx.tensor("params0/bias"));
        let mut opt = build(case, named(&[("weight", &w), ("bias", &b)]));
        for (t, want) in case["trajectory"].as_array().unwrap().iter().enumerate() {
            w.set_grad(Some(f32_of(&fx.tensor(&format!("grads/{t}/weight")))));
            b.set_grad(Some(f32_of(&fx.tensor(&format!("grads/{t}/bias")))));
            opt.step().unwrap();
            for (p, key) in [(&w, "weight"), (&b, "bias")] {
                assert_eq!(p.dtype(), DType::F32);
                let expected = fx.tensor(want[key].as_str().unwrap());
                assert_close(&format!("f32 {name} step {t} {key}"), p, &expected, 1e-4);
            }
        }
    }
}

#[test]
fn every_clip_case_matches_pytorch() {
    let fx = Fixtures::load("optim");
    let mut checked = 0;
    for case in fx.cases().iter().filter(|c| c.get("optimizer").is_none()) {
        let name = case["name"].as_str().unwrap();
        let w = Tensor::zeros((3, 4), DType::F64).unwrap();
        let b = Tensor::zeros(3, DType::F64).unwrap();
        w.set_grad(Some(fx.tensor(case["in_weight"].as_str().unwrap())));
        b.set_grad(Some(fx.tensor(case["in_bias"].as_str().unwrap())));
        let max = num(&case["max"]);
        let params = [w.clone(), b.clone()];
        match name {
            "clip/norm" | "clip/norm_inf" => {
                let norm_type = if name == "clip/norm" {
                    2.0
                } else {
                    f64::INFINITY
                };
                let total = clip_grad_norm_(&params, max, norm_type).unwrap();
                let want = num(&case["total_norm"]);
                assert!(
                    (total - want).abs() <= TOL * want.abs().max(1.0),
                    "{name}: total norm {total}, PyTorch {want}"
                );
            }
            "clip/value" => clip_grad_value_(&params, max).unwrap(),
            other => panic!("unknown clip case {other}"),
        }
        let out_w = fx.tensor(case["out_weight"].as_str().unwrap());
        let out_b = fx.tensor(case["out_bias"].as_str().unwrap());
        assert_close(&format!("{name} weight"), &w.grad().unwrap(), &out_w, TOL);
        assert_close(&format!("{name} bias"), &b.grad().unwrap(), &out_b, TOL);
        checked += 1;
    }
    assert_eq!(checked, 3);
    assert_eq!(checked + optimizer_cases(&fx).len(), fx.cases().len());
}

#[test]
fn clip_grad_norm_other_norms_and_edge_cases() {
    let grads = [vec![3.0f64, -4.0], vec![12.0]];
    let make = || {
        grads
            .iter()
            .map(|g| {
                let p = Tensor::zeros(g.len(), DType::F64).unwrap();
                p.set_grad(Some(Tensor::from_vec(g.clone(), g.len()).unwrap()));
                p
            })
            .collect::<Vec<_>>()
    };
    // p = 1: |3| + |-4| + |12| = 19; p = 3: (27 + 64 + 1728)^(1/3).
    let ps = make();
    assert_eq!(clip_grad_norm_(&ps, 100.0, 1.0).unwrap(), 19.0);
    assert_eq!(ps[1].grad().unwrap().to_vec::<f64>().unwrap(), [12.0]); // not clipped
    let ps = make();
    let n3 = clip_grad_norm_(&ps, 1.0, 3.0).unwrap();
    assert!((n3 - 1819f64.powf(1.0 / 3.0)).abs() < 1e-12);
    let scaled = ps[1].grad().unwrap().to_vec::<f64>().unwrap()[0];
    assert!((scaled - 12.0 / (n3 + 1e-6)).abs() < 1e-12);
    // No gradients at all: norm 0. Parameters without a gradient are skipped.
    let bare = Tensor::zeros(2, DType::F64).unwrap();
    assert_eq!(
        clip_grad_norm_(std::slice::from_ref(&bare), 1.0, 2.0).unwrap(),
        0.0
    );
    let ps = make();
    let all = [ps[0].clone(), bare.clone(), ps[1].clone()];
    assert_eq!(clip_grad_norm_(&all, 1e9, 2.0).unwrap(), 13.0);
    assert!(bare.grad().is_none());
    // f32 gradients are clipped in f32.
    let p = Tensor::zeros(2, DType::F32).unwrap();
    p.set_grad(Some(Tensor::from_vec(vec![3.0f32, 4.0], 2).unwrap()));
    assert_eq!(
        clip_grad_norm_(std::slice::from_ref(&p), 1.0, 2.0).unwrap(),
        5.0
    );
    let g = p.grad().unwrap();
    assert_eq!(g.dtype(), DType::F32);
    assert!((g.to_vec::<f32>().unwrap()[1] - 0.8).abs() < 1e-6);
    // A gradient shared by two parameters is scaled once for each, not twice.
    let shared = Tensor::from_vec(vec![6.0f64, 8.0], 2).unwrap();
    let (a, b) = (
        Tensor::zeros(2, DType::F64).unwrap(),
        Tensor::zeros(2, DType::F64).unwrap(),
    );
    a.set_grad(Some(shared.clone()));
    b.set_grad(Some(shared.clone()));
    let total = clip_grad_norm_(&[a.clone(), b.clone()], 1.0, 2.0).unwrap();
    assert!((total - 200f64.sqrt()).abs() < 1e-12);
    assert_eq!(
        a.grad().unwrap().to_vec::<f64>().unwrap(),
        b.grad().unwrap().to_vec::<f64>().unwrap()
    );
    assert_eq!(shared.to_vec::<f64>().unwrap(), [6.0, 8.0]);
    // Bad arguments.
    let err = clip_grad_norm_(&ps, -1.0, 2.0).unwrap_err().to_string();
    assert_eq!(err, "clip_grad_norm_: max_norm must be >= 0, got -1.0");
    assert!(clip_grad_norm_(&ps, 1.0, 0.0).is_err());
    assert!(clip_grad_norm_(&ps, 1.0, f64::NAN).is_err());
    assert!(clip_grad_value_(&ps, -0.5).is_err());
}

/// The built-in optimizers, each configured to use all of its state.
fn full_optimizers(params: Vec<(String, Tensor)>) -> Vec<(&'static str, Box<dyn Optimizer>)> {
    vec![
        (
            "SGD",
            Box::new(
                SGD::new(
                    params.clone(),
                    SgdConfig::new(0.05)
                        .momentum(0.9)
                        .nesterov(true)
                        .weight_decay(0.01),
                )
                .unwrap(),
            ),
        ),
        (
            "Adam",
            Box::new(
                Adam::new(
                    params.clone(),
                    AdamConfig::default()
                        .lr(0.01)
                        .amsgrad(true)
                        .weight_decay(0.1),
                )
                .unwrap(),
            ),
        ),
        (
            "AdamW",
            Box::new(AdamW::new(params.clone(), AdamWConfig::default().lr(0.01)).unwrap()),
        ),
        (
            "RMSprop",
            Box::new(
                RMSprop::new(
                    params.clone(),
                    RmspropConfig::default().momentum(0.5).centered(true),
                )
                .unwrap(),
            ),
        ),
        (
            "Adagrad",
            Box::new(
                Adagrad::new(
                    params,
                    AdagradConfig::new(0.1)
                        .lr_decay(0.01)
                        .initial_accumulator_value(0.1),
                )
                .unwrap(),
            ),
        ),
    ]
}

/// A deep copy of a state, as if written to disk and read back: tensors copied, the
/// group records through JSON.
fn round_trip(state: &OptimizerState) -> OptimizerState {
    let json = serde_json::to_string(&state.groups).unwrap();
    OptimizerState {
        optimizer: state.optimizer.clone(),
        tensors: state
            .tensors
            .iter()
            .map(|(k, t)| (k.clone(), fresh(t)))
            .collect(),
        scalars: state.scalars.clone(),
        groups: serde_json::from_str::<Vec<GroupState>>(&json).unwrap(),
    }
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_vec::<f64>()
        .unwrap()
        .into_iter()
        .map(f64::to_bits)
        .collect()
}

#[test]
fn resuming_from_a_saved_state_is_bitwise_identical() {
    let fx = Fixtures::load("optim");
    let (n_first, n_total) = (4, 10);
    for i in 0..5 {
        // Uninterrupted run.
        let (w, b) = initial_params(&fx);
        let (name, mut opt) =
            full_optimizers(named(&[("fc.weight", &w), ("fc.bias", &b)])).swap_remove(i);
        for t in 0..n_total {
            give_grads(&fx, t, &w, &b);
            opt.step().unwrap();
        }
        // Interrupted run: save after n_first steps, load into a new optimizer built on
        // copies of the parameters, continue.
        let (w1, b1) = initial_params(&fx);
        let (_, mut first) =
            full_optimizers(named(&[("fc.weight", &w1), ("fc.bias", &b1)])).swap_remove(i);
        for t in 0..n_first {
            give_grads(&fx, t, &w1, &b1);
            first.step().unwrap();
        }
        let saved = round_trip(&first.state_dict().unwrap());
        assert_eq!(saved.optimizer, name);
        assert!(!saved.tensors.is_empty(), "{name}: state saved");
        let (w2, b2) = (
            fresh(&w1).requires_grad_(true).unwrap(),
            fresh(&b1).requires_grad_(true).unwrap(),
        );
        drop(first);
        let (_, mut second) =
            full_optimizers(named(&[("fc.weight", &w2), ("fc.bias", &b2)])).swap_remove(i);
        second.load_state_dict(&saved).unwrap();
        for t in n_first..n_total {
            give_grads(&fx, t, &w2, &b2);
            second.step().unwrap();
        }
        assert_eq!(bits(&w2), bits(&w), "{name}: weight after resume");
        assert_eq!(bits(&b2), bits(&b), "{name}: bias after resume");
        // The saved state names its buffers after the parameters.
        let saved_end = second.state_dict().unwrap();
        let final_state = opt.state_dict().unwrap();
        assert_eq!(
            saved_end.scalars, final_state.scalars,
            "{name}: step counts"
        );
        for ((k1, t1), (k2, t2)) in saved_end.tensors.iter().zip(&final_state.tensors) {
            assert_eq!(k1, k2);
            assert_eq!(bits(t1), bits(t2), "{name}: {k1}");
        }
    }
}

#[test]
fn state_dict_names_buffers_after_parameters() {
    let w = Tensor::ones((2, 3), DType::F32).unwrap();
    let b = Tensor::ones(2, DType::F32).unwrap();
    let mut opt = Adam::new(
        named(&[("fc1.weight", &w), ("fc1.bias", &b)]),
        AdamConfig::default().amsgrad(true),
    )
    .unwrap();
    let empty = opt.state_dict().unwrap();
    assert!(empty.tensors.is_empty() && empty.scalars.is_empty());
    w.set_grad(Some(Tensor::ones((2, 3), DType::F32).unwrap()));
    opt.step().unwrap();
    let s = opt.state_dict().unwrap();
    let keys: Vec<&str> = s.tensors.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "fc1.weight.exp_avg",
            "fc1.weight.exp_avg_sq",
            "fc1.weight.max_exp_avg_sq"
        ]
    );
    assert!(s
        .tensors
        .iter()
        .all(|(_, t)| t.dims() == [2, 3] && t.dtype() == DType::F32));
    assert_eq!(s.scalars, [("fc1.weight.step".to_string(), 1.0)]);
    assert_eq!(s.groups[0].params, ["fc1.weight", "fc1.bias"]);
    assert_eq!(s.groups[0].hyperparameters["lr"], HyperParam::Float(1e-3));
    assert_eq!(
        s.groups[0].hyperparameters["amsgrad"],
        HyperParam::Bool(true)
    );
    let json = serde_json::to_value(&s.groups[0]).unwrap();
    assert_eq!(json["hyperparameters"]["beta2"], serde_json::json!(0.999));
    assert_eq!(json["hyperparameters"]["amsgrad"], serde_json::json!(true));
    // A snapshot, not a view: stepping again leaves it as it was.
    let before = s.tensors[0].1.to_vec::<f32>().unwrap();
    opt.step().unwrap();
    assert_eq!(s.tensors[0].1.to_vec::<f32>().unwrap(), before);
    assert_eq!(opt.step_count("fc1.weight"), 2);
    assert_eq!(opt.step_count("fc1.bias"), 0);
}

#[test]
fn load_state_dict_reports_every_mismatch_and_changes_nothing() {
    let w = Tensor::ones((2, 3), DType::F64).unwrap();
    let b = Tensor::ones(2, DType::F64).unwrap();
    let params = named(&[("fc.weight", &w), ("fc.bias", &b)]);
    let mut opt = Adam::new(params.clone(), AdamConfig::default()).unwrap();
    w.set_grad(Some(Tensor::full((2, 3), 0.5, DType::F64).unwrap()));
    b.set_grad(Some(Tensor::full(2, -0.5, DType::F64).unwrap()));
    opt.step().unwrap();
    let good = opt.state_dict().unwrap();

    let mut bad = good.clone();
    bad.tensors[0].1 = Tensor::zeros((3, 2), DType::F64).unwrap(); // wrong shape
    bad.tensors[1].1 = Tensor::zeros((2, 3), DType::F32).unwrap(); // wrong dtype
    bad.tensors.push((
        "fc.gamma.exp_avg".into(),
        Tensor::zeros(2, DType::F64).unwrap(),
    ));
    bad.tensors.push((
        "fc.bias.momentum_buffer".into(),
        Tensor::zeros(2, DType::F64).unwrap(),
    ));
    bad.scalars.retain(|(k, _)| k != "fc.bias.step"); // incomplete
    bad.groups[0]
        .hyperparameters
        .insert("beta1".into(), HyperParam::Float(1.5));
    bad.groups[0].hyperparameters.remove("eps");
    bad.groups[0].params.push("fc.gamma".into());
    let mut other = Adam::new(params.clone(), AdamConfig::default().lr(0.5)).unwrap();
    let err = other.load_state_dict(&bad).unwrap_err().to_string();
    for needle in [
        "Adam: load_state_dict: 8 problem(s)",
        "tensor `fc.weight.exp_avg` has shape (3x2)",
        "tensor `fc.weight.exp_avg_sq` has shape (2x3) and dtype f32",
        "tensor `fc.gamma.exp_avg`: no parameter `fc.gamma`",
        "tensor `fc.bias.momentum_buffer`: Adam keeps no buffer `momentum_buffer`",
        "`fc.bias` has buffers but no `fc.bias.step`",
        "invalid beta parameter at index 0: 1.5",
        "hyperparameter `eps` is missing",
        "unexpected parameters in the state: [\"fc.gamma\"]",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in: {err}");
    }
    // Nothing changed: same lr, no state.
    assert_eq!(other.learning_rates(), [0.5]);
    assert!(other.state_dict().unwrap().tensors.is_empty());

    // Another optimizer's state.
    let mut sgd = SGD::new(params, SgdConfig::new(0.1)).unwrap();
    let err = sgd.load_state_dict(&good).unwrap_err().to_string();
    assert_eq!(
        err,
        "SGD: load_state_dict: the state was saved by Adam, not SGD"
    );

    // The good state loads, hyperparameters included.
    other.load_state_dict(&good).unwrap();
    assert_eq!(other.learning_rates(), [1e-3]);
    assert_eq!(other.step_count("fc.bias"), 1);
}

#[test]
fn parameter_groups_have_their_own_hyperparameters() {
    let make = || {
        (
            Tensor::from_vec(vec![1.0f64, -2.0, 3.0], 3).unwrap(),
            Tensor::from_vec(vec![0.5f64, 0.25], 2).unwrap(),
        )
    };
    let grads = |w: &Tensor, b: &Tensor| {
        w.set_grad(Some(Tensor::from_vec(vec![0.1f64, 0.2, -0.3], 3).unwrap()));
        b.set_grad(Some(Tensor::from_vec(vec![-1.0f64, 2.0], 2).unwrap()));
    };
    let defaults = SgdConfig::new(0.1).momentum(0.9).weight_decay(0.01);
    // Grouped: the bias group has its own lr and no weight decay.
    let (w, b) = make();
    let mut grouped = SGD::with_groups(
        vec![
            ParamGroup::new(named(&[("w", &w)])),
            ParamGroup::new(named(&[("b", &b)]))
                .with_lr(0.5)
                .with_weight_decay(0.0),
        ],
        defaults.clone(),
    )
    .unwrap();
    assert_eq!(grouped.learning_rates(), [0.1, 0.5]);
    assert_eq!(grouped.num_groups(), 2);
    assert_eq!(grouped.config(1).unwrap().weight_decay, 0.0);
    assert_eq!(grouped.config(1).unwrap().momentum, 0.9);
    // Separately: one optimizer per group.
    let (w2, b2) = make();
    let mut sep_w = SGD::new(named(&[("w", &w2)]), defaults.clone()).unwrap();
    let mut sep_b = SGD::new(named(&[("b", &b2)]), defaults.lr(0.5).weight_decay(0.0)).unwrap();
    for _ in 0..3 {
        grads(&w, &b);
        grads(&w2, &b2);
        grouped.step().unwrap();
        sep_w.step().unwrap();
        sep_b.step().unwrap();
    }
    assert_eq!(bits(&w), bits(&w2));
    assert_eq!(bits(&b), bits(&b2));
    // A scheduler changes one group's learning rate.
    grouped.set_learning_rate(1, 0.05);
    assert_eq!(grouped.learning_rates(), [0.1, 0.05]);
    assert_eq!(grouped.momenta(), [Some(0.9), Some(0.9)]);
    grouped.set_momentum(0, 0.8);
    assert_eq!(grouped.config(0).unwrap().momentum, 0.8);
    // A full config for a group.
    let (w3, b3) = make();
    let opt = Adam::with_groups(
        vec![
            ParamGroup::new(named(&[("w", &w3)])),
            ParamGroup::new(named(&[("b", &b3)]))
                .with_config(AdamConfig::default().betas(0.5, 0.6)),
        ],
        AdamConfig::default(),
    )
    .unwrap();
    assert_eq!(opt.config(1).unwrap().betas, (0.5, 0.6));
    assert_eq!(opt.momenta(), [Some(0.9), Some(0.5)]);
    // add_param_group checks the new group against the others.
    let mut opt = opt;
    let err = opt
        .add_param_group(ParamGroup::new(named(&[("w", &b3)])))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "Adam: parameter name `w` appears more than once");
    let c = Tensor::zeros(4, DType::F64).unwrap();
    opt.add_param_group(ParamGroup::new(named(&[("c", &c)])).with_lr(1.0))
        .unwrap();
    assert_eq!(opt.learning_rates(), [1e-3, 1e-3, 1.0]);
}

#[test]
fn parameters_without_gradients_are_skipped() {
    for i in 0..5 {
        let w = Tensor::from_vec(vec![1.0f64, 2.0], 2).unwrap();
        let b = Tensor::from_vec(vec![3.0f64], 1).unwrap();
        let (name, mut opt) = full_optimizers(named(&[("w", &w), ("b", &b)])).swap_remove(i);
        w.set_grad(Some(Tensor::from_vec(vec![0.5f64, -0.5], 2).unwrap()));
        opt.step().unwrap();
        opt.step().unwrap();
        assert_eq!(b.to_vec::<f64>().unwrap(), [3.0], "{name}: untouched");
        let state = opt.state_dict().unwrap();
        assert!(
            state.tensors.iter().all(|(k, _)| k.starts_with("w.")),
            "{name}: no state for b"
        );
        // When b gets a gradient, it starts from step 1, like a fresh optimizer on b alone.
        let b_alone = Tensor::from_vec(vec![3.0f64], 1).unwrap();
        let (_, mut alone) = full_optimizers(named(&[("b", &b_alone)])).swap_remove(i);
        for p in [&b, &b_alone] {
            p.set_grad(Some(Tensor::from_vec(vec![0.7f64], 1).unwrap()));
        }
        w.zero_grad();
        opt.step().unwrap();
        alone.step().unwrap();
        assert_eq!(bits(&b), bits(&b_alone), "{name}");
    }
    // zero_grad clears every gradient.
    let w = Tensor::ones(2, DType::F64).unwrap();
    let mut opt = SGD::new(named(&[("w", &w)]), SgdConfig::new(0.1)).unwrap();
    w.set_grad(Some(Tensor::ones(2, DType::F64).unwrap()));
    opt.zero_grad();
    assert!(w.grad().is_none());
}

#[test]
fn hyperparameters_are_validated_with_the_bad_value() {
    let w = Tensor::ones(2, DType::F64).unwrap();
    let p = || named(&[("w", &w)]);
    let err = |r: sinapsis::Result<()>| r.unwrap_err().to_string();
    let sgd = |c: SgdConfig| SGD::new(p(), c).map(|_| ());
    let adam = |c: AdamConfig| Adam::new(p(), c).map(|_| ());
    assert_eq!(
        err(sgd(SgdConfig::new(-0.1))),
        "SGD: invalid learning rate: -0.1"
    );
    assert_eq!(
        err(sgd(SgdConfig::new(f64::NAN))),
        "SGD: invalid learning rate: NaN"
    );
    assert_eq!(
        err(sgd(SgdConfig::new(0.1).momentum(-0.5))),
        "SGD: invalid momentum value: -0.5"
    );
    assert_eq!(
        err(sgd(SgdConfig::new(0.1).weight_decay(-1.0))),
        "SGD: invalid weight_decay value: -1.0"
    );
    assert_eq!(
        err(sgd(SgdConfig::new(0.1).nesterov(true))),
        "SGD: Nesterov momentum requires a momentum and zero dampening (got momentum 0.0, \
         dampening 0.0)"
    );
    assert!(err(sgd(SgdConfig::new(0.1)
        .momentum(0.9)
        .dampening(0.1)
        .nesterov(true)))
    .contains("dampening 0.1"));
    assert_eq!(
        err(adam(AdamConfig::default().betas(1.5, 0.9))),
        "Adam: invalid beta parameter at index 0: 1.5 (must be in [0, 1))"
    );
    assert_eq!(
        err(adam(AdamConfig::default().betas(0.9, 1.0))),
        "Adam: invalid beta parameter at index 1: 1.0 (must be in [0, 1))"
    );
    assert_eq!(
        err(adam(AdamConfig::default().eps(-1e-8))),
        "Adam: invalid epsilon value: -1e-8"
    );
    assert_eq!(
        err(AdamW::new(p(), AdamWConfig::default().weight_decay(-0.1)).map(|_| ())),
        "AdamW: invalid weight_decay value: -0.1"
    );
    assert_eq!(
        err(RMSprop::new(p(), RmspropConfig::default().alpha(-0.9)).map(|_| ())),
        "RMSprop: invalid alpha value: -0.9"
    );
    assert_eq!(
        err(Adagrad::new(p(), AdagradConfig::default().lr_decay(-1.0)).map(|_| ())),
        "Adagrad: invalid lr_decay value: -1.0"
    );
    assert_eq!(
        err(Adagrad::new(
            p(),
            AdagradConfig::default().initial_accumulator_value(-1.0)
        )
        .map(|_| ())),
        "Adagrad: invalid initial_accumulator_value value: -1.0"
    );
    // Group overrides are validated too, and set_config.
    let groups = vec![ParamGroup::new(p()).with_lr(-2.0)];
    assert_eq!(
        err(SGD::with_groups(groups, SgdConfig::new(0.1)).map(|_| ())),
        "SGD: invalid learning rate: -2.0"
    );
    let mut opt = SGD::new(p(), SgdConfig::new(0.1)).unwrap();
    assert!(opt.set_config(0, SgdConfig::new(-1.0)).is_err());
    assert!(opt.set_config(3, SgdConfig::new(1.0)).is_err());
    assert_eq!(opt.learning_rates(), [0.1]);
}

#[test]
fn parameter_lists_are_checked() {
    let err = |r: sinapsis::Result<SGD>| r.err().expect("an error").to_string();
    let c = SgdConfig::new(0.1);
    assert_eq!(
        err(SGD::new(vec![], c.clone())),
        "SGD: got an empty parameter list"
    );
    let w = Tensor::ones((2, 3), DType::F64)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    assert_eq!(
        err(SGD::new(named(&[("a", &w), ("b", &w)]), c.clone())),
        "SGD: parameters `a` and `b` share memory (the same parameter given twice?)"
    );
    assert_eq!(
        err(SGD::new(named(&[("a", &w), ("a", &fresh(&w))]), c.clone())),
        "SGD: parameter name `a` appears more than once"
    );
    let i = Tensor::from_vec(vec![1i64, 2], 2).unwrap();
    assert!(err(SGD::new(named(&[("i", &i)]), c.clone())).contains("parameter `i` has dtype i64"));
    let y = w.mul_scalar(2.0).unwrap();
    assert!(err(SGD::new(named(&[("y", &y)]), c.clone())).contains("is not a leaf tensor"));
    let t = fresh(&w).t().unwrap();
    assert!(err(SGD::new(named(&[("t", &t)]), c.clone())).contains("is not contiguous"));
    // Disjoint parts of one buffer are fine.
    let flat = Tensor::zeros(6, DType::F64).unwrap();
    let (lo, hi) = (flat.narrow(0, 0, 3).unwrap(), flat.narrow(0, 3, 3).unwrap());
    let mut opt = SGD::new(named(&[("lo", &lo), ("hi", &hi)]), c).unwrap();
    lo.set_grad(Some(Tensor::ones(3, DType::F64).unwrap()));
    hi.set_grad(Some(Tensor::full(3, 2.0, DType::F64).unwrap()));
    opt.step().unwrap();
    assert_eq!(
        flat.to_vec::<f64>().unwrap(),
        [-0.1, -0.1, -0.1, -0.2, -0.2, -0.2]
    );
}

#[test]
fn gradients_of_any_layout_are_read_correctly() {
    // A transposed (non-contiguous) gradient, a broadcast one, and a gradient that is the
    // parameter itself (sharing its storage: must not deadlock).
    let w = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], (2, 3)).unwrap();
    let b = Tensor::from_vec(vec![1.0f64, 1.0, 1.0], 3).unwrap();
    let s = Tensor::from_vec(vec![2.0f64, 4.0], 2).unwrap();
    let mut opt = SGD::new(
        named(&[("w", &w), ("b", &b), ("s", &s)]),
        SgdConfig::new(0.5),
    )
    .unwrap();
    let gt = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], (3, 2))
        .unwrap()
        .t()
        .unwrap();
    w.set_grad(Some(gt));
    b.set_grad(Some(
        Tensor::from_vec(vec![2.0f64], 1)
            .unwrap()
            .expand(3)
            .unwrap(),
    ));
    s.set_grad(Some(s.clone()));
    opt.step().unwrap();
    // w - 0.5 * [[1, 3, 5], [2, 4, 6]]
    assert_eq!(w.to_vec::<f64>().unwrap(), [0.5, 0.5, 0.5, 3.0, 3.0, 3.0]);
    assert_eq!(b.to_vec::<f64>().unwrap(), [0.0, 0.0, 0.0]);
    assert_eq!(s.to_vec::<f64>().unwrap(), [1.0, 2.0]);
    // A gradient of the wrong shape is an error, and no parameter moves.
    w.set_grad(Some(Tensor::ones((3, 2), DType::F64).unwrap()));
    b.set_grad(Some(Tensor::ones(3, DType::F64).unwrap()));
    let err = opt.step().unwrap_err().to_string();
    assert!(err.contains("the gradient of `w` has shape (3x2)"), "{err}");
    assert_eq!(b.to_vec::<f64>().unwrap(), [0.0, 0.0, 0.0]);
}

#[test]
fn optimizers_train_a_model_through_autograd() {
    // Least squares y = 2x - 1 with each optimizer, through Box<dyn Optimizer>.
    let x = Tensor::from_vec(vec![-1.0f64, 0.0, 1.0, 2.0], (4, 1)).unwrap();
    let y = Tensor::from_vec(vec![-3.0f64, -1.0, 1.0, 3.0], (4, 1)).unwrap();
    for i in 0..5 {
        let w = Tensor::zeros((1, 1), DType::F64)
            .unwrap()
            .requires_grad_(true)
            .unwrap();
        let b = Tensor::zeros(1, DType::F64)
            .unwrap()
            .requires_grad_(true)
            .unwrap();
        let (name, mut opt) = full_optimizers(named(&[("w", &w), ("b", &b)])).swap_remove(i);
        let loss_at = || {
            let d = x.linear(&w, Some(&b)).unwrap().sub(&y).unwrap();
            d.mul(&d).unwrap().mean_all().unwrap()
        };
        let first = loss_at().item::<f64>().unwrap();
        for _ in 0..200 {
            opt.zero_grad();
            loss_at().backward().unwrap();
            opt.step().unwrap();
        }
        let last = loss_at().item::<f64>().unwrap();
        assert!(last < first * 0.2, "{name}: loss {first} -> {last}");
    }
}
