//! Metrics accumulated over batches: accuracy, top-k accuracy, confusion matrix,
//! classification report, ROC-AUC (and the ROC curve) and regression errors.
//!
//! Every metric keeps counts and sums (never averages of per-batch averages), so feeding a
//! validation set batch by batch gives exactly the value scikit-learn computes on the whole
//! set at once. Each metric has `update` (one batch), a value getter, and `reset`.
//!
//! ```
//! use sinapsis::metrics::ConfusionMatrix;
//! use sinapsis::Tensor;
//! # fn main() -> sinapsis::Result<()> {
//! let mut cm = ConfusionMatrix::new(3);
//! // Logits of a 3-class model for two batches, and the true classes.
//! cm.update_from_output(&Tensor::new(&[[2.0f32, 0.1, 0.3], [0.2, 1.5, 0.1]])?, &Tensor::new(&[0i64, 2])?, 0.0)?;
//! cm.update_from_output(&Tensor::new(&[[0.1f32, 0.2, 3.0]])?, &Tensor::new(&[2i64])?, 0.0)?;
//! assert_eq!(cm.counts(), vec![vec![1, 0, 0], vec![0, 0, 0], vec![0, 1, 1]]);
//! let report = cm.report(None);
//! assert!((report.accuracy - 2.0 / 3.0).abs() < 1e-12);
//! println!("{report}"); // scikit-learn's classification_report layout
//! # Ok(()) }
//! ```

mod accuracy;
mod classes;
mod confusion;
mod regression;
mod report;
mod roc;
mod roc_curve;

pub use accuracy::{Accuracy, TopKAccuracy};
pub use classes::{class_targets, predicted_classes};
pub use confusion::{ClassScores, ConfusionMatrix};
pub use regression::RegressionMetrics;
pub use report::ClassificationReport;
pub use roc::RocAuc;
pub use roc_curve::{roc_curve, RocCurve};

use crate::Error;

/// The error every metric returns for bad input: `op` names the metric and method.
fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}

/// `num / den`, or 0.0 when `den` is zero: scikit-learn's `zero_division=0`, without a warning.
fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}
