//! Data-pipeline benchmark: one shuffled pass over MNIST's 60000 training images in
//! batches of 128 (f32 pixels / 255, scaled once by the MNIST reader, gathered from the
//! in-memory (60000, 784) tensor) compared with
//! one training epoch of the 784-100-50-10 MLP with Adam. Prints times and the ratio
//! (target: data pass < 5% of the epoch); asserts nothing.
//!
//! `cargo bench -p sinapsis --bench data [-- --quick]`. The IDX files are read from
//! `$SINAPSIS_DATA_DIR/mnist` or `../shared/data/mnist` beside the repository; without them
//! random pixels of the same shape are used. `--quick` times 1/10 of the epoch.

use std::path::PathBuf;
use std::time::Instant;

use sinapsis::data::dataset::TensorDataset;
use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::{Mnist, Split};
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Linear, Module, ModuleExt, ReLU, Sequential};
use sinapsis::optim::{Adam, AdamConfig, Optimizer};
use sinapsis::{DType, Generator, Result, Tensor};

fn data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("SINAPSIS_DATA_DIR") {
        return PathBuf::from(d).join("mnist");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    root.join("shared/data/mnist")
}

/// (images (n, 784) f32 already scaled to [0, 1] by the MNIST reader, labels i64), or random
/// data of the same shape when the files are missing.
fn load() -> Result<(Tensor, Tensor, &'static str)> {
    if let Ok(m) = Mnist::load(data_dir(), Split::Train) {
        return Ok((m.images_flat()?, m.labels().clone(), "MNIST"));
    }
    let mut g = Generator::new(0);
    let x = g.uniform([60000, 784], 0.0, 1.0, DType::F32)?;
    let y = g.randint(0, 10, [60000])?;
    Ok((x, y, "random stand-in (MNIST files not found)"))
}

fn main() -> Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (x, y, source) = load()?;
    println!("data: {source}, x {:?}, y {:?}", x.dims(), y.dims());
    let loader = DataLoader::new(TensorDataset::new(vec![x, y])?, 128)?
        .shuffle(true)
        .seed(0);
    let n_batches = loader.len();
    let limit = if quick { n_batches / 10 } else { n_batches };

    // Data pass: gather + /255, as the training loop sees it.
    let mut best_data = f64::INFINITY;
    for epoch in 0..3 {
        let t = Instant::now();
        let mut rows = 0usize;
        for b in loader.iter_epoch(epoch).take(limit) {
            let b = b?;
            rows += b[0].dims()[0] + b[1].dims()[0];
        }
        best_data = best_data.min(t.elapsed().as_secs_f64());
        std::hint::black_box(rows);
    }

    // One training epoch of the 784-100-50-10 MLP with Adam, same batches.
    let model = Sequential::new()
        .add(Linear::new(784, 100)?)
        .add(ReLU)
        .add(Linear::new(100, 50)?)
        .add(ReLU)
        .add(Linear::new(50, 10)?);
    let mut opt = Adam::new(
        model.named_parameters(),
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    )?;
    let loss_fn = CrossEntropyLoss::new();
    let t = Instant::now();
    let mut last = 0.0f32;
    for b in loader.iter_epoch(10).take(limit) {
        let b = b?;
        let xb = b[0].clone();
        opt.zero_grad();
        let loss = loss_fn.forward(&model.forward(&xb)?, &b[1])?;
        loss.backward()?;
        opt.step()?;
        last = loss.to_vec::<f32>()?[0];
    }
    let train = t.elapsed().as_secs_f64();

    let scope = if quick { " (--quick: 1/10 epoch)" } else { "" };
    println!("batches timed: {limit} of {n_batches}, batch 128{scope}");
    println!("data pass (best of 3): {:.1} ms", best_data * 1e3);
    println!(
        "training epoch (MLP 784-100-50-10, Adam): {:.1} ms (last loss {last:.4})",
        train * 1e3
    );
    println!(
        "ratio data/epoch: {:.2}% (target < 5%)",
        100.0 * best_data / train
    );
    Ok(())
}
