//! Kullback-Leibler divergence.

use super::{check_pair, reduce, Reduction};
use crate::{Result, Tensor};

/// Kullback-Leibler divergence `KL(target || exp(input))` pointwise (`F.kl_div`):
/// `target * (ln target - input)`, with `0 ln 0 = 0`; with `log_target`, the target holds
/// log-probabilities and the pointwise loss is `exp(target) * (target - input)`.
///
/// `input` holds log-probabilities (a `log_softmax` output). [`Reduction::BatchMean`] (sum
/// divided by the batch size, the first dim) gives the true divergence per sample;
/// [`Reduction::Mean`], PyTorch's default, divides by the number of elements instead.
///
/// At a target of exactly 0 (without `log_target`) the target's gradient is 0; PyTorch's
/// `xlogy` gives NaN there.
///
/// # Shapes
/// `input` and `target`: any shape, the same for both. Result: a 0-d tensor, or the input's
/// shape with [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{kl_div, Reduction};
/// use sinapsis::Tensor;
/// let p = Tensor::new(&[[0.5f64, 0.5], [1.0, 0.0]])?;
/// let q = Tensor::new(&[[0.25f64, 0.75], [0.5, 0.5]])?.log()?;
/// let kl = kl_div(&q, &p, Reduction::BatchMean, false)?.item::<f64>()?;
/// // Per sample: 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75), and 1 ln(1/0.5) + 0 ln 0 = ln 2.
/// let first = 0.5 * (2.0f64.ln() + (2.0f64 / 3.0).ln());
/// assert!((kl - (first + 2f64.ln()) / 2.0).abs() < 1e-15);
/// // With log_target the target is given as log-probabilities.
/// let (p0, q0) = (p.narrow(0, 0, 1)?, q.narrow(0, 0, 1)?);
/// let kl0 = kl_div(&q0, &p0.log()?, Reduction::Sum, true)?.item::<f64>()?;
/// assert!((kl0 - first).abs() < 1e-15);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn kl_div(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    log_target: bool,
) -> Result<Tensor> {
    const OP: &str = "kl_div";
    check_pair(OP, input, target)?;
    let pointwise = if log_target {
        target.exp()?.mul(&target.sub(input)?)?
    } else {
        // xlogy(t, t) - t * input. NOTE: ln is taken of 1 where t = 0, so neither the value
        // nor the gradient meets 0 * -inf.
        let safe = target.masked_fill(&target.eq_scalar(0.0)?, 1.0)?;
        target.mul(&safe.log()?)?.sub(&target.mul(input)?)?
    };
    match reduction {
        Reduction::BatchMean if input.rank() == 0 => pointwise.sum_all(),
        Reduction::BatchMean => pointwise.sum_all()?.div_scalar(input.dims()[0] as f64),
        other => reduce(OP, pointwise, other),
    }
}

/// Kullback-Leibler divergence as a struct (`nn.KLDivLoss`), with PyTorch's defaults:
/// [`Reduction::Mean`] and `log_target = false`. Prefer [`Reduction::BatchMean`], which
/// gives the true divergence.
///
/// # Shapes
/// As [`kl_div`]: `input` and `target` of the same shape; a 0-d result unless the reduction
/// is [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{KLDivLoss, Reduction};
/// use sinapsis::Tensor;
/// let p = Tensor::new(&[[1.0f64, 0.0]])?;
/// let q = Tensor::new(&[[0.5f64, 0.5]])?.log()?;
/// let kl = KLDivLoss::new().reduction(Reduction::BatchMean).forward(&q, &p)?;
/// assert!((kl.item::<f64>()? - 2f64.ln()).abs() < 1e-15);
/// let mean = KLDivLoss::new().forward(&q, &p)?; // divided by 2 elements, not 1 sample
/// assert!((mean.item::<f64>()? - 2f64.ln() / 2.0).abs() < 1e-15);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KLDivLoss {
    /// How the pointwise losses are reduced.
    pub reduction: Reduction,
    /// Whether the target holds log-probabilities.
    pub log_target: bool,
}

impl KLDivLoss {
    /// PyTorch's defaults (`reduction='mean', log_target=False`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the reduction ([`Reduction::BatchMean`] is the true divergence).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets whether the target holds log-probabilities.
    pub fn log_target(mut self, log_target: bool) -> Self {
        self.log_target = log_target;
        self
    }
    /// The divergence of the log-probabilities `input` from `target` (see [`kl_div`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        kl_div(input, target, self.reduction, self.log_target)
    }
}
