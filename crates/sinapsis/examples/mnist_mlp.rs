//! Tutorial 2: the MNIST MLP 784-100-50-10 (ReLU), cross-entropy, Adam 1e-3, batch 128,
//! 3 epochs (PyTorch reaches 96.2% with this recipe; 10 epochs pass 97.5%). Prints the test
//! accuracy and scikit-learn's classification report.
//!
//! `cargo run --release -p sinapsis --example mnist_mlp [-- EPOCHS]`; the MNIST files are
//! read from `$SINAPSIS_DATA_DIR/mnist` (default `../shared/data/mnist`).

use std::path::PathBuf;

use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::{Mnist, Split};
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Linear, ModuleExt, ReLU, Sequential};
use sinapsis::optim::{Adam, AdamConfig};
use sinapsis::train::{evaluate, EvalOptions, OutputKind, ProgressBar, TrainConfig, Trainer};

fn mnist_dir() -> PathBuf {
    std::env::var_os("SINAPSIS_DATA_DIR")
        .map(|d| PathBuf::from(d).join("mnist"))
        .unwrap_or_else(|| PathBuf::from("../shared/data/mnist"))
}

fn main() -> sinapsis::Result<()> {
    let epochs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    sinapsis::manual_seed(0);
    let train = Mnist::load(mnist_dir(), Split::Train)?.flat(true);
    let test = Mnist::load(mnist_dir(), Split::Test)?.flat(true);
    let classes: Vec<String> = train.classes().iter().map(|c| c.to_string()).collect();
    let train = DataLoader::new(train, 128)?.shuffle(true).seed(0);
    let test = DataLoader::new(test, 1000)?;

    let model = Sequential::new()
        .add(Linear::new(784, 100)?)
        .add(ReLU)
        .add(Linear::new(100, 50)?)
        .add(ReLU)
        .add(Linear::new(50, 10)?);
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
            class_names: Some(classes),
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
    Ok(())
}
