//! Data-pipeline benchmark (best of 3 passes against the median of 3 epochs): one shuffled pass over MNIST's 60000 training images in
//! batches of 128 (gathered from the `u8` pixels and scaled to f32 / 255 in the same pass,
//! as the [`Mnist`] data set does) compared with
//! one training epoch of the 784-100-50-10 MLP with Adam. Prints times and the ratio
//! (target: data pass < 5% of the epoch); asserts nothing.
//!
//! `cargo bench -p sinapsis --bench data [-- --quick]`. The IDX files are read from
//! `$SINAPSIS_DATA_DIR/mnist` or `../shared/data/mnist` beside the repository; without them
//! random pixels of the same shape are used. `--quick` times 1/10 of the epoch.

use std::time::Instant;

use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::Split;
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Module, ModuleExt};
use sinapsis::optim::{Adam, AdamConfig, Optimizer};
use sinapsis::{workloads, Result};

fn main() -> Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (dataset, source) = workloads::mnist_or_random(Split::Train, true)?;
    println!("data: {source}, {} samples", dataset.len());
    let loader = DataLoader::new(dataset, 128)?.shuffle(true).seed(0);
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
    let model = workloads::mnist_mlp()?;
    let mut opt = Adam::new(
        model.named_parameters(),
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    )?;
    let loss_fn = CrossEntropyLoss::new();
    let mut last = 0.0f32;
    let mut epochs = Vec::new();
    for epoch in 10..13 {
        let t = Instant::now();
        for b in loader.iter_epoch(epoch).take(limit) {
            let b = b?;
            opt.zero_grad();
            let loss = loss_fn.forward(&model.forward(&b[0])?, &b[1])?;
            loss.backward()?;
            opt.step()?;
            last = loss.to_vec::<f32>()?[0];
        }
        epochs.push(t.elapsed().as_secs_f64());
    }
    epochs.sort_by(f64::total_cmp);
    let train = epochs[1];

    let scope = if quick { " (--quick: 1/10 epoch)" } else { "" };
    println!("batches timed: {limit} of {n_batches}, batch 128{scope}");
    println!("data pass (best of 3): {:.1} ms", best_data * 1e3);
    println!(
        "training epoch (MLP 784-100-50-10, Adam, median of 3): {:.1} ms (last loss {last:.4})",
        train * 1e3
    );
    println!(
        "ratio data/epoch: {:.2}% (target < 5%)",
        100.0 * best_data / train
    );
    Ok(())
}
