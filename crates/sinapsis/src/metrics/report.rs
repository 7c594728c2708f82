//! scikit-learn's `classification_report`: per-class precision, recall, F1 and support, with
//! accuracy and the macro and weighted averages, as a struct and as sklearn's exact text.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::confusion::ClassScores;
use super::ratio;

/// The last-line heading sklearn sizes the name column with.
const LONGEST_HEADING: &str = "weighted avg";

/// Per-class and averaged scores of a classifier, built by
/// [`ConfusionMatrix::report`](super::ConfusionMatrix::report).
///
/// `Display` prints exactly the text of `sklearn.metrics.classification_report(..., digits=2)`,
/// trailing newline included; `{:.4}` (or [`ClassificationReport::to_string_digits`]) prints
/// other numbers of digits.
///
/// ```
/// use sinapsis::metrics::ConfusionMatrix;
/// # fn main() -> sinapsis::Result<()> {
/// let mut cm = ConfusionMatrix::new(3);
/// cm.update(&[0, 0, 2, 2, 1], &[0, 1, 2, 2, 2])?;
/// let names = ["class 0", "class 1", "class 2"].map(String::from);
/// let expected = "              precision    recall  f1-score   support
///
///      class 0       0.50      1.00      0.67         1
///      class 1       0.00      0.00      0.00         1
///      class 2       1.00      0.67      0.80         3
///
///     accuracy                           0.60         5
///    macro avg       0.50      0.56      0.49         5
/// weighted avg       0.70      0.60      0.61         5
/// ";
/// assert_eq!(cm.report(Some(&names)).to_string(), expected);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Name of each class, in class order.
    pub classes: Vec<String>,
    /// Scores of each class, in class order.
    pub per_class: Vec<ClassScores>,
    /// Fraction of samples predicted correctly.
    pub accuracy: f64,
    /// Unweighted mean of the per-class scores; `support` is the total.
    pub macro_avg: ClassScores,
    /// Mean of the per-class scores weighted by support; `support` is the total.
    pub weighted_avg: ClassScores,
    /// Number of samples.
    pub total: u64,
}

impl ClassificationReport {
    /// Builds the averages from per-class scores (`classes` and `per_class` of equal length).
    pub(crate) fn from_scores(
        classes: Vec<String>,
        per_class: Vec<ClassScores>,
        accuracy: f64,
    ) -> Self {
        let total: u64 = per_class.iter().map(|s| s.support).sum();
        let n = per_class.len() as f64;
        let mean = |f: fn(&ClassScores) -> f64| ratio(per_class.iter().map(f).sum(), n);
        let weighted = |f: fn(&ClassScores) -> f64| {
            let sum: f64 = per_class.iter().map(|s| f(s) * s.support as f64).sum();
            ratio(sum, total as f64)
        };
        let macro_avg = ClassScores {
            precision: mean(|s| s.precision),
            recall: mean(|s| s.recall),
            f1: mean(|s| s.f1),
            support: total,
        };
        let weighted_avg = ClassScores {
            precision: weighted(|s| s.precision),
            recall: weighted(|s| s.recall),
            f1: weighted(|s| s.f1),
            support: total,
        };
        ClassificationReport {
            classes,
            per_class,
            accuracy,
            macro_avg,
            weighted_avg,
            total,
        }
    }

    /// The report as text with `digits` digits after the decimal point
    /// (`classification_report(..., digits=digits)`).
    pub fn to_string_digits(&self, digits: usize) -> String {
        let names = self.classes.iter().map(|c| c.chars().count());
        let width = names
            .chain([LONGEST_HEADING.len(), digits])
            .max()
            .unwrap_or(0);
        let row = |name: &str, s: &ClassScores| {
            format!(
                "{name:>width$}  {:>9.digits$} {:>9.digits$} {:>9.digits$} {:>9}\n",
                s.precision, s.recall, s.f1, s.support
            )
        };
        let mut out = format!(
            "{:>width$}  {:>9} {:>9} {:>9} {:>9}\n\n",
            "", "precision", "recall", "f1-score", "support"
        );
        for (name, scores) in self.classes.iter().zip(&self.per_class) {
            out += &row(name, scores);
        }
        out += "\n";
        // sklearn's accuracy row leaves the precision and recall columns blank.
        out += &format!(
            "{:>width$}  {:>9} {:>9} {:>9.digits$} {:>9}\n",
            "accuracy", "", "", self.accuracy, self.total
        );
        out += &row("macro avg", &self.macro_avg);
        out += &row("weighted avg", &self.weighted_avg);
        out
    }
}

impl fmt::Display for ClassificationReport {
    /// sklearn's text with 2 digits, or the formatter's precision (`{:.4}`) if given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_digits(f.precision().unwrap_or(2)))
    }
}
