//! Shipped configs parse and build; error messages name the key path; --set; summary.

mod common;

use sinapsis_cli::config::Experiment;

const BASE: &str = "[data]\nsource = \"circles\"\nn_samples = 200\n[model]\nlayers = [{ type = \"linear\", in = 2, out = 10 }, { type = \"relu\" }, { type = \"linear\", out = 1 }, { type = \"sigmoid\" }]\n[loss]\ntype = \"bce\"\n[optimizer]\ntype = \"sgd\"\nlr = 0.1\n";

fn err(text: &str, sets: &[&str]) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match Experiment::from_toml_str(text, "t.toml", &sets).and_then(|e| e.validate().map(|_| e)) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn shipped_configs_parse_and_build() {
    let _rng = common::default_generator();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs");
    for name in [
        "circles",
        "mnist_mlp",
        "mnist_normalized",
        "mnist_cnn",
        "breast_cancer",
    ] {
        let exp = Experiment::load(format!("{root}/{name}.toml"), &[]).unwrap();
        // The CSV path is relative to the workspace root.
        if name != "breast_cancer" {
            let spec = sinapsis_cli::build::data::describe(&exp).unwrap();
            sinapsis_cli::build::model::build_for(&exp, &spec).unwrap();
        }
        let again =
            Experiment::from_toml_str(&exp.resolved_toml().unwrap(), "resolved", &[]).unwrap();
        assert_eq!(again, exp, "{name}");
    }
}

#[test]
fn circles_data_and_training_objects_build() {
    let _rng = common::default_generator();
    let exp = Experiment::from_toml_str(BASE, "t", &["data.val_split=0.1".into()]).unwrap();
    let data = sinapsis_cli::build::data::build_data(&exp).unwrap();
    assert_eq!(data.test.len(), 50);
    assert_eq!(data.train.len() + data.val.as_ref().unwrap().len(), 150);
    let (model, _) = sinapsis_cli::build::model::build_for(&exp, &data.spec).unwrap();
    use sinapsis::nn::{Module, ModuleExt};
    let mut opt =
        sinapsis_cli::build::optim::build_optimizer(&exp.optimizer, model.named_parameters())
            .unwrap();
    let batch = data.train.get_batch(&[0, 1, 2]).unwrap();
    let loss = sinapsis_cli::build::loss::Loss::new(&exp.loss);
    let l = loss
        .forward(&model.forward(&batch[0]).unwrap(), &batch[1])
        .unwrap();
    l.backward().unwrap();
    opt.step().unwrap();
}

#[test]
fn syntax_error_has_line_and_column() {
    let _rng = common::default_generator();
    let e = err("[data]\nsource = \n", &[]);
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn unknown_key_lists_expected() {
    let _rng = common::default_generator();
    let e = err(&BASE.replace("lr = 0.1", "lrr = 0.1"), &[]);
    assert!(
        e.contains("unknown key 'optimizer.lrr' (expected one of: type, lr, momentum"),
        "{e}"
    );
}

#[test]
fn wrong_type_names_path() {
    let _rng = common::default_generator();
    let e = err(&BASE.replace("lr = 0.1", "lr = \"fast\""), &[]);
    assert!(
        e.contains("optimizer.lr: expected a float, got string \"fast\""),
        "{e}"
    );
}

#[test]
fn bad_values_collected() {
    let _rng = common::default_generator();
    let e = err(
        BASE,
        &[
            "optimizer.lr=-1.0",
            "training.epochs=0",
            "data.test_size=1.5",
        ],
    );
    assert!(e.contains("optimizer.lr"), "{e}");
    assert!(e.contains("training.epochs"), "{e}");
    assert!(e.contains("data.test_size"), "{e}");
}

#[test]
fn incompatible_layer_sizes() {
    let _rng = common::default_generator();
    let e = err(
        &BASE.replace(
            "{ type = \"linear\", out = 1 }",
            "{ type = \"linear\", in = 5, out = 1 }",
        ),
        &[],
    );
    assert!(e.contains("model.layers[2]"), "{e}");
}

#[test]
fn loss_output_mismatches() {
    let _rng = common::default_generator();
    let e = err(&BASE.replace("out = 1 }", "out = 10 }"), &[]);
    assert!(e.contains("needs 1 output"), "{e}");
    let e = err(&BASE.replace(", { type = \"sigmoid\" }", ""), &[]);
    assert!(e.contains("bce_with_logits"), "{e}");
    let e = err(
        &BASE
            .replace(", { type = \"sigmoid\" }", "")
            .replace("\"bce\"", "\"cross_entropy\""),
        &[],
    );
    assert!(e.contains("cross_entropy"), "{e}");
}

#[test]
fn cuda_device_is_refused() {
    let _rng = common::default_generator();
    let e = err(BASE, &["training.device=\"cuda\""]);
    assert!(
        e.contains("training.device") && e.contains("no GPU backend"),
        "{e}"
    );
}

#[test]
fn set_overrides_and_unknown_path() {
    let _rng = common::default_generator();
    let exp = Experiment::from_toml_str(
        BASE,
        "t",
        &["optimizer.lr=0.01".into(), "training.epochs=5".into()],
    )
    .unwrap();
    assert_eq!(exp.optimizer.lr(), 0.01);
    assert_eq!(exp.training.epochs, 5);
    let e = err(BASE, &["optimiser.lr=0.01"]);
    assert!(e.contains("unknown key 'optimiser'"), "{e}");
}

#[test]
fn summary_circles() {
    let _rng = common::default_generator();
    let exp = Experiment::from_toml_str(BASE, "t", &[]).unwrap();
    let s = sinapsis_cli::summary::summary(&exp).unwrap();
    assert!(s.contains("Total params: 41"), "{s}");
}

/// The tutorials' configs (full-batch MNIST, residual MLP) parse, build and read back the
/// same from their resolved form.
#[test]
fn tutorial_configs_parse_and_round_trip() {
    let _rng = common::default_generator();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs");
    for name in ["mnist_fullbatch", "circles_residual"] {
        let exp = Experiment::load(format!("{root}/{name}.toml"), &[]).unwrap();
        let spec = sinapsis_cli::build::data::describe(&exp).unwrap();
        sinapsis_cli::build::model::build_for(&exp, &spec).unwrap();
        let again =
            Experiment::from_toml_str(&exp.resolved_toml().unwrap(), "resolved", &[]).unwrap();
        assert_eq!(again, exp, "{name}");
    }
}

/// A residual block in an explicit layer list: sizes are inferred, and its errors name the
/// layer.
#[test]
fn residual_layers_in_a_layer_list() {
    let _rng = common::default_generator();
    let layers = "[model]\nlayers = [{ type = \"linear\", in = 2, out = 16 }, { type = \"residual\", hidden = 32 }, { type = \"relu\" }, { type = \"linear\", out = 1 }, { type = \"sigmoid\" }]\n";
    let text = BASE.replace(
        BASE.lines()
            .skip_while(|l| *l != "[model]")
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
            .as_str(),
        layers.trim_end(),
    );
    let exp = Experiment::from_toml_str(&text, "t", &[]).unwrap();
    let spec = sinapsis_cli::build::data::describe(&exp).unwrap();
    let (model, infos) = sinapsis_cli::build::model::build_for(&exp, &spec).unwrap();
    assert_eq!(infos[1].type_name, "Residual");
    // Linear(16, 32) and Linear(32, 16).
    assert_eq!(infos[1].params, 16 * 32 + 32 + 32 * 16 + 16);
    use sinapsis::nn::ModuleExt;
    assert!(model
        .named_parameters()
        .iter()
        .any(|(n, _)| n == "1.block.2.weight"));
    let e = err(&text.replace("hidden = 32", "features = 8"), &[]);
    assert!(
        e.contains("model.layers[1] (residual)") && e.contains("features = 8"),
        "{e}"
    );
    let e = err(&text.replace("hidden = 32", "activation = \"swish\""), &[]);
    assert!(
        e.contains("model.layers[1] (residual)") && e.contains("swish"),
        "{e}"
    );
    let e = err(&text, &["model.blocks=2"]);
    assert!(e.contains("model.blocks"), "{e}");
}

#[test]
fn every_plot_name_is_accepted_and_unknown_ones_listed() {
    let _rng = common::default_generator();
    for name in sinapsis_cli::config::training::PLOTS {
        let set = format!("output.plots=[\"{name}\"]");
        Experiment::from_toml_str(BASE, "t.toml", &[set]).unwrap();
    }
    assert!(sinapsis_cli::config::training::PLOTS.contains(&"misclassified"));
    let e = err(BASE, &["output.plots=[\"loss\", \"rocc\"]"]);
    assert!(e.contains("output.plots[1]") && e.contains("rocc"), "{e}");
    assert!(
        e.contains("misclassified") && e.contains("activations"),
        "{e}"
    );
}

/// Trains `text` for two epochs with every plot named; returns the run folder.
fn run_with_every_plot(text: &str, name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sinapsis-cli-plots-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("exp.toml");
    std::fs::write(&config, text).unwrap();
    let all: Vec<String> = sinapsis_cli::config::training::PLOTS
        .iter()
        .map(|p| format!("{p:?}"))
        .collect();
    let sets = vec![
        "training.epochs=2".to_string(),
        format!("output.plots=[{}]", all.join(", ")),
    ];
    let outcome = sinapsis_cli::run::train::train(&config, Some(&dir.join("runs")), &sets).unwrap();
    outcome.run_dir
}

fn plots_in(run: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_named_plot_is_drawn_when_it_fits_a_binary_classifier() {
    let _rng = common::default_generator();
    let run = run_with_every_plot(BASE, "binary");
    let drawn = plots_in(&run);
    for want in [
        "loss.png",
        "accuracy.png",
        "lr.png",
        "confusion_matrix.png",
        "data.png",
        "decision_boundary.png",
        "roc.png",
        "activations.png",
    ] {
        assert!(
            drawn.iter().any(|d| d == want),
            "{want} missing in {drawn:?}"
        );
    }
    // Not for a classifier of points: skipped with a note, the run finished.
    assert!(!drawn
        .iter()
        .any(|d| d == "predictions.png" || d == "misclassified.png"));
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("plots/roc.png"), "{report}");
    remove_run(&run);
}

/// Removes the temporary folder `run_with_every_plot` made.
fn remove_run(run: &std::path::Path) {
    if let Some(top) = run.parent().and_then(|p| p.parent()) {
        std::fs::remove_dir_all(top).ok();
    }
}

#[test]
fn regression_and_multiclass_runs_skip_the_plots_that_do_not_fit() {
    let _rng = common::default_generator();
    let regression = "[data]\nsource = \"regression\"\nn_samples = 200\nn_features = 3\nn_informative = 3\nnormalize = \"standard\"\n[model]\nlayers = [{ type = \"linear\", out = 8 }, { type = \"tanh\" }, { type = \"linear\", out = 1 }]\n[loss]\ntype = \"mse\"\n[optimizer]\ntype = \"sgd\"\nlr = 0.01\n";
    let run = run_with_every_plot(regression, "regression");
    let drawn = plots_in(&run);
    remove_run(&run);
    for want in ["loss.png", "lr.png", "predictions.png", "activations.png"] {
        assert!(
            drawn.iter().any(|d| d == want),
            "{want} missing in {drawn:?}"
        );
    }
    for skipped in [
        "roc.png",
        "accuracy.png",
        "confusion_matrix.png",
        "data.png",
    ] {
        assert!(
            !drawn.iter().any(|d| d == skipped),
            "{skipped} in {drawn:?}"
        );
    }

    let blobs = "[data]\nsource = \"blobs\"\nn_samples = 300\ncenters = 3\n[model]\narch = \"mlp\"\nhidden = [8]\nactivation = \"gelu\"\n[loss]\ntype = \"cross_entropy\"\n[optimizer]\ntype = \"adam\"\nlr = 0.01\n";
    let run = run_with_every_plot(blobs, "blobs");
    let drawn = plots_in(&run);
    remove_run(&run);
    for want in [
        "confusion_matrix.png",
        "decision_boundary.png",
        "activations.png",
        "lr.png",
    ] {
        assert!(
            drawn.iter().any(|d| d == want),
            "{want} missing in {drawn:?}"
        );
    }
    assert!(
        !drawn
            .iter()
            .any(|d| d == "roc.png" || d == "predictions.png"),
        "{drawn:?}"
    );
}
