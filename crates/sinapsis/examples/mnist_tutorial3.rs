//! Tutorial 3, both halves, with the library:
//!
//! - `normalized` (the default): 784-128-10 ReLU on images normalised to [-1, 1]
//!   (`Normalize(0.5, 0.5)`), cross-entropy, Adam 1e-3 with a cosine decay per epoch,
//!   batches of 32, 5 epochs: about 97.3%.
//! - `full-batch [EPOCHS]`: `Sequential(784, 100, 10)` on pixels / 255, trained with plain
//!   SGD at lr 0.8 on all 60,000 images at once (one step per epoch), 1000 epochs by
//!   default: about 97.4%. Full-batch gradient descent needs many steps; the printed loss
//!   shows how slowly the last percent comes.
//!
//! `cargo run --release -p sinapsis --example mnist_tutorial3 [-- full-batch [EPOCHS]]`; the
//! MNIST files are read from `$SINAPSIS_DATA_DIR/mnist` (default `../shared/data/mnist`).

use std::path::PathBuf;

use sinapsis::data::dataset::TensorDataset;
use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::{Mnist, Split};
use sinapsis::data::transforms::Normalize;
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Linear, ModuleExt, ReLU, Sequential};
use sinapsis::optim::lr_scheduler::CosineAnnealingLR;
use sinapsis::optim::{Adam, AdamConfig, SgdConfig, SGD};
use sinapsis::train::{evaluate, EvalOptions, OutputKind, ProgressBar, TrainConfig, Trainer};
use sinapsis::{Result, Tensor};

fn mnist_dir() -> PathBuf {
    std::env::var_os("SINAPSIS_DATA_DIR")
        .map(|d| PathBuf::from(d).join("mnist"))
        .unwrap_or_else(|| PathBuf::from("../shared/data/mnist"))
}

/// The images of `split` as `(N, 784)` rows, normalised when `normalize` is given, and the
/// labels.
fn flat_images(split: Split, normalize: Option<&Normalize>) -> Result<TensorDataset> {
    let mnist = Mnist::load(mnist_dir(), split)?;
    let images = match normalize {
        Some(n) => n.forward(mnist.images())?,
        None => mnist.images().clone(),
    };
    let rows = images.reshape((mnist.len(), 784))?;
    TensorDataset::new(vec![rows, mnist.labels().clone()])
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let full_batch = args.next().as_deref() == Some("full-batch");
    let epochs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    sinapsis::manual_seed(0);

    let ce = CrossEntropyLoss::new();
    let loss = |o: &Tensor, t: &Tensor| ce.forward(o, t);
    let (model, history) = if full_batch {
        let train = DataLoader::new(flat_images(Split::Train, None)?, 60_000)?;
        let model = Sequential::new()
            .add(Linear::new(784, 100)?)
            .add(ReLU)
            .add(Linear::new(100, 10)?);
        println!("{}", model.repr());
        let mut opt = SGD::new(
            model.named_parameters(),
            SgdConfig {
                lr: 0.8,
                ..Default::default()
            },
        )?;
        let mut trainer = Trainer::new(TrainConfig {
            epochs,
            handle_ctrl_c: true,
            ..Default::default()
        })
        .callback(ProgressBar::new(epochs));
        let history = trainer.fit(&model, &loss, &mut opt, None, &train, None)?;
        (model, history)
    } else {
        let epochs = 5;
        let normalize = Normalize::new(vec![0.5], vec![0.5])?;
        let train = flat_images(Split::Train, Some(&normalize))?;
        let train = DataLoader::new(train, 32)?.shuffle(true).seed(0);
        let model = Sequential::new()
            .add(Linear::new(784, 128)?)
            .add(ReLU)
            .add(Linear::new(128, 10)?);
        println!("{}", model.repr());
        let mut opt = Adam::new(
            model.named_parameters(),
            AdamConfig {
                lr: 1e-3,
                ..Default::default()
            },
        )?;
        // T_max = the number of epochs: the rate falls from 1e-3 towards 0 over the run.
        let mut cosine = CosineAnnealingLR::new(&mut opt, epochs as usize, 0.0)?;
        let mut trainer = Trainer::new(TrainConfig {
            epochs,
            handle_ctrl_c: true,
            ..Default::default()
        })
        .callback(ProgressBar::new(epochs));
        let history = trainer.fit(&model, &loss, &mut opt, Some(&mut cosine), &train, None)?;
        (model, history)
    };
    if let Some(last) = history.epochs.last() {
        println!("last epoch: train loss {:.4}", last.train_loss);
    }

    let normalize = (!full_batch)
        .then(|| Normalize::new(vec![0.5], vec![0.5]))
        .transpose()?;
    let test = DataLoader::new(flat_images(Split::Test, normalize.as_ref())?, 1000)?;
    let eval = evaluate(
        &model,
        &loss,
        &test,
        &EvalOptions {
            output: OutputKind::Logits,
            ..Default::default()
        },
    )?;
    println!(
        "test loss {:.4}, test accuracy {:.2}%",
        eval.loss,
        100.0 * eval.accuracy.unwrap_or(0.0)
    );
    Ok(())
}
