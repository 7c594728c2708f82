//! Loss functions, as in `torch.nn.functional` (functions) and `torch.nn` (structs).
//!
//! Each loss is a function with PyTorch's functional arguments in PyTorch's order
//! ([`cross_entropy`], [`mse_loss`], ...) and a struct with PyTorch's defaults and builder
//! setters ([`CrossEntropyLoss`], [`MSELoss`], ...) whose `forward(input, target)` calls the
//! function. Losses are compositions of differentiable tensor ops, so `backward` needs no
//! rule of its own; the numbers (values and gradients) match PyTorch's, including its
//! conventions at the edges (BCE's log clamped at -100, weighted means, `ignore_index`).
//!
//! Differences from PyTorch, all deliberate:
//! - Elementwise losses require `input` and `target` of the same shape. PyTorch broadcasts
//!   them with a warning, which silently turns a `(N, 1)` vs `(N)` mix-up into an `(N, N)`
//!   loss; here it is an error that names both shapes.
//! - Class weights, `weight` and `pos_weight` are constants: no gradient flows into them
//!   (PyTorch does not differentiate them either, except through some composite paths).
//! - No silent dtype promotion: `input`, `target` and weights share one float dtype
//!   (class-index targets are `i64`).
//!
//! ```
//! use sinapsis::nn::loss::{cross_entropy, CrossEntropyLoss, Reduction};
//! use sinapsis::Tensor;
//! # fn main() -> sinapsis::Result<()> {
//! let logits = Tensor::new(&[[2.0f64, 0.0, 0.0], [0.0, 0.0, 0.0]])?.requires_grad_(true)?;
//! let classes = Tensor::new(&[0i64, 2])?;
//! let loss = CrossEntropyLoss::new().forward(&logits, &classes)?;
//! // The same as the function with PyTorch's default arguments.
//! let same = cross_entropy(&logits, &classes, None, -100, Reduction::Mean, 0.0)?;
//! assert_eq!(loss.item::<f64>()?, same.item::<f64>()?);
//! loss.backward()?;
//! assert_eq!(logits.grad().unwrap().dims(), &[2, 3]);
//! # Ok(()) }
//! ```

mod binary;
mod classification;
mod kl;
mod regression;

pub use binary::{
    binary_cross_entropy, binary_cross_entropy_with_logits, BCELoss, BCEWithLogitsLoss,
};
pub use classification::{cross_entropy, nll_loss, CrossEntropyLoss, NLLLoss};
pub use kl::{kl_div, KLDivLoss};
pub use regression::{
    huber_loss, l1_loss, mse_loss, smooth_l1_loss, HuberLoss, L1Loss, MSELoss, SmoothL1Loss,
};

use crate::{DType, Error, Result, Tensor};
use std::fmt;
use std::str::FromStr;

/// How a loss reduces its per-element values: PyTorch's `reduction` argument.
///
/// # Shapes
/// `None` keeps the per-element shape (per sample for the classification losses); `Mean`,
/// `Sum` and `BatchMean` return a 0-d tensor.
///
/// ```
/// use sinapsis::nn::loss::{mse_loss, Reduction};
/// use sinapsis::Tensor;
/// # fn main() -> sinapsis::Result<()> {
/// let x = Tensor::new(&[1.0f64, 2.0])?;
/// let y = Tensor::new(&[0.0f64, 0.0])?;
/// assert_eq!(mse_loss(&x, &y, Reduction::None)?.to_vec::<f64>()?, vec![1.0, 4.0]);
/// assert_eq!(mse_loss(&x, &y, Reduction::Sum)?.item::<f64>()?, 5.0);
/// assert_eq!(mse_loss(&x, &y, Reduction::default())?.item::<f64>()?, 2.5);
/// assert_eq!("sum".parse::<Reduction>()?, Reduction::Sum);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// No reduction (`'none'`).
    None,
    /// The mean over elements (`'mean'`, PyTorch's default); weighted losses divide by the
    /// sum of the weights instead (see [`nll_loss`]).
    #[default]
    Mean,
    /// The sum over elements (`'sum'`).
    Sum,
    /// The sum divided by the batch size (`'batchmean'`): the true KL divergence per sample.
    /// Only [`kl_div`] accepts it, as in PyTorch.
    BatchMean,
}

impl Reduction {
    /// PyTorch's spelling: `"none"`, `"mean"`, `"sum"` or `"batchmean"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reduction::None => "none",
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
            Reduction::BatchMean => "batchmean",
        }
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Reduction {
    type Err = Error;

    /// Parses PyTorch's spelling (for configuration files).
    fn from_str(s: &str) -> Result<Reduction> {
        match s {
            "none" => Ok(Reduction::None),
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            "batchmean" => Ok(Reduction::BatchMean),
            other => Err(Error::InvalidArgument {
                op: "reduction",
                msg: format!("unknown reduction {other:?}; expected \"none\", \"mean\", \"sum\" or \"batchmean\""),
            }),
        }
    }
}

// ---- shared checks and helpers ----------------------------------------------------------

fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}

fn shape_err(op: &'static str, msg: impl Into<String>) -> Error {
    Error::Shape {
        op,
        msg: msg.into(),
    }
}

/// `t` must hold floats.
fn check_float(op: &'static str, what: &'static str, t: &Tensor) -> Result<()> {
    if t.dtype().is_float() {
        Ok(())
    } else {
        Err(Error::DType {
            op,
            expected: what,
            got: t.dtype(),
        })
    }
}

/// `t` must have `input`'s dtype (no silent promotion).
fn check_same_dtype(op: &'static str, input: &Tensor, t: &Tensor) -> Result<()> {
    if t.dtype() == input.dtype() {
        Ok(())
    } else {
        Err(Error::DTypeMismatch {
            op,
            lhs: input.dtype(),
            rhs: t.dtype(),
        })
    }
}

/// The checks every elementwise loss makes: float input, a target of the same dtype and the
/// same shape (see the module docs for why shapes must match exactly).
fn check_pair(op: &'static str, input: &Tensor, target: &Tensor) -> Result<()> {
    check_float(op, "a float input", input)?;
    check_same_dtype(op, input, target)?;
    if input.shape() != target.shape() {
        return Err(shape_err(
            op,
            format!(
                "input {} and target {}: shapes differ (losses do not broadcast; reshape the \
                 target to the input's shape)",
                input.shape(),
                target.shape()
            ),
        ));
    }
    Ok(())
}

/// An optional elementwise weight: same dtype as `input`, broadcastable to its shape.
/// Detached: weights are constants.
fn elementwise_weight(
    op: &'static str,
    name: &str,
    input: &Tensor,
    w: Option<&Tensor>,
) -> Result<Option<Tensor>> {
    let Some(w) = w else { return Ok(None) };
    check_same_dtype(op, input, w)?;
    w.detach().broadcast_as(input.shape()).map_err(|_| {
        shape_err(
            op,
            format!(
                "{name} {} does not broadcast to the input's shape {}",
                w.shape(),
                input.shape()
            ),
        )
    })?;
    Ok(Some(w.detach()))
}

/// Applies `reduction` to per-element losses (`BatchMean` is rejected: only `kl_div` has it).
fn reduce(op: &'static str, loss: Tensor, reduction: Reduction) -> Result<Tensor> {
    match reduction {
        Reduction::None => Ok(loss),
        Reduction::Mean => loss.mean_all(),
        Reduction::Sum => loss.sum_all(),
        Reduction::BatchMean => Err(batchmean_unsupported(op)),
    }
}

fn batchmean_unsupported(op: &'static str) -> Error {
    invalid(op, "reduction \"batchmean\" is only defined for kl_div")
}

/// A float tensor of `dims` from f64 values, in `dtype`.
fn float_tensor(values: Vec<f64>, dims: &[usize], dtype: DType) -> Result<Tensor> {
    Tensor::from_vec(values, dims.to_vec())?.to_dtype(dtype)
}
