//! Turning model outputs into predicted classes and target tensors into class indices: the
//! conversions every classification metric starts with.

use super::invalid;
use crate::{DType, Result, Tensor};

/// The shape of a batch of model outputs, as the metrics read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputLayout {
    /// `(B,)` or `(B, 1)`: one score per sample (a binary model).
    Binary { batch: usize },
    /// `(B, C)` with `C > 1`: one score per class.
    Classes { batch: usize, classes: usize },
}

/// Reads the layout of `output`, or an error naming `op` and the shape.
pub(crate) fn output_layout(op: &'static str, output: &Tensor) -> Result<OutputLayout> {
    if !output.dtype().is_float() {
        return Err(invalid(
            op,
            format!(
                "model outputs must be a float tensor (scores, logits or probabilities), got dtype {}",
                output.dtype()
            ),
        ));
    }
    match *output.dims() {
        [batch] | [batch, 1] => Ok(OutputLayout::Binary { batch }),
        [batch, classes] if classes > 1 => Ok(OutputLayout::Classes { batch, classes }),
        _ => Err(invalid(
            op,
            format!(
                "expected model outputs of shape (B,), (B, 1) or (B, C) with C > 1, got {}",
                output.shape()
            ),
        )),
    }
}

/// Index of the largest value; a NaN counts as the largest (like `torch.argmax` and
/// `numpy.argmax`), and the first of equal maxima wins.
pub(crate) fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate().skip(1) {
        if row[best].is_nan() {
            break;
        }
        if v.is_nan() || v > row[best] {
            best = i;
        }
    }
    best
}

/// Predicted class of each sample of a batch of model outputs.
///
/// - `(B, C)` with `C > 1`: the arg-max of each row (the first one on ties; a NaN counts
///   as the largest value, as in `torch.argmax`).
/// - `(B,)` or `(B, 1)` (a binary model): `1` where the value is `>= threshold`, else `0`.
///   Pass `0.5` for probabilities (after a sigmoid) and `0.0` for logits.
///
/// Any float dtype.
///
/// # Errors
/// If `output` is not a float tensor or not of one of the shapes above.
///
/// ```
/// use sinapsis::{metrics::predicted_classes, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// let logits = Tensor::new(&[[0.1f32, 2.0, -1.0], [3.0, 0.0, 0.5]])?;
/// assert_eq!(predicted_classes(&logits, 0.0)?, vec![1, 0]);
/// let probs = Tensor::new(&[0.2f64, 0.5, 0.9])?;
/// assert_eq!(predicted_classes(&probs, 0.5)?, vec![0, 1, 1]);
/// # Ok(()) }
/// ```
pub fn predicted_classes(output: &Tensor, threshold: f64) -> Result<Vec<usize>> {
    let layout = output_layout("predicted_classes", output)?;
    let values = output.to_f64_vec()?;
    Ok(match layout {
        OutputLayout::Binary { .. } => values
            .iter()
            .map(|&v| usize::from(v >= threshold))
            .collect(),
        OutputLayout::Classes { classes, .. } => values.chunks(classes).map(argmax).collect(),
    })
}

/// Class index of each sample of a batch of targets.
///
/// Accepts `i64` class indices (what `cross_entropy` takes), `bool` labels, or float `0.0`/`1.0`
/// targets of a binary model (what `binary_cross_entropy` takes), of shape `(B,)` or `(B, 1)`.
///
/// # Errors
/// If the shape is not `(B,)` or `(B, 1)`, or a target is negative, or (float targets) is
/// anything but `0.0` or `1.0`; the message names the value and its position.
///
/// ```
/// use sinapsis::{metrics::class_targets, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// assert_eq!(class_targets(&Tensor::new(&[2i64, 0, 1])?)?, vec![2, 0, 1]);
/// assert_eq!(class_targets(&Tensor::new(&[[1.0f32], [0.0]])?)?, vec![1, 0]);
/// assert!(class_targets(&Tensor::new(&[-1i64])?).is_err());
/// assert!(class_targets(&Tensor::new(&[0.5f32])?).is_err());
/// # Ok(()) }
/// ```
pub fn class_targets(targets: &Tensor) -> Result<Vec<usize>> {
    const OP: &str = "class_targets";
    if !matches!(*targets.dims(), [_] | [_, 1]) {
        return Err(invalid(
            OP,
            format!(
                "expected targets of shape (B,) or (B, 1), got {}",
                targets.shape()
            ),
        ));
    }
    match targets.dtype() {
        DType::I64 => targets
            .to_vec::<i64>()?
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                usize::try_from(t).map_err(|_| {
                    invalid(
                        OP,
                        format!("target {t} at position {i} is negative; class indices start at 0"),
                    )
                })
            })
            .collect(),
        DType::Bool => Ok(targets
            .to_vec::<bool>()?
            .into_iter()
            .map(usize::from)
            .collect()),
        _ => targets
            .to_f64_vec()?
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                if t == 0.0 {
                    Ok(0)
                } else if t == 1.0 {
                    Ok(1)
                } else {
                    Err(invalid(
                        OP,
                        format!(
                            "float target {t} at position {i} is not 0 or 1; float targets are read \
                             as the labels of a binary model (pass i64 class indices otherwise)"
                        ),
                    ))
                }
            })
            .collect(),
    }
}

/// Checks that a batch of outputs and a batch of targets hold the same number of samples.
pub(crate) fn check_batch(op: &'static str, outputs: usize, targets: usize) -> Result<()> {
    if outputs != targets {
        return Err(invalid(
            op,
            format!("{outputs} outputs but {targets} targets: the batch sizes must match"),
        ));
    }
    Ok(())
}
