//! The reference MNIST CNN: Conv2d(1, 32, 3, padding 1)-ReLU-MaxPool2d(2)-Conv2d(32, 64, 3,
//! padding 1)-ReLU-MaxPool2d(2)-Flatten-Linear(3136, 128)-ReLU-Dropout(0.25)-Linear(128, 10),
//! cross-entropy, Adam 1e-3, batches of 128 (421,642 parameters). One epoch reaches about
//! 98% test accuracy, two 98.7%, three 98.9%; `configs/mnist_cnn.toml` adds a one-cycle
//! schedule and passes 99% in three. Prints the test accuracy, scikit-learn's
//! classification report and the confusion matrix.
//!
//! `cargo run --release -p sinapsis --example mnist_cnn [-- --epochs N]`; the MNIST files
//! are read from `$SINAPSIS_DATA_DIR/mnist` (default `../shared/data/mnist`).

use std::path::PathBuf;

use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::{Mnist, Split};
use sinapsis::metrics::ConfusionMatrix;
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Conv2d, Dropout, Flatten, Linear, MaxPool2d, ModuleExt, ReLU, Sequential};
use sinapsis::optim::{Adam, AdamConfig};
use sinapsis::train::{evaluate, EvalOptions, OutputKind, ProgressBar, TrainConfig, Trainer};
use sinapsis::Conv2dOptions;

fn mnist_dir() -> PathBuf {
    std::env::var_os("SINAPSIS_DATA_DIR")
        .map(|d| PathBuf::from(d).join("mnist"))
        .unwrap_or_else(|| PathBuf::from("../shared/data/mnist"))
}

/// `--epochs N` (default 1); anything else is an error rather than silently ignored.
fn epochs_arg() -> sinapsis::Result<u64> {
    let bad = |msg: String| sinapsis::Error::InvalidArgument {
        op: "mnist_cnn",
        msg,
    };
    let mut epochs = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--epochs" => {
                let v = args.next().unwrap_or_default();
                epochs = v.parse().ok().filter(|&n: &u64| n > 0).ok_or_else(|| {
                    bad(format!("--epochs: expected a positive integer, got {v:?}"))
                })?;
            }
            other => return Err(bad(format!("unknown argument {other:?} (use --epochs N)"))),
        }
    }
    Ok(epochs)
}

/// The confusion matrix as a table: rows are true classes (named), columns predicted ones
/// (numbered, in the same order).
fn print_confusion(cm: &ConfusionMatrix, classes: &[String]) {
    let width = classes.iter().map(|c| c.len()).max().unwrap_or(0).max(9);
    print!("{:>width$}", "true\\pred");
    for i in 0..classes.len() {
        print!("{i:>6}");
    }
    println!();
    for (name, row) in classes.iter().zip(cm.counts()) {
        print!("{name:>width$}");
        for n in row {
            print!("{n:>6}");
        }
        println!();
    }
}

fn main() -> sinapsis::Result<()> {
    let epochs = epochs_arg()?;
    sinapsis::manual_seed(0);
    // `(1, 28, 28)` images, pixels / 255: the convolutions need the spatial layout.
    let train = Mnist::load(mnist_dir(), Split::Train)?.flat(false);
    let test = Mnist::load(mnist_dir(), Split::Test)?.flat(false);
    let classes: Vec<String> = train.classes().iter().map(|c| c.to_string()).collect();
    let train = DataLoader::new(train, 128)?.shuffle(true).seed(0);
    let test = DataLoader::new(test, 1000)?;

    // Padding 1 keeps 28x28 through each 3x3 convolution; each pooling halves it, so the
    // flattened features are 64 channels x 7 x 7 = 3136.
    let pad1 = Conv2dOptions::default().padding(1);
    let model = Sequential::new()
        .add(Conv2d::new(1, 32, 3, pad1)?)
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(32, 64, 3, pad1)?)
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::default())
        .add(Linear::new(3136, 128)?)
        .add(ReLU)
        .add(Dropout::new(0.25)?)
        .add(Linear::new(128, 10)?);
    println!("{}", model.repr());
    let mut opt = Adam::new(
        model.named_parameters(),
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    )?;
    let ce = CrossEntropyLoss::new();
    let loss = |o: &sinapsis::Tensor, t: &sinapsis::Tensor| ce.forward(o, t);
    // The trainer switches the model to training mode (dropout on) for the epochs and to
    // evaluation mode for the validation pass.
    let mut trainer = Trainer::new(TrainConfig {
        epochs,
        handle_ctrl_c: true,
        ..Default::default()
    })
    .callback(ProgressBar::new(epochs));
    trainer.fit(&model, &loss, &mut opt, None, &train, Some(&test))?;

    let eval = evaluate(
        &model,
        &loss,
        &test,
        &EvalOptions {
            output: OutputKind::Logits,
            class_names: Some(classes.clone()),
            ..Default::default()
        },
    )?;
    println!(
        "\ntest loss {:.4}, test accuracy {:.2}%\n",
        eval.loss,
        100.0 * eval.accuracy.unwrap_or(0.0)
    );
    if let Some(report) = &eval.report {
        println!("{report}");
    }
    if let Some(cm) = &eval.confusion_matrix {
        print_confusion(cm, &classes);
    }
    Ok(())
}
