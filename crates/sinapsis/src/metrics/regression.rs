//! Regression errors (MAE, MSE, RMSE, R²) from sums accumulated over batches.

use serde::{Deserialize, Serialize};

use super::invalid;
use crate::{Result, Tensor};

/// Running sums of one output column.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct OutputSums {
    abs_error: f64,
    squared_error: f64,
    /// Mean of the targets seen so far.
    target_mean: f64,
    /// Sum of squared deviations of the targets from their mean (Welford's M2).
    target_m2: f64,
    target_min: f64,
    target_max: f64,
}

impl OutputSums {
    const EMPTY: OutputSums = OutputSums {
        abs_error: 0.0,
        squared_error: 0.0,
        target_mean: 0.0,
        target_m2: 0.0,
        target_min: f64::INFINITY,
        target_max: f64::NEG_INFINITY,
    };

    /// Merges a batch of `count_b` samples into `count_a` already seen (Chan et al.'s
    /// parallel variance update, stable where the naive sum of squares cancels).
    fn merge(&mut self, count_a: u64, batch: &OutputSums, count_b: u64) {
        let (na, nb) = (count_a as f64, count_b as f64);
        let n = na + nb;
        let delta = batch.target_mean - self.target_mean;
        self.target_mean += delta * nb / n;
        self.target_m2 += batch.target_m2 + delta * delta * na * nb / n;
        self.abs_error += batch.abs_error;
        self.squared_error += batch.squared_error;
        self.target_min = self.target_min.min(batch.target_min);
        self.target_max = self.target_max.max(batch.target_max);
    }

    /// sklearn's R² of one output: `1 - SSE / SST`; a constant target gives 1.0 when
    /// predicted perfectly, else 0.0 (`force_finite=True`).
    fn r2(&self) -> f64 {
        // min == max detects a constant target exactly, where M2 may hold rounding dust.
        if self.target_min == self.target_max || self.target_m2 == 0.0 {
            if self.squared_error == 0.0 {
                1.0
            } else {
                0.0
            }
        } else {
            1.0 - self.squared_error / self.target_m2
        }
    }
}

/// Mean absolute error, mean squared error, its root and the coefficient of determination,
/// accumulated over batches as sums in f64 (per-output Welford/Chan merging for R²), equal to
/// scikit-learn's `mean_absolute_error`, `mean_squared_error`, `root_mean_squared_error` and
/// `r2_score` on all samples at once.
///
/// Predictions and targets are `(B,)` (one output) or `(B, D, ...)` (the trailing dimensions
/// are `D...` outputs); a multi-output value is the uniform average over outputs, as
/// sklearn's `multioutput="uniform_average"`. Before any sample every value is 0.0.
///
/// ```
/// use sinapsis::{metrics::RegressionMetrics, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// let mut m = RegressionMetrics::new();
/// m.update(&Tensor::new(&[2.5f32, 0.0])?, &Tensor::new(&[3.0f32, -0.5])?)?;
/// m.update(&Tensor::new(&[2.0f32, 8.0])?, &Tensor::new(&[2.0f32, 7.0])?)?;
/// assert!((m.mae() - 0.5).abs() < 1e-12);
/// assert!((m.mse() - 0.375).abs() < 1e-12);
/// assert!((m.r2() - 0.948_608_137_044_967_9).abs() < 1e-12);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Samples (rows) seen.
    count: u64,
    /// One entry per output column; empty before the first batch.
    outputs: Vec<OutputSums>,
}

impl RegressionMetrics {
    /// No samples yet; the number of outputs is set by the first batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one batch of predictions and targets of the same shape (`(B,)` and `(B, 1)`
    /// are accepted together). Any dtype; values are read as f64.
    ///
    /// # Errors
    /// Shapes that differ, a scalar, or a number of outputs that differs from earlier batches.
    pub fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        const OP: &str = "RegressionMetrics::update";
        let (pd, td) = (pred.dims(), target.dims());
        let same = pd == td || matches!((pd, td), ([a], [b, 1]) | ([a, 1], [b]) if a == b);
        if !same || pd.is_empty() {
            return Err(invalid(
                OP,
                format!(
                    "predictions {} and targets {} must have the same shape (B,) or (B, D, ...)",
                    pred.shape(),
                    target.shape()
                ),
            ));
        }
        let batch = pd[0];
        let width: usize = pd[1..].iter().product();
        if !self.outputs.is_empty() && self.outputs.len() != width {
            return Err(invalid(
                OP,
                format!(
                    "batch has {width} outputs per sample but earlier batches had {}",
                    self.outputs.len()
                ),
            ));
        }
        if batch == 0 || width == 0 {
            return Ok(());
        }
        let (p, t) = (pred.to_f64_vec()?, target.to_f64_vec()?);
        if self.outputs.is_empty() {
            self.outputs = vec![OutputSums::EMPTY; width];
        }
        for (j, sums) in self.outputs.iter_mut().enumerate() {
            let column = || (j..p.len()).step_by(width).map(|i| (p[i], t[i]));
            let mean = column().map(|(_, y)| y).sum::<f64>() / batch as f64;
            let mut b = OutputSums {
                target_mean: mean,
                ..OutputSums::EMPTY
            };
            for (yp, y) in column() {
                let e = yp - y;
                b.abs_error += e.abs();
                b.squared_error += e * e;
                b.target_m2 += (y - mean) * (y - mean);
                b.target_min = b.target_min.min(y);
                b.target_max = b.target_max.max(y);
            }
            sums.merge(self.count, &b, batch as u64);
        }
        self.count += batch as u64;
        Ok(())
    }

    /// Uniform average over outputs of `f(output sums)`; 0.0 before any sample.
    fn average(&self, f: impl Fn(&OutputSums) -> f64) -> f64 {
        if self.count == 0 || self.outputs.is_empty() {
            return 0.0;
        }
        self.outputs.iter().map(f).sum::<f64>() / self.outputs.len() as f64
    }

    /// Mean absolute error (`mean_absolute_error`).
    pub fn mae(&self) -> f64 {
        let n = self.count as f64;
        self.average(|s| s.abs_error / n)
    }

    /// Mean squared error (`mean_squared_error`).
    pub fn mse(&self) -> f64 {
        let n = self.count as f64;
        self.average(|s| s.squared_error / n)
    }

    /// Root mean squared error (`root_mean_squared_error`: the root of each output's MSE,
    /// then the average over outputs).
    pub fn rmse(&self) -> f64 {
        let n = self.count as f64;
        self.average(|s| (s.squared_error / n).sqrt())
    }

    /// Coefficient of determination (`r2_score`); an output whose target is constant scores
    /// 1.0 if predicted exactly, else 0.0, as sklearn does.
    pub fn r2(&self) -> f64 {
        self.average(OutputSums::r2)
    }

    /// Number of samples (rows) seen.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of outputs per sample (0 before the first batch).
    pub fn num_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// Forgets every sample and the number of outputs.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}
