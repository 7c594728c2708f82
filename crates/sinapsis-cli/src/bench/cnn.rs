//! W4: one training epoch of the MNIST CNN ([`sinapsis::workloads::mnist_cnn`], the model
//! `benches/cnn.rs` times batch by batch), Adam 1e-3, batch 128 shuffled, then the test
//! accuracy. As in the reference, ms/batch is the epoch's wall time (batch gathering
//! included) divided by its 469 batches.

use std::time::Instant;

use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::Split;
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Module, ModuleExt};
use sinapsis::optim::{Adam, AdamConfig, Optimizer};
use sinapsis::{workloads, Result};

use super::mlp::{mnist_test_accuracy, warm_up_time};
use super::timing::{median, secs, warm_up};
use super::{Outcome, RunResult, Workload};

/// Batches a quick run trains.
const QUICK_BATCHES: usize = 4;

/// W4 (quick: 4 batches, no accuracy).
pub fn mnist_cnn(quick: bool) -> Result<Outcome> {
    let (train, test) = match (
        workloads::mnist(Split::Train, false),
        workloads::mnist(Split::Test, false),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Ok(Outcome::Skipped(format!("MNIST not found ({e})"))),
    };
    let loader = DataLoader::new(train, 128)?.shuffle(true).seed(0);
    let net = workloads::mnist_cnn()?;
    let mut opt = Adam::new(
        net.named_parameters(),
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    )?;
    let ce = CrossEntropyLoss::new();
    let per_epoch = loader.len();
    let steps = if quick { QUICK_BATCHES } else { per_epoch };
    net.train();
    warm_up(warm_up_time(quick));
    let mut batch_ms = Vec::with_capacity(steps);
    let epoch = Instant::now();
    for b in loader.iter_epoch(0).take(steps) {
        let t = Instant::now();
        let b = b?;
        opt.zero_grad();
        let loss = ce.forward(&net.forward(&b[0])?, &b[1])?;
        loss.backward()?;
        opt.step()?;
        batch_ms.push(secs(t) * 1e3);
    }
    let epoch_s = secs(epoch);
    let ms_per_batch = epoch_s * 1e3 / steps as f64;
    let mut r = RunResult::new(Workload::W4)
        .metric("ms/batch", ms_per_batch)
        .metric("s/epoch", ms_per_batch * per_epoch as f64 / 1e3)
        .metric("median ms of one batch", median(&mut batch_ms));
    if quick {
        r = r.note(format!(
            "quick: {steps} of {per_epoch} batches, s/epoch extrapolated, no accuracy"
        ));
    } else {
        r.test_acc = Some(mnist_test_accuracy(&net, test)?);
    }
    Ok(Outcome::Ran(r))
}
