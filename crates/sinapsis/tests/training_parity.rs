//! Short training runs against PyTorch (`fixtures/training.json`): the same data, initial
//! weights, batches, loss and optimizer must give the same loss at every step (within 1e-4)
//! and the same final weights (within 1e-4 relative). Three circles runs (SGD + BCELoss, Adam
//! + BCEWithLogitsLoss, AdamW + CrossEntropyLoss) and an MNIST MLP (Adam + CrossEntropyLoss).

// The fixture reader is shared with sinapsis-core's tests.
#[path = "../../sinapsis-core/tests/common/mod.rs"]
mod common;

use common::Fixtures;
use flate2::read::GzDecoder;
use serde_json::Value;
use sinapsis::nn::loss::{BCELoss, BCEWithLogitsLoss, CrossEntropyLoss};
use sinapsis::nn::{Linear, Module, ModuleExt, ReLU, Sequential, Sigmoid};
use sinapsis::optim::{Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, SgdConfig, SGD};
use sinapsis::{DType, Result, Tensor};
use std::io::Read;
use std::path::PathBuf;

fn mlp(sizes: &[usize], sigmoid: bool) -> Sequential {
    let mut m = Sequential::new();
    for (i, w) in sizes.windows(2).enumerate() {
        if i > 0 {
            m.push(ReLU);
        }
        m.push(Linear::new(w[0], w[1]).unwrap());
    }
    if sigmoid {
        m.push(Sigmoid);
    }
    m
}

fn weights(fx: &Fixtures, run: &str, which: &str, model: &Sequential) -> Vec<(String, Tensor)> {
    model
        .state_dict()
        .into_iter()
        .map(|(k, _)| {
            let t = fx.tensor(&format!("{run}/{which}/{k}"));
            (k, t)
        })
        .collect()
}

/// Runs `epochs` over `x`/`y` in order, batch by batch, returning every step's loss.
fn train(
    model: &Sequential,
    loss_fn: &dyn Fn(&Tensor, &Tensor) -> Result<Tensor>,
    opt: &mut dyn Optimizer,
    x: &Tensor,
    y: &Tensor,
    batch: usize,
    epochs: usize,
) -> Vec<f64> {
    let n = x.dims()[0];
    let mut losses = Vec::new();
    for _ in 0..epochs {
        for start in (0..n).step_by(batch) {
            let len = batch.min(n - start);
            let (xb, yb) = (
                x.narrow(0, start, len).unwrap(),
                y.narrow(0, start, len).unwrap(),
            );
            opt.zero_grad();
            let loss = loss_fn(&model.forward(&xb).unwrap(), &yb).unwrap();
            loss.backward().unwrap();
            opt.step().unwrap();
            losses.push(loss.item::<f32>().unwrap() as f64);
        }
    }
    losses
}

fn check_run(fx: &Fixtures, case: &Value, model: &Sequential, losses: &[f64]) {
    let name = case["name"].as_str().unwrap();
    let want: Vec<f64> = case["step_losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(losses.len(), want.len(), "{name}: steps");
    for (i, (a, b)) in losses.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
            "{name}: step {i} loss {a} vs PyTorch {b}"
        );
    }
    for (k, want) in weights(fx, name, "final", model) {
        let got = model
            .state_dict()
            .into_iter()
            .find(|(n, _)| *n == k)
            .unwrap()
            .1;
        let (g, w) = (got.to_f64_vec().unwrap(), want.to_f64_vec().unwrap());
        let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
        let diff = g
            .iter()
            .zip(&w)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            diff <= 1e-4 * norm,
            "{name}: final {k} differs by {diff:e} (norm {norm:e})"
        );
        for (i, (a, b)) in g.iter().zip(&w).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1e-2),
                "{name}: final {k}[{i}] = {a} vs {b}"
            );
        }
    }
}

fn case<'a>(cases: &'a [Value], name: &str) -> &'a Value {
    cases
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

#[test]
fn circles_runs_match_pytorch_step_by_step() {
    let fx = Fixtures::load("training");
    let cases = fx.cases().clone();
    let x = fx.tensor("circles/X");
    let y = fx.tensor("circles/y");
    let y_col = y.unsqueeze(-1).unwrap();
    let y_long = y.to_dtype(DType::I64).unwrap();

    // 2-10-1 + Sigmoid, BCELoss, SGD(0.1), batch 64, 3 epochs.
    let c = case(&cases, "circles_sgd_bce");
    let model = mlp(&[2, 10, 1], true);
    model
        .load_state_dict(&weights(&fx, "circles_sgd_bce", "init", &model), true)
        .unwrap();
    let mut opt = SGD::new(model.named_parameters(), SgdConfig::new(0.1)).unwrap();
    let bce = BCELoss::new();
    let losses = train(
        &model,
        &|p, t| bce.forward(p, t),
        &mut opt,
        &x,
        &y_col,
        64,
        3,
    );
    check_run(&fx, c, &model, &losses);

    // 2-32-1, BCEWithLogitsLoss, Adam(0.01), batch 64, 3 epochs.
    let c = case(&cases, "circles_adam_bcelogits");
    let model = mlp(&[2, 32, 1], false);
    model
        .load_state_dict(
            &weights(&fx, "circles_adam_bcelogits", "init", &model),
            true,
        )
        .unwrap();
    let cfg = AdamConfig {
        lr: 0.01,
        ..Default::default()
    };
    let mut opt = Adam::new(model.named_parameters(), cfg).unwrap();
    let loss = BCEWithLogitsLoss::new();
    let losses = train(
        &model,
        &|p, t| loss.forward(p, t),
        &mut opt,
        &x,
        &y_col,
        64,
        3,
    );
    check_run(&fx, c, &model, &losses);

    // 2-64-64-2, CrossEntropyLoss, AdamW(0.005, wd 0.05), batch 32, 2 epochs.
    let c = case(&cases, "circles_adamw_ce_momentum");
    let model = mlp(&[2, 64, 64, 2], false);
    model
        .load_state_dict(
            &weights(&fx, "circles_adamw_ce_momentum", "init", &model),
            true,
        )
        .unwrap();
    let cfg = AdamWConfig {
        lr: 0.005,
        weight_decay: 0.05,
        ..Default::default()
    };
    let mut opt = AdamW::new(model.named_parameters(), cfg).unwrap();
    let ce = CrossEntropyLoss::new();
    let losses = train(
        &model,
        &|p, t| ce.forward(p, t),
        &mut opt,
        &x,
        &y_long,
        32,
        2,
    );
    check_run(&fx, c, &model, &losses);
}

/// The MNIST folder: `$SINAPSIS_DATA_DIR/mnist` (CI sets it), else `../shared/data/mnist`
/// beside the repository.
fn mnist_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("SINAPSIS_DATA_DIR") {
        return Some(PathBuf::from(d).join("mnist"));
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    beside.exists().then_some(beside)
}

/// The first `n` items of a gzipped IDX file, as bytes after the header.
fn read_idx(path: &PathBuf, item: usize, n: usize) -> Vec<u8> {
    let mut raw = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .read_to_end(&mut raw)
        .unwrap();
    let dims = raw[3] as usize;
    let header = 4 + 4 * dims;
    raw[header..header + item * n].to_vec()
}

#[test]
fn mnist_mlp_run_matches_pytorch_step_by_step() {
    let Some(dir) = mnist_dir() else {
        eprintln!("MNIST not found (set SINAPSIS_DATA_DIR): skipping the MNIST parity run");
        return;
    };
    let fx = Fixtures::load("training");
    let cases = fx.cases().clone();
    let pixels = read_idx(&dir.join("train-images-idx3-ubyte.gz"), 784, 1024);
    let labels = read_idx(&dir.join("train-labels-idx1-ubyte.gz"), 1, 1024);
    let x = Tensor::from_vec(
        pixels.iter().map(|&p| p as f32).collect::<Vec<_>>(),
        (1024, 784),
    )
    .unwrap()
    .div_scalar(255.0)
    .unwrap();
    let y = Tensor::from_vec(labels.iter().map(|&l| l as i64).collect::<Vec<_>>(), 1024).unwrap();

    let c = case(&cases, "mnist_adam_ce");
    let model = mlp(&[784, 100, 50, 10], false);
    model
        .load_state_dict(&weights(&fx, "mnist_adam_ce", "init", &model), true)
        .unwrap();
    let cfg = AdamConfig {
        lr: 1e-3,
        ..Default::default()
    };
    let mut opt = Adam::new(model.named_parameters(), cfg).unwrap();
    let ce = CrossEntropyLoss::new();
    let losses = train(&model, &|p, t| ce.forward(p, t), &mut opt, &x, &y, 128, 2);
    check_run(&fx, c, &model, &losses);
}
