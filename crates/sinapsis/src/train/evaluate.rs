//! [`evaluate`]: a model's loss and metrics over a whole data set (eval mode, `no_grad`),
//! as `metrics.json` and the report print them.

use serde::Serialize;

use super::config::OutputKind;
use super::trainer::{split_batch, PassTotals};
use super::LossFn;
use crate::data::loader::DataLoader;
use crate::metrics::{
    class_targets, predicted_classes, ClassificationReport, ConfusionMatrix, RegressionMetrics,
    RocAuc,
};
use crate::nn::{Module, ModuleExt};
use crate::{no_grad, DType, Result, Tensor};

/// What to measure in [`evaluate`].
#[derive(Clone, Debug, Default)]
pub struct EvalOptions {
    /// How the model's output reads (probabilities, logits, regression).
    pub output: OutputKind,
    /// Number of classes (classification); `None` takes it from the output's columns (2 for
    /// a single-column binary output).
    pub num_classes: Option<usize>,
    /// Class names for the report (index = class).
    pub class_names: Option<Vec<String>>,
    /// Keep every sample's predicted class (for misclassified-image grids and predictions
    /// files).
    pub keep_predictions: bool,
}

/// The result of [`evaluate`]: serialises to `metrics.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// Mean loss per sample.
    pub loss: f64,
    /// Samples seen.
    pub samples: usize,
    /// Accuracy (classification).
    pub accuracy: Option<f64>,
    /// Per-class precision/recall/F1/support with macro and weighted averages.
    pub report: Option<ClassificationReport>,
    /// Rows: true class; columns: predicted class.
    pub confusion_matrix: Option<ConfusionMatrix>,
    /// ROC-AUC: binary, or one-vs-rest macro average for more classes. `None` when it is
    /// undefined (a class absent from the data).
    pub roc_auc: Option<f64>,
    /// Mean absolute error (regression).
    pub mae: Option<f64>,
    /// Mean squared error (regression).
    pub mse: Option<f64>,
    /// Coefficient of determination (regression).
    pub r2: Option<f64>,
    /// Each sample's predicted class, in loader order, when asked for.
    #[serde(skip)]
    pub predictions: Vec<usize>,
    /// Each sample's true class, in loader order, when asked for.
    #[serde(skip)]
    pub targets: Vec<usize>,
}

/// Scores for ROC-AUC: probability of class 1 `(B, 1)` for binary outputs, probability rows
/// `(B, C)` otherwise.
fn roc_scores(output: &Tensor, kind: OutputKind, classes: usize) -> Result<Tensor> {
    let out = output.to_dtype(DType::F64)?;
    let cols = if out.rank() == 2 { out.dims()[1] } else { 1 };
    if cols == 1 {
        let out = out.reshape((out.dims()[0], 1))?;
        return match kind {
            OutputKind::Logits => out.sigmoid(),
            _ => Ok(out),
        };
    }
    let probs = match kind {
        OutputKind::Logits => out.softmax(1)?,
        _ => out,
    };
    if classes == 2 {
        probs.narrow(1, 1, 1)
    } else {
        Ok(probs)
    }
}

/// Loss and metrics of `model` over `loader` in eval mode under `no_grad`: accuracy,
/// classification report, confusion matrix and ROC-AUC for classifiers; MAE, MSE and R2 for
/// regression. Counts accumulate over batches (no averages of averages).
///
/// # Errors
/// A failing forward pass or loss, targets that are not class indices (classification), or
/// outputs whose class count disagrees with `num_classes`.
pub fn evaluate(
    model: &dyn Module,
    loss_fn: &LossFn<'_>,
    loader: &DataLoader,
    options: &EvalOptions,
) -> Result<Evaluation> {
    model.eval();
    let _guard = no_grad();
    let kind = options.output;
    let mut totals = PassTotals::default();
    let mut confusion: Option<ConfusionMatrix> = None;
    let mut roc: Option<RocAuc> = None;
    let mut regression = RegressionMetrics::new();
    let (mut predictions, mut targets) = (Vec::new(), Vec::new());
    for batch in loader.iter_epoch(0) {
        let batch = batch?;
        let (x, y) = split_batch(&batch)?;
        let output = model.forward(x)?;
        totals.add_loss(loss_fn(&output, y)?, x.dims().first().copied().unwrap_or(1))?;
        if !kind.is_classification() {
            regression.update(&output, y)?;
            continue;
        }
        let classes = match options.num_classes {
            Some(c) => c,
            None if output.rank() == 2 && output.dims()[1] > 1 => output.dims()[1],
            None => 2,
        };
        let pred = predicted_classes(&output, kind.threshold())?;
        let truth = class_targets(y)?;
        confusion
            .get_or_insert_with(|| ConfusionMatrix::new(classes))
            .update(&pred, &truth)?;
        let roc = roc.get_or_insert_with(|| {
            if classes == 2 {
                RocAuc::new_binary()
            } else {
                RocAuc::new_multiclass(classes)
            }
        });
        let class_index = Tensor::from_vec(truth.iter().map(|&t| t as i64).collect(), truth.len())?;
        roc.update(&roc_scores(&output, kind, classes)?, &class_index)?;
        if options.keep_predictions {
            predictions.extend(pred);
            targets.extend(truth);
        }
    }
    let report = confusion
        .as_ref()
        .map(|c| c.report(options.class_names.as_deref()));
    let reg = (!kind.is_classification() && regression.count() > 0).then_some(&regression);
    Ok(Evaluation {
        loss: totals.mean_loss(),
        samples: totals.samples,
        accuracy: confusion.as_ref().map(ConfusionMatrix::accuracy),
        report,
        confusion_matrix: confusion,
        roc_auc: roc.and_then(|r| r.value().ok()),
        mae: reg.map(RegressionMetrics::mae),
        mse: reg.map(RegressionMetrics::mse),
        r2: reg.map(RegressionMetrics::r2),
        predictions,
        targets,
    })
}
