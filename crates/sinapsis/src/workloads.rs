//! The reference workloads W1-W6 of the benchmarks (`../shared/bench/README.md`): their
//! models, exactly as the PyTorch reference programs build them, where their data lives, and
//! the accuracy they are scored with. Shared by `benches/` and `sinapsis bench`, so every
//! timing of a workload runs the same model.
//!
//! ```
//! use sinapsis::nn::Module;
//! use sinapsis::{workloads, DType, Tensor};
//! # fn main() -> sinapsis::Result<()> {
//! let net = workloads::mnist_mlp()?;
//! let logits = net.forward(&Tensor::zeros((2, 784), DType::F32)?)?;
//! assert_eq!(logits.dims(), &[2, 10]);
//! # Ok(()) }
//! ```

use std::path::PathBuf;

use crate::data::dataset::{Dataset, TensorDataset};
use crate::data::loader::DataLoader;
use crate::data::mnist::{Mnist, Split};
use crate::nn::init::{kaiming_uniform_, FanMode};
use crate::nn::{
    Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, ModuleExt, ReLU, Sequential, Sigmoid,
};
use crate::{no_grad, Conv2dOptions, DType, Generator, Result};

/// The shared data folder: `$SINAPSIS_DATA_DIR`, else `../shared/data` beside the
/// repository (where the development checkout keeps MNIST and the tabular CSVs).
///
/// ```
/// assert!(sinapsis::workloads::data_dir().ends_with("data"));
/// ```
pub fn data_dir() -> PathBuf {
    match std::env::var_os("SINAPSIS_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// W1: `Linear(2, 10)` (weight `kaiming_uniform_` for ReLU, as the reference does) - ReLU -
/// `Linear(10, 1)` - Sigmoid, for `make_circles`.
///
/// # Errors
/// Only if a layer cannot be built (it cannot).
pub fn circles_net() -> Result<Sequential> {
    let hidden = Linear::new(2, 10)?;
    kaiming_uniform_(&hidden.weight, 0.0, FanMode::FanIn, "relu")?;
    Ok(Sequential::new()
        .add(hidden)
        .add(ReLU)
        .add(Linear::new(10, 1)?)
        .add(Sigmoid))
}

/// W2 and W5: the MNIST MLP 784-100-50-10 with ReLU (logits out).
///
/// # Errors
/// Only if a layer cannot be built (it cannot).
pub fn mnist_mlp() -> Result<Sequential> {
    Ok(Sequential::new()
        .add(Linear::new(784, 100)?)
        .add(ReLU)
        .add(Linear::new(100, 50)?)
        .add(ReLU)
        .add(Linear::new(50, 10)?))
}

/// W3: the full-batch MLP 784-100-10 with ReLU (logits out).
///
/// # Errors
/// Only if a layer cannot be built (it cannot).
pub fn mnist_fullbatch_mlp() -> Result<Sequential> {
    Ok(Sequential::new()
        .add(Linear::new(784, 100)?)
        .add(ReLU)
        .add(Linear::new(100, 10)?))
}

/// W4: Conv(1,32,3,p1)-ReLU-MaxPool2-Conv(32,64,3,p1)-ReLU-MaxPool2-Flatten-Linear(3136,128)-
/// ReLU-Dropout(0.25)-Linear(128,10), on `(B, 1, 28, 28)` images.
///
/// # Errors
/// Only if a layer cannot be built (it cannot).
pub fn mnist_cnn() -> Result<Sequential> {
    let pad1 = Conv2dOptions::default().padding(1);
    Ok(Sequential::new()
        .add(Conv2d::new(1, 32, 3, pad1)?)
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(32, 64, 3, pad1)?)
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::default())
        .add(Linear::new(3136, 128)?)
        .add(ReLU)
        .add(Dropout::new(0.25)?)
        .add(Linear::new(128, 10)?))
}

/// W6: the tabular MLP `features`-64-64-`classes` with ReLU (30-64-64-2 for breast cancer).
///
/// # Errors
/// If `features` or `classes` is 0.
pub fn tabular_mlp(features: usize, classes: usize) -> Result<Sequential> {
    if features == 0 || classes == 0 {
        return Err(crate::Error::InvalidArgument {
            op: "tabular_mlp",
            msg: format!("needs at least one feature and one class, got {features} and {classes}"),
        });
    }
    Ok(Sequential::new()
        .add(Linear::new(features, 64)?)
        .add(ReLU)
        .add(Linear::new(64, 64)?)
        .add(ReLU)
        .add(Linear::new(64, classes)?))
}

/// A split of MNIST from `data_dir()/mnist` (`flat`: `(784,)` samples for an MLP, else
/// `(1, 28, 28)`), with a description of the source.
///
/// # Errors
/// [`crate::Error::Data`] naming the file when a file is missing or corrupt.
pub fn mnist(split: Split, flat: bool) -> Result<Mnist> {
    Ok(Mnist::load(data_dir().join("mnist"), split)?.flat(flat))
}

/// [`mnist`], or random pixels and labels of the same shape when the files are missing
/// (for timings that must run anywhere); the string says which.
///
/// # Errors
/// Only if the random stand-in cannot be built (it cannot).
pub fn mnist_or_random(split: Split, flat: bool) -> Result<(Box<dyn Dataset>, &'static str)> {
    if let Ok(m) = mnist(split, flat) {
        return Ok((Box::new(m), "MNIST"));
    }
    let n = if split == Split::Train { 60000 } else { 10000 };
    let mut g = Generator::new(split as u64);
    let x = if flat {
        g.uniform([n, 784], 0.0, 1.0, DType::F32)?
    } else {
        g.uniform([n, 1, 28, 28], 0.0, 1.0, DType::F32)?
    };
    let y = g.randint(0, 10, [n])?;
    let ds = TensorDataset::new(vec![x, y])?;
    Ok((Box::new(ds), "random stand-in (MNIST files not found)"))
}

/// Fraction of the batches' samples whose argmax over the model's outputs equals the label
/// (`batch[0]` the input, `batch[1]` the `i64` labels), in evaluation mode without a graph;
/// the model is put back in training mode afterwards.
///
/// # Errors
/// If a batch cannot be loaded or the model rejects it.
///
/// ```
/// use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
/// use sinapsis::{workloads, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// let net = workloads::tabular_mlp(2, 3)?;
/// let ds = TensorDataset::new(vec![Tensor::new(&[[0.0f32, 1.0]])?, Tensor::new(&[1i64])?])?;
/// let acc = workloads::classification_accuracy(&net, &DataLoader::new(ds, 8)?)?;
/// assert!(acc == 0.0 || acc == 1.0);
/// # Ok(()) }
/// ```
pub fn classification_accuracy(net: &dyn Module, loader: &DataLoader) -> Result<f64> {
    net.eval();
    let result = (|| {
        let _guard = no_grad();
        let (mut right, mut total) = (0usize, 0usize);
        for b in loader.iter_epoch(0) {
            let b = b?;
            let pred = net.forward(&b[0])?.argmax(1, false)?.to_vec::<i64>()?;
            let labels = b[1].to_vec::<i64>()?;
            right += pred.iter().zip(&labels).filter(|(p, l)| p == l).count();
            total += labels.len();
        }
        Ok(right as f64 / total.max(1) as f64)
    })();
    net.train();
    result
}
