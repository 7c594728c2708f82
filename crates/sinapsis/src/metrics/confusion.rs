//! The confusion matrix and the per-class precision, recall and F1 derived from it.

use serde::{Deserialize, Serialize};

use super::classes::{check_batch, class_targets, predicted_classes};
use super::report::ClassificationReport;
use super::{invalid, ratio};
use crate::{Result, Tensor};

/// Precision, recall, F1 and support of one class (or one average over classes).
///
/// A ratio whose denominator is zero (a class never predicted, never present) is 0.0:
/// scikit-learn's default `zero_division`, without the warning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// `tp / (tp + fp)`: of the samples predicted as this class, the fraction that are.
    pub precision: f64,
    /// `tp / (tp + fn)`: of the samples of this class, the fraction found.
    pub recall: f64,
    /// Harmonic mean of precision and recall, `2 tp / (2 tp + fp + fn)`.
    pub f1: f64,
    /// Number of samples whose true class is this one (for an average: all samples).
    pub support: u64,
}

/// Counts of (true class, predicted class) pairs, accumulated over batches
/// (`sklearn.metrics.confusion_matrix` with `labels=range(num_classes)`).
///
/// Rows are true classes, columns predicted classes. Serialises as
/// `{"num_classes": C, "counts": [[...], ...]}`.
///
/// ```
/// use sinapsis::metrics::ConfusionMatrix;
/// # fn main() -> sinapsis::Result<()> {
/// let mut cm = ConfusionMatrix::new(2);
/// cm.update(&[0, 1, 1], &[0, 0, 1])?; // predictions, then targets
/// assert_eq!(cm.get(0, 1), 1); // one sample of class 0 predicted as 1
/// assert_eq!(cm.total(), 3);
/// assert!((cm.accuracy() - 2.0 / 3.0).abs() < 1e-12);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConfusionMatrixData")]
pub struct ConfusionMatrix {
    num_classes: usize,
    counts: Vec<Vec<u64>>,
}

/// The serialised form, checked before it becomes a [`ConfusionMatrix`].
#[derive(Deserialize)]
struct ConfusionMatrixData {
    num_classes: usize,
    counts: Vec<Vec<u64>>,
}

impl TryFrom<ConfusionMatrixData> for ConfusionMatrix {
    type Error = String;

    fn try_from(d: ConfusionMatrixData) -> std::result::Result<Self, String> {
        if d.counts.len() != d.num_classes || d.counts.iter().any(|r| r.len() != d.num_classes) {
            return Err(format!(
                "confusion matrix counts must be {0}x{0} for num_classes = {0}",
                d.num_classes
            ));
        }
        Ok(ConfusionMatrix {
            num_classes: d.num_classes,
            counts: d.counts,
        })
    }
}

impl ConfusionMatrix {
    /// An empty `num_classes x num_classes` matrix. A binary model has 2 classes.
    pub fn new(num_classes: usize) -> Self {
        ConfusionMatrix {
            num_classes,
            counts: vec![vec![0; num_classes]; num_classes],
        }
    }

    /// Adds one batch of predicted and true class indices (`preds[i]` is the prediction for
    /// the sample whose true class is `targets[i]`).
    ///
    /// # Errors
    /// If the lengths differ or a class is `>= num_classes`; nothing is counted then.
    pub fn update(&mut self, preds: &[usize], targets: &[usize]) -> Result<()> {
        const OP: &str = "ConfusionMatrix::update";
        check_batch(OP, preds.len(), targets.len())?;
        let c = self.num_classes;
        let out_of_range = |what: &str, v: usize, i: usize| {
            invalid(
                OP,
                format!(
                    "{what} class {v} at position {i} is out of range for {c} classes (0..{c})"
                ),
            )
        };
        for (i, (&p, &t)) in preds.iter().zip(targets).enumerate() {
            if t >= c {
                return Err(out_of_range("target", t, i));
            }
            if p >= c {
                return Err(out_of_range("predicted", p, i));
            }
        }
        for (&p, &t) in preds.iter().zip(targets) {
            self.counts[t][p] += 1;
        }
        Ok(())
    }

    /// Adds one batch of model outputs and targets: predictions come from
    /// [`predicted_classes`] (arg-max, or `>= threshold` for a binary model) and targets from
    /// [`class_targets`].
    ///
    /// # Errors
    /// As [`predicted_classes`], [`class_targets`] and [`ConfusionMatrix::update`].
    pub fn update_from_output(
        &mut self,
        output: &Tensor,
        targets: &Tensor,
        threshold: f64,
    ) -> Result<()> {
        let preds = predicted_classes(output, threshold)?;
        let targets = class_targets(targets)?;
        self.update(&preds, &targets)
    }

    /// Number of classes (rows and columns).
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// The counts, `counts[true][predicted]`.
    pub fn counts(&self) -> Vec<Vec<u64>> {
        self.counts.clone()
    }

    /// Number of samples of true class `t` predicted as `p` (0 outside the matrix).
    pub fn get(&self, t: usize, p: usize) -> u64 {
        self.counts
            .get(t)
            .and_then(|row| row.get(p))
            .copied()
            .unwrap_or(0)
    }

    /// Number of samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Fraction of samples predicted correctly (trace / total); 0.0 before any sample.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.num_classes).map(|i| self.counts[i][i]).sum();
        ratio(correct as f64, self.total() as f64)
    }

    /// Precision, recall, F1 and support of each class, in class order
    /// (`precision_recall_fscore_support(average=None, zero_division=0)`).
    pub fn precision_recall_f1(&self) -> Vec<ClassScores> {
        (0..self.num_classes)
            .map(|k| {
                let tp = self.counts[k][k];
                let actual: u64 = self.counts[k].iter().sum();
                let predicted: u64 = self.counts.iter().map(|row| row[k]).sum();
                let (tp_f, actual_f, predicted_f) = (tp as f64, actual as f64, predicted as f64);
                ClassScores {
                    precision: ratio(tp_f, predicted_f),
                    recall: ratio(tp_f, actual_f),
                    // 2tp + fp + fn = predicted + actual.
                    f1: ratio(2.0 * tp_f, predicted_f + actual_f),
                    support: actual,
                }
            })
            .collect()
    }

    /// scikit-learn's `classification_report` for these counts (every class of the matrix is
    /// a row, as with `labels=range(num_classes)`). `class_names[i]` names class `i`; without
    /// names (or for classes past the end of the list) the class index is used.
    pub fn report(&self, class_names: Option<&[String]>) -> ClassificationReport {
        let classes = (0..self.num_classes)
            .map(|i| {
                class_names
                    .and_then(|names| names.get(i).cloned())
                    .unwrap_or_else(|| i.to_string())
            })
            .collect();
        ClassificationReport::from_scores(classes, self.precision_recall_f1(), self.accuracy())
    }

    /// Adds the counts of `other` (e.g. from another worker or another shard).
    ///
    /// # Errors
    /// If the two matrices have different numbers of classes.
    pub fn merge(&mut self, other: &ConfusionMatrix) -> Result<()> {
        if other.num_classes != self.num_classes {
            return Err(invalid(
                "ConfusionMatrix::merge",
                format!(
                    "cannot merge a {}-class matrix into a {}-class one",
                    other.num_classes, self.num_classes
                ),
            ));
        }
        for (row, other_row) in self.counts.iter_mut().zip(&other.counts) {
            for (c, o) in row.iter_mut().zip(other_row) {
                *c += o;
            }
        }
        Ok(())
    }

    /// Sets every count back to zero.
    pub fn reset(&mut self) {
        self.counts.iter_mut().flatten().for_each(|c| *c = 0);
    }
}
