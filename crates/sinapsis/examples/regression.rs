//! Tutorial 7: the plain training loop, written out, on a regression task. `make_regression`
//! gives 1000 samples with 10 informative features and noise of standard deviation 10; a
//! 75/25 split, inputs standardised with the training rows' statistics; a 10-50-1 ReLU
//! network, mean squared error, SGD at lr 0.001 (the targets span hundreds: a larger rate
//! diverges), batches of 32, 100 epochs. Each step is PyTorch's five lines: `zero_grad`,
//! forward, loss, `backward`, `step`. Prints the loss every 10 epochs and the test MSE,
//! MAE and R2 (about 0.996; the noise keeps the MSE above ~100).
//!
//! `cargo run --release -p sinapsis --example regression` (the configuration
//! `configs/regression.toml` runs the same recipe from the command line).

use sinapsis::data::dataset::TensorDataset;
use sinapsis::data::loader::DataLoader;
use sinapsis::data::split::{train_test_split, TestSize};
use sinapsis::data::synthetic::{make_regression, RegressionConfig};
use sinapsis::data::transforms::StandardScaler;
use sinapsis::metrics::RegressionMetrics;
use sinapsis::nn::loss::MSELoss;
use sinapsis::nn::{Linear, Module, ModuleExt, ReLU, Sequential};
use sinapsis::optim::{Optimizer, SgdConfig, SGD};
use sinapsis::{no_grad, Result, Tensor};

fn rows(x: &Tensor, idx: &[usize]) -> Result<Tensor> {
    let index: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    x.index_select(0, &Tensor::from_vec(index, idx.len())?)
}

fn main() -> Result<()> {
    sinapsis::manual_seed(0);
    let (x, y, _coef) = make_regression(&RegressionConfig {
        n_samples: 1000,
        n_features: 10,
        n_informative: 10,
        noise: 10.0,
        ..Default::default()
    })?;
    // MSELoss compares (N, 1) predictions with (N, 1) targets.
    let y = y.unsqueeze(1)?;
    let (train_idx, test_idx) = train_test_split(1000, TestSize::Fraction(0.25), true, 0, None)?;
    let (x_train, y_train) = (rows(&x, &train_idx)?, rows(&y, &train_idx)?);
    let (x_test, y_test) = (rows(&x, &test_idx)?, rows(&y, &test_idx)?);
    let scaler = StandardScaler::fit(&x_train)?;
    let (x_train, x_test) = (scaler.transform(&x_train)?, scaler.transform(&x_test)?);
    let train = DataLoader::new(TensorDataset::new(vec![x_train, y_train])?, 32)?
        .shuffle(true)
        .seed(0);

    let model = Sequential::new()
        .add(Linear::new(10, 50)?)
        .add(ReLU)
        .add(Linear::new(50, 1)?);
    let loss_fn = MSELoss::new();
    let mut optimizer = SGD::new(model.named_parameters(), SgdConfig::new(0.001))?;

    for epoch in 0..100u64 {
        model.train();
        let (mut sum, mut count) = (0.0, 0);
        for batch in train.iter_epoch(epoch) {
            let batch = batch?;
            let (inputs, targets) = (&batch[0], &batch[1]);
            optimizer.zero_grad();
            let outputs = model.forward(inputs)?;
            let loss = loss_fn.forward(&outputs, targets)?;
            loss.backward()?;
            optimizer.step()?;
            // Per-sample mean over the epoch: weight each batch's mean by its size.
            let n = inputs.dims()[0];
            sum += f64::from(loss.item::<f32>()?) * n as f64;
            count += n;
        }
        if epoch % 10 == 9 {
            println!(
                "epoch {:3}  train MSE {:10.3}",
                epoch + 1,
                sum / count as f64
            );
        }
    }

    model.eval();
    let _guard = no_grad();
    let mut metrics = RegressionMetrics::new();
    metrics.update(&model.forward(&x_test)?, &y_test)?;
    println!(
        "test ({} samples): MSE {:.2}  MAE {:.3}  R2 {:.4}",
        metrics.count(),
        metrics.mse(),
        metrics.mae(),
        metrics.r2()
    );
    Ok(())
}
