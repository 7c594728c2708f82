//! Dropout layers: random zeroing in training, identity in evaluation.

use super::Module;
use crate::{Error, Result, Tensor};
use std::sync::atomic::{AtomicBool, Ordering};

fn check_p(op: &'static str, p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::InvalidArgument {
            op,
            msg: format!("dropout probability has to be between 0 and 1, but got {p}"),
        });
    }
    Ok(())
}

/// Zeros with probability `p`, scaling the rest by `1 / (1 - p)`, using the default
/// generator; the same mask shape as `x`, or `mask_shape` for channel dropout.
fn dropout(x: &Tensor, p: f64, mask_shape: &[usize]) -> Result<Tensor> {
    if p == 0.0 {
        return Ok(x.clone());
    }
    if p == 1.0 {
        return x.mul_scalar(0.0);
    }
    let keep =
        crate::with_default_generator(|g| g.bernoulli_p(mask_shape.to_vec(), 1.0 - p, x.dtype()))?;
    x.mul(&keep.mul_scalar(1.0 / (1.0 - p))?)
}

/// Randomly zeroes elements with probability `p` in training mode and scales the survivors
/// by `1 / (1 - p)`; the identity in evaluation mode (`nn.Dropout`).
///
/// ```
/// use sinapsis::nn::{Dropout, Module, ModuleExt};
/// use sinapsis::{Tensor, DType};
/// let d = Dropout::new(0.5)?;
/// let x = Tensor::ones((4, 4), DType::F32)?;
/// d.eval();
/// assert_eq!(d.forward(&x)?.to_vec::<f32>()?, x.to_vec::<f32>()?);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub struct Dropout {
    pub p: f64,
    training: AtomicBool,
}

impl Dropout {
    pub fn new(p: f64) -> Result<Dropout> {
        check_p("Dropout", p)?;
        Ok(Dropout {
            p,
            training: AtomicBool::new(true),
        })
    }
}

impl Module for Dropout {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !self.is_training() {
            return Ok(x.clone());
        }
        dropout(x, self.p, x.dims())
    }
    fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
    }
    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
    fn type_name(&self) -> String {
        "Dropout".into()
    }
    fn extra_repr(&self) -> String {
        format!("p={}, inplace=False", self.p)
    }
}

/// Zeroes whole channels of `(N, C, H, W)` input with probability `p` in training
/// (`nn.Dropout2d`).
pub struct Dropout2d {
    pub p: f64,
    training: AtomicBool,
}

impl Dropout2d {
    pub fn new(p: f64) -> Result<Dropout2d> {
        check_p("Dropout2d", p)?;
        Ok(Dropout2d {
            p,
            training: AtomicBool::new(true),
        })
    }
}

impl Module for Dropout2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !self.is_training() {
            return Ok(x.clone());
        }
        if x.rank() != 4 && x.rank() != 3 {
            return Err(Error::Shape {
                op: "Dropout2d",
                msg: format!(
                    "expected (N, C, H, W) or (C, H, W) input, got {}",
                    x.shape()
                ),
            });
        }
        let mut mask = x.dims().to_vec();
        let r = mask.len();
        mask[r - 2..].fill(1);
        dropout(x, self.p, &mask)
    }
    fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
    }
    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
    fn type_name(&self) -> String {
        "Dropout2d".into()
    }
    fn extra_repr(&self) -> String {
        format!("p={}, inplace=False", self.p)
    }
}
