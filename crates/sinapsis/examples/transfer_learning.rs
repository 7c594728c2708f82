//! Tutorial 4: a residual MLP, then transfer learning. The network (784-128, two residual
//! blocks, a 5-way head) first learns digits 0-4; its weights are saved, loaded into a fresh
//! copy, the head is replaced by a new 5-way layer, everything else is frozen, and only the
//! head is trained on digits 5-9. The frozen body's features carry over: the new task
//! reaches high accuracy after one epoch while training 645 of ~118k parameters.
//!
//! `cargo run --release -p sinapsis --example transfer_learning`; MNIST is read from
//! `$SINAPSIS_DATA_DIR/mnist` (default `../shared/data/mnist`).

use std::path::PathBuf;

use sinapsis::checkpoint::{load_model, save_model};
use sinapsis::data::dataset::TensorDataset;
use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::{Mnist, Split};
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Linear, ModuleExt, ReLU, Residual, Sequential};
use sinapsis::optim::{Adam, AdamConfig};
use sinapsis::train::{evaluate_loss, OutputKind, TrainConfig, Trainer};
use sinapsis::{Result, Tensor};

fn mnist_dir() -> PathBuf {
    std::env::var_os("SINAPSIS_DATA_DIR")
        .map(|d| PathBuf::from(d).join("mnist"))
        .unwrap_or_else(|| PathBuf::from("../shared/data/mnist"))
}

/// The images of digits `first..first + 5` with labels shifted to `0..5`, as a loader.
fn digits(split: Split, first: i64, batch: usize) -> Result<DataLoader> {
    let m = Mnist::load(mnist_dir(), split)?;
    let labels = m.labels().to_vec::<i64>()?;
    let keep: Vec<i64> = (0..labels.len() as i64)
        .filter(|&i| (first..first + 5).contains(&labels[i as usize]))
        .collect();
    let idx = Tensor::from_vec(keep.clone(), keep.len())?;
    let x = m.images_flat()?.index_select(0, &idx)?;
    let y = m.labels().index_select(0, &idx)?.sub_scalar(first as f64)?;
    Ok(DataLoader::new(TensorDataset::new(vec![x, y])?, batch)?
        .shuffle(true)
        .seed(0))
}

fn residual_block(width: usize) -> Result<Residual> {
    Ok(Residual::new(
        Sequential::new()
            .add(Linear::new(width, width)?)
            .add(ReLU)
            .add(Linear::new(width, width)?),
    ))
}

/// 784-128, ReLU, two residual blocks (each followed by ReLU), head 128-5.
fn residual_mlp() -> Result<Sequential> {
    Ok(Sequential::new()
        .add(Linear::new(784, 128)?)
        .add(ReLU)
        .add(residual_block(128)?)
        .add(ReLU)
        .add(residual_block(128)?)
        .add(ReLU)
        .add(Linear::new(128, 5)?))
}

fn train(model: &Sequential, train: &DataLoader, test: &DataLoader, task: &str) -> Result<()> {
    let mut opt = Adam::new(
        model.named_parameters(),
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    )?;
    let ce = CrossEntropyLoss::new();
    let loss = |o: &Tensor, t: &Tensor| ce.forward(o, t);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 1,
        output: OutputKind::Logits,
        ..Default::default()
    });
    trainer.fit(model, &loss, &mut opt, None, train, None)?;
    let (test_loss, acc) = evaluate_loss(model, &loss, test, OutputKind::Logits)?;
    println!(
        "{task}: test loss {test_loss:.4}, accuracy {:.2}% ({} trainable of {} parameters)",
        100.0 * acc.unwrap_or(0.0),
        model.num_trainable_parameters(),
        model.num_parameters()
    );
    Ok(())
}

fn main() -> Result<()> {
    sinapsis::manual_seed(0);
    let model = residual_mlp()?;
    println!("{}", model.repr());
    train(
        &model,
        &digits(Split::Train, 0, 128)?,
        &digits(Split::Test, 0, 1000)?,
        "digits 0-4",
    )?;
    let weights = std::env::temp_dir().join("sinapsis-transfer-digits-0-4.safetensors");
    save_model(&model, &weights)?;

    // A new model for the new task: same body, loaded from the file (strict: every name and
    // shape must match), then a new head and a frozen body.
    let mut transfer = residual_mlp()?;
    load_model(&transfer, &weights, true)?;
    transfer.requires_grad_(false)?;
    let head = transfer.len() - 1;
    transfer.set(head, Linear::new(128, 5)?)?;
    train(
        &transfer,
        &digits(Split::Train, 5, 128)?,
        &digits(Split::Test, 5, 1000)?,
        "digits 5-9, body frozen",
    )?;
    let _ = std::fs::remove_file(&weights);
    Ok(())
}
