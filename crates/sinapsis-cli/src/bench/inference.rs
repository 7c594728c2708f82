//! W5: inference with the trained W2 model (trained here first, untimed, as the reference
//! does without saved weights), in evaluation mode without a graph (`no_grad`; PyTorch used
//! `inference_mode`).
//! - throughput: forward + argmax of the 10000 test images in batches of 1000; one warm-up
//!   pass, then 20 timed passes; images/s from the median pass.
//! - latency: batch-1 forward, 100 warm-up calls, then the median of 1000 timed calls.

use std::time::Instant;

use sinapsis::data::mnist::Split;
use sinapsis::nn::{Module, ModuleExt, Sequential};
use sinapsis::{no_grad, workloads, Result, Tensor};

use super::mlp::{mnist_test_accuracy, train_w2, warm_up_time};
use super::timing::{median, secs};
use super::{Outcome, RunResult, Workload};

/// Sizes of one run: full as the reference, quick a smoke test.
struct Sizes {
    train_epochs: usize,
    train_steps: Option<usize>,
    passes: usize,
    warm_calls: usize,
    calls: usize,
}

/// Predicted classes of the 10000 test images, batch 1000 at a time.
fn one_pass(net: &Sequential, x: &Tensor) -> Result<Tensor> {
    let n = x.dims()[0];
    let mut preds = Vec::with_capacity(n.div_ceil(1000));
    for start in (0..n).step_by(1000) {
        let len = 1000.min(n - start);
        preds.push(net.forward(&x.narrow(0, start, len)?)?.argmax(1, false)?);
    }
    Tensor::cat(&preds, 0)
}

/// W5 (quick: the model trains 20 batches; 2 passes, 50 latency calls).
pub fn inference(quick: bool) -> Result<Outcome> {
    let (train, test) = match (
        workloads::mnist(Split::Train, true),
        workloads::mnist(Split::Test, true),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Ok(Outcome::Skipped(format!("MNIST not found ({e})"))),
    };
    let sizes = if quick {
        Sizes {
            train_epochs: 1,
            train_steps: Some(20),
            passes: 2,
            warm_calls: 5,
            calls: 50,
        }
    } else {
        Sizes {
            train_epochs: 3,
            train_steps: None,
            passes: 20,
            warm_calls: 100,
            calls: 1000,
        }
    };
    let x = test.images_flat()?;
    let labels = test.labels().to_vec::<i64>()?;
    let (net, _) = train_w2(
        train,
        sizes.train_epochs,
        sizes.train_steps,
        warm_up_time(quick),
    )?;
    let acc = mnist_test_accuracy(&net, test)?;

    net.eval();
    let _guard = no_grad();
    one_pass(&net, &x)?;
    let mut pass_s = Vec::with_capacity(sizes.passes);
    let mut preds = None;
    for _ in 0..sizes.passes {
        let t = Instant::now();
        let p = one_pass(&net, &x)?;
        pass_s.push(secs(t));
        preds = Some(p);
    }
    let pass_acc = match preds {
        Some(p) => {
            let p = p.to_vec::<i64>()?;
            p.iter().zip(&labels).filter(|(a, b)| a == b).count() as f64 / labels.len() as f64
        }
        None => acc,
    };
    let images_per_s = x.dims()[0] as f64 / median(&mut pass_s);

    let x1 = x.narrow(0, 0, 1)?;
    for _ in 0..sizes.warm_calls {
        net.forward(&x1)?;
    }
    let mut latency_us = Vec::with_capacity(sizes.calls);
    for i in 0..sizes.calls {
        let x1 = x.narrow(0, i % x.dims()[0], 1)?;
        let t = Instant::now();
        // The output is dropped inside the timed region, as in the reference.
        net.forward(&x1)?;
        latency_us.push(secs(t) * 1e6);
    }
    let mut r = RunResult::new(Workload::W5)
        .metric("images/s (batch 1000)", images_per_s)
        .metric("µs batch-1 latency", median(&mut latency_us));
    r.test_acc = Some(acc);
    if pass_acc != acc {
        r = r.note(format!(
            "the timed passes' accuracy {pass_acc} differs from the evaluation's {acc}"
        ));
    }
    if quick {
        r = r.note("quick: model trained on 20 batches; 2 passes, 50 latency calls");
    }
    Ok(Outcome::Ran(r))
}
