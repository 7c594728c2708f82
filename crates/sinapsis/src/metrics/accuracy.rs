//! Accuracy and top-k accuracy: correct and total counts over batches.

use serde::{Deserialize, Serialize};

use super::classes::{check_batch, class_targets, output_layout, predicted_classes, OutputLayout};
use super::{invalid, ratio};
use crate::{Result, Tensor};

/// Checks every target against the number of classes of the model's output.
fn check_targets(op: &'static str, targets: &[usize], classes: usize) -> Result<()> {
    match targets.iter().position(|&t| t >= classes) {
        Some(i) => Err(invalid(
            op,
            format!(
                "target class {} at position {i} is out of range for a model with {classes} classes (0..{classes})",
                targets[i]
            ),
        )),
        None => Ok(()),
    }
}

/// Fraction of samples whose predicted class is the true one (`accuracy_score`), from
/// correct and total counts accumulated over batches.
///
/// Predictions come from [`predicted_classes`]: the arg-max of `(B, C)` outputs, or
/// `output >= threshold` for the `(B,)` / `(B, 1)` outputs of a binary model (threshold 0.5
/// by default, for probabilities; use [`Accuracy::with_threshold`]`(0.0)` for logits).
///
/// ```
/// use sinapsis::{metrics::Accuracy, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// let mut acc = Accuracy::new();
/// assert_eq!(acc.value(), 0.0); // no sample yet
/// acc.update(&Tensor::new(&[[0.9f32, 0.1], [0.3, 0.7]])?, &Tensor::new(&[0i64, 0])?)?;
/// acc.update(&Tensor::new(&[[0.2f32, 0.8]])?, &Tensor::new(&[1i64])?)?;
/// assert_eq!((acc.correct(), acc.total()), (2, 3));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    threshold: f64,
    correct: u64,
    total: u64,
}

impl Default for Accuracy {
    fn default() -> Self {
        Self::new()
    }
}

impl Accuracy {
    /// Empty counts; binary outputs are thresholded at 0.5 (probabilities).
    pub fn new() -> Self {
        Self::with_threshold(0.5)
    }

    /// Empty counts; binary outputs are class 1 where `>= threshold` (0.0 for logits).
    pub fn with_threshold(threshold: f64) -> Self {
        Accuracy {
            threshold,
            correct: 0,
            total: 0,
        }
    }

    /// Adds one batch: `output` is `(B, C)` scores or `(B,)` / `(B, 1)` binary outputs,
    /// `targets` as read by [`class_targets`].
    ///
    /// # Errors
    /// Bad shapes or dtypes, batch sizes that differ, a target outside the model's classes.
    pub fn update(&mut self, output: &Tensor, targets: &Tensor) -> Result<()> {
        const OP: &str = "Accuracy::update";
        let classes = match output_layout(OP, output)? {
            OutputLayout::Binary { .. } => 2,
            OutputLayout::Classes { classes, .. } => classes,
        };
        let preds = predicted_classes(output, self.threshold)?;
        let targets = class_targets(targets)?;
        check_batch(OP, preds.len(), targets.len())?;
        check_targets(OP, &targets, classes)?;
        self.update_classes(&preds, &targets)
    }

    /// Adds one batch of predicted and true class indices.
    ///
    /// # Errors
    /// If the lengths differ.
    pub fn update_classes(&mut self, preds: &[usize], targets: &[usize]) -> Result<()> {
        check_batch("Accuracy::update_classes", preds.len(), targets.len())?;
        self.correct += preds.iter().zip(targets).filter(|(p, t)| p == t).count() as u64;
        self.total += preds.len() as u64;
        Ok(())
    }

    /// Number of samples predicted correctly.
    pub fn correct(&self) -> u64 {
        self.correct
    }

    /// Number of samples seen.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `correct / total`; 0.0 (not NaN) before any sample.
    pub fn value(&self) -> f64 {
        ratio(self.correct as f64, self.total as f64)
    }

    /// Adds the counts of `other` (another worker, another shard).
    pub fn merge(&mut self, other: &Accuracy) {
        self.correct += other.correct;
        self.total += other.total;
    }

    /// Forgets every sample (the threshold stays).
    pub fn reset(&mut self) {
        self.correct = 0;
        self.total = 0;
    }
}

/// Fraction of samples whose true class is among the `k` highest scores
/// (`sklearn.metrics.top_k_accuracy_score`), accumulated over batches.
///
/// Ties are broken as sklearn does: among equal scores, the class with the larger index ranks
/// first. With `k >= C` every sample counts as correct.
///
/// ```
/// use sinapsis::{metrics::TopKAccuracy, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// let mut top2 = TopKAccuracy::new(2);
/// let scores = Tensor::new(&[[0.5f32, 0.3, 0.2], [0.1, 0.2, 0.7], [0.4, 0.35, 0.25]])?;
/// top2.update(&scores, &Tensor::new(&[1i64, 0, 2])?)?;
/// assert!((top2.value() - 1.0 / 3.0).abs() < 1e-12);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopKAccuracy {
    k: usize,
    correct: u64,
    total: u64,
}

impl TopKAccuracy {
    /// Empty counts for top-`k` accuracy (`k = 0` is refused by [`TopKAccuracy::update`]).
    pub fn new(k: usize) -> Self {
        TopKAccuracy {
            k,
            correct: 0,
            total: 0,
        }
    }

    /// The `k` of top-k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Adds one batch of `(B, C)` scores (logits or probabilities, `C > 1`) and class targets.
    ///
    /// # Errors
    /// `k = 0`, outputs not `(B, C)` with `C > 1` (use [`Accuracy`] for a binary model),
    /// batch sizes that differ, a target outside `0..C`.
    pub fn update(&mut self, output: &Tensor, targets: &Tensor) -> Result<()> {
        const OP: &str = "TopKAccuracy::update";
        if self.k == 0 {
            return Err(invalid(OP, "k must be at least 1"));
        }
        let classes = match output_layout(OP, output)? {
            OutputLayout::Classes { classes, .. } => classes,
            OutputLayout::Binary { .. } => {
                return Err(invalid(
                    OP,
                    format!(
                    "expected (B, C) scores with C > 1, got {}; use Accuracy for a binary model",
                    output.shape()
                ),
                ))
            }
        };
        let targets = class_targets(targets)?;
        let scores = output.to_f64_vec()?;
        check_batch(OP, scores.len() / classes, targets.len())?;
        check_targets(OP, &targets, classes)?;
        for (row, &t) in scores.chunks(classes).zip(&targets) {
            // Position of the target in sklearn's order: a reversed stable ascending sort,
            // so equal scores with a larger index come first. NaN sorts last (ranks highest).
            let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
            let target_score = key(row[t]);
            let ahead = row
                .iter()
                .enumerate()
                .filter(|&(j, &v)| key(v) > target_score || (key(v) == target_score && j > t))
                .count();
            self.correct += u64::from(ahead < self.k);
        }
        self.total += targets.len() as u64;
        Ok(())
    }

    /// Number of samples whose target was in the top k.
    pub fn correct(&self) -> u64 {
        self.correct
    }

    /// Number of samples seen.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `correct / total`; 0.0 (not NaN) before any sample.
    pub fn value(&self) -> f64 {
        ratio(self.correct as f64, self.total as f64)
    }

    /// Forgets every sample (`k` stays).
    pub fn reset(&mut self) {
        self.correct = 0;
        self.total = 0;
    }
}
