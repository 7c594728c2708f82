//! `Linear`: `y = x W^T + b`.

use super::init::{kaiming_uniform_, uniform_, FanMode};
use super::Module;
use crate::{DType, Error, Result, Tensor};

/// A fully connected layer, `y = x W^T + b` (`torch.nn.Linear`), with weight `(out, in)`
/// and PyTorch's default initialisation: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
///
/// # Shapes
/// `(*, in_features)` to `(*, out_features)`.
///
/// ```
/// use sinapsis::nn::{Linear, Module};
/// use sinapsis::{Tensor, DType};
/// let fc = Linear::new(784, 100)?;
/// assert_eq!(fc.weight.dims(), &[100, 784]);
/// let y = fc.forward(&Tensor::zeros((32, 784), DType::F32)?)?;
/// assert_eq!(y.dims(), &[32, 100]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// A float32 layer with a bias.
    pub fn new(in_features: usize, out_features: usize) -> Result<Linear> {
        Linear::with_options(in_features, out_features, true, DType::F32)
    }

    /// A layer with or without bias, of `dtype`.
    pub fn with_options(
        in_features: usize,
        out_features: usize,
        bias: bool,
        dtype: DType,
    ) -> Result<Linear> {
        let weight = Tensor::zeros((out_features, in_features), dtype)?;
        // NOTE: the same draws, in the same order, as PyTorch's reset_parameters.
        kaiming_uniform_(&weight, 5f64.sqrt(), FanMode::FanIn, "leaky_relu")?;
        let bias = if bias {
            let b = Tensor::zeros(out_features, dtype)?;
            let bound = if in_features > 0 {
                1.0 / (in_features as f64).sqrt()
            } else {
                0.0
            };
            uniform_(&b, -bound, bound)?;
            Some(b.requires_grad_(true)?)
        } else {
            None
        };
        Ok(Linear {
            weight: weight.requires_grad_(true)?,
            bias,
        })
    }

    /// A layer from given weight `(out, in)` and bias `(out)` (they become trainable).
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Result<Linear> {
        if weight.rank() != 2 {
            return Err(Error::Shape {
                op: "Linear",
                msg: format!("weight must be (out, in), got {}", weight.shape()),
            });
        }
        if let Some(b) = &bias {
            if b.dims() != [weight.dims()[0]] {
                return Err(Error::Shape {
                    op: "Linear",
                    msg: format!(
                        "bias {} does not match weight {}",
                        b.shape(),
                        weight.shape()
                    ),
                });
            }
        }
        Ok(Linear {
            weight: weight.detach().requires_grad_(true)?,
            bias: bias.map(|b| b.detach().requires_grad_(true)).transpose()?,
        })
    }

    pub fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }

    pub fn out_features(&self) -> usize {
        self.weight.dims()[0]
    }
}

impl Linear {
    fn check_input(&self, x: &Tensor) -> Result<()> {
        if x.rank() == 0 || x.dims()[x.rank() - 1] != self.in_features() {
            return Err(Error::Shape {
                op: "Linear",
                msg: format!(
                    "input {} does not end in in_features={} (weight {})",
                    x.shape(),
                    self.in_features(),
                    self.weight.shape()
                ),
            });
        }
        Ok(())
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        x.linear(&self.weight, self.bias.as_ref())
    }

    /// `relu(forward(x))` as one op (`Tensor::linear_relu`).
    fn forward_relu(&self, x: &Tensor) -> Option<Result<Tensor>> {
        Some(
            self.check_input(x)
                .and_then(|()| x.linear_relu(&self.weight, self.bias.as_ref())),
        )
    }

    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }

    fn type_name(&self) -> String {
        "Linear".into()
    }

    fn extra_repr(&self) -> String {
        format!(
            "in_features={}, out_features={}, bias={}",
            self.in_features(),
            self.out_features(),
            py_bool(self.bias.is_some())
        )
    }
}

/// Python's spelling of a bool, for printed forms that match PyTorch's.
pub(crate) fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}
