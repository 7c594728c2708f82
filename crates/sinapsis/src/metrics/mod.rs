//! Metrics accumulated over batches: accuracy, confusion matrix, classification report, ROC-AUC, regression errors.
// TEMPORARY (replaced by the metrics branch).
use crate::{Result, Tensor};
/// temp
pub fn predicted_classes(output: &Tensor, threshold: f64) -> Result<Vec<usize>> {
    let o = output.to_dtype(crate::DType::F64)?;
    let d = o.dims().to_vec();
    let v = o.to_vec::<f64>()?;
    if d.len() == 2 && d[1] > 1 {
        Ok(v.chunks(d[1])
            .map(|r| {
                r.iter()
                    .enumerate()
                    .fold(0, |b, (i, x)| if *x > r[b] { i } else { b })
            })
            .collect())
    } else {
        Ok(v.iter().map(|&x| usize::from(x >= threshold)).collect())
    }
}
/// temp
pub fn class_targets(t: &Tensor) -> Result<Vec<usize>> {
    Ok(t.to_dtype(crate::DType::F64)?
        .to_vec::<f64>()?
        .iter()
        .map(|&x| x as usize)
        .collect())
}
