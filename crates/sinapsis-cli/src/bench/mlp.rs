//! The training workloads of small MLPs: W1 (circles), W2 (MNIST, mini-batches), W3
//! (MNIST, full batch) and W6 (breast cancer). Each times whole epochs of the training loop
//! with the data already in memory, as the reference programs' `EpochTimer` does: shuffling,
//! batch gathering, forward, loss, backward and the optimizer step are inside; reading
//! files, building tensors and the final accuracy are outside.

use std::time::{Duration, Instant};

use sinapsis::data::dataset::TensorDataset;
use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::Split;
use sinapsis::data::split::{train_test_split, TestSize};
use sinapsis::data::synthetic::make_circles;
use sinapsis::data::tabular::{Header, TabularCsv};
use sinapsis::data::transforms::StandardScaler;
use sinapsis::nn::loss::{BCELoss, CrossEntropyLoss};
use sinapsis::nn::{Module, ModuleExt, Sequential};
use sinapsis::optim::{Adam, AdamConfig, Optimizer, SgdConfig, SGD};
use sinapsis::{no_grad, workloads, DType, Result, Tensor};

use super::timing::{secs, warm_up};
use super::{Outcome, RunResult, Workload};

/// How long each run keeps the CPU busy before its timed region (see [`warm_up`]).
pub fn warm_up_time(quick: bool) -> Duration {
    Duration::from_millis(if quick { 10 } else { 200 })
}

/// What [`timed_epochs`] measured.
pub struct EpochTimes {
    /// Wall time of each epoch, seconds.
    pub epochs: Vec<f64>,
    /// Batches trained per epoch.
    pub steps: usize,
    /// Batches in a whole epoch of the loader.
    pub steps_per_epoch: usize,
}

impl EpochTimes {
    /// Seconds per whole epoch, as the reference reports it: total / epochs, first epoch
    /// included; scaled up to a whole epoch when only `steps` batches ran.
    pub fn per_epoch_s(&self) -> f64 {
        let mean = self.epochs.iter().sum::<f64>() / self.epochs.len().max(1) as f64;
        mean * self.steps_per_epoch as f64 / self.steps.max(1) as f64
    }

    /// The note a truncated epoch needs.
    pub fn note(&self) -> Option<String> {
        (self.steps < self.steps_per_epoch).then(|| {
            format!(
                "quick: {} of {} batches per epoch, {} epoch(s); per-epoch figure extrapolated",
                self.steps,
                self.steps_per_epoch,
                self.epochs.len()
            )
        })
    }
}

/// Trains `net` for `epochs` shuffled epochs of `loader` (at most `max_steps` batches
/// each), timing each epoch.
pub fn timed_epochs(
    net: &Sequential,
    opt: &mut dyn Optimizer,
    loss_fn: &dyn Fn(&Tensor, &Tensor) -> Result<Tensor>,
    loader: &DataLoader,
    epochs: usize,
    max_steps: Option<usize>,
) -> Result<EpochTimes> {
    let steps_per_epoch = loader.len();
    let steps = max_steps.map_or(steps_per_epoch, |m| m.min(steps_per_epoch));
    net.train();
    let mut times = Vec::with_capacity(epochs);
    for epoch in 0..epochs {
        let t = Instant::now();
        for b in loader.iter_epoch(epoch as u64).take(steps) {
            let b = b?;
            opt.zero_grad();
            let loss = loss_fn(&net.forward(&b[0])?, &b[1])?;
            loss.backward()?;
            opt.step()?;
        }
        times.push(secs(t));
    }
    Ok(EpochTimes {
        epochs: times,
        steps,
        steps_per_epoch,
    })
}

/// The rows of `x` at `idx`.
fn rows(x: &Tensor, idx: &[usize]) -> Result<Tensor> {
    let index: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    x.index_select(0, &Tensor::from_vec(index, idx.len())?)
}

fn adam(net: &Sequential) -> Result<Adam> {
    Adam::new(
        net.named_parameters(),
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    )
}

/// W1: make_circles(10000, noise 0.05, seed 26), 67/33 split, 2-10-1 ReLU/Sigmoid, BCE,
/// SGD 0.1, batch 64 shuffled, 100 epochs (quick: 3).
pub fn circles(quick: bool) -> Result<Outcome> {
    let (x, y) = make_circles(10000, true, 0.05, 0.8, 26)?;
    let (train, test) = train_test_split(10000, TestSize::Fraction(0.33), true, 26, None)?;
    let y = y.to_dtype(DType::F32)?.unsqueeze(1)?;
    let (x_train, y_train) = (rows(&x, &train)?, rows(&y, &train)?);
    let (x_test, y_test) = (rows(&x, &test)?, rows(&y, &test)?);
    let loader = DataLoader::new(TensorDataset::new(vec![x_train, y_train])?, 64)?
        .shuffle(true)
        .seed(0);
    let net = workloads::circles_net()?;
    let mut opt = SGD::new(net.named_parameters(), SgdConfig::new(0.1))?;
    let bce = BCELoss::new();
    let epochs = if quick { 3 } else { 100 };
    warm_up(warm_up_time(quick));
    let times = timed_epochs(
        &net,
        &mut opt,
        &|p, t| bce.forward(p, t),
        &loader,
        epochs,
        None,
    )?;

    net.eval();
    let acc = {
        let _guard = no_grad();
        let pred = net.forward(&x_test)?.to_vec::<f32>()?;
        let truth = y_test.to_vec::<f32>()?;
        let right = pred
            .iter()
            .zip(&truth)
            .filter(|(p, t)| f32::from(u8::from(**p > 0.5)) == **t)
            .count();
        right as f64 / truth.len() as f64
    };
    let mut r = RunResult::new(Workload::W1).metric("ms/epoch", times.per_epoch_s() * 1e3);
    r.test_acc = Some(acc);
    Ok(Outcome::Ran(r))
}

/// MNIST's `split` as flat images, or the skip note when the files are missing.
fn mnist_flat(split: Split) -> std::result::Result<sinapsis::data::mnist::Mnist, Outcome> {
    workloads::mnist(split, true).map_err(|e| Outcome::Skipped(format!("MNIST not found ({e})")))
}

/// Test accuracy of an MNIST classifier on the 10000 test images.
pub fn mnist_test_accuracy(net: &Sequential, test: sinapsis::data::mnist::Mnist) -> Result<f64> {
    workloads::classification_accuracy(net, &DataLoader::new(test, 1000)?)
}

/// Trains the W2 model as W2 does (`epochs` shuffled epochs, batch 128, Adam 1e-3, at most
/// `max_steps` batches per epoch), returning the model and the epoch times.
pub fn train_w2(
    train: sinapsis::data::mnist::Mnist,
    epochs: usize,
    max_steps: Option<usize>,
    warm: Duration,
) -> Result<(Sequential, EpochTimes)> {
    let loader = DataLoader::new(train, 128)?.shuffle(true).seed(0);
    let net = workloads::mnist_mlp()?;
    let mut opt = adam(&net)?;
    let ce = CrossEntropyLoss::new();
    warm_up(warm);
    let times = timed_epochs(
        &net,
        &mut opt,
        &|p, t| ce.forward(p, t),
        &loader,
        epochs,
        max_steps,
    )?;
    Ok((net, times))
}

/// W2: MNIST 784-100-50-10, Adam 1e-3, batch 128 shuffled, 3 epochs (quick: 1 epoch of
/// 20 batches).
pub fn mnist_mlp(quick: bool) -> Result<Outcome> {
    let (train, test) = match (mnist_flat(Split::Train), mnist_flat(Split::Test)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(skip), _) | (_, Err(skip)) => return Ok(skip),
    };
    let (epochs, max_steps) = if quick { (1, Some(20)) } else { (3, None) };
    let (net, times) = train_w2(train, epochs, max_steps, warm_up_time(quick))?;
    let s = times.per_epoch_s();
    let mut r = RunResult::new(Workload::W2).metric("s/epoch", s);
    r.test_acc = Some(mnist_test_accuracy(&net, test)?);
    if let Some(n) = times.note() {
        r = r.note(n);
    }
    Ok(Outcome::Ran(r))
}

/// W3: MNIST 784-100-10, all 60000 rows per step, cross-entropy, SGD 0.8, 100 epochs
/// (quick: 2).
pub fn mnist_fullbatch(quick: bool) -> Result<Outcome> {
    let (train, test) = match (mnist_flat(Split::Train), mnist_flat(Split::Test)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(skip), _) | (_, Err(skip)) => return Ok(skip),
    };
    let x = train.images_flat()?;
    let y = train.labels().clone();
    let net = workloads::mnist_fullbatch_mlp()?;
    let mut opt = SGD::new(net.named_parameters(), SgdConfig::new(0.8))?;
    let ce = CrossEntropyLoss::new();
    let epochs = if quick { 2 } else { 100 };
    net.train();
    warm_up(warm_up_time(quick));
    let mut times = Vec::with_capacity(epochs);
    let mut last_loss = f32::NAN;
    for _ in 0..epochs {
        let t = Instant::now();
        opt.zero_grad();
        let loss = ce.forward(&net.forward(&x)?, &y)?;
        loss.backward()?;
        opt.step()?;
        times.push(secs(t));
        // Outside the timed region, as the reference's `loss.item()` after the timer.
        last_loss = loss.item::<f32>()?;
    }
    let ms = 1e3 * times.iter().sum::<f64>() / epochs as f64;
    let gflops = super::reference::W3_GFLOP_PER_EPOCH / (ms / 1e3);
    let mut r = RunResult::new(Workload::W3)
        .metric("ms/epoch", ms)
        .metric("GFLOP/s", gflops)
        .metric("final train loss", f64::from(last_loss));
    r.test_acc = Some(mnist_test_accuracy(&net, test)?);
    if quick {
        r = r.note(format!("quick: {epochs} epochs, accuracy meaningless"));
    }
    Ok(Outcome::Ran(r))
}

/// W6: breast cancer (`$SINAPSIS_DATA_DIR/tabular/breast_cancer.csv`), 80/20 split (seed
/// 42), standardised on the training split, 30-64-64-2, Adam 1e-3, batch 32 shuffled, 50
/// epochs (quick: 3).
pub fn breast_cancer(quick: bool) -> Result<Outcome> {
    let path = workloads::data_dir().join("tabular/breast_cancer.csv");
    if !path.exists() {
        return Ok(Outcome::Skipped(format!("{} not found", path.display())));
    }
    let data = TabularCsv::target_last()
        .header(Header::Sklearn)
        .load(&path)?;
    let n = data.len();
    let (train, test) = train_test_split(n, TestSize::Fraction(0.2), true, 42, None)?;
    let scaler = StandardScaler::fit(&rows(&data.features, &train)?)?;
    let x_train = scaler.transform(&rows(&data.features, &train)?)?;
    let x_test = scaler.transform(&rows(&data.features, &test)?)?;
    let (y_train, y_test) = (rows(&data.target, &train)?, rows(&data.target, &test)?);
    let classes = data.encoder.classes().map_or(2, <[String]>::len);
    let net = workloads::tabular_mlp(data.num_features(), classes)?;
    let mut opt = adam(&net)?;
    let ce = CrossEntropyLoss::new();
    let loader = DataLoader::new(TensorDataset::new(vec![x_train, y_train])?, 32)?
        .shuffle(true)
        .seed(0);
    let epochs = if quick { 3 } else { 50 };
    warm_up(warm_up_time(quick));
    let times = timed_epochs(
        &net,
        &mut opt,
        &|p, t| ce.forward(p, t),
        &loader,
        epochs,
        None,
    )?;
    let test_loader = DataLoader::new(TensorDataset::new(vec![x_test, y_test])?, 1000)?;
    let mut r = RunResult::new(Workload::W6).metric("ms/epoch", times.per_epoch_s() * 1e3);
    r.test_acc = Some(workloads::classification_accuracy(&net, &test_loader)?);
    Ok(Outcome::Ran(r))
}
