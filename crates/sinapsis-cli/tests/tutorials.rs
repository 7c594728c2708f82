//! The tutorials, reproduced through the command line's functions and asserted: the MNIST
//! MLPs (tutorials 2 and 3), the residual MLP (tutorial 4), the breast-cancer classifier
//! (tutorial 6) and the regression loop (tutorial 7). Tests whose data is absent are skipped with a note, as in
//! `crates/sinapsis/tests/mnist.rs` and `tabular.rs`.

mod common;

use std::path::{Path, PathBuf};

use sinapsis_cli::run::train::{self, TrainOutcome};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `$SINAPSIS_DATA_DIR/<name>` (CI sets it), else `../shared/data/<name>` beside the
/// repository; `None` (test skipped with a note) when `probe` is not in it.
fn data_dir(name: &str, probe: &[&str]) -> Option<PathBuf> {
    let dir = match std::env::var_os("SINAPSIS_DATA_DIR") {
        Some(d) => PathBuf::from(d).join(name),
        None => repo().join("../shared/data").join(name),
    };
    if probe.iter().any(|f| dir.join(f).is_file()) {
        Some(dir)
    } else {
        eprintln!("{name} data not found at {}: skipping", dir.display());
        None
    }
}

fn mnist() -> Option<PathBuf> {
    data_dir(
        "mnist",
        &["train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"],
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sinapsis-tutorial-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn metrics(outcome: &TrainOutcome) -> serde_json::Value {
    serde_json::from_str(&read(&outcome.run_dir.join("metrics.json"))).unwrap()
}

/// Trains `configs/<config>` into a temporary folder with `overrides`, returning the
/// outcome and the test accuracy from `metrics.json`.
fn train_config(config: &str, out: &Path, overrides: &[String]) -> (TrainOutcome, f64) {
    let outcome = train::train(&repo().join("configs").join(config), Some(out), overrides)
        .unwrap_or_else(|e| panic!("{config}: {e}"));
    let acc = metrics(&outcome)["accuracy"].as_f64().unwrap();
    println!("{config}: test accuracy {acc:.4}");
    (outcome, acc)
}

fn path_override(key: &str, p: &Path) -> String {
    // TOML basic strings: backslashes (Windows paths) need escaping.
    format!(
        "{key}=\"{}\"",
        p.display().to_string().replace('\\', "\\\\")
    )
}

/// Tutorial 2: 784-100-50-10, cross-entropy, Adam 1e-3, batches of 128, trained longer than
/// the 3-epoch recipe: >= 97.5%.
///
/// After 10 epochs seeds 0..=5 gave 97.16, 97.47, 97.43, 97.48, 97.47, 97.69% (the training
/// loop matches PyTorch step by step, see `training_parity.rs`; the spread is the seed's);
/// 15 epochs give 97.60% with seed 0.
#[test]
fn tutorial2_mnist_mlp_15_epochs() {
    let _rng = common::default_generator();
    let Some(dir) = mnist() else { return };
    let out = temp_dir("mnist_mlp");
    let (outcome, acc) = train_config(
        "mnist_mlp.toml",
        &out,
        &[
            "training.epochs=15".into(),
            path_override("data.path", &dir),
        ],
    );
    assert_eq!(outcome.history.epochs.len(), 15);
    assert!(acc >= 0.975, "tutorial 2: test accuracy {acc}");
    let _ = std::fs::remove_dir_all(&out);
}

/// Tutorial 3 (a): 784-128-10 on Normalize(0.5, 0.5) inputs, Adam 1e-3, 5 epochs: >= 97%.
///
/// `configs/mnist_normalized.toml` uses batches of 32 and a cosine decay per epoch:
/// 97.29, 97.27, 97.24, 97.21, 97.11, 97.40, 97.35% (seeds 0..=6). Batches of 128 at a
/// constant rate stop at 96.2-96.9% after 5 epochs (a quarter of the steps).
#[test]
fn tutorial3_normalized_mlp_5_epochs() {
    let _rng = common::default_generator();
    let Some(dir) = mnist() else { return };
    let out = temp_dir("mnist_normalized");
    let (outcome, acc) = train_config(
        "mnist_normalized.toml",
        &out,
        &[path_override("data.path", &dir)],
    );
    assert_eq!(outcome.history.epochs.len(), 5);
    assert!(acc >= 0.97, "tutorial 3 (normalized): test accuracy {acc}");
    let _ = std::fs::remove_dir_all(&out);
}

/// Tutorial 3 (b): `Sequential(784, 100, 10)` trained full-batch (one step per epoch on all
/// 60,000 images) with plain SGD at lr 0.8, pixels / 255, the 1000 epochs of
/// `configs/mnist_fullbatch.toml`: >= 97% test accuracy as in the tutorial.
///
/// NOTE: full-batch gradient descent needs many epochs for the last percent: measured
/// test accuracy 96.04% after 400 epochs, 96.36% after 500, 96.87% after 700 and 97.36%
/// after 1000. The whole run takes 80-90 s on two cores (W3's epoch, ~80 ms).
#[test]
fn tutorial3_full_batch_sgd_1000_epochs() {
    let _rng = common::default_generator();
    let Some(dir) = mnist() else { return };
    let out = temp_dir("mnist_fullbatch");
    let (outcome, acc) = train_config(
        "mnist_fullbatch.toml",
        &out,
        &[path_override("data.path", &dir)],
    );
    let epochs = &outcome.history.epochs;
    assert_eq!(epochs.len(), 1000);
    // One optimizer step per epoch: the whole training set is one batch.
    assert_eq!(outcome.history.steps, 1000);
    let (first, last) = (epochs[0].train_loss, epochs[epochs.len() - 1].train_loss);
    assert!(last < 0.1 * first, "train loss {first} -> {last}");
    assert!(acc >= 0.97, "tutorial 3 (full batch): test accuracy {acc}");
    let _ = std::fs::remove_dir_all(&out);
}

/// The first epoch with the smallest `column` in `history.csv` (what the best checkpoint
/// keeps: a new best must be strictly better).
fn best_epoch(history: &str, column: &str) -> (u64, f64) {
    let mut lines = history.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == column).unwrap();
    let mut best = (0, f64::INFINITY);
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let v: f64 = fields[col].parse().unwrap();
        if v < best.1 {
            best = (fields[0].parse().unwrap(), v);
        }
    }
    best
}

fn tensors(p: &Path) -> Vec<(String, Vec<f32>)> {
    let mut t: Vec<(String, Vec<f32>)> = sinapsis::checkpoint::load_safetensors(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .into_iter()
        .map(|(n, t)| (n, t.to_vec::<f32>().unwrap()))
        .collect();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

/// Tutorial 6: breast cancer, standardised inputs, 30-64-64-2 with dropout, AdamW (weight
/// decay), early stopping on val_loss, best checkpoint: >= 95% test accuracy, F1 and
/// ROC-AUC in metrics.json, and model.safetensors holds the best epoch's weights.
#[test]
fn tutorial6_breast_cancer_with_early_stopping_and_best_checkpoint() {
    let _rng = common::default_generator();
    let Some(dir) = data_dir("tabular", &["breast_cancer.csv"]) else {
        return;
    };
    let out = temp_dir("breast_cancer");
    let (outcome, acc) = train_config(
        "breast_cancer.toml",
        &out,
        &[
            path_override("data.path", &dir.join("breast_cancer.csv")),
            // Keep every epoch's weights, to compare the best one with model.safetensors.
            "training.checkpoint_every=1".into(),
        ],
    );
    let run = &outcome.run_dir;
    let m = metrics(&outcome);
    assert!(acc >= 0.95, "tutorial 6: test accuracy {acc}");
    // 569 rows, 20% test (stratified).
    assert_eq!(m["samples"].as_u64(), Some(114));
    let f1 = m["report"]["macro_avg"]["f1"].as_f64().expect("macro F1");
    let auc = m["roc_auc"].as_f64().expect("ROC-AUC");
    println!("breast cancer: accuracy {acc:.4}, macro F1 {f1:.4}, ROC-AUC {auc:.4}");
    assert!(f1 >= 0.94, "macro F1 {f1}");
    assert!(auc >= 0.98, "ROC-AUC {auc}");

    let history = read(&run.join("history.csv"));
    let epochs = outcome.history.epochs.len();
    assert_eq!(history.lines().count(), 1 + epochs);
    let (best, best_loss) = best_epoch(&history, "val_loss");
    println!("breast cancer: {epochs} epochs, best val_loss {best_loss:.4} at epoch {best}");
    // Early stopping (patience 10) ended the run 10 epochs after the best one.
    assert!(epochs < 100, "early stopping never stopped the run");
    assert!(
        matches!(
            outcome.history.stop,
            sinapsis::train::StopReason::Stopped { .. }
        ),
        "{}",
        outcome.history.stop
    );
    assert_eq!(epochs as u64, best + 10);
    // model.safetensors holds the best epoch's weights, not the last epoch's.
    let model = run.join("model.safetensors");
    assert!(model.is_file());
    let kept = tensors(&model);
    assert_eq!(
        kept,
        tensors(&run.join(format!("epoch-{best}/model.safetensors")))
    );
    assert_ne!(kept, tensors(&run.join("last/model.safetensors")));
    // Early stopping put the best weights back before the test evaluation: `eval` (which
    // reads model.safetensors) gives the accuracy in metrics.json.
    let again = sinapsis_cli::run::eval::eval(run, None).unwrap();
    assert_eq!(again.accuracy, Some(acc));
    let _ = std::fs::remove_dir_all(&out);
}

/// Tutorial 4's residual MLP from the config (`arch = "residual_mlp"`): it trains the
/// circles to >= 97%, and `summary` shows its residual blocks.
#[test]
fn tutorial4_residual_mlp_trains_circles() {
    let _rng = common::default_generator();
    let config = repo().join("configs/circles_residual.toml");
    let summary = sinapsis_cli::summary::summary_of_path(&config).unwrap();
    println!("{summary}");
    // Linear(2, 64), ReLU, [Residual(Linear(64, 64), ReLU, Linear(64, 64)), ReLU] x 2,
    // Linear(64, 1).
    assert_eq!(summary.matches("Residual").count(), 2, "{summary}");
    assert!(summary.contains("├─Residual: 1-3"), "{summary}");
    assert!(summary.contains("8,320"), "{summary}");
    let total = 2 * 64 + 64 + 2 * 8320 + 64 + 1;
    assert_eq!(total, 16_897);
    assert!(summary.contains("Total params: 16,897"), "{summary}");

    let out = temp_dir("circles_residual");
    let (outcome, acc) = train_config("circles_residual.toml", &out, &[]);
    assert!(acc >= 0.97, "residual MLP on circles: test accuracy {acc}");
    // The parameter names are PyTorch's: `2.block.0.weight` is the first block's first layer.
    let names: Vec<String> =
        sinapsis::checkpoint::load_safetensors(&outcome.run_dir.join("model.safetensors"))
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
    assert!(names.iter().any(|n| n == "2.block.0.weight"), "{names:?}");
    assert!(names.iter().any(|n| n == "4.block.2.bias"), "{names:?}");
    let _ = std::fs::remove_dir_all(&out);
}

/// Errors in a residual_mlp config name the key.
#[test]
fn residual_mlp_config_errors_name_the_key() {
    let _rng = common::default_generator();
    let out = temp_dir("residual_errors");
    let config = repo().join("configs/circles_residual.toml");
    let err = |set: &[&str]| -> String {
        let overrides: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        train::train(&config, Some(&out), &overrides)
            .err()
            .unwrap_or_else(|| panic!("{set:?} should not validate"))
            .to_string()
    };
    let e = err(&["model.blocks=0"]);
    assert!(e.contains("model.blocks"), "{e}");
    let e = err(&["model.hidden=[64, 32]"]);
    assert!(e.contains("model.hidden"), "{e}");
    let e = err(&["model.hidden=\"wide\""]);
    assert!(e.contains("model.hidden"), "{e}");
    let e = err(&["model.blockz=3"]);
    assert!(e.contains("blockz"), "{e}");
    let e = err(&["model.arch=\"mlp\""]);
    assert!(
        e.contains("model.blocks") && e.contains("residual_mlp"),
        "{e}"
    );
    let e = err(&["model.activation=\"swish\""]);
    assert!(e.contains("model.activation"), "{e}");
    // Nothing was written for configs that do not validate.
    assert!(std::fs::read_dir(&out).unwrap().next().is_none());
    let _ = std::fs::remove_dir_all(&out);
}

/// Tutorial 7: the 10-50-1 regression loop (MSE, plain SGD) on `make_regression` data with
/// 10 informative features and noise of standard deviation 10, so no model can get the
/// test MSE below ~100. Seeds 0..=3 gave R2 0.9958, 0.9945, 0.9963, 0.9979 (test MSE
/// 113-150).
#[test]
fn tutorial7_regression_mlp_fits_the_targets() {
    let _rng = common::default_generator();
    let out = temp_dir("regression");
    let config = repo().join("configs/regression.toml");
    let outcome = train::train(&config, Some(&out), &[]).unwrap();
    let m = metrics(&outcome);
    println!("{m}");
    let epochs = &outcome.history.epochs;
    assert_eq!(epochs.len(), 100);
    let (first, last) = (epochs[0].train_loss, epochs[99].train_loss);
    assert!(last < 0.01 * first, "train loss {first} -> {last}");
    let (r2, mse) = (m["r2"].as_f64().unwrap(), m["mse"].as_f64().unwrap());
    assert!(r2 >= 0.99, "tutorial 7: test R2 {r2}");
    // The noise floor: a perfect fit would still leave MSE ~100.
    assert!((80.0..200.0).contains(&mse), "tutorial 7: test MSE {mse}");
    assert!(m["accuracy"].is_null(), "{m}");
    let _ = std::fs::remove_dir_all(&out);
}
