//! Regression losses: mean squared error, L1, Huber and smooth L1.

use super::{check_pair, invalid, reduce, Reduction};
use crate::{Result, Tensor};

/// Squared error `(input - target)^2`, reduced (`F.mse_loss`).
///
/// # Shapes
/// `input` and `target`: any shape, the same for both (no broadcasting). Result: a 0-d
/// tensor, or the input's shape with [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{mse_loss, Reduction};
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[1.0f64, 3.0])?;
/// let y = Tensor::new(&[0.0f64, 1.0])?;
/// assert_eq!(mse_loss(&x, &y, Reduction::Mean)?.item::<f64>()?, 2.5);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    const OP: &str = "mse_loss";
    check_pair(OP, input, target)?;
    reduce(OP, input.sub(target)?.square()?, reduction)
}

/// Absolute error `|input - target|`, reduced (`F.l1_loss`); the gradient at 0 is 0.
///
/// # Shapes
/// `input` and `target`: any shape, the same for both. Result: a 0-d tensor, or the input's
/// shape with [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{l1_loss, Reduction};
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[1.0f64, -3.0])?;
/// let y = Tensor::new(&[0.0f64, 1.0])?;
/// assert_eq!(l1_loss(&x, &y, Reduction::Sum)?.item::<f64>()?, 5.0);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    const OP: &str = "l1_loss";
    check_pair(OP, input, target)?;
    reduce(OP, input.sub(target)?.abs()?, reduction)
}

/// Huber loss (`F.huber_loss`): `0.5 z^2` for `z = |input - target| < delta`, else
/// `delta (z - 0.5 delta)`; `delta` must be positive (PyTorch's default is 1).
///
/// # Shapes
/// `input` and `target`: any shape, the same for both. Result: a 0-d tensor, or the input's
/// shape with [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{huber_loss, Reduction};
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[0.5f64, 3.0])?;
/// let y = Tensor::new(&[0.0f64, 0.0])?;
/// // 0.5 * 0.5^2 = 0.125 (quadratic) and 1 * (3 - 0.5) = 2.5 (linear)
/// assert_eq!(huber_loss(&x, &y, 1.0, Reduction::None)?.to_vec::<f64>()?, vec![0.125, 2.5]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn huber_loss(
    input: &Tensor,
    target: &Tensor,
    delta: f64,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "huber_loss";
    check_pair(OP, input, target)?;
    if delta.is_nan() || delta <= 0.0 {
        return Err(invalid(OP, format!("delta must be positive, got {delta}")));
    }
    let diff = input.sub(target)?;
    let z = diff.abs()?;
    let quadratic = diff.square()?.mul_scalar(0.5)?;
    let linear = z.sub_scalar(0.5 * delta)?.mul_scalar(delta)?;
    reduce(
        OP,
        Tensor::where_cond(&z.lt_scalar(delta)?, &quadratic, &linear)?,
        reduction,
    )
}

/// Smooth L1 loss (`F.smooth_l1_loss`): `0.5 z^2 / beta` for `z = |input - target| < beta`,
/// else `z - 0.5 beta`; `beta = 0` is the L1 loss, a negative `beta` is an error (PyTorch's
/// default is 1).
///
/// # Shapes
/// `input` and `target`: any shape, the same for both. Result: a 0-d tensor, or the input's
/// shape with [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{smooth_l1_loss, Reduction};
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[0.5f64, 3.0])?;
/// let y = Tensor::new(&[0.0f64, 0.0])?;
/// // 0.5 * 0.5^2 / 2 = 0.0625 (quadratic) and 3 - 1 = 2 (linear)
/// let l = smooth_l1_loss(&x, &y, 2.0, Reduction::None)?;
/// assert_eq!(l.to_vec::<f64>()?, vec![0.0625, 2.0]);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn smooth_l1_loss(
    input: &Tensor,
    target: &Tensor,
    beta: f64,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "smooth_l1_loss";
    check_pair(OP, input, target)?;
    if beta.is_nan() || beta < 0.0 {
        return Err(invalid(
            OP,
            format!("beta must be non-negative, got {beta}"),
        ));
    }
    let diff = input.sub(target)?;
    let z = diff.abs()?;
    if beta == 0.0 {
        // NOTE: as PyTorch: the quadratic piece vanishes, leaving the L1 loss.
        return reduce(OP, z, reduction);
    }
    let quadratic = diff.square()?.mul_scalar(0.5)?.div_scalar(beta)?;
    let linear = z.sub_scalar(0.5 * beta)?;
    reduce(
        OP,
        Tensor::where_cond(&z.lt_scalar(beta)?, &quadratic, &linear)?,
        reduction,
    )
}

/// Mean squared error as a struct (`nn.MSELoss`); defaults to [`Reduction::Mean`].
///
/// # Shapes
/// As [`mse_loss`]: `input` and `target` of the same shape; a 0-d result unless the
/// reduction is [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{MSELoss, Reduction};
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[1.0f64, 3.0])?;
/// let y = Tensor::new(&[0.0f64, 1.0])?;
/// assert_eq!(MSELoss::new().forward(&x, &y)?.item::<f64>()?, 2.5);
/// assert_eq!(MSELoss::new().reduction(Reduction::Sum).forward(&x, &y)?.item::<f64>()?, 5.0);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MSELoss {
    /// How the per-element losses are reduced.
    pub reduction: Reduction,
}

impl MSELoss {
    /// PyTorch's defaults (`reduction='mean'`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// The loss of `input` against `target` (see [`mse_loss`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        mse_loss(input, target, self.reduction)
    }
}

/// Mean absolute error as a struct (`nn.L1Loss`); defaults to [`Reduction::Mean`].
///
/// # Shapes
/// As [`l1_loss`]: `input` and `target` of the same shape; a 0-d result unless the
/// reduction is [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::L1Loss;
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[1.0f64, -3.0])?;
/// let y = Tensor::new(&[0.0f64, 1.0])?;
/// assert_eq!(L1Loss::new().forward(&x, &y)?.item::<f64>()?, 2.5);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct L1Loss {
    /// How the per-element losses are reduced.
    pub reduction: Reduction,
}

impl L1Loss {
    /// PyTorch's defaults (`reduction='mean'`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// The loss of `input` against `target` (see [`l1_loss`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        l1_loss(input, target, self.reduction)
    }
}

/// Huber loss as a struct (`nn.HuberLoss`); defaults to `delta = 1` and [`Reduction::Mean`].
///
/// # Shapes
/// As [`huber_loss`]: `input` and `target` of the same shape; a 0-d result unless the
/// reduction is [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::HuberLoss;
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[3.0f64])?;
/// let y = Tensor::new(&[0.0f64])?;
/// assert_eq!(HuberLoss::new().forward(&x, &y)?.item::<f64>()?, 2.5);
/// assert_eq!(HuberLoss::new().delta(2.0).forward(&x, &y)?.item::<f64>()?, 4.0);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HuberLoss {
    /// How the per-element losses are reduced.
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear (PyTorch's default 1).
    pub delta: f64,
}

impl Default for HuberLoss {
    fn default() -> Self {
        HuberLoss {
            reduction: Reduction::Mean,
            delta: 1.0,
        }
    }
}

impl HuberLoss {
    /// PyTorch's defaults (`reduction='mean', delta=1.0`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets `delta` (positive; checked by `forward`).
    pub fn delta(mut self, delta: f64) -> Self {
        self.delta = delta;
        self
    }
    /// The loss of `input` against `target` (see [`huber_loss`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        huber_loss(input, target, self.delta, self.reduction)
    }
}

/// Smooth L1 loss as a struct (`nn.SmoothL1Loss`); defaults to `beta = 1` and
/// [`Reduction::Mean`].
///
/// # Shapes
/// As [`smooth_l1_loss`]: `input` and `target` of the same shape; a 0-d result unless the
/// reduction is [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::SmoothL1Loss;
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[0.5f64])?;
/// let y = Tensor::new(&[0.0f64])?;
/// assert_eq!(SmoothL1Loss::new().forward(&x, &y)?.item::<f64>()?, 0.125);
/// assert_eq!(SmoothL1Loss::new().beta(0.0).forward(&x, &y)?.item::<f64>()?, 0.5);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmoothL1Loss {
    /// How the per-element losses are reduced.
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear (PyTorch's default 1; 0 gives L1).
    pub beta: f64,
}

impl Default for SmoothL1Loss {
    fn default() -> Self {
        SmoothL1Loss {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
}

impl SmoothL1Loss {
    /// PyTorch's defaults (`reduction='mean', beta=1.0`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets `beta` (non-negative; checked by `forward`).
    pub fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }
    /// The loss of `input` against `target` (see [`smooth_l1_loss`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        smooth_l1_loss(input, target, self.beta, self.reduction)
    }
}
