//! Area under the ROC curve, binary and one-vs-rest multiclass, from scores kept over batches.

use super::classes::{check_batch, class_targets, output_layout, OutputLayout};
use super::invalid;
use crate::{Result, Tensor};

/// How far a row of multiclass probabilities may sum from 1 (f32 softmax rounding).
const PROBABILITY_SUM_TOLERANCE: f64 = 1e-4;

/// Area under the ROC curve (`sklearn.metrics.roc_auc_score`), exact: every score and label
/// is kept until [`RocAuc::value`], which computes the Mann-Whitney statistic with average
/// ranks for tied scores (the same number as the trapezoidal area sklearn computes).
///
/// - [`RocAuc::new_binary`]: one score per sample (`(B,)` or `(B, 1)`: a probability or a
///   logit, any monotone score works), targets 0/1.
/// - [`RocAuc::new_multiclass`]: `(B, C)` probabilities (rows summing to 1, e.g. after a
///   softmax), one-vs-rest AUC of each class, macro average:
///   `roc_auc_score(y, p, multi_class="ovr", average="macro")`.
///
/// ```
/// use sinapsis::{metrics::RocAuc, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// let mut auc = RocAuc::new_binary();
/// auc.update(&Tensor::new(&[0.1f32, 0.4])?, &Tensor::new(&[0i64, 0])?)?;
/// auc.update(&Tensor::new(&[0.35f32, 0.8])?, &Tensor::new(&[1i64, 1])?)?;
/// assert!((auc.value()? - 0.75).abs() < 1e-12);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RocAuc {
    /// `None` for a binary model, else the number of classes (columns of the scores).
    num_classes: Option<usize>,
    /// Row-major scores: one per sample (binary) or `num_classes` per sample.
    scores: Vec<f64>,
    /// True class of each sample.
    labels: Vec<usize>,
}

impl RocAuc {
    /// AUC of a binary model: one score per sample, targets 0 or 1.
    pub fn new_binary() -> Self {
        RocAuc {
            num_classes: None,
            scores: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// One-vs-rest AUC of a `num_classes`-class model, macro-averaged.
    pub fn new_multiclass(num_classes: usize) -> Self {
        RocAuc {
            num_classes: Some(num_classes),
            scores: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Number of samples kept.
    pub fn count(&self) -> usize {
        self.labels.len()
    }

    /// Keeps one batch of scores and targets (targets as read by
    /// [`class_targets`](super::class_targets)).
    ///
    /// # Errors
    /// A shape that does not fit the kind of AUC, batch sizes that differ, a NaN score,
    /// a target outside the classes, multiclass rows that are not probabilities.
    /// Nothing is kept from a batch that fails.
    pub fn update(&mut self, scores: &Tensor, targets: &Tensor) -> Result<()> {
        const OP: &str = "RocAuc::update";
        let layout = output_layout(OP, scores)?;
        let classes = match (self.num_classes, layout) {
            (None, OutputLayout::Binary { .. }) => 2,
            (Some(c), OutputLayout::Classes { classes, .. }) if c == classes => c,
            (None, _) => {
                return Err(invalid(
                    OP,
                    format!(
                        "a binary AUC takes one score per sample, (B,) or (B, 1), got {}",
                        scores.shape()
                    ),
                ))
            }
            (Some(c), _) => {
                return Err(invalid(
                    OP,
                    format!(
                        "a {c}-class AUC takes (B, {c}) probabilities, got {}",
                        scores.shape()
                    ),
                ))
            }
        };
        let values = scores.to_f64_vec()?;
        let labels = class_targets(targets)?;
        let width = self.num_classes.unwrap_or(1);
        check_batch(OP, values.len() / width, labels.len())?;
        if let Some(i) = values.iter().position(|v| v.is_nan()) {
            return Err(invalid(OP, format!("score at position {i} is NaN")));
        }
        if let Some(i) = labels.iter().position(|&t| t >= classes) {
            return Err(invalid(
                OP,
                format!(
                    "target class {} at position {i} is out of range for {classes} classes (0..{classes})",
                    labels[i]
                ),
            ));
        }
        if self.num_classes.is_some() {
            for (i, row) in values.chunks(width).enumerate() {
                let sum: f64 = row.iter().sum();
                if (sum - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
                    return Err(invalid(
                        OP,
                        format!(
                            "scores of sample {i} sum to {sum}, not 1: a multiclass AUC needs \
                             probabilities (apply softmax to the logits)"
                        ),
                    ));
                }
            }
        }
        self.scores.extend(values);
        self.labels.extend(labels);
        Ok(())
    }

    /// AUC of each class against the rest (multiclass), or a single value: the binary AUC.
    ///
    /// # Errors
    /// If a class never appears among the targets (the AUC is undefined then), or a binary
    /// AUC has only one class among its targets.
    pub fn per_class(&self) -> Result<Vec<f64>> {
        const OP: &str = "RocAuc::value";
        match self.num_classes {
            None => {
                let positive: Vec<bool> = self.labels.iter().map(|&t| t == 1).collect();
                match binary_auc(&self.scores, &positive) {
                    Some(auc) => Ok(vec![auc]),
                    None => Err(invalid(
                        OP,
                        format!(
                            "only one class present among the {} targets: ROC AUC is not defined",
                            self.labels.len()
                        ),
                    )),
                }
            }
            Some(c) => (0..c)
                .map(|k| {
                    let positive: Vec<bool> = self.labels.iter().map(|&t| t == k).collect();
                    let column: Vec<f64> =
                        self.scores.iter().skip(k).step_by(c).copied().collect();
                    binary_auc(&column, &positive).ok_or_else(|| {
                        invalid(
                            OP,
                            format!(
                                "class {k} {} among the {} targets: its one-vs-rest ROC AUC is not defined",
                                if positive.iter().any(|&p| p) { "is the only class" } else { "never appears" },
                                self.labels.len()
                            ),
                        )
                    })
                })
                .collect(),
        }
    }

    /// The AUC: binary, or the unweighted mean of the one-vs-rest AUCs.
    ///
    /// # Errors
    /// As [`RocAuc::per_class`].
    pub fn value(&self) -> Result<f64> {
        let per_class = self.per_class()?;
        Ok(per_class.iter().sum::<f64>() / per_class.len() as f64)
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        self.scores.clear();
        self.labels.clear();
    }
}

/// Mann-Whitney AUC: the probability that a random positive scores above a random negative,
/// ties counting one half (average ranks). `None` without both positives and negatives.
fn binary_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let positives_in_tie = order[start..end].iter().filter(|&&i| positive[i]).count();
        positive_rank_sum += average_rank * positives_in_tie as f64;
        start = end;
    }
    let (n_pos, n_neg) = (n_pos as f64, n_neg as f64);
    Some((positive_rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}
