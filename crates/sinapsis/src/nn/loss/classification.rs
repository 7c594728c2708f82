//! Multi-class losses: cross entropy (class indices or class probabilities) and negative
//! log likelihood.
//!
//! The fast path is a handful of whole-tensor ops, with no per-sample loop:
//! `log_softmax -> gather -> (x weight) -> sum -> / total weight`. Targets are read once on
//! the host to check them and to build the gather index and per-target weights.

use super::{
    batchmean_unsupported, check_float, check_same_dtype, float_tensor, invalid, shape_err,
    Reduction,
};
use crate::{DType, Error, Result, Tensor};

/// Cross entropy between logits and targets (`F.cross_entropy`): `log_softmax` over the
/// class dim, then [`nll_loss`]; or, for class-probability targets,
/// `-(target * log_softmax(input)).sum(class dim)`.
///
/// - `target` holds class indices (`i64`, the input's shape without the class dim) or class
///   probabilities (float, the input's shape); as in PyTorch, a target with the input's
///   shape is read as probabilities.
/// - `weight` (one per class) rescales each class; with [`Reduction::Mean`] and class
///   indices the sum is divided by the sum of the targets' weights (as [`nll_loss`]), with
///   probabilities by the number of samples.
/// - Targets equal to `ignore_index` (PyTorch's default -100) add nothing and are not
///   counted by the mean; probability targets do not support it (it must be negative).
/// - `label_smoothing` in `[0, 1]` mixes the target with the uniform distribution:
///   `(1 - e) * nll + e / C * (sum over classes c of -w_c log p_c)`, the second term
///   reduced like the first (PyTorch's formula).
///
/// Stable for any logits (the log-softmax subtracts the row maximum).
///
/// # Shapes
/// `input`: `(N, C)`, `(N, C, d1, ..., dk)` or unbatched `(C)`. `target`: class indices of
/// shape `(N)`, `(N, d1, ..., dk)` or `()`, or probabilities of the input's shape.
/// `weight`: `(C)`. Result: a 0-d tensor, or `(N, d1, ..., dk)` (`()` unbatched) with
/// [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{cross_entropy, Reduction};
/// use sinapsis::Tensor;
/// let logits = Tensor::new(&[[0.0f64, 0.0], [0.0, 0.0]])?;
/// let classes = Tensor::new(&[1i64, -100])?; // the second sample is ignored
/// let l = cross_entropy(&logits, &classes, None, -100, Reduction::Mean, 0.0)?;
/// assert!((l.item::<f64>()? - 2f64.ln()).abs() < 1e-15);
/// // Probability targets have the input's shape.
/// let probs = Tensor::new(&[[0.5f64, 0.5], [1.0, 0.0]])?;
/// let l = cross_entropy(&logits, &probs, None, -100, Reduction::Sum, 0.0)?;
/// assert!((l.item::<f64>()? - 2.0 * 2f64.ln()).abs() < 1e-15);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn cross_entropy(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    ignore_index: i64,
    reduction: Reduction,
    label_smoothing: f64,
) -> Result<Tensor> {
    const OP: &str = "cross_entropy";
    check_float(OP, "float logits", input)?;
    if !(0.0..=1.0).contains(&label_smoothing) {
        return Err(invalid(
            OP,
            format!("label_smoothing must be in [0, 1], got {label_smoothing}"),
        ));
    }
    if reduction == Reduction::BatchMean {
        return Err(batchmean_unsupported(OP));
    }
    let Some((input, target)) = batched(OP, input, target)? else {
        // Unbatched: run as a batch of one, and drop that dim again.
        let out = cross_entropy(
            &input.unsqueeze(0)?,
            &target.unsqueeze(0)?,
            weight,
            ignore_index,
            reduction,
            label_smoothing,
        )?;
        return if reduction == Reduction::None {
            out.squeeze(0)
        } else {
            Ok(out)
        };
    };
    let class_weight = class_weight(OP, input, weight)?;
    let classes = input.dims()[1] as f64;
    if target.shape() == input.shape() {
        return probability_targets(
            OP,
            &input.log_softmax(1)?,
            target,
            class_weight,
            ignore_index,
            reduction,
            label_smoothing,
        );
    }
    if input.rank() == 2
        && class_weight.is_none()
        && label_smoothing == 0.0
        && plain_class_indices(input, target, ignore_index)?
    {
        // The usual case, (N, C) logits and class indices of which none is ignored: one op,
        // and the mean is over all N rows. (Anything else, errors included, goes through
        // `ClassTargets`: its pass over the targets builds three tensors this case does
        // not need.)
        let rows = input.cross_entropy_rows(target)?;
        return match reduction {
            Reduction::None => Ok(rows),
            Reduction::Sum => rows.sum_all(),
            Reduction::Mean => rows.sum_all()?.div_scalar(input.dims()[0] as f64),
            Reduction::BatchMean => unreachable!("rejected above"),
        };
    }
    let targets = ClassTargets::new(OP, input, target, class_weight.as_ref(), ignore_index)?;
    let logp = input.log_softmax(1)?;
    let nll = targets.nll(&logp, reduction)?;
    if label_smoothing == 0.0 {
        return Ok(nll);
    }
    // PyTorch's smoothing term: -(sum over classes of w_c log p_c), 0 where ignored,
    // reduced like the NLL term.
    let mut logp_sum = match &class_weight {
        Some(w) => logp.mul(&w.view)?.sum([1], false)?,
        None => logp.sum([1], false)?,
    };
    if let Some(ignored) = &targets.ignored {
        logp_sum = logp_sum.masked_fill(ignored, 0.0)?;
    }
    let smooth = targets.reduce_negated(logp_sum, reduction)?;
    nll.mul_scalar(1.0 - label_smoothing)?
        .add(&smooth.mul_scalar(label_smoothing / classes)?)
}

/// Negative log likelihood of class indices under log-probabilities (`F.nll_loss`):
/// `-w[t] * input[n, t]` for each target `t`.
///
/// `input` holds log-probabilities (a `log_softmax` output); [`cross_entropy`] fuses both
/// steps. `weight` (one per class) rescales each class, and [`Reduction::Mean`] divides by
/// the sum of the weights of the non-ignored targets (not by their count), exactly as
/// PyTorch. Targets equal to `ignore_index` (default -100) add nothing and are not counted;
/// other targets must lie in `0..C`. A mean over no counted target is NaN, as in PyTorch.
///
/// # Shapes
/// `input`: `(N, C)`, `(N, C, d1, ..., dk)` or unbatched `(C)`. `target` (`i64`): `(N)`,
/// `(N, d1, ..., dk)` or `()`. `weight`: `(C)`. Result: a 0-d tensor, or the target's shape
/// with [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::{nll_loss, Reduction};
/// use sinapsis::Tensor;
/// let logp = Tensor::new(&[[-1.0f64, -2.0], [-3.0, -4.0]])?;
/// let t = Tensor::new(&[0i64, 1])?;
/// assert_eq!(nll_loss(&logp, &t, None, -100, Reduction::None)?.to_vec::<f64>()?, vec![1.0, 4.0]);
/// // Weighted mean: (1 * 1 + 3 * 4) / (1 + 3).
/// let w = Tensor::new(&[1.0f64, 3.0])?;
/// assert_eq!(nll_loss(&logp, &t, Some(&w), -100, Reduction::Mean)?.item::<f64>()?, 3.25);
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn nll_loss(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    ignore_index: i64,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "nll_loss";
    check_float(OP, "float log-probabilities", input)?;
    if reduction == Reduction::BatchMean {
        return Err(batchmean_unsupported(OP));
    }
    let Some((input, target)) = batched(OP, input, target)? else {
        let out = nll_loss(
            &input.unsqueeze(0)?,
            &target.unsqueeze(0)?,
            weight,
            ignore_index,
            reduction,
        )?;
        return if reduction == Reduction::None {
            out.squeeze(0)
        } else {
            Ok(out)
        };
    };
    let class_weight = class_weight(OP, input, weight)?;
    ClassTargets::new(OP, input, target, class_weight.as_ref(), ignore_index)?.nll(input, reduction)
}

/// `Some((input, target))` for batched inputs (rank >= 2); `None` for an unbatched `(C)`
/// input, after checking that its target is a 0-d index or has the input's shape.
fn batched<'a>(
    op: &'static str,
    input: &'a Tensor,
    target: &'a Tensor,
) -> Result<Option<(&'a Tensor, &'a Tensor)>> {
    match input.rank() {
        0 => Err(shape_err(
            op,
            format!(
                "input {} has no class dim; expected (C), (N, C) or (N, C, d1, ...)",
                input.shape()
            ),
        )),
        1 if target.rank() == 0 || target.shape() == input.shape() => Ok(None),
        1 => Err(shape_err(
            op,
            format!(
                "input {} is unbatched (one sample): target must be a 0-d class index or \
                 probabilities of shape {}, got {}",
                input.shape(),
                input.shape(),
                target.shape()
            ),
        )),
        _ => Ok(Some((input, target))),
    }
}

/// A class weight as a constant: its values and a view `(1, C, 1, ...)` that broadcasts
/// against the input.
struct ClassWeight {
    values: Vec<f64>,
    view: Tensor,
}

fn class_weight(
    op: &'static str,
    input: &Tensor,
    weight: Option<&Tensor>,
) -> Result<Option<ClassWeight>> {
    let Some(w) = weight else { return Ok(None) };
    let classes = input.dims()[1];
    if w.dims() != [classes] {
        return Err(shape_err(
            op,
            format!(
                "weight {} must be 1-d with one value per class ({classes} classes, from input {})",
                w.shape(),
                input.shape()
            ),
        ));
    }
    check_same_dtype(op, input, w)?;
    let mut view_dims = vec![1; input.rank()];
    view_dims[1] = classes;
    Ok(Some(ClassWeight {
        values: w.to_f64_vec()?,
        view: w.detach().reshape(view_dims)?,
    }))
}

/// Whether `target` holds one i64 class index per row of the `(N, C)` logits `input`, each
/// in `0..C` and none equal to `ignore_index`.
fn plain_class_indices(input: &Tensor, target: &Tensor, ignore_index: i64) -> Result<bool> {
    let (rows, classes) = (input.dims()[0], input.dims()[1] as i64);
    if target.dtype() != DType::I64 || target.dims() != [rows] {
        return Ok(false);
    }
    let values = target.to_vec::<i64>()?;
    Ok(values
        .iter()
        .all(|&t| (0..classes).contains(&t) && t != ignore_index))
}

/// Class-index targets, checked and laid out for `gather`.
struct ClassTargets {
    /// `i64`, the input's rank with a class dim of size 1; ignored targets point at class 0.
    index: Tensor,
    /// `w[t]` per target (0 where ignored); `None` when every target weighs 1.
    weight: Option<Tensor>,
    /// Where the target is `ignore_index` (bool, the target's shape); `None` if nowhere.
    ignored: Option<Tensor>,
    /// The mean's denominator: the summed weights of the counted targets.
    total_weight: f64,
}

impl ClassTargets {
    fn new(
        op: &'static str,
        input: &Tensor,
        target: &Tensor,
        weight: Option<&ClassWeight>,
        ignore_index: i64,
    ) -> Result<Self> {
        let dims = input.dims();
        let classes = dims[1];
        if target.dtype() != DType::I64 {
            return Err(Error::DType {
                op,
                expected: "i64 class indices (convert with to_dtype(DType::I64)), or float class \
                           probabilities of the input's shape",
                got: target.dtype(),
            });
        }
        // The target's expected shape: the input's without the class dim.
        let expected: Vec<usize> = dims
            .iter()
            .enumerate()
            .filter(|&(d, _)| d != 1)
            .map(|(_, &n)| n)
            .collect();
        if target.rank() == 0 || target.dims()[0] != dims[0] {
            return Err(shape_err(
                op,
                format!(
                    "input {} and target {}: batch sizes differ",
                    input.shape(),
                    target.shape()
                ),
            ));
        }
        if target.dims() != expected {
            return Err(shape_err(
                op,
                format!(
                    "input {} and target {}: class-index targets must have the input's shape \
                     without the class dim, {}",
                    input.shape(),
                    target.shape(),
                    crate::Shape::from(expected)
                ),
            ));
        }
        let values = target.to_vec::<i64>()?;
        let mut index = Vec::with_capacity(values.len());
        let mut sample_weight = Vec::with_capacity(values.len());
        let mut ignored = Vec::with_capacity(values.len());
        for (i, &t) in values.iter().enumerate() {
            let skip = t == ignore_index;
            if !skip && (t < 0 || t >= classes as i64) {
                return Err(invalid(
                    op,
                    format!(
                        "target {t} (at flat position {i}) is out of range for {classes} classes \
                         (valid: 0..{classes}, or ignore_index {ignore_index})"
                    ),
                ));
            }
            index.push(if skip { 0 } else { t });
            ignored.push(skip);
            sample_weight.push(match (skip, weight) {
                (true, _) => 0.0,
                (false, Some(w)) => w.values[t as usize],
                (false, None) => 1.0,
            });
        }
        let total_weight = sample_weight.iter().sum();
        let any_ignored = ignored.contains(&true);
        let mut index_dims = dims.to_vec();
        index_dims[1] = 1;
        Ok(ClassTargets {
            index: Tensor::from_vec(index, index_dims)?,
            weight: if weight.is_some() || any_ignored {
                Some(float_tensor(sample_weight, target.dims(), input.dtype())?)
            } else {
                None
            },
            ignored: if any_ignored {
                Some(Tensor::from_vec(ignored, target.dims().to_vec())?)
            } else {
                None
            },
            total_weight,
        })
    }

    /// The reduced NLL of the log-probabilities `logp` (the input's shape).
    fn nll(&self, logp: &Tensor, reduction: Reduction) -> Result<Tensor> {
        let mut picked = logp.gather(1, &self.index)?.squeeze(1)?;
        if let Some(w) = &self.weight {
            picked = picked.mul(w)?;
        }
        if let Some(ignored) = &self.ignored {
            // NOTE: also clears a -inf log-probability at an ignored row (0 * -inf is NaN).
            picked = picked.masked_fill(ignored, 0.0)?;
        }
        self.reduce_negated(picked, reduction)
    }

    /// `-x` reduced: the weighted mean divides by the counted targets' total weight.
    fn reduce_negated(&self, x: Tensor, reduction: Reduction) -> Result<Tensor> {
        match reduction {
            Reduction::None => x.neg(),
            Reduction::Sum => x.sum_all()?.neg(),
            Reduction::Mean => x.sum_all()?.div_scalar(-self.total_weight),
            Reduction::BatchMean => unreachable!("rejected by the callers"),
        }
    }
}

/// Cross entropy against class probabilities (PyTorch's soft-target path).
fn probability_targets(
    op: &'static str,
    logp: &Tensor,
    target: &Tensor,
    weight: Option<ClassWeight>,
    ignore_index: i64,
    reduction: Reduction,
    label_smoothing: f64,
) -> Result<Tensor> {
    if !target.dtype().is_float() {
        return Err(Error::DType {
            op,
            expected: "float class probabilities (a target with the input's shape is read as \
                       probabilities)",
            got: target.dtype(),
        });
    }
    check_same_dtype(op, logp, target)?;
    if ignore_index >= 0 {
        return Err(invalid(
            op,
            format!("ignore_index ({ignore_index}) is not supported for probability targets"),
        ));
    }
    let classes = logp.dims()[1];
    let target = if label_smoothing > 0.0 {
        let e = label_smoothing;
        target.mul_scalar(1.0 - e)?.add_scalar(e / classes as f64)?
    } else {
        target.clone()
    };
    let mut prod = logp.mul(&target)?;
    if let Some(w) = weight {
        prod = prod.mul(&w.view)?;
    }
    match reduction {
        Reduction::None => prod.sum([1], false)?.neg(),
        Reduction::Sum => prod.sum_all()?.neg(),
        // NOTE: divided by the number of samples, weighted or not (PyTorch's rule).
        Reduction::Mean => prod
            .sum_all()?
            .div_scalar(-((logp.numel() / classes.max(1)) as f64)),
        Reduction::BatchMean => unreachable!("rejected by the callers"),
    }
}

/// Cross entropy as a struct (`nn.CrossEntropyLoss`), with PyTorch's defaults: no class
/// weight, `ignore_index = -100`, [`Reduction::Mean`], no label smoothing.
///
/// # Shapes
/// As [`cross_entropy`]: `input` `(N, C)` or `(N, C, d1, ...)` logits, `target` class
/// indices `(N)` / `(N, d1, ...)` or probabilities of the input's shape; a 0-d result unless
/// the reduction is [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::CrossEntropyLoss;
/// use sinapsis::Tensor;
/// let logits = Tensor::new(&[[0.0f64, 0.0, 0.0, 0.0]])?;
/// let y = Tensor::new(&[2i64])?;
/// let l = CrossEntropyLoss::new().forward(&logits, &y)?.item::<f64>()?;
/// assert!((l - 4f64.ln()).abs() < 1e-15);
/// // Uniform logits cost ln(C) whatever the smoothing, or the class weights.
/// let smoothed = CrossEntropyLoss::new().label_smoothing(0.1);
/// assert!((smoothed.forward(&logits, &y)?.item::<f64>()? - 4f64.ln()).abs() < 1e-15);
/// let weighted = CrossEntropyLoss::new().weight(Tensor::new(&[1.0f64, 2.0, 3.0, 4.0])?);
/// assert!((weighted.forward(&logits, &y)?.item::<f64>()? - 4f64.ln()).abs() < 1e-15);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CrossEntropyLoss {
    /// One rescaling weight per class.
    pub weight: Option<Tensor>,
    /// Targets with this value are skipped (PyTorch's default -100).
    pub ignore_index: i64,
    /// How the per-sample losses are reduced.
    pub reduction: Reduction,
    /// How much probability mass moves to the uniform distribution, in `[0, 1]`.
    pub label_smoothing: f64,
}

impl Default for CrossEntropyLoss {
    fn default() -> Self {
        CrossEntropyLoss {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

impl CrossEntropyLoss {
    /// PyTorch's defaults (`weight=None, ignore_index=-100, reduction='mean',
    /// label_smoothing=0.0`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the per-class weight.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    /// Sets the target value to skip.
    pub fn ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = ignore_index;
        self
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets the label smoothing (in `[0, 1]`; checked by `forward`).
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = label_smoothing;
        self
    }
    /// The loss of the logits `input` against `target` (see [`cross_entropy`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        cross_entropy(
            input,
            target,
            self.weight.as_ref(),
            self.ignore_index,
            self.reduction,
            self.label_smoothing,
        )
    }
}

/// Negative log likelihood as a struct (`nn.NLLLoss`), with PyTorch's defaults: no class
/// weight, `ignore_index = -100`, [`Reduction::Mean`].
///
/// # Shapes
/// As [`nll_loss`]: `input` `(N, C)` or `(N, C, d1, ...)` log-probabilities, `target`
/// (`i64`) `(N)` or `(N, d1, ...)`; a 0-d result unless the reduction is
/// [`Reduction::None`].
///
/// ```
/// use sinapsis::nn::loss::NLLLoss;
/// use sinapsis::Tensor;
/// let logp = Tensor::new(&[[-1.0f64, -2.0], [-3.0, -4.0]])?;
/// let t = Tensor::new(&[0i64, 1])?;
/// assert_eq!(NLLLoss::new().forward(&logp, &t)?.item::<f64>()?, 2.5);
/// assert_eq!(NLLLoss::new().ignore_index(1).forward(&logp, &t)?.item::<f64>()?, 1.0);
/// # Ok::<(), sinapsis::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct NLLLoss {
    /// One rescaling weight per class.
    pub weight: Option<Tensor>,
    /// Targets with this value are skipped (PyTorch's default -100).
    pub ignore_index: i64,
    /// How the per-sample losses are reduced.
    pub reduction: Reduction,
}

impl Default for NLLLoss {
    fn default() -> Self {
        NLLLoss {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
        }
    }
}

impl NLLLoss {
    /// PyTorch's defaults (`weight=None, ignore_index=-100, reduction='mean'`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the per-class weight.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    /// Sets the target value to skip.
    pub fn ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = ignore_index;
        self
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// The loss of the log-probabilities `input` against `target` (see [`nll_loss`]).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        nll_loss(
            input,
            target,
            self.weight.as_ref(),
            self.ignore_index,
            self.reduction,
        )
    }
}
