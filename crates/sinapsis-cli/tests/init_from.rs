//! `[init] init_from`: a run's `model.safetensors` loaded strictly into a new run's model
//! before training; files that are missing, corrupt or do not fit fail before anything is
//! written, naming `init.init_from` and the file.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sinapsis::checkpoint::{load_safetensors, save_safetensors};
use sinapsis::nn::ModuleExt;
use sinapsis::Tensor;
use sinapsis_cli::config::Experiment;
use sinapsis_cli::run::session::Session;
use sinapsis_cli::run::train;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "sinapsis-cli-initfrom-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config() -> PathBuf {
    repo().join("configs/circles.toml")
}

fn init_from(file: &Path) -> String {
    format!("init.init_from={:?}", file.display().to_string())
}

/// Trains the circles experiment for two epochs into `out`; returns its model file.
fn trained_model(out: &Path) -> PathBuf {
    let outcome = train::train(&config(), Some(out), &["training.epochs=2".into()]).unwrap();
    let file = outcome.run_dir.join("model.safetensors");
    assert!(file.is_file());
    file
}

fn values(state: &[(String, Tensor)]) -> Vec<(String, Vec<f32>)> {
    state
        .iter()
        .map(|(k, t)| (k.clone(), t.contiguous().unwrap().to_vec::<f32>().unwrap()))
        .collect()
}

fn sorted(mut state: Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
    state.sort_by(|a, b| a.0.cmp(&b.0));
    state
}

/// The error a session gets with `init.init_from = file`.
fn build_error(file: &Path) -> String {
    let exp = Experiment::load(config(), &[init_from(file)]).unwrap();
    match Session::build(&exp) {
        Ok(_) => panic!("init_from {} was accepted", file.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn init_from_loads_a_previous_runs_weights() {
    let _rng = common::default_generator();
    let out = temp_dir("loads");
    let file = trained_model(&out.join("first"));
    let saved = values(&load_safetensors(&file).unwrap());

    // The session's initial weights are the file's, not the seed's.
    let exp = Experiment::load(config(), &[init_from(&file)]).unwrap();
    let session = Session::build(&exp).unwrap();
    assert_eq!(values(&sorted(session.model.state_dict())), saved);
    let fresh = Session::build(&Experiment::load(config(), &[]).unwrap()).unwrap();
    assert_ne!(values(&sorted(fresh.model.state_dict())), saved);
    // resume and eval load their own weights: the file is not applied there.
    let restore = Session::build_for_restore(&exp).unwrap();
    assert_eq!(
        values(&sorted(restore.model.state_dict())),
        values(&sorted(fresh.model.state_dict()))
    );

    // A whole run starting from the file: it records init_from and trains on from there.
    let second = train::train(
        &config(),
        Some(&out.join("second")),
        &[init_from(&file), "training.epochs=1".into()],
    )
    .unwrap();
    let resolved = std::fs::read_to_string(second.run_dir.join("config.toml")).unwrap();
    assert!(resolved.contains("init_from = "), "{resolved}");
    // Epoch 1 of the second run starts where the first run's weights are: its training
    // loss is below the first epoch's of a run from scratch.
    let first_history = std::fs::read_to_string(out.join("first/circles/history.csv")).unwrap();
    let loss_of_epoch_1 = |text: &str| -> f64 {
        text.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    let second_history = std::fs::read_to_string(second.run_dir.join("history.csv")).unwrap();
    assert!(
        loss_of_epoch_1(&second_history) < loss_of_epoch_1(&first_history),
        "{second_history}\nvs\n{first_history}"
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn init_from_that_does_not_fit_names_every_key() {
    let _rng = common::default_generator();
    let out = temp_dir("mismatch");
    let file = trained_model(&out);
    // A wrong shape for 0.weight, 2.bias left out, an extra key.
    let mut state: Vec<(String, Tensor)> = load_safetensors(&file)
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k != "2.bias")
        .collect();
    for (k, t) in state.iter_mut() {
        if k == "0.weight" {
            *t = Tensor::zeros((12, 2), sinapsis::DType::F32).unwrap();
        }
    }
    state.push((
        "9.weight".into(),
        Tensor::zeros(vec![3], sinapsis::DType::F32).unwrap(),
    ));
    let bad = out.join("bad.safetensors");
    save_safetensors(&bad, &state, &BTreeMap::new()).unwrap();
    let msg = build_error(&bad);
    for want in [
        "init.init_from",
        "bad.safetensors",
        "0.weight",
        "2.bias",
        "9.weight",
    ] {
        assert!(msg.contains(want), "missing {want:?} in: {msg}");
    }
    assert!(msg.contains("12x2"), "{msg}");
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn missing_or_corrupt_init_from_fails_before_the_run_folder() {
    let _rng = common::default_generator();
    let out = temp_dir("missing");
    let missing = out.join("nowhere.safetensors");
    let msg = build_error(&missing);
    assert!(
        msg.contains("init.init_from") && msg.contains("nowhere.safetensors"),
        "{msg}"
    );
    let runs = out.join("runs");
    let err = train::train(&config(), Some(&runs), &[init_from(&missing)])
        .err()
        .expect("a missing init_from file must fail");
    assert!(err.to_string().contains("init.init_from"), "{err}");
    assert!(!runs.join("circles").exists(), "a run folder was left");

    let corrupt = out.join("corrupt.safetensors");
    std::fs::write(&corrupt, b"not a safetensors file").unwrap();
    let msg = build_error(&corrupt);
    assert!(
        msg.contains("init.init_from") && msg.contains("corrupt.safetensors"),
        "{msg}"
    );
    std::fs::remove_dir_all(&out).ok();
}
