//! Learning-rate schedulers against PyTorch: every sequence of `fixtures/schedulers.json`
//! (30 epochs; the lr used in each epoch, `scheduler.step()` at the end of each epoch),
//! per-group learning rates, exact resumption from a saved state, and validation errors.

use serde_json::Value;
use sinapsis::optim::lr_scheduler::*;
use sinapsis::optim::Optimizer;
use sinapsis::Result;

/// An optimizer that only holds a learning rate and a momentum per parameter group.
#[derive(Debug)]
struct MockOptimizer {
    lrs: Vec<f64>,
    momenta: Vec<Option<f64>>,
}

impl MockOptimizer {
    /// Like the fixture's `SGD([p], lr)`: momentum 0, which OneCycleLR still cycles.
    fn new(lrs: &[f64]) -> Self {
        MockOptimizer {
            lrs: lrs.to_vec(),
            momenta: vec![Some(0.0); lrs.len()],
        }
    }

    /// Like Adagrad: no momentum at all.
    fn without_momentum(lrs: &[f64]) -> Self {
        MockOptimizer {
            lrs: lrs.to_vec(),
            momenta: vec![None; lrs.len()],
        }
    }
}

impl Optimizer for MockOptimizer {
    fn step(&mut self) -> Result<()> {
        Ok(())
    }
    fn zero_grad(&mut self) {}
    fn learning_rates(&self) -> Vec<f64> {
        self.lrs.clone()
    }
    fn set_learning_rate(&mut self, group: usize, lr: f64) {
        self.lrs[group] = lr;
    }
    fn momenta(&self) -> Vec<Option<f64>> {
        self.momenta.clone()
    }
    fn set_momentum(&mut self, group: usize, momentum: f64) {
        if let Some(m) = &mut self.momenta[group] {
            *m = momentum;
        }
    }
}

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/schedulers.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f(cfg: &Value, key: &str) -> f64 {
    cfg[key]
        .as_f64()
        .unwrap_or_else(|| panic!("config key {key}: {cfg}"))
}

fn u(cfg: &Value, key: &str) -> usize {
    cfg[key]
        .as_u64()
        .unwrap_or_else(|| panic!("config key {key}: {cfg}")) as usize
}

fn s<'a>(cfg: &'a Value, key: &str) -> &'a str {
    cfg[key]
        .as_str()
        .unwrap_or_else(|| panic!("config key {key}: {cfg}"))
}

/// Builds the scheduler named in a fixture case from its PyTorch keyword arguments,
/// failing on any argument it does not know (so no setting is silently ignored).
fn build(name: &str, cfg: &Value, opt: &mut MockOptimizer) -> Result<Box<dyn LRScheduler>> {
    let known: &[&str] = match name {
        "StepLR" => &["step_size", "gamma"],
        "MultiStepLR" => &["milestones", "gamma"],
        "ExponentialLR" => &["gamma"],
        "CosineAnnealingLR" => &["T_max", "eta_min"],
        "CosineAnnealingWarmRestarts" => &["T_0", "T_mult", "eta_min"],
        "LinearLR" => &["start_factor", "end_factor", "total_iters"],
        "OneCycleLR" => &["max_lr", "total_steps"],
        "ReduceLROnPlateau" => &[
            "mode",
            "factor",
            "patience",
            "threshold",
            "threshold_mode",
            "cooldown",
            "min_lr",
        ],
        other => panic!("no scheduler named {other} in Sinapsis"),
    };
    for key in cfg.as_object().unwrap().keys() {
        assert!(
            known.contains(&key.as_str()),
            "{name}: unexpected argument {key}"
        );
    }
    Ok(match name {
        "StepLR" => Box::new(StepLR::new(opt, u(cfg, "step_size"), f(cfg, "gamma"))?),
        "MultiStepLR" => {
            let milestones: Vec<usize> = cfg["milestones"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_u64().unwrap() as usize)
                .collect();
            Box::new(MultiStepLR::new(opt, &milestones, f(cfg, "gamma"))?)
        }
        "ExponentialLR" => Box::new(ExponentialLR::new(opt, f(cfg, "gamma"))?),
        "CosineAnnealingLR" => Box::new(CosineAnnealingLR::new(
            opt,
            u(cfg, "T_max"),
            f(cfg, "eta_min"),
        )?),
        "CosineAnnealingWarmRestarts" => Box::new(CosineAnnealingWarmRestarts::new(
            opt,
            u(cfg, "T_0"),
            u(cfg, "T_mult"),
            f(cfg, "eta_min"),
        )?),
        "LinearLR" => Box::new(LinearLR::new(
            opt,
            f(cfg, "start_factor"),
            f(cfg, "end_factor"),
            u(cfg, "total_iters"),
        )?),
        "OneCycleLR" => Box::new(OneCycleLR::new(
            opt,
            &[f(cfg, "max_lr")],
            u(cfg, "total_steps"),
            OneCycleLROptions::default(),
        )?),
        "ReduceLROnPlateau" => Box::new(ReduceLROnPlateau::new(
            opt,
            ReduceLROnPlateauOptions {
                mode: s(cfg, "mode").parse()?,
                factor: f(cfg, "factor"),
                patience: u(cfg, "patience"),
                threshold: f(cfg, "threshold"),
                threshold_mode: s(cfg, "threshold_mode").parse()?,
                cooldown: u(cfg, "cooldown"),
                min_lr: vec![f(cfg, "min_lr")],
                ..Default::default()
            },
        )?),
        _ => unreachable!(),
    })
}

/// One epoch's end: `scheduler.step()`, or `scheduler.step(val_loss)` for plateau.
fn end_epoch(
    sched: &mut dyn LRScheduler,
    opt: &mut MockOptimizer,
    val_losses: &[f64],
    epoch: usize,
) {
    if sched.needs_metric() {
        sched.step_with_metric(val_losses[epoch], opt).unwrap();
    } else {
        sched.step(opt).unwrap();
    }
}

fn val_losses(doc: &Value) -> Vec<f64> {
    doc["val_losses_for_plateau"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn assert_close(got: f64, want: f64, what: &str) {
    let tol = 1e-12 * want.abs().max(f64::MIN_POSITIVE);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, PyTorch {want:e} (difference {:e})",
        (got - want).abs()
    );
}

#[test]
fn every_fixture_sequence_matches_pytorch() {
    let doc = fixture();
    let epochs = doc["epochs"].as_u64().unwrap() as usize;
    assert_eq!(epochs, 30);
    let losses = val_losses(&doc);
    assert_eq!(losses.len(), epochs);
    let cases = doc["cases"].as_array().unwrap();
    let mut checked = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let cfg = &case["config"];
        let base_lr = case["base_lr"].as_f64().unwrap();
        let want = floats(&case["lr_before_each_epoch"]);
        assert_eq!(want.len(), epochs, "case {i} ({name})");
        let mut opt = MockOptimizer::new(&[base_lr]);
        let mut sched = build(name, cfg, &mut opt).unwrap();
        assert_eq!(sched.name(), name);
        for (e, &w) in want.iter().enumerate() {
            let what = format!("case {i} {name} {cfg} epoch {e}");
            let used = opt.learning_rates()[0];
            assert_close(used, w, &what);
            // Stricter: PyTorch's value to the last bit, give or take the one bit that
            // serde_json's default (not correctly rounded) decimal parser may lose. This
            // tells the chainable forms from the closed ones (CosineAnnealingLR's differ
            // by ~20 ulps at epoch 20). With serde_json's `float_roundtrip` feature the
            // 270 values all match bit for bit.
            let ulps = (used.to_bits() as i64 - w.to_bits() as i64).abs();
            assert!(
                ulps <= 1,
                "{what}: {used:e} is {ulps} ulps from PyTorch's {w:e}"
            );
            // get_last_lr() is the lr the optimizer holds.
            assert_eq!(sched.get_last_lr(), opt.learning_rates(), "{what}");
            end_epoch(sched.as_mut(), &mut opt, &losses, e);
        }
        checked.push(i);
    }
    // Every case in the file was checked, and the file has every scheduler it promises.
    assert_eq!(checked.len(), cases.len());
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for name in [
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "CosineAnnealingWarmRestarts",
        "LinearLR",
        "OneCycleLR",
    ] {
        assert_eq!(names.iter().filter(|&&n| n == name).count(), 1, "{name}");
    }
    assert_eq!(
        names.iter().filter(|&&n| n == "ReduceLROnPlateau").count(),
        2
    );
    assert_eq!(cases.len(), 9);
}

/// Each parameter group follows its own base lr exactly as a one-group optimizer would.
#[test]
fn groups_are_scheduled_independently() {
    let doc = fixture();
    let losses = val_losses(&doc);
    let base = [0.1, 0.03, 1.0];
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let cfg = &case["config"];
        let mut multi = MockOptimizer::new(&base);
        let mut sched = build(name, cfg, &mut multi).unwrap();
        let mut singles: Vec<(MockOptimizer, Box<dyn LRScheduler>)> = base
            .iter()
            .map(|&lr| {
                let mut o = MockOptimizer::new(&[lr]);
                let s = build(name, cfg, &mut o).unwrap();
                (o, s)
            })
            .collect();
        for e in 0..losses.len() {
            let got = multi.learning_rates();
            for (g, (o, _)) in singles.iter().enumerate() {
                assert_eq!(got[g], o.lrs[0], "{name} group {g} epoch {e}");
                assert_eq!(multi.momenta[g], o.momenta[0], "{name} group {g} epoch {e}");
            }
            end_epoch(sched.as_mut(), &mut multi, &losses, e);
            for (o, s) in singles.iter_mut() {
                end_epoch(s.as_mut(), o, &losses, e);
            }
        }
    }
}

/// Saving after k epochs, rebuilding the scheduler on a fresh optimizer, loading the state
/// (through serde) and going on gives bit-for-bit the uninterrupted sequence.
#[test]
fn resume_from_saved_state_is_exact() {
    let doc = fixture();
    let losses = val_losses(&doc);
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let cfg = &case["config"];
        let base_lr = case["base_lr"].as_f64().unwrap();
        let mut opt = MockOptimizer::new(&[base_lr, base_lr / 3.0]);
        let mut sched = build(name, cfg, &mut opt).unwrap();
        let mut full = Vec::new();
        for e in 0..losses.len() {
            full.push((opt.lrs.clone(), opt.momenta.clone()));
            end_epoch(sched.as_mut(), &mut opt, &losses, e);
        }
        for k in [0, 1, 4, 5, 11, 17, 29] {
            let mut opt = MockOptimizer::new(&[base_lr, base_lr / 3.0]);
            let mut sched = build(name, cfg, &mut opt).unwrap();
            for e in 0..k {
                end_epoch(sched.as_mut(), &mut opt, &losses, e);
            }
            // NOTE: through a JSON value, not text: serde_json parses decimal text exactly
            // only with its `float_roundtrip` feature (without it, the last bit may differ).
            let json = serde_json::to_value(sched.state()).unwrap();
            let state: SchedulerState = serde_json::from_value(json).unwrap();
            assert_eq!(state, sched.state(), "{name}: JSON round trip");
            assert_eq!(state.last_epoch, sched.last_epoch());

            // A fresh optimizer at the configured lr and momentum, as at the start of a
            // resumed run.
            let mut opt = MockOptimizer::new(&[base_lr, base_lr / 3.0]);
            let mut sched = build(name, cfg, &mut opt).unwrap();
            sched.load_state(&state, &mut opt).unwrap();
            assert_eq!(sched.state(), state, "{name}: state after loading");
            for (e, want) in full.iter().enumerate().skip(k) {
                let got = (opt.lrs.clone(), opt.momenta.clone());
                assert_eq!(&got, want, "{name}: resumed at {k}, epoch {e}");
                end_epoch(sched.as_mut(), &mut opt, &losses, e);
            }
        }
    }
}

#[test]
fn state_json_keeps_infinite_best() {
    let mut opt = MockOptimizer::new(&[0.1]);
    let sched = ReduceLROnPlateau::new(&mut opt, Default::default()).unwrap();
    let state = sched.state();
    assert_eq!(state.counters["best"], f64::INFINITY);
    let json = serde_json::to_string(&state).unwrap();
    assert!(json.contains("\"best\":\"inf\""), "{json}");
    assert_eq!(
        serde_json::from_str::<SchedulerState>(&json).unwrap(),
        state
    );
    let bad = json.replace("\"inf\"", "\"infinite\"");
    let err = serde_json::from_str::<SchedulerState>(&bad).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`best`") && msg.contains("got \"infinite\""),
        "{msg}"
    );
}

#[test]
fn loading_a_mismatched_state_is_an_error() {
    let mut opt = MockOptimizer::new(&[0.1]);
    let step = StepLR::new(&mut opt, 3, 0.5).unwrap();
    let mut exp = ExponentialLR::new(&mut opt, 0.9).unwrap();
    let err = exp.load_state(&step.state(), &mut opt).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ExponentialLR: cannot load the state of a StepLR scheduler"
    );
    let mut two = MockOptimizer::new(&[0.1, 0.2]);
    let mut step2 = StepLR::new(&mut two, 3, 0.5).unwrap();
    let err = step2.load_state(&step.state(), &mut two).unwrap_err();
    assert_eq!(
        err.to_string(),
        "StepLR: the optimizer has 2 parameter groups, the scheduler was built for 1"
    );
    let mut warm = CosineAnnealingWarmRestarts::new(&mut opt, 5, 1, 0.0).unwrap();
    let mut state = warm.state();
    state.counters.remove("T_i");
    let err = warm.load_state(&state, &mut opt).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CosineAnnealingWarmRestarts: the saved state has no counter `T_i`"
    );
}

fn err<T>(r: Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_settings_are_errors_that_name_the_value() {
    let mut o = MockOptimizer::new(&[0.1]);
    assert_eq!(
        err(StepLR::new(&mut o, 0, 0.1)),
        "StepLR: step_size must be positive, got 0"
    );
    assert_eq!(
        err(StepLR::new(&mut o, 2, f64::NAN)),
        "StepLR: gamma must be finite, got NaN"
    );
    assert_eq!(
        err(MultiStepLR::new(&mut o, &[3], f64::INFINITY)),
        "MultiStepLR: gamma must be finite, got inf"
    );
    assert_eq!(
        err(ExponentialLR::new(&mut o, f64::NAN)),
        "ExponentialLR: gamma must be finite, got NaN"
    );
    assert_eq!(
        err(CosineAnnealingLR::new(&mut o, 0, 0.0)),
        "CosineAnnealingLR: T_max must be positive, got 0"
    );
    assert_eq!(
        err(CosineAnnealingWarmRestarts::new(&mut o, 0, 1, 0.0)),
        "CosineAnnealingWarmRestarts: T_0 must be a positive integer, got 0"
    );
    assert_eq!(
        err(CosineAnnealingWarmRestarts::new(&mut o, 5, 0, 0.0)),
        "CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, got 0"
    );
    assert_eq!(
        err(LinearLR::new(&mut o, 0.0, 1.0, 5)),
        "LinearLR: start_factor must be in (0, 1], got 0"
    );
    assert_eq!(
        err(LinearLR::new(&mut o, 1.5, 1.0, 5)),
        "LinearLR: start_factor must be in (0, 1], got 1.5"
    );
    assert_eq!(
        err(LinearLR::new(&mut o, 0.5, -0.1, 5)),
        "LinearLR: end_factor must be in [0, 1], got -0.1"
    );
    let oc = OneCycleLROptions::default;
    assert_eq!(
        err(OneCycleLR::new(&mut o, &[0.1], 0, oc())),
        "OneCycleLR: total_steps must be positive, got 0"
    );
    assert_eq!(
        err(OneCycleLR::with_epochs(&mut o, &[0.1], 0, 10, oc())),
        "OneCycleLR: epochs must be positive, got 0"
    );
    assert_eq!(
        err(OneCycleLR::with_epochs(&mut o, &[0.1], 3, 0, oc())),
        "OneCycleLR: steps_per_epoch must be positive, got 0"
    );
    assert_eq!(
        err(OneCycleLR::new(
            &mut o,
            &[0.1],
            10,
            OneCycleLROptions {
                pct_start: 1.2,
                ..oc()
            }
        )),
        "OneCycleLR: pct_start must be in [0, 1], got 1.2"
    );
    assert_eq!(
        err(OneCycleLR::new(
            &mut o,
            &[0.1],
            10,
            OneCycleLROptions {
                div_factor: 0.0,
                ..oc()
            }
        )),
        "OneCycleLR: div_factor must be positive, got 0"
    );
    assert_eq!(
        err(OneCycleLR::new(&mut o, &[0.1, 0.2], 10, oc())),
        "OneCycleLR: expected 1 or 1 values for max_lr (one per parameter group), got 2"
    );
    assert_eq!(
        err("cosine".parse::<AnnealStrategy>()),
        "OneCycleLR: anneal_strategy must be \"cos\" or \"linear\", got \"cosine\""
    );
    let rp = ReduceLROnPlateauOptions::default;
    assert_eq!(
        err(ReduceLROnPlateau::new(
            &mut o,
            ReduceLROnPlateauOptions {
                factor: 1.0,
                ..rp()
            }
        )),
        "ReduceLROnPlateau: factor must be < 1.0, got 1"
    );
    assert_eq!(
        err(ReduceLROnPlateau::new(
            &mut o,
            ReduceLROnPlateauOptions {
                min_lr: vec![0.0, 0.1, 0.2],
                ..rp()
            }
        )),
        "ReduceLROnPlateau: expected 1 or 1 values for min_lr (one per parameter group), got 3"
    );
    assert_eq!(
        err("minimum".parse::<PlateauMode>()),
        "ReduceLROnPlateau: mode must be \"min\" or \"max\", got \"minimum\""
    );
    assert_eq!(
        err("relative".parse::<ThresholdMode>()),
        "ReduceLROnPlateau: threshold_mode must be \"rel\" or \"abs\", got \"relative\""
    );
    let mut none = MockOptimizer::new(&[]);
    assert_eq!(
        err(StepLR::new(&mut none, 1, 0.1)),
        "StepLR: the optimizer has no parameter groups"
    );
    // Failed constructions left the learning rate alone.
    assert_eq!(o.lrs, [0.1]);
}

#[test]
fn misuse_while_stepping_is_an_error() {
    // OneCycleLR: stepping past total_steps (PyTorch raises too); the lr is unchanged.
    let mut o = MockOptimizer::new(&[0.1]);
    let mut sched = OneCycleLR::new(&mut o, &[1.0], 3, OneCycleLROptions::default()).unwrap();
    for _ in 0..3 {
        sched.step(&mut o).unwrap();
    }
    let before = o.lrs.clone();
    assert_eq!(
        err(sched.step(&mut o)),
        "OneCycleLR: tried to step 4 times; the specified number of total steps is 3"
    );
    assert_eq!(o.lrs, before);
    assert_eq!(sched.last_epoch(), 3);

    // ReduceLROnPlateau needs the metric.
    let mut plateau = ReduceLROnPlateau::new(&mut o, Default::default()).unwrap();
    assert!(plateau.needs_metric());
    assert_eq!(
        err(plateau.step(&mut o)),
        "ReduceLROnPlateau: step needs the monitored metric: call step_with_metric(metric, optimizer)"
    );

    // An optimizer whose group count changed.
    let mut step = StepLR::new(&mut o, 2, 0.5).unwrap();
    let mut other = MockOptimizer::new(&[0.1, 0.1]);
    assert_eq!(
        err(step.step(&mut other)),
        "StepLR: the optimizer has 2 parameter groups, the scheduler was built for 1"
    );
}

/// Settings the fixture does not cover, against values worked out by hand from PyTorch's
/// formulas.
#[test]
fn settings_beyond_the_fixture() {
    // OneCycleLR, three phases, linear: 10 steps, boundaries at 2 and 4, then to step 9.
    let mut o = MockOptimizer::new(&[0.5]);
    let opts = OneCycleLROptions {
        anneal_strategy: AnnealStrategy::Linear,
        three_phase: true,
        div_factor: 10.0,
        final_div_factor: 100.0,
        ..Default::default()
    };
    let mut sched = OneCycleLR::new(&mut o, &[1.0], 10, opts.clone()).unwrap();
    let mut got = vec![o.lrs[0]];
    for _ in 0..9 {
        sched.step(&mut o).unwrap();
        got.push(o.lrs[0]);
    }
    let (ini, min) = (0.1, 0.001);
    let want = [
        ini,
        (1.0 - ini) * 0.5 + ini,
        1.0,
        (ini - 1.0) * 0.5 + 1.0,
        ini,
        (min - ini) * 0.2 + ini,
        (min - ini) * 0.4 + ini,
        (min - ini) * 0.6 + ini,
        (min - ini) * 0.8 + ini,
        (min - ini) * 1.0 + ini,
    ];
    for (e, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(*g, w, &format!("three-phase step {e}"));
    }
    // epochs * steps_per_epoch is the same cycle.
    let mut o2 = MockOptimizer::new(&[0.5]);
    let mut s2 = OneCycleLR::with_epochs(&mut o2, &[1.0], 5, 2, opts).unwrap();
    assert_eq!(s2.total_steps(), 10);
    for _ in 0..9 {
        s2.step(&mut o2).unwrap();
    }
    assert_eq!(o2.lrs, o.lrs);

    // OneCycleLR with one max_lr per group.
    let mut o = MockOptimizer::new(&[0.1, 0.1]);
    OneCycleLR::new(&mut o, &[1.0, 2.0], 10, OneCycleLROptions::default()).unwrap();
    assert_close(o.lrs[0], 0.04, "per-group max_lr, group 0");
    assert_close(o.lrs[1], 0.08, "per-group max_lr, group 1");

    // ReduceLROnPlateau in max mode with a relative threshold, per-group min_lr.
    let mut o = MockOptimizer::new(&[1.0, 0.1]);
    let mut plateau = ReduceLROnPlateau::new(
        &mut o,
        ReduceLROnPlateauOptions {
            mode: PlateauMode::Max,
            factor: 0.5,
            patience: 0,
            threshold: 0.1,
            min_lr: vec![0.3, 0.08],
            ..Default::default()
        },
    )
    .unwrap();
    // 1.05 does not beat 1.0 * 1.1: a bad epoch beyond patience 0 halves the lr.
    for (acc, want) in [
        (1.0, [1.0, 0.1]),
        (1.05, [0.5, 0.08]),
        (1.2, [0.5, 0.08]),
        (1.0, [0.3, 0.08]),
        (0.0, [0.3, 0.08]),
    ] {
        plateau.step_with_metric(acc, &mut o).unwrap();
        assert_eq!(o.lrs, want, "after metric {acc}");
    }
    assert_eq!(plateau.best(), 1.2);

    // CosineAnnealingWarmRestarts with T_mult = 1 restarts every T_0 epochs.
    let mut o = MockOptimizer::new(&[0.2]);
    let mut warm = CosineAnnealingWarmRestarts::new(&mut o, 3, 1, 0.02).unwrap();
    for e in 1..10 {
        warm.step(&mut o).unwrap();
        let t_cur = (e % 3) as f64;
        let want = 0.02 + (0.2 - 0.02) * (1.0 + (std::f64::consts::PI * t_cur / 3.0).cos()) / 2.0;
        assert_close(o.lrs[0], want, &format!("warm restarts epoch {e}"));
    }

    // MultiStepLR with unsorted and repeated milestones: the repeat decays twice.
    let mut o = MockOptimizer::new(&[1.0]);
    let mut multi = MultiStepLR::new(&mut o, &[4, 2, 2], 0.5).unwrap();
    let mut got = vec![o.lrs[0]];
    for _ in 0..5 {
        multi.step(&mut o).unwrap();
        got.push(o.lrs[0]);
    }
    assert_eq!(got, [1.0, 1.0, 0.25, 0.25, 0.125, 0.125]);

    // Chainable forms carry a learning rate changed from outside, as in PyTorch.
    let mut o = MockOptimizer::new(&[1.0]);
    let mut exp = ExponentialLR::new(&mut o, 0.5).unwrap();
    o.set_learning_rate(0, 4.0);
    exp.step(&mut o).unwrap();
    assert_eq!(exp.get_last_lr(), [2.0]);
}

/// OneCycleLR's momentum moves against the learning rate: PyTorch's default
/// `cycle_momentum`, from `max_momentum` down to `base_momentum` at the peak and back.
#[test]
fn one_cycle_cycles_the_momentum() {
    let mut o = MockOptimizer::new(&[0.1, 0.1]);
    let opts = OneCycleLROptions {
        base_momentum: vec![0.85, 0.8],
        ..Default::default()
    };
    let mut sched = OneCycleLR::new(&mut o, &[0.1], 30, opts).unwrap();
    let cos = |start: f64, end: f64, pct: f64| {
        end + (start - end) / 2.0 * ((std::f64::consts::PI * pct).cos() + 1.0)
    };
    for t in 0..30 {
        for (g, base) in [0.85, 0.8].into_iter().enumerate() {
            // Phase boundary at pct_start * 30 - 1 = 8, then to step 29.
            let want = if t <= 8 {
                cos(0.95, base, t as f64 / 8.0)
            } else {
                cos(base, 0.95, (t as f64 - 8.0) / 21.0)
            };
            assert_close(o.momenta[g].unwrap(), want, &format!("group {g} step {t}"));
        }
        if t < 29 {
            sched.step(&mut o).unwrap();
        }
    }
    assert_close(o.momenta[0].unwrap(), 0.95, "end of the cycle");

    // An optimizer without momentum: an error, unless cycling is off.
    let mut o = MockOptimizer::without_momentum(&[0.1]);
    assert_eq!(
        err(OneCycleLR::new(
            &mut o,
            &[0.1],
            10,
            OneCycleLROptions::default()
        )),
        "OneCycleLR: cycle_momentum needs an optimizer with a momentum or beta1, and \
         parameter group 0 has none; set cycle_momentum to false"
    );
    let off = OneCycleLROptions {
        cycle_momentum: false,
        ..Default::default()
    };
    OneCycleLR::new(&mut o, &[0.1], 10, off.clone()).unwrap();
    assert_close(o.lrs[0], 0.004, "cycle_momentum off");
    // ... and with cycling off, the momentum is left alone.
    let mut o = MockOptimizer::new(&[0.1]);
    o.momenta[0] = Some(0.5);
    let mut sched = OneCycleLR::new(&mut o, &[0.1], 10, off).unwrap();
    sched.step(&mut o).unwrap();
    assert_eq!(o.momenta, [Some(0.5)]);
}
