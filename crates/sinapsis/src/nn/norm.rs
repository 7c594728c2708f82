//! Normalisation layers: batch norm (1-d and 2-d) and layer norm.

use super::activation::py_float;
use super::linear::py_bool;
use super::Module;
use crate::{no_grad, DType, Error, Result, Tensor};
use std::sync::atomic::{AtomicBool, Ordering};

/// Batch normalisation over the channel dim (dim 1), shared by `BatchNorm1d` and
/// `BatchNorm2d`: batch statistics and running-average updates in training, running
/// statistics in evaluation.
struct BatchNorm {
    name: &'static str,
    /// Accepted input ranks.
    ranks: &'static [usize],
    num_features: usize,
    eps: f64,
    momentum: f64,
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    num_batches_tracked: Tensor,
    training: AtomicBool,
}

impl BatchNorm {
    fn new(name: &'static str, ranks: &'static [usize], num_features: usize) -> Result<BatchNorm> {
        let f = |v: f64| Tensor::full(num_features, v, DType::F32);
        Ok(BatchNorm {
            name,
            ranks,
            num_features,
            eps: 1e-5,
            momentum: 0.1,
            weight: f(1.0)?.requires_grad_(true)?,
            bias: f(0.0)?.requires_grad_(true)?,
            running_mean: f(0.0)?,
            running_var: f(1.0)?,
            num_batches_tracked: Tensor::scalar(0i64),
            training: AtomicBool::new(true),
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !self.ranks.contains(&x.rank()) || x.dims()[1] != self.num_features {
            return Err(Error::Shape {
                op: self.name,
                msg: format!(
                    "expected a {}-d input with {} channels in dim 1, got {}",
                    self.ranks
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    self.num_features,
                    x.shape()
                ),
            });
        }
        let training = self.training.load(Ordering::Relaxed);
        if training {
            let _g = no_grad();
            self.num_batches_tracked
                .update_(|n: &mut [i64]| n[0] += 1)?;
        }
        x.batch_norm(
            Some(&self.running_mean),
            Some(&self.running_var),
            Some(&self.weight),
            Some(&self.bias),
            training,
            self.momentum,
            self.eps,
        )
    }

    fn extra_repr(&self) -> String {
        format!(
            "{}, eps={}, momentum={}, affine=True, bias=True, track_running_stats=True",
            self.num_features,
            py_float(self.eps),
            py_float(self.momentum)
        )
    }
}

macro_rules! batch_norm_layer {
    ($(#[$doc:meta])* $name:ident, $ranks:expr) => {
        $(#[$doc])*
        pub struct $name(BatchNorm);

        impl $name {
            /// With PyTorch's defaults: eps 1e-5, momentum 0.1, affine, running statistics.
            pub fn new(num_features: usize) -> Result<$name> {
                Ok($name(BatchNorm::new(stringify!($name), $ranks, num_features)?))
            }
            /// Sets eps (added to the variance).
            pub fn eps(mut self, eps: f64) -> Self {
                self.0.eps = eps;
                self
            }
            /// Sets the running-average momentum.
            pub fn momentum(mut self, momentum: f64) -> Self {
                self.0.momentum = momentum;
                self
            }
            pub fn weight(&self) -> &Tensor {
                &self.0.weight
            }
            pub fn bias(&self) -> &Tensor {
                &self.0.bias
            }
            pub fn running_mean(&self) -> &Tensor {
                &self.0.running_mean
            }
            pub fn running_var(&self) -> &Tensor {
                &self.0.running_var
            }
        }

        impl Module for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                self.0.forward(x)
            }
            fn own_parameters(&self) -> Vec<(String, Tensor)> {
                vec![("weight".into(), self.0.weight.clone()), ("bias".into(), self.0.bias.clone())]
            }
            fn own_buffers(&self) -> Vec<(String, Tensor)> {
                vec![
                    ("running_mean".into(), self.0.running_mean.clone()),
                    ("running_var".into(), self.0.running_var.clone()),
                    ("num_batches_tracked".into(), self.0.num_batches_tracked.clone()),
                ]
            }
            fn set_training(&self, training: bool) {
                self.0.training.store(training, Ordering::Relaxed);
            }
            fn is_training(&self) -> bool {
                self.0.training.load(Ordering::Relaxed)
            }
            fn type_name(&self) -> String {
                stringify!($name).into()
            }
            fn extra_repr(&self) -> String {
                self.0.extra_repr()
            }
        }
    };
}

batch_norm_layer!(
    /// Batch normalisation of `(N, C)` or `(N, C, L)` input (`nn.BatchNorm1d`).
    ///
    /// ```
    /// use sinapsis::nn::{BatchNorm1d, Module, ModuleExt};
    /// use sinapsis::Tensor;
    /// let bn = BatchNorm1d::new(2)?;
    /// let y = bn.forward(&Tensor::new(&[[1.0f32, 10.0], [3.0, 30.0]])?)?;
    /// assert_eq!(y.to_vec::<f32>()?.iter().map(|v| v.round()).collect::<Vec<_>>(), vec![-1.0, -1.0, 1.0, 1.0]);
    /// assert_eq!(bn.state_dict().len(), 5);
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    BatchNorm1d,
    &[2, 3]
);
batch_norm_layer!(
    /// Batch normalisation of `(N, C, H, W)` input over `N, H, W` (`nn.BatchNorm2d`).
    BatchNorm2d,
    &[4]
);

/// Normalises over the trailing `normalized_shape` dims, with a learned scale and shift
/// (`nn.LayerNorm`; eps 1e-5).
pub struct LayerNorm {
    pub normalized_shape: Vec<usize>,
    pub eps: f64,
    pub weight: Tensor,
    pub bias: Tensor,
}

impl LayerNorm {
    pub fn new(normalized_shape: &[usize]) -> Result<LayerNorm> {
        Ok(LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            eps: 1e-5,
            weight: Tensor::ones(normalized_shape.to_vec(), DType::F32)?.requires_grad_(true)?,
            bias: Tensor::zeros(normalized_shape.to_vec(), DType::F32)?.requires_grad_(true)?,
        })
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.layer_norm(
            &self.normalized_shape,
            Some(&self.weight),
            Some(&self.bias),
            self.eps,
        )
    }
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight".into(), self.weight.clone()),
            ("bias".into(), self.bias.clone()),
        ]
    }
    fn type_name(&self) -> String {
        "LayerNorm".into()
    }
    fn extra_repr(&self) -> String {
        let dims: Vec<String> = self
            .normalized_shape
            .iter()
            .map(|d| d.to_string())
            .collect();
        let tuple = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        format!(
            "{tuple}, eps={}, elementwise_affine={}",
            py_float(self.eps),
            py_bool(true)
        )
    }
}
