//! Tutorial 1 with the library: two noisy concentric circles (`make_circles(10000, noise
//! 0.05, seed 26)`), a 67/33 train/test split, a 2-10-1 network (ReLU, sigmoid) with
//! Kaiming-uniform weights, binary cross-entropy, SGD at lr 0.1, batches of 64, 100 epochs.
//! Prints the test accuracy and classification report and writes the loss and accuracy
//! curves, the confusion matrix and the decision boundary as PNG files.
//!
//! `cargo run --release -p sinapsis --example circles [-- PLOT_DIR]` (default: a folder in
//! the system's temporary directory).

use std::path::PathBuf;
use std::sync::Arc;

use sinapsis::data::dataset::{Subset, TensorDataset};
use sinapsis::data::loader::DataLoader;
use sinapsis::data::split::{train_test_split, TestSize};
use sinapsis::data::synthetic::make_circles;
use sinapsis::nn::init::{kaiming_uniform_, FanMode};
use sinapsis::nn::loss::BCELoss;
use sinapsis::nn::{Linear, Module, ModuleExt, ReLU, Sequential, Sigmoid};
use sinapsis::optim::{SgdConfig, SGD};
use sinapsis::plot::{confusion_matrix, decision_boundary, line_chart, Series};
use sinapsis::train::{evaluate, EvalOptions, OutputKind, ProgressBar, TrainConfig, Trainer};
use sinapsis::{no_grad, DType, Result, Tensor};

const SEED: u64 = 26;

fn main() -> Result<()> {
    let plots = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("sinapsis-circles"));
    std::fs::create_dir_all(&plots).map_err(|e| sinapsis::Error::Data {
        path: plots.display().to_string(),
        msg: e.to_string(),
    })?;
    sinapsis::manual_seed(SEED);

    // The data: (10000, 2) points; label 1 is the inner circle. BCE wants (N, 1) floats.
    let (x, y) = make_circles(10000, true, 0.05, 0.8, SEED)?;
    let labels = y.to_vec::<i64>()?;
    let all = Arc::new(TensorDataset::new(vec![
        x.clone(),
        y.to_dtype(DType::F32)?.reshape((10000, 1))?,
    ])?);
    let (train_idx, test_idx) =
        train_test_split(10000, TestSize::Fraction(0.33), true, SEED, None)?;
    let train = DataLoader::new(Subset::new(all.clone(), train_idx)?, 64)?
        .shuffle(true)
        .seed(SEED);
    let test = DataLoader::new(Subset::new(all, test_idx.clone())?, 1000)?;

    // 2-10-1 with Kaiming-uniform weights (biases keep PyTorch's default).
    let model = Sequential::new()
        .add(Linear::new(2, 10)?)
        .add(ReLU)
        .add(Linear::new(10, 1)?)
        .add(Sigmoid);
    for (name, p) in model.named_parameters() {
        if name.ends_with("weight") {
            kaiming_uniform_(&p, 0.0, FanMode::FanIn, "relu")?;
        }
    }
    println!("{}", model.repr());

    let mut opt = SGD::new(
        model.named_parameters(),
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    )?;
    let bce = BCELoss::new();
    let loss = |o: &Tensor, t: &Tensor| bce.forward(o, t);
    let epochs = 100;
    let mut trainer = Trainer::new(TrainConfig {
        epochs,
        output: OutputKind::Probabilities,
        handle_ctrl_c: true,
        ..Default::default()
    })
    .callback(ProgressBar::new(epochs).every(10));
    let history = trainer.fit(&model, &loss, &mut opt, None, &train, Some(&test))?;

    let names = vec!["outer".to_string(), "inner".to_string()];
    let eval = evaluate(
        &model,
        &loss,
        &test,
        &EvalOptions {
            output: OutputKind::Probabilities,
            class_names: Some(names.clone()),
            ..Default::default()
        },
    )?;
    println!(
        "\ntest loss {:.4}, test accuracy {:.2}%\n",
        eval.loss,
        100.0 * eval.accuracy.unwrap_or(0.0)
    );
    if let Some(report) = &eval.report {
        print!("{report}");
    }

    // Plots: curves per epoch, the confusion matrix, and the decision boundary over the
    // test points.
    let epoch_x: Vec<f64> = history.epochs.iter().map(|e| e.epoch as f64).collect();
    let series = |name: &str, metric: &str| Series {
        name: name.into(),
        x: epoch_x.clone(),
        y: history
            .metric(metric)
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect(),
    };
    line_chart(
        &plots.join("loss.png"),
        "Loss per epoch",
        "epoch",
        "binary cross-entropy",
        &[series("train", "train_loss"), series("test", "val_loss")],
    )?;
    line_chart(
        &plots.join("accuracy.png"),
        "Accuracy per epoch",
        "epoch",
        "accuracy",
        &[series("train", "train_acc"), series("test", "val_acc")],
    )?;
    if let Some(cm) = &eval.confusion_matrix {
        confusion_matrix(
            &plots.join("confusion_matrix.png"),
            &cm.counts(),
            &names,
            "Test",
        )?;
    }
    let xs = x.to_vec::<f32>()?;
    let points: Vec<[f64; 2]> = test_idx
        .iter()
        .map(|&i| [f64::from(xs[2 * i]), f64::from(xs[2 * i + 1])])
        .collect();
    let point_labels: Vec<usize> = test_idx.iter().map(|&i| labels[i] as usize).collect();
    model.eval();
    let predict = |grid: &[[f64; 2]]| -> Result<Vec<f64>> {
        let _guard = no_grad();
        let flat: Vec<f32> = grid
            .iter()
            .flat_map(|p| [p[0] as f32, p[1] as f32])
            .collect();
        let probs = model.forward(&Tensor::from_vec(flat, (grid.len(), 2))?)?;
        Ok(probs.to_vec::<f32>()?.into_iter().map(f64::from).collect())
    };
    decision_boundary(
        &plots.join("decision_boundary.png"),
        "Decision boundary (test points)",
        &predict,
        &points,
        &point_labels,
    )?;
    println!("\nplots in {}", plots.display());
    Ok(())
}
