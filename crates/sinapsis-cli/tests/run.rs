//! End to end through the command line's functions: the default experiment (circles) trains
//! to >= 97% and leaves a complete run folder; resume continues bitwise; eval and predict
//! read the run folder; bad runs give clear errors.

mod common;

use std::path::{Path, PathBuf};

use sinapsis_cli::run::{eval, predict, train};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sinapsis-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn default_experiment_trains_and_leaves_a_run_folder() {
    let _rng = common::default_generator();
    let out = temp_dir("circles");
    let config = repo().join("configs/circles.toml");
    let outcome = train::train(&config, Some(&out), &["training.log_steps=true".into()]).unwrap();
    let run = &outcome.run_dir;
    assert_eq!(run, &out.join("circles"));
    assert_eq!(outcome.history.epochs.len(), 100);
    let metrics: serde_json::Value =
        serde_json::from_str(&read(&run.join("metrics.json"))).unwrap();
    let acc = metrics["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.97, "test accuracy {acc}");
    assert!(metrics["confusion_matrix"]["counts"].is_array());
    assert!(metrics["report"]["macro_avg"]["f1"].as_f64().unwrap() >= 0.97);
    assert_eq!(metrics["samples"].as_u64(), Some(3300));
    let history = read(&run.join("history.csv"));
    assert!(history.starts_with("epoch,train_loss,train_acc,val_loss,val_acc,lr,time_s\n"));
    assert_eq!(history.lines().count(), 101);
    assert_eq!(read(&run.join("steps.csv")).lines().count(), 1 + 100 * 105);
    let config_text = read(&run.join("config.toml"));
    assert!(config_text.contains("batch_size = 64"), "{config_text}");
    assert!(run.join("model.safetensors").is_file());
    assert!(run.join("last/checkpoint.json").is_file());
    assert!(run.join("last/optimizer.safetensors").is_file());
    for plot in [
        "loss.png",
        "loss_steps.png",
        "accuracy.png",
        "confusion_matrix.png",
        "data.png",
        "decision_boundary.png",
    ] {
        assert!(
            run.join("plots").join(plot).is_file(),
            "missing plot {plot}"
        );
    }
    let report = read(&run.join("report.md"));
    assert!(
        report.contains("Classification report") && report.contains("plots/decision_boundary.png")
    );

    // eval reads the run folder and gives the same accuracy.
    let again = eval::eval(run, None).unwrap();
    assert_eq!(again.accuracy, Some(acc));

    // predict: CSV rows of features (standardised or not, as the run was trained).
    let rows = out.join("points.csv");
    std::fs::write(&rows, "x0,x1\n0.0,0.0\n1.0,0.0\n").unwrap();
    let pred = out.join("pred.csv");
    predict::predict(run, &rows, Some(&pred)).unwrap();
    let text = read(&pred);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "index,class,name,p_0,p_1");
    // make_circles: label 1 is the inner circle (radius 0.8), label 0 the outer (radius 1).
    assert!(lines[1].starts_with("0,1,"), "{text}");
    assert!(lines[2].starts_with("1,0,"), "{text}");
    let bad = out.join("bad.csv");
    std::fs::write(&bad, "1.0,2.0,3.0\n").unwrap();
    let err = predict::predict(run, &bad, None).unwrap_err().to_string();
    assert!(err.contains("takes 2 features"), "{err}");

    // A second run with the same name gets its own folder.
    let second = train::train(&config, Some(&out), &["training.epochs=1".into()]).unwrap();
    assert_eq!(second.run_dir, out.join("circles-2"));
    let _ = std::fs::remove_dir_all(&out);
}

/// Training 4 epochs in one go, or 2 and then `resume` to 4, gives bitwise the same weights.
#[test]
fn resume_continues_bitwise() {
    let _rng = common::default_generator();
    let out = temp_dir("resume");
    let config = repo().join("configs/circles.toml");
    let set = |epochs: u32| {
        vec![
            format!("training.epochs={epochs}"),
            "name=\"r\"".to_string(),
        ]
    };
    let full = train::train(&config, Some(&out), &set(4)).unwrap();
    let half = train::train(&config, Some(&out), &set(2)).unwrap();
    // Raise the target epochs in the stored config, as a user continuing a run would.
    let cfg = half.run_dir.join("config.toml");
    let text = read(&cfg).replace("epochs = 2", "epochs = 4");
    std::fs::write(&cfg, text).unwrap();
    let resumed = train::resume(&half.run_dir).unwrap();
    assert_eq!(resumed.history.epochs.len(), 4);
    let a = std::fs::read(full.run_dir.join("last/model.safetensors")).unwrap();
    let b = std::fs::read(half.run_dir.join("last/model.safetensors")).unwrap();
    assert!(a == b, "resumed weights differ from the uninterrupted run");
    assert_eq!(
        full.history
            .epochs
            .iter()
            .map(|e| e.train_loss)
            .collect::<Vec<_>>(),
        resumed
            .history
            .epochs
            .iter()
            .map(|e| e.train_loss)
            .collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_run_folders_and_configs_are_clear_errors() {
    let _rng = common::default_generator();
    let out = temp_dir("bad");
    let err = eval::eval(&out, None).unwrap_err().to_string();
    assert!(err.contains("not a run folder"), "{err}");
    let err = train::resume(&out).err().unwrap().to_string();
    assert!(err.contains("config.toml"), "{err}");
    let config = repo().join("configs/circles.toml");
    let err = train::train(&config, Some(&out), &["optimizer.lrr=0.1".into()])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("lrr"), "{err}");
    // Nothing was written for a config that does not validate.
    assert!(std::fs::read_dir(&out).unwrap().next().is_none());
    let _ = std::fs::remove_dir_all(&out);
}
