//! Metrics accumulated over batches against values from scikit-learn's definitions
//! (reference numbers computed with scikit-learn 1.9 and copied here).

use sinapsis::metrics::{
    class_targets, predicted_classes, Accuracy, ClassScores, ConfusionMatrix, RegressionMetrics,
    RocAuc, TopKAccuracy,
};
use sinapsis::{DType, Result, Tensor};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

fn assert_scores(got: &ClassScores, precision: f64, recall: f64, f1: f64, support: u64) {
    assert!(
        close(got.precision, precision) && close(got.recall, recall) && close(got.f1, f1),
        "got {got:?}, expected p={precision} r={recall} f1={f1}"
    );
    assert_eq!(got.support, support);
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// ---- predicted classes and targets ---------------------------------------------------------

#[test]
fn predicted_classes_argmax_and_threshold() -> Result<()> {
    let logits = Tensor::new(&[[0.1f64, 2.0, -1.0], [3.0, 3.0, 0.5], [-1.0, -2.0, -0.5]])?;
    assert_eq!(predicted_classes(&logits, 0.0)?, vec![1, 0, 2]);
    let probs = Tensor::new(&[[0.2f32], [0.5], [0.51]])?;
    assert_eq!(predicted_classes(&probs, 0.5)?, vec![0, 1, 1]);
    let binary_logits = Tensor::new(&[-0.3f32, 0.0, 2.0])?;
    assert_eq!(predicted_classes(&binary_logits, 0.0)?, vec![0, 1, 1]);
    assert!(predicted_classes(&Tensor::new(&[1i64, 0])?, 0.5).is_err());
    assert!(predicted_classes(&Tensor::zeros((2, 3, 4), DType::F32)?, 0.5).is_err());
    Ok(())
}

#[test]
fn class_targets_accepts_indices_and_binary_floats() -> Result<()> {
    assert_eq!(class_targets(&Tensor::new(&[3i64, 0, 1])?)?, vec![3, 0, 1]);
    assert_eq!(class_targets(&Tensor::new(&[[1i64], [0]])?)?, vec![1, 0]);
    assert_eq!(class_targets(&Tensor::new(&[0.0f32, 1.0])?)?, vec![0, 1]);
    assert_eq!(class_targets(&Tensor::new(&[true, false])?)?, vec![1, 0]);
    Ok(())
}

#[test]
fn class_targets_errors_name_value_and_position() -> Result<()> {
    let err = class_targets(&Tensor::new(&[0i64, 2, -3])?)
        .unwrap_err()
        .to_string();
    assert!(err.contains("-3") && err.contains("position 2"), "{err}");
    let err = class_targets(&Tensor::new(&[1.0f32, 0.5])?)
        .unwrap_err()
        .to_string();
    assert!(err.contains("0.5") && err.contains("position 1"), "{err}");
    let err = class_targets(&Tensor::new(&[[0i64, 1], [1, 0]])?)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[2, 2]") || err.contains("(2, 2)") || err.contains("2x2"),
        "{err}"
    );
    Ok(())
}

// ---- confusion matrix ------------------------------------------------------------------------

#[test]
fn confusion_matrix_over_batches_equals_one_batch() -> Result<()> {
    let targets = [0, 1, 2, 0, 1, 2, 0, 2, 1, 1];
    let preds = [0, 0, 2, 0, 2, 2, 1, 2, 1, 0];
    let mut whole = ConfusionMatrix::new(3);
    whole.update(&preds, &targets)?;
    let mut batched = ConfusionMatrix::new(3);
    for (p, t) in preds.chunks(3).zip(targets.chunks(3)) {
        batched.update(p, t)?;
    }
    assert_eq!(batched, whole);
    assert_eq!(
        whole.counts(),
        vec![vec![2, 1, 0], vec![2, 1, 1], vec![0, 0, 3]]
    );
    assert_eq!(whole.get(1, 0), 2);
    assert_eq!(whole.get(5, 0), 0);
    assert_eq!(whole.total(), 10);
    assert!(close(whole.accuracy(), 0.6));

    // merge of two halves, and reset.
    let mut first = ConfusionMatrix::new(3);
    first.update(&preds[..4], &targets[..4])?;
    let mut second = ConfusionMatrix::new(3);
    second.update(&preds[4..], &targets[4..])?;
    first.merge(&second)?;
    assert_eq!(first, whole);
    assert!(first.merge(&ConfusionMatrix::new(2)).is_err());
    first.reset();
    assert_eq!(first.total(), 0);
    assert_eq!(first.accuracy(), 0.0);
    Ok(())
}

#[test]
fn confusion_matrix_from_logits_and_binary_outputs() -> Result<()> {
    let mut cm = ConfusionMatrix::new(3);
    let logits = Tensor::new(&[[2.0f32, 0.1, 0.3], [0.2, 1.5, 0.1], [0.0, 0.1, 0.9]])?;
    cm.update_from_output(&logits, &Tensor::new(&[0i64, 2, 2])?, 0.0)?;
    assert_eq!(
        cm.counts(),
        vec![vec![1, 0, 0], vec![0, 0, 0], vec![0, 1, 1]]
    );

    let mut binary = ConfusionMatrix::new(2);
    let probs = Tensor::new(&[[0.9f32], [0.2], [0.6], [0.4]])?;
    let labels = Tensor::new(&[[1.0f32], [0.0], [0.0], [1.0]])?;
    binary.update_from_output(&probs, &labels, 0.5)?;
    assert_eq!(binary.counts(), vec![vec![1, 1], vec![1, 1]]);
    Ok(())
}

#[test]
fn confusion_matrix_errors() -> Result<()> {
    let mut cm = ConfusionMatrix::new(3);
    let err = cm.update(&[0, 1], &[0]).unwrap_err().to_string();
    assert!(err.contains("2 outputs but 1 targets"), "{err}");
    let err = cm.update(&[0, 1], &[0, 3]).unwrap_err().to_string();
    assert!(
        err.contains("target class 3 at position 1") && err.contains("3 classes"),
        "{err}"
    );
    let err = cm.update(&[0, 5], &[0, 1]).unwrap_err().to_string();
    assert!(err.contains("predicted class 5 at position 1"), "{err}");
    assert_eq!(cm.total(), 0, "a failed update counts nothing");
    let logits = Tensor::new(&[[2.0f32, 0.1, 0.3]])?;
    assert!(cm
        .update_from_output(&logits, &Tensor::new(&[0i64, 1])?, 0.0)
        .is_err());
    Ok(())
}

#[test]
fn confusion_matrix_serialises_as_nested_arrays() -> Result<()> {
    let mut cm = ConfusionMatrix::new(2);
    cm.update(&[0, 1, 1], &[0, 0, 1])?;
    let json = serde_json::to_string(&cm).unwrap();
    assert_eq!(json, r#"{"num_classes":2,"counts":[[1,1],[0,1]]}"#);
    let back: ConfusionMatrix = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cm);
    assert!(
        serde_json::from_str::<ConfusionMatrix>(r#"{"num_classes":3,"counts":[[1]]}"#).is_err()
    );
    Ok(())
}

// ---- precision, recall, F1 and the report ----------------------------------------------------

/// y_true=[0,1,2,0,1,2,0,2], y_pred=[0,0,2,0,2,2,0,2]: class 1 is never predicted.
fn never_predicted_example() -> Result<ConfusionMatrix> {
    let mut cm = ConfusionMatrix::new(3);
    cm.update(&[0, 0, 2, 0], &[0, 1, 2, 0])?;
    cm.update(&[2, 2, 0, 2], &[1, 2, 0, 2])?;
    Ok(cm)
}

#[test]
fn precision_recall_f1_with_a_class_never_predicted() -> Result<()> {
    let cm = never_predicted_example()?;
    let scores = cm.precision_recall_f1();
    assert_scores(&scores[0], 0.75, 1.0, 6.0 / 7.0, 3);
    assert_scores(&scores[1], 0.0, 0.0, 0.0, 2); // zero_division = 0
    assert_scores(&scores[2], 0.75, 1.0, 6.0 / 7.0, 3);
    let report = cm.report(None);
    assert_eq!(report.classes, names(&["0", "1", "2"]));
    assert!(close(report.accuracy, 0.75));
    // precision_recall_fscore_support(average="macro" / "weighted", zero_division=0)
    assert_scores(&report.macro_avg, 0.5, 2.0 / 3.0, 0.5714285714285714, 8);
    assert_scores(&report.weighted_avg, 0.5625, 0.75, 0.6428571428571428, 8);
    assert_eq!(report.total, 8);
    Ok(())
}

#[test]
fn report_text_equals_sklearn_documented_example() -> Result<()> {
    // classification_report([0, 1, 2, 2, 2], [0, 0, 2, 2, 1],
    //                       target_names=['class 0', 'class 1', 'class 2'])
    let expected = "              precision    recall  f1-score   support

     class 0       0.50      1.00      0.67         1
     class 1       0.00      0.00      0.00         1
     class 2       1.00      0.67      0.80         3

    accuracy                           0.60         5
   macro avg       0.50      0.56      0.49         5
weighted avg       0.70      0.60      0.61         5
";
    let mut cm = ConfusionMatrix::new(3);
    cm.update(&[0, 0, 2, 2, 1], &[0, 1, 2, 2, 2])?;
    let report = cm.report(Some(&names(&["class 0", "class 1", "class 2"])));
    assert_eq!(report.to_string(), expected);
    assert_eq!(report.to_string_digits(2), expected);
    assert_eq!(format!("{report:.2}"), expected);
    Ok(())
}

#[test]
fn report_text_with_four_digits_and_default_names() -> Result<()> {
    // classification_report(y_true, y_pred, digits=4, zero_division=0)
    let expected = "              precision    recall  f1-score   support\n\n           0     0.7500    1.0000    0.8571         3\n           1     0.0000    0.0000    0.0000         2\n           2     0.7500    1.0000    0.8571         3\n\n    accuracy                         0.7500         8\n   macro avg     0.5000    0.6667    0.5714         8\nweighted avg     0.5625    0.7500    0.6429         8\n";
    let report = never_predicted_example()?.report(None);
    assert_eq!(report.to_string_digits(4), expected);
    assert_eq!(format!("{report:.4}"), expected);
    Ok(())
}

#[test]
fn report_text_widens_for_long_class_names() -> Result<()> {
    // classification_report([0,1,1,0,1], [0,1,0,0,1],
    //                       target_names=['negative', 'a much longer class name'])
    let expected = "                          precision    recall  f1-score   support\n\n                negative       0.67      1.00      0.80         2\na much longer class name       1.00      0.67      0.80         3\n\n                accuracy                           0.80         5\n               macro avg       0.83      0.83      0.80         5\n            weighted avg       0.87      0.80      0.80         5\n";
    let mut cm = ConfusionMatrix::new(2);
    cm.update(&[0, 1, 0, 0, 1], &[0, 1, 1, 0, 1])?;
    let report = cm.report(Some(&names(&["negative", "a much longer class name"])));
    assert_eq!(report.to_string(), expected);
    Ok(())
}

#[test]
fn report_serialises_for_metrics_json() -> Result<()> {
    let report = never_predicted_example()?.report(None);
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["total"], 8);
    assert_eq!(value["classes"][1], "1");
    assert_eq!(value["per_class"][1]["support"], 2);
    assert_eq!(value["weighted_avg"]["precision"], 0.5625);
    Ok(())
}

// ---- accuracy and top-k ----------------------------------------------------------------------

#[test]
fn accuracy_counts_over_batches() -> Result<()> {
    let mut acc = Accuracy::new();
    assert_eq!(acc.value(), 0.0, "no samples: 0.0, not NaN");
    acc.update(
        &Tensor::new(&[[0.9f32, 0.1], [0.3, 0.7]])?,
        &Tensor::new(&[0i64, 0])?,
    )?;
    acc.update(&Tensor::new(&[[0.2f32, 0.8]])?, &Tensor::new(&[1i64])?)?;
    assert_eq!((acc.correct(), acc.total()), (2, 3));
    assert!(close(acc.value(), 2.0 / 3.0));

    let mut logits = Accuracy::with_threshold(0.0);
    logits.update(
        &Tensor::new(&[-1.0f64, 0.5, 2.0, -0.1])?,
        &Tensor::new(&[0.0f64, 1.0, 0.0, 0.0])?,
    )?;
    assert!(close(logits.value(), 0.75));
    let err = logits
        .update(&Tensor::new(&[0.3f32])?, &Tensor::new(&[2i64])?)
        .unwrap_err()
        .to_string();
    assert!(err.contains("target class 2 at position 0"), "{err}");
    acc.merge(&logits);
    assert_eq!((acc.correct(), acc.total()), (5, 7));
    acc.reset();
    assert_eq!((acc.total(), acc.value()), (0, 0.0));
    Ok(())
}

#[test]
fn top_k_accuracy_matches_sklearn_with_ties() -> Result<()> {
    // top_k_accuracy_score([1,0,2,1,1], scores, k) = 0.0, 0.6, 1.0 for k = 1, 2, 3.
    let scores = Tensor::new(&[
        [0.5f32, 0.3, 0.2],
        [0.1, 0.2, 0.7],
        [0.4, 0.35, 0.25],
        [0.3, 0.3, 0.4],
        [0.2, 0.4, 0.4],
    ])?;
    let targets = [1i64, 0, 2, 1, 1];
    for (k, expected) in [(1, 0.0), (2, 0.6), (3, 1.0)] {
        let mut top = TopKAccuracy::new(k);
        assert_eq!(top.k(), k);
        // Two batches: rows 0..2 and 2..5.
        top.update(&scores.narrow(0, 0, 2)?, &Tensor::new(&targets[..2])?)?;
        top.update(&scores.narrow(0, 2, 3)?, &Tensor::new(&targets[2..])?)?;
        assert!(close(top.value(), expected), "k={k}: {}", top.value());
        top.reset();
        assert_eq!(top.value(), 0.0);
    }
    assert!(TopKAccuracy::new(0)
        .update(&scores, &Tensor::new(&targets)?)
        .is_err());
    assert!(TopKAccuracy::new(1)
        .update(&Tensor::new(&[0.3f32, 0.9])?, &Tensor::new(&[0i64, 1])?)
        .is_err());
    assert!(TopKAccuracy::new(1)
        .update(&scores, &Tensor::new(&[0i64, 1, 2, 3, 0])?)
        .is_err());
    Ok(())
}

// ---- ROC-AUC ---------------------------------------------------------------------------------

#[test]
fn roc_auc_binary_with_ties() -> Result<()> {
    let mut auc = RocAuc::new_binary();
    auc.update(&Tensor::new(&[0.1f32, 0.4])?, &Tensor::new(&[0i64, 0])?)?;
    auc.update(
        &Tensor::new(&[[0.35f32], [0.8]])?,
        &Tensor::new(&[1.0f32, 1.0])?,
    )?;
    assert!(close(auc.value()?, 0.75));
    assert_eq!(auc.per_class()?.len(), 1);

    // roc_auc_score([0,1,0,1,1,0], [0.5,0.5,0.2,0.9,0.5,0.9]) = 0.6111...: ties at 0.5 and 0.9.
    let mut tied = RocAuc::new_binary();
    tied.update(
        &Tensor::new(&[0.5f64, 0.5, 0.2, 0.9, 0.5, 0.9])?,
        &Tensor::new(&[0i64, 1, 0, 1, 1, 0])?,
    )?;
    assert!(close(tied.value()?, 0.6111111111111112));
    assert_eq!(tied.count(), 6);
    tied.reset();
    assert_eq!(tied.count(), 0);
    Ok(())
}

#[test]
fn roc_auc_one_vs_rest_multiclass() -> Result<()> {
    let probs = Tensor::new(&[
        [0.7f64, 0.2, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.3, 0.6],
        [0.3, 0.4, 0.3],
        [0.25, 0.25, 0.5],
        [0.6, 0.1, 0.3],
        [0.3, 0.3, 0.4],
    ])?;
    let targets = [0i64, 1, 2, 2, 1, 0, 1];
    let mut auc = RocAuc::new_multiclass(3);
    auc.update(&probs.narrow(0, 0, 4)?, &Tensor::new(&targets[..4])?)?;
    auc.update(&probs.narrow(0, 4, 3)?, &Tensor::new(&targets[4..])?)?;
    // roc_auc_score(y, p, multi_class="ovr", average="macro") and the per-class AUCs.
    assert!(close(auc.value()?, 0.8027777777777777));
    let per_class = auc.per_class()?;
    for (got, expected) in per_class.iter().zip([1.0, 0.7083333333333333, 0.7]) {
        assert!(close(*got, expected), "{per_class:?}");
    }
    Ok(())
}

#[test]
fn roc_auc_errors() -> Result<()> {
    let mut binary = RocAuc::new_binary();
    binary.update(&Tensor::new(&[0.2f32, 0.7])?, &Tensor::new(&[1i64, 1])?)?;
    let err = binary.value().unwrap_err().to_string();
    assert!(err.contains("only one class"), "{err}");
    assert!(binary
        .update(&Tensor::new(&[[0.2f32, 0.8]])?, &Tensor::new(&[1i64])?)
        .is_err());
    assert!(binary
        .update(&Tensor::new(&[0.2f32])?, &Tensor::new(&[2i64])?)
        .is_err());
    assert!(binary
        .update(&Tensor::new(&[f32::NAN])?, &Tensor::new(&[0i64])?)
        .is_err());

    let mut multi = RocAuc::new_multiclass(3);
    multi.update(
        &Tensor::new(&[[0.2f32, 0.3, 0.5], [0.6, 0.3, 0.1]])?,
        &Tensor::new(&[2i64, 0])?,
    )?;
    let err = multi.value().unwrap_err().to_string();
    assert!(err.contains("class 1 never appears"), "{err}");
    let err = multi
        .update(&Tensor::new(&[[2.0f32, 0.3, 0.5]])?, &Tensor::new(&[1i64])?)
        .unwrap_err()
        .to_string();
    assert!(err.contains("softmax"), "{err}");
    assert!(multi
        .update(&Tensor::new(&[[0.5f32, 0.5]])?, &Tensor::new(&[1i64])?)
        .is_err());
    assert_eq!(multi.count(), 2, "failed updates keep nothing");
    Ok(())
}

// ---- regression ------------------------------------------------------------------------------

#[test]
fn regression_single_output_sklearn_example() -> Result<()> {
    // y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8]
    let mut m = RegressionMetrics::new();
    assert_eq!((m.mae(), m.mse(), m.r2(), m.count()), (0.0, 0.0, 0.0, 0));
    m.update(
        &Tensor::new(&[2.5f32, 0.0])?,
        &Tensor::new(&[3.0f32, -0.5])?,
    )?;
    m.update(
        &Tensor::new(&[[2.0f32], [8.0]])?,
        &Tensor::new(&[2.0f32, 7.0])?,
    )?;
    assert!(close(m.mae(), 0.5));
    assert!(close(m.mse(), 0.375));
    assert!(close(m.rmse(), 0.375f64.sqrt()));
    assert!(close(m.r2(), 0.9486081370449679));
    assert_eq!(m.count(), 4);
    Ok(())
}

#[test]
fn regression_multi_output_batches_equal_one_pass() -> Result<()> {
    let target = [
        [0.5f64, 1.0],
        [-1.0, 1.0],
        [7.0, -6.0],
        [1.5, 2.0],
        [2.0, 2.0],
    ];
    let pred = [
        [0.0f64, 2.0],
        [-1.0, 2.0],
        [8.0, -5.0],
        [1.0, 1.5],
        [2.5, 2.0],
    ];
    let mut one_pass = RegressionMetrics::new();
    one_pass.update(&Tensor::new(&pred)?, &Tensor::new(&target)?)?;
    let mut batched = RegressionMetrics::new();
    for (p, t) in pred.chunks(2).zip(target.chunks(2)) {
        batched.update(&Tensor::new(p)?, &Tensor::new(t)?)?;
    }
    // mean_absolute_error, mean_squared_error, root_mean_squared_error, r2_score
    // (multioutput="uniform_average").
    for m in [&one_pass, &batched] {
        assert!(close(m.mae(), 0.6));
        assert!(close(m.mse(), 0.5));
        assert!(close(m.rmse(), 0.6989168765699083));
        assert!(close(m.r2(), 0.9407013103037523), "{}", m.r2());
        assert_eq!((m.count(), m.num_outputs()), (5, 2));
    }
    Ok(())
}

#[test]
fn regression_constant_target_and_large_offsets() -> Result<()> {
    // r2_score([3,3,3],[3,3,3]) = 1.0, r2_score([3,3,3],[3,2,3]) = 0.0
    let mut perfect = RegressionMetrics::new();
    perfect.update(
        &Tensor::new(&[3.0f32, 3.0, 3.0])?,
        &Tensor::new(&[3.0f32, 3.0, 3.0])?,
    )?;
    assert_eq!(perfect.r2(), 1.0);
    let mut off = RegressionMetrics::new();
    off.update(&Tensor::new(&[3.0f32, 2.0])?, &Tensor::new(&[3.0f32, 3.0])?)?;
    off.update(&Tensor::new(&[3.0f32])?, &Tensor::new(&[3.0f32])?)?;
    assert_eq!(off.r2(), 0.0);
    // A constant target with values that do not average exactly (0.1 * 3 / 3 != 0.1).
    let mut tenths = RegressionMetrics::new();
    for _ in 0..3 {
        tenths.update(&Tensor::new(&[0.1f64])?, &Tensor::new(&[0.1f64])?)?;
    }
    assert_eq!(tenths.r2(), 1.0);
    // r2_score([[1,3],[2,3],[4,3]], [[1.5,3],[2,3],[3,3]]) = 0.8660714285714286
    let mut mixed = RegressionMetrics::new();
    mixed.update(
        &Tensor::new(&[[1.5f64, 3.0], [2.0, 3.0]])?,
        &Tensor::new(&[[1.0f64, 3.0], [2.0, 3.0]])?,
    )?;
    mixed.update(
        &Tensor::new(&[[3.0f64, 3.0]])?,
        &Tensor::new(&[[4.0f64, 3.0]])?,
    )?;
    assert!(close(mixed.r2(), 0.8660714285714286));

    // Targets around 1e9 with unit spread: Welford/Chan keeps R² exact where
    // sum(y^2) - n*mean^2 would cancel catastrophically.
    let offset = 1.0e9;
    let mut big = RegressionMetrics::new();
    for chunk in [[0.0f64, 1.0], [2.0, 3.0]] {
        let t: Vec<f64> = chunk.iter().map(|v| v + offset).collect();
        let p: Vec<f64> = chunk.iter().map(|v| v + offset + 0.5).collect();
        big.update(&Tensor::new(&p[..])?, &Tensor::new(&t[..])?)?;
    }
    // SSE = 4 * 0.25 = 1, SST = 5 -> R² = 0.8
    assert!(close(big.r2(), 0.8), "{}", big.r2());
    big.reset();
    assert_eq!((big.count(), big.num_outputs()), (0, 0));
    Ok(())
}

#[test]
fn regression_errors() -> Result<()> {
    let mut m = RegressionMetrics::new();
    let err = m
        .update(
            &Tensor::new(&[1.0f32, 2.0])?,
            &Tensor::new(&[1.0f32, 2.0, 3.0])?,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("same shape"), "{err}");
    m.update(
        &Tensor::new(&[[1.0f32, 2.0]])?,
        &Tensor::new(&[[1.0f32, 2.0]])?,
    )?;
    let err = m
        .update(
            &Tensor::new(&[[1.0f32, 2.0, 3.0]])?,
            &Tensor::new(&[[1.0f32, 2.0, 3.0]])?,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("3 outputs") && err.contains("had 2"), "{err}");
    Ok(())
}
