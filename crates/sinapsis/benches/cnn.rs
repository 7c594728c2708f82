//! Reference CNN benchmark (workload W4 of `../shared/bench/README.md`): the MNIST CNN
//! Conv(1,32,3,p1)-ReLU-MaxPool2-Conv(32,64,3,p1)-ReLU-MaxPool2-Flatten-Linear(3136,128)-ReLU-
//! Dropout(0.25)-Linear(128,10), cross-entropy, Adam 1e-3, batch 128.
//!
//! Times training batches and prints the median ms per batch, split into forward (model and
//! loss), backward and optimizer step, with the ratio against PyTorch's 34.6 ms per batch
//! (PyTorch 2.15 with oneDNN, 2 threads, on the reference 2-core machine). Asserts nothing.
//!
//! ```text
//! cargo bench -p sinapsis --bench cnn                  # 60 timed batches
//! cargo bench -p sinapsis --bench cnn -- --quick       # 5 timed batches
//! cargo bench -p sinapsis --bench cnn -- --batches 200 --threads 1
//! cargo bench -p sinapsis --bench cnn -- --epoch       # one full epoch, then test accuracy
//! cargo bench -p sinapsis --bench cnn -- --layers      # forward/backward time of each layer
//! ```
//!
//! NOTE: with glibc's default malloc, every large tensor of the graph came from a fresh
//! mmap whose pages fault on first touch; on the 2-core machine that was about half of the
//! batch time (sys time ~40% of the run; ~12k page faults per batch). Tensor buffers of
//! 64 KiB and more now come from a process-wide cache (`sinapsis::memory`): after the first
//! batch a step faults in no new pages, and the default build runs as fast as one with
//! `GLIBC_TUNABLES=glibc.malloc.trim_threshold=2000000000:glibc.malloc.mmap_threshold=33554432`
//! (measured: 1.4 s user + 0.1 s sys for a 30-batch run, against 0.5-0.8 s sys before). The
//! last line printed is the cache's counters: after warm-up every large request is a hit and
//! the cache holds about one step's worth of buffers (~110 MiB here).
//!
//! The IDX files are read from `$SINAPSIS_DATA_DIR/mnist` or `../shared/data/mnist` beside
//! the repository; without them random pixels and labels of the same shape stand in (and
//! `--epoch` reports the accuracy of that meaningless data).

use std::time::{Duration, Instant};

use sinapsis::data::loader::DataLoader;
use sinapsis::data::mnist::Split;
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Module, ModuleExt, Sequential};
use sinapsis::optim::{Adam, AdamConfig, Optimizer};
use sinapsis::{workloads, Result};

/// PyTorch's time per training batch on the reference machine (README, W4).
const PYTORCH_MS: f64 = 34.6;

struct Opts {
    batches: usize,
    threads: Option<usize>,
    epoch: bool,
    layers: bool,
}

fn parse_args() -> std::result::Result<Opts, String> {
    let mut opts = Opts {
        batches: 60,
        threads: None,
        epoch: false,
        layers: false,
    };
    let mut args = std::env::args().skip(1);
    let positive = |flag: &str, v: Option<String>| -> std::result::Result<usize, String> {
        let v = v.ok_or(format!("{flag} needs a number"))?;
        v.parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or(format!("{flag}: expected a positive integer, got {v:?}"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => opts.batches = 5,
            "--epoch" => opts.epoch = true,
            "--layers" => opts.layers = true,
            "--batches" => opts.batches = positive("--batches", args.next())?,
            "--threads" => opts.threads = Some(positive("--threads", args.next())?),
            // cargo bench passes `--bench` to harness = false targets.
            "--bench" => {}
            other => {
                return Err(format!(
                    "unknown argument {other:?} (use --quick, --batches N, --threads N, --epoch, --layers)"
                ))
            }
        }
    }
    Ok(opts)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Fraction of the test set the model classifies correctly (evaluation mode, no graph).
fn test_accuracy(net: &Sequential) -> Result<(f64, &'static str)> {
    let (test, source) = workloads::mnist_or_random(Split::Test, false)?;
    let acc = workloads::classification_accuracy(net, &DataLoader::new(test, 1000)?)?;
    Ok((acc, source))
}

/// Median forward and backward time of each layer on its real input (the previous layer's
/// output), the backward pass fed a gradient of ones; `runs` repetitions each.
fn time_layers(net: &Sequential, x: &sinapsis::Tensor, runs: usize) -> Result<()> {
    println!("per layer, median (and min) of {runs} (ms): forward / backward");
    let mut x = x.clone();
    let (mut tf, mut tb) = (0.0, 0.0);
    for (i, layer) in net.iter().enumerate() {
        // The first layer's input needs no gradient, as in training.
        let input = x.detach().requires_grad_(i > 0)?;
        let (mut f, mut b) = (vec![], vec![]);
        let mut y = input.clone();
        for _ in 0..runs {
            let t0 = Instant::now();
            y = layer.forward(&input)?;
            let t1 = Instant::now();
            if y.requires_grad() {
                y.backward_with_grad(&y.ones_like()?)?;
            }
            let t2 = Instant::now();
            f.push(ms(t1 - t0));
            b.push(ms(t2 - t1));
        }
        let (fmin, bmin) = (
            f.iter().copied().fold(f64::INFINITY, f64::min),
            b.iter().copied().fold(f64::INFINITY, f64::min),
        );
        let (f, b) = (median(&mut f), median(&mut b));
        (tf, tb) = (tf + f, tb + b);
        println!(
            "  {i:2} {:<10} {:?} -> {:?}: {f:7.3} / {b:7.3}  (min {fmin:.3} / {bmin:.3})",
            layer.type_name(),
            input.dims(),
            y.dims()
        );
        x = y.detach();
    }
    println!("  sum of layers: {tf:.3} / {tb:.3}");
    Ok(())
}

fn main() -> Result<()> {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench cnn: {e}");
            std::process::exit(2);
        }
    };
    if let Some(n) = opts.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!("bench cnn: cannot build a pool of {n} threads: {e}");
        }
    }
    let (train, source) = workloads::mnist_or_random(Split::Train, false)?;
    println!(
        "data: {source}, {} samples; rayon threads: {}",
        train.len(),
        rayon::current_num_threads()
    );
    let loader = DataLoader::new(train, 128)?.shuffle(true).seed(0);
    let net = workloads::mnist_cnn()?;
    let mut opt = Adam::new(
        net.named_parameters(),
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    )?;
    let loss_fn = CrossEntropyLoss::new();

    if opts.layers {
        let b = loader.iter_epoch(0).next().expect("a non-empty loader")?;
        return time_layers(&net, &b[0], opts.batches.max(5));
    }

    let warmup = 3;
    let total = if opts.epoch {
        loader.len()
    } else {
        opts.batches + warmup
    };
    let (mut fwd, mut bwd, mut step, mut whole) = (vec![], vec![], vec![], vec![]);
    let mut last = f32::NAN;
    let epoch_start = Instant::now();
    let mut batches = loader.iter_epoch(0);
    for i in 0..total {
        // Several epochs of batches when more are asked for than one epoch holds.
        let b = match batches.next() {
            Some(b) => b?,
            None => {
                batches = loader.iter_epoch(i as u64);
                batches.next().expect("a non-empty loader")?
            }
        };
        let t0 = Instant::now();
        opt.zero_grad();
        let loss = loss_fn.forward(&net.forward(&b[0])?, &b[1])?;
        let t1 = Instant::now();
        loss.backward()?;
        let t2 = Instant::now();
        opt.step()?;
        let t3 = Instant::now();
        last = loss.item::<f32>()?;
        if i >= warmup || opts.epoch {
            fwd.push(ms(t1 - t0));
            bwd.push(ms(t2 - t1));
            step.push(ms(t3 - t2));
            whole.push(ms(t3 - t0));
        }
    }
    let epoch_s = epoch_start.elapsed().as_secs_f64();

    let (f, b, s, w) = (
        median(&mut fwd),
        median(&mut bwd),
        median(&mut step),
        median(&mut whole),
    );
    println!(
        "timed batches: {} (batch 128){}",
        whole.len(),
        if opts.epoch { ", one epoch" } else { "" }
    );
    println!("median ms/batch: {w:.2} (forward {f:.2}, backward {b:.2}, optimizer {s:.2})");
    println!(
        "vs PyTorch {PYTORCH_MS} ms/batch: {:.2}x {}",
        PYTORCH_MS / w,
        if w < PYTORCH_MS { "faster" } else { "slower" }
    );
    println!("last loss: {last:.4}");
    let m = sinapsis::memory::cache_stats();
    println!(
        "buffer cache: {:.1} MiB held (peak {:.1}), {} hits, {} misses, {} evictions",
        m.cached_bytes as f64 / (1 << 20) as f64,
        m.peak_cached_bytes as f64 / (1 << 20) as f64,
        m.hits,
        m.misses,
        m.evictions
    );
    if opts.epoch {
        println!("epoch wall time (data included): {epoch_s:.2} s (PyTorch: 16.24 s)");
        let (acc, source) = test_accuracy(&net)?;
        println!(
            "test accuracy after 1 epoch ({source}): {:.2}%",
            acc * 100.0
        );
    }
    Ok(())
}
