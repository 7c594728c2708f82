//! Metrics accumulated over batches: accuracy, confusion matrix, classification report, ROC-AUC, regression errors.
