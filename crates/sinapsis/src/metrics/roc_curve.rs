//! The ROC curve of a binary classifier: false- and true-positive rates at every threshold.

use super::invalid;
use crate::Result;

/// The points of a ROC curve, as `sklearn.metrics.roc_curve(y_true, y_score,
/// drop_intermediate=False)` returns them: one point per distinct score, thresholds
/// decreasing, starting at `(0, 0)` with threshold `+inf`.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// False-positive rate at each threshold (non-decreasing, from 0 to 1).
    pub fpr: Vec<f64>,
    /// True-positive rate at each threshold (non-decreasing, from 0 to 1).
    pub tpr: Vec<f64>,
    /// The thresholds: a sample is predicted positive when its score is `>=` the threshold.
    pub thresholds: Vec<f64>,
}

impl RocCurve {
    /// The area under the curve by the trapezoidal rule (equal to [`RocAuc`](super::RocAuc)'s
    /// value for the same scores).
    pub fn auc(&self) -> f64 {
        self.fpr
            .windows(2)
            .zip(self.tpr.windows(2))
            .map(|(f, t)| (f[1] - f[0]) * (t[1] + t[0]) / 2.0)
            .sum()
    }
}

/// The ROC curve of binary `targets` (0 or 1; class 1 is the positive one) against
/// `scores` (a probability, a logit, any score that grows with class 1).
///
/// ```
/// use sinapsis::metrics::roc_curve;
/// # fn main() -> sinapsis::Result<()> {
/// let curve = roc_curve(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8])?;
/// assert_eq!(curve.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
/// assert_eq!(curve.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
/// assert_eq!(curve.thresholds[1..], [0.8, 0.4, 0.35, 0.1]);
/// assert!((curve.auc() - 0.75).abs() < 1e-12);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the lengths differ, a score
/// is NaN, a target is not 0 or 1, or only one class is present (the curve is undefined).
pub fn roc_curve(targets: &[usize], scores: &[f64]) -> Result<RocCurve> {
    const OP: &str = "roc_curve";
    if targets.len() != scores.len() {
        return Err(invalid(
            OP,
            format!(
                "{} targets but {} scores: one score per sample is needed",
                targets.len(),
                scores.len()
            ),
        ));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(invalid(OP, format!("score at position {i} is NaN")));
    }
    if let Some(i) = targets.iter().position(|&t| t > 1) {
        return Err(invalid(
            OP,
            format!(
                "target {} at position {i} is not 0 or 1 (a ROC curve is binary)",
                targets[i]
            ),
        ));
    }
    let positives = targets.iter().filter(|&&t| t == 1).count();
    let negatives = targets.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(invalid(
            OP,
            format!(
                "only one class present among the {} targets: the ROC curve is not defined",
                targets.len()
            ),
        ));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < order.len() {
        // Samples with the same score cross the threshold together: one point for them all.
        let threshold = scores[order[i]];
        while i < order.len() && scores[order[i]] == threshold {
            if targets[order[i]] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        curve.fpr.push(fp as f64 / negatives as f64);
        curve.tpr.push(tp as f64 / positives as f64);
        curve.thresholds.push(threshold);
    }
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::RocAuc;
    use crate::Tensor;

    #[test]
    fn ties_make_one_point_and_the_area_matches_roc_auc() {
        let targets = [0usize, 1, 0, 1, 1, 0, 1];
        let scores = [0.2, 0.2, 0.5, 0.9, 0.5, 0.1, 0.7];
        let curve = roc_curve(&targets, &scores).unwrap();
        // Distinct scores 0.9, 0.7, 0.5, 0.2, 0.1 plus the (0, 0) start.
        assert_eq!(curve.thresholds.len(), 6);
        assert_eq!(curve.fpr, vec![0.0, 0.0, 0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]);
        assert_eq!(curve.tpr, vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.0]);
        let mut auc = RocAuc::new_binary();
        let s: Vec<f32> = scores.iter().map(|&s| s as f32).collect();
        let t: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
        auc.update(
            &Tensor::from_vec(s, 7).unwrap(),
            &Tensor::from_vec(t, 7).unwrap(),
        )
        .unwrap();
        assert!((curve.auc() - auc.value().unwrap()).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_an_error_naming_the_problem() {
        let msg = |r: Result<RocCurve>| r.unwrap_err().to_string();
        assert!(msg(roc_curve(&[0, 1], &[0.5])).contains("2 targets but 1 scores"));
        assert!(msg(roc_curve(&[0, 1], &[0.5, f64::NAN])).contains("NaN"));
        assert!(msg(roc_curve(&[0, 2], &[0.5, 0.1])).contains("not 0 or 1"));
        assert!(msg(roc_curve(&[1, 1], &[0.5, 0.1])).contains("only one class"));
    }
}
