//! The reference MNIST CNN through the command line's functions: `configs/mnist_cnn.toml`
//! trained end to end and its test accuracy asserted (skipped with a note when the MNIST
//! files are absent), the augmented config checked to build, and the same config run on
//! Fashion-MNIST files.

mod common;

use std::path::{Path, PathBuf};

use sinapsis::data::mnist::idx::encode_idx;
use sinapsis::data::mnist::{file_names, Split};
use sinapsis_cli::config::Experiment;
use sinapsis_cli::run::train::{self, TrainOutcome};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(name: &str) -> PathBuf {
    repo().join("configs").join(name)
}

/// `$SINAPSIS_DATA_DIR/<name>` (CI sets it), else `../shared/data/<name>` beside the
/// repository; `None` (test skipped with a note) when its training images are not there.
fn data_dir(name: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("SINAPSIS_DATA_DIR") {
        Some(d) => PathBuf::from(d).join(name),
        None => repo().join("../shared/data").join(name),
    };
    let probe = ["train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"];
    if probe.iter().any(|f| dir.join(f).is_file()) {
        Some(dir)
    } else {
        eprintln!("{name} data not found at {}: skipping", dir.display());
        None
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sinapsis-cnn-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn path_override(key: &str, p: &Path) -> String {
    // TOML basic strings: backslashes (Windows paths) need escaping.
    format!(
        "{key}=\"{}\"",
        p.display().to_string().replace('\\', "\\\\")
    )
}

fn metrics(outcome: &TrainOutcome) -> serde_json::Value {
    let p = outcome.run_dir.join("metrics.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// `configs/mnist_cnn.toml` as shipped: the reference CNN, Adam with a one-cycle schedule
/// to 3e-3, batches of 128, 3 epochs: >= 99.0% test accuracy (measured 99.23%, 99.21%,
/// 99.23% with seeds 0, 1, 2; about 80 s in release on 2 shared cores).
///
/// Fewer epochs or no schedule fall short with seed 0: constant Adam 1e-3 gives 98.72% and
/// 98.92% after 2 and 3 epochs (about 98.3% after 1); the one-cycle schedule 98.98% after 2.
#[test]
fn mnist_cnn_config_reaches_99_percent() {
    let _rng = common::default_generator();
    let Some(dir) = data_dir("mnist") else {
        return;
    };
    let out = temp_dir("mnist_cnn");
    let outcome = train::train(
        &config("mnist_cnn.toml"),
        Some(&out),
        &[path_override("data.path", &dir)],
    )
    .unwrap_or_else(|e| panic!("mnist_cnn.toml: {e}"));
    let acc = metrics(&outcome)["accuracy"].as_f64().unwrap();
    println!("mnist_cnn.toml: test accuracy {acc:.4}");
    assert_eq!(outcome.history.epochs.len(), 3);
    assert!(acc >= 0.99, "reference CNN: test accuracy {acc}");
    let _ = std::fs::remove_dir_all(&out);
}

/// Both CNN configs parse, build the reference model (dropout included) and read back the
/// same from their resolved form; the augmented one keeps its augmentation, weight decay
/// and schedule.
#[test]
fn cnn_configs_parse_and_build() {
    let _rng = common::default_generator();
    for name in ["mnist_cnn.toml", "mnist_cnn_augmented.toml"] {
        let exp = Experiment::load(config(name), &[]).unwrap();
        let spec = sinapsis_cli::build::data::describe(&exp).unwrap();
        assert_eq!(spec.input_shape, vec![1, 28, 28], "{name}");
        // The reference network has Dropout(0.25) after the dense layer.
        assert_eq!(exp.model.dropout, Some(0.25), "{name}");
        sinapsis_cli::build::model::build_for(&exp, &spec).unwrap();
        let again =
            Experiment::from_toml_str(&exp.resolved_toml().unwrap(), "resolved", &[]).unwrap();
        assert_eq!(again, exp, "{name}");
    }
    let aug = Experiment::load(config("mnist_cnn_augmented.toml"), &[]).unwrap();
    let a = aug.data.augment.as_ref().expect("augmentation");
    assert!(a.shift > 0 && a.rotate > 0.0 && !a.hflip, "{a:?}");
    assert!(aug.scheduler.is_some());
}

/// Writes `n` Fashion-MNIST-shaped images per split (IDX, uncompressed) into `dir`.
fn write_fake_idx(dir: &Path, n: usize) {
    for split in [Split::Train, Split::Test] {
        let (img, lbl) = file_names(split);
        let pixels: Vec<u8> = (0..n * 784).map(|i| (i * 7 % 256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        std::fs::write(dir.join(img), encode_idx(&[n, 28, 28], &pixels).unwrap()).unwrap();
        std::fs::write(dir.join(lbl), encode_idx(&[n], &labels).unwrap()).unwrap();
    }
}

/// `data.source = "fashion_mnist"` on the same config: the class names become
/// Fashion-MNIST's, the default folder is `fashion_mnist`, and given files (here a tiny
/// fake set) train end to end.
#[test]
fn fashion_mnist_runs_with_the_same_config() {
    let _rng = common::default_generator();
    let source = "data.source=\"fashion_mnist\"".to_string();
    let exp = Experiment::load(config("mnist_cnn.toml"), std::slice::from_ref(&source)).unwrap();
    exp.validate().unwrap();
    let spec = sinapsis_cli::build::data::describe(&exp).unwrap();
    assert_eq!(spec.class_names[9], "Ankle boot");
    assert_eq!(spec.input_shape, vec![1, 28, 28]);
    if exp.data.path.is_none() {
        let default = sinapsis_cli::build::data::mnist_dir(&exp.data);
        assert!(default.ends_with("fashion_mnist"), "{}", default.display());
    }

    let dir = temp_dir("fashion_files");
    write_fake_idx(&dir, 20);
    let out = temp_dir("fashion_run");
    let overrides = [
        source,
        "training.epochs=1".into(),
        path_override("data.path", &dir),
    ];
    let outcome = train::train(&config("mnist_cnn.toml"), Some(&out), &overrides)
        .unwrap_or_else(|e| panic!("mnist_cnn.toml on Fashion-MNIST files: {e}"));
    assert_eq!(outcome.history.epochs.len(), 1);
    let m = metrics(&outcome);
    assert!(m["accuracy"].as_f64().is_some(), "{m}");
    assert!(m.to_string().contains("Ankle boot"), "{m}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&out);
}

/// A Fashion-MNIST folder that does not exist is a data error naming the data set and the
/// folder, before anything is trained.
#[test]
fn fashion_mnist_missing_folder_is_named() {
    let _rng = common::default_generator();
    let missing = temp_dir("fashion_missing").join("no_such_folder");
    let overrides = [
        "data.source=\"fashion_mnist\"".to_string(),
        path_override("data.path", &missing),
    ];
    let out = temp_dir("fashion_missing_out");
    let e = match train::train(&config("mnist_cnn.toml"), Some(&out), &overrides) {
        Ok(_) => panic!("expected an error for {}", missing.display()),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("Fashion-MNIST"), "{e}");
    assert!(e.contains("no_such_folder"), "{e}");
    assert!(e.contains("does not exist"), "{e}");
    let _ = std::fs::remove_dir_all(missing.parent().unwrap());
    let _ = std::fs::remove_dir_all(&out);
}

/// Real Fashion-MNIST, when its files are there: one epoch of the same config.
///
/// PyTorch's reference CNN reaches about 88-90% after one epoch; the test asserts 85%.
#[test]
fn fashion_mnist_real_one_epoch() {
    let _rng = common::default_generator();
    let Some(dir) = data_dir("fashion_mnist") else {
        return;
    };
    let out = temp_dir("fashion_real");
    let overrides = [
        "data.source=\"fashion_mnist\"".to_string(),
        "training.epochs=1".into(),
        path_override("data.path", &dir),
    ];
    let outcome = train::train(&config("mnist_cnn.toml"), Some(&out), &overrides)
        .unwrap_or_else(|e| panic!("mnist_cnn.toml on Fashion-MNIST: {e}"));
    let acc = metrics(&outcome)["accuracy"].as_f64().unwrap();
    println!("mnist_cnn.toml on Fashion-MNIST, 1 epoch: test accuracy {acc:.4}");
    assert!(acc >= 0.85, "Fashion-MNIST: test accuracy {acc}");
    let _ = std::fs::remove_dir_all(&out);
}
