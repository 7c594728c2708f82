//! Binary classification losses: BCE on probabilities and BCE on logits.

use super::{check_pair, elementwise_weight, reduce, Reduction};
use crate::{Result, Tensor};

/// Binary cross entropy on probabilities (`F.binary_cross_entropy`):
/// `-w (y ln p + (1 - y) ln(1 - p))`, each log clamped at -100 as in PyTorch, so `p` = 0
/// or 1 gives a finite loss.
///
/// `input` must hold probabilities in `[0, 1]` (an error otherwise); prefer
/// [`binary_cross_entropy_with_logits`] on the logits, which is stable and fuses the
/// sigmoid. `weight`, if given, broadcasts to the input's shape and rescales each element.
///
/// Gradients are PyTorch's: `w (p - y) / max(p (1 - p), 1e-12)` for the input and
/// `-w logit(p)` for the target (infinite at `p` = 0 or 1), which are not the derivatives
/// of the clamped forward.
///
/// # Shapes
/// `input` and `target`: any shape, the same for both; `weight`: broadcastable to it.
/// Result: a 0-d tensor, or the input's shape with [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{binary_cross_entropy, Reduction};
/// use sinapsis::Tensor;
/// let p = Tensor::new(&[0.5f64, 1.0])?;
/// let y = Tensor::new(&[1.0f64, 0.0])?;
/// let l = binary_cross_entropy(&p, &y, None, Reduction::None)?.to_vec::<f64>()?;
/// assert!((l[0] - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(l[1], 100.0); // ln(0) clamped at -100
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn binary_cross_entropy(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "binary_cross_entropy";
    check_pair(OP, input, target)?;
    let weight = elementwise_weight(OP, "weight", input, weight)?;
    // One fused op with PyTorch's value and gradients (see `Tensor::binary_cross_entropy`).
    let mut loss = input.binary_cross_entropy(target)?;
    if let Some(w) = weight {
        loss = loss.mul(&w)?;
    }
    reduce(OP, loss, reduction)
}

/// Binary cross entropy on logits, `BCE(sigmoid(x), y)` computed stably
/// (`F.binary_cross_entropy_with_logits`): finite for any logit, including |x| = 100.
///
/// PyTorch's form: `w ((1 - y) x - (1 + (pos_weight - 1) y) log_sigmoid(x))`.
/// `pos_weight` (typically one value per class, broadcasting along the last dim) weighs the
/// positive term, trading recall against precision; `weight` rescales each element. Both
/// broadcast to the input's shape.
///
/// # Shapes
/// `input` (logits) and `target` (in `[0, 1]`): any shape, the same for both; `weight` and
/// `pos_weight`: broadcastable to it. Result: a 0-d tensor, or the input's shape with
/// [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{binary_cross_entropy_with_logits, Reduction};
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[[0.0f64], [100.0]])?;
/// let y = Tensor::new(&[[1.0f64], [0.0]])?;
/// let l = binary_cross_entropy_with_logits(&x, &y, None, None, Reduction::None)?;
/// let l = l.to_vec::<f64>()?;
/// assert!((l[0] - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(l[1], 100.0); // finite: no exp(100) is ever formed
/// // pos_weight scales the loss of positive targets.
/// let pw = Tensor::new(&[3.0f64])?;
/// let l = binary_cross_entropy_with_logits(&x, &y, None, Some(&pw), Reduction::Sum)?;
/// assert!((l.item::<f64>()? - (3.0 * 2f64.ln() + 100.0)).abs() < 1e-12);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn binary_cross_entropy_with_logits(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "binary_cross_entropy_with_logits";
    check_pair(OP, input, target)?;
    let weight = elementwise_weight(OP, "weight", input, weight)?;
    let pos_weight = elementwise_weight(OP, "pos_weight", input, pos_weight)?;
    // NOTE: log_sigmoid is exact for any x (no exp overflow, no softplus threshold) and
    // smooth at 0, unlike max(x, 0) - x y + log1p(exp(-|x|)), whose relu and abs would give
    // the wrong subgradient at x = 0.
    let mut log_sig = input.log_sigmoid()?;
    if let Some(pw) = pos_weight {
        log_sig = log_sig.mul(&pw.sub_scalar(1.0)?.mul(target)?.add_scalar(1.0)?)?;
    }
    let mut loss = target.neg()?.add_scalar(1.0)?.mul(input)?.sub(&log_sig)?;
    if let Some(w) = weight {
        loss = loss.mul(&w)?;
    }
    reduce(OP, loss, reduction)
}

/// Binary cross entropy on probabilities as a struct (`nn.BCELoss`); defaults to no weight
/// and [`Reduction::Mean`].
///
/// # Shapes
/// As [`binary_cross_entropy`]: `input` and `target` of the same shape, `weight`
/// broadcastable to it; a 0-d result unless the reduction is [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::BCELoss;
/// use sinapsis::Tensor;
/// let p = Tensor::new(&[0.5f64, 0.5])?;
/// let y = Tensor::new(&[1.0f64, 0.0])?;
/// let l = BCELoss::new().forward(&p, &y)?.item::<f64>()?;
/// assert!((l - 2f64.ln()).abs() < 1e-15);
/// let w = Tensor::new(&[2.0f64, 0.0])?;
/// let l = BCELoss::new().weight(w).forward(&p, &y)?.item::<f64>()?;
/// assert!((l - 2f64.ln()).abs() < 1e-15); // (2 ln 2 + 0) / 2
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct BCELoss {
    /// A rescaling weight broadcast to the input's shape.
    pub weight: Option<Tensor>,
    /// How the per-element losses are reduced.
    pub reduction: Reduction,
}

impl BCELoss {
    /// PyTorch's defaults (`weight=None, reduction='mean'`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the rescaling weight.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// The loss of the probabilities `input` against `target` (see
    /// [`binary_cross_entropy`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        binary_cross_entropy(input, target, self.weight.as_ref(), self.reduction)
    }
}

/// Binary cross entropy on logits as a struct (`nn.BCEWithLogitsLoss`); defaults to no
/// weights and [`Reduction::Mean`].
///
/// # Shapes
/// As [`binary_cross_entropy_with_logits`]: `input` and `target` of the same shape,
/// `weight` and `pos_weight` broadcastable to it; a 0-d result unless the reduction is
/// [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{BCEWithLogitsLoss, Reduction};
/// use sinapsis::Tensor;
/// let x = Tensor::new(&[[0.0f64, 0.0]])?;
/// let y = Tensor::new(&[[1.0f64, 0.0]])?;
/// let loss = BCEWithLogitsLoss::new()
///     .pos_weight(Tensor::new(&[2.0f64, 5.0])?) // one per class (last dim)
///     .reduction(Reduction::Sum);
/// let l = loss.forward(&x, &y)?.item::<f64>()?;
/// assert!((l - 3.0 * 2f64.ln()).abs() < 1e-15); // 2 ln 2 + ln 2
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct BCEWithLogitsLoss {
    /// A rescaling weight broadcast to the input's shape.
    pub weight: Option<Tensor>,
    /// The weight of positive examples, broadcast to the input's shape (one per class).
    pub pos_weight: Option<Tensor>,
    /// How the per-element losses are reduced.
    pub reduction: Reduction,
}

impl BCEWithLogitsLoss {
    /// PyTorch's defaults (`weight=None, reduction='mean', pos_weight=None`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the rescaling weight.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    /// Sets the weight of positive examples.
    pub fn pos_weight(mut self, pos_weight: Tensor) -> Self {
        self.pos_weight = Some(pos_weight);
        self
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// The loss of the logits `input` against `target` (see
    /// [`binary_cross_entropy_with_logits`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        binary_cross_entropy_with_logits(
            input,
            target,
            self.weight.as_ref(),
            self.pos_weight.as_ref(),
            self.reduction,
        )
    }
}
