//! Fused neural-network primitives: softmax, log_softmax (stable, one pass over each row)
//! and binary cross entropy. Linear layers are in `linear.rs`.

use super::Tensor;
use crate::autograd::{BinaryOp, Op};
use crate::cpu::pool::{recycle, take_dirty};
use crate::cpu::strided::to_contiguous;
use crate::storage::CpuStorage;
use crate::{Dim, Error, FloatElem, Result};
use rayon::prelude::*;

/// Applies `f(row_in, row_out)` to every row of a contiguous row-major buffer; `f` must
/// write every element of `row_out` (the buffer comes from the cache, stale).
fn per_row<T: FloatElem>(x: &[T], row: usize, f: impl Fn(&[T], &mut [T]) + Sync) -> Vec<T> {
    let mut out = take_dirty(x.len(), T::zero());
    if row == 0 {
        return out;
    }
    if x.len() >= crate::cpu::PAR_THRESHOLD {
        out.par_chunks_mut(row)
            .zip(x.par_chunks(row))
            .for_each(|(o, i)| f(i, o));
    } else {
        for (o, i) in out.chunks_mut(row).zip(x.chunks(row)) {
            f(i, o);
        }
    }
    out
}

/// [`per_row`] over a temporary contiguous copy, which then goes back to the cache.
fn rows_of<T: FloatElem>(x: Vec<T>, row: usize, f: fn(&[T], &mut [T])) -> Vec<T> {
    let out = per_row(&x, row, f);
    recycle(x);
    out
}

fn row_max<T: FloatElem>(x: &[T]) -> T {
    x.iter().fold(T::NEG_INFINITY, |m, &v| m.max(v))
}

/// Shift for a stable exp: the row max, or 0 when the max is infinite (all -inf rows give
/// NaN as in PyTorch rather than a spurious number).
pub(super) fn shift<T: FloatElem>(x: &[T]) -> T {
    let m = row_max(x);
    if m == T::INFINITY || m == T::NEG_INFINITY {
        T::zero()
    } else {
        m
    }
}

fn softmax_row<T: FloatElem>(x: &[T], out: &mut [T]) {
    let m = shift(x);
    let mut sum = T::zero();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - m).exp();
        sum += *o;
    }
    let inv = T::one() / sum;
    out.iter_mut().for_each(|o| *o = *o * inv);
}

fn log_softmax_row<T: FloatElem>(x: &[T], out: &mut [T]) {
    let m = shift(x);
    let sum: T = x.iter().map(|&v| (v - m).exp()).sum();
    let lse = m + sum.ln();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v - lse;
    }
}

impl Tensor {
    /// Runs a per-row kernel along `dim` (moved last and made contiguous when needed).
    fn along_dim(
        &self,
        op: &'static str,
        dim: usize,
        f32k: fn(&[f32], &mut [f32]),
        f64k: fn(&[f64], &mut [f64]),
    ) -> Result<CpuStorage> {
        self.check_float(op)?;
        let last = self.rank() - 1;
        let x = if dim == last {
            self.detach()
        } else {
            self.detach().transpose(dim, last)?
        };
        let row = x.dims()[last];
        let out = x.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => CpuStorage::F32(rows_of(to_contiguous(v, l), row, f32k)),
            CpuStorage::F64(v) => CpuStorage::F64(rows_of(to_contiguous(v, l), row, f64k)),
            _ => unreachable!("checked float"),
        });
        if dim == last {
            return Ok(out);
        }
        // Back to the original dim order.
        let moved = Tensor::from_storage(out, x.shape().clone());
        Ok(moved.transpose(dim, last)?.contiguous_storage())
    }

    /// `exp(x) / sum(exp(x))` along `dim` (`torch.softmax`), computed stably.
    ///
    /// NOTE: each row's maximum is subtracted before `exp`, so large inputs cannot overflow; a
    /// row that is all `-inf` gives NaN, as in PyTorch. Gradient: `y * (g - sum(g * y))` along
    /// `dim`, with `y` the output.
    ///
    /// # Shapes
    /// Any shape with at least one dim; the output has the input's shape and each slice along
    /// `dim` sums to 1.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64, or `dim` is out of range (0-d tensors included).
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let p = Tensor::new(&[[0.0f64, 0.0], [1000.0, 1000.0]])?.softmax(-1)?;
    /// assert_eq!(p.to_vec::<f64>()?, vec![0.5, 0.5, 0.5, 0.5]);
    /// let q = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]])?.softmax(0)?;
    /// let s = q.sum(&[0], false)?.to_vec::<f32>()?;
    /// assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-6));
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn softmax<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.resolve("softmax", self.shape())?;
        let storage = self.along_dim("softmax", d, softmax_row, softmax_row)?;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            &[self],
            || Op::Softmax {
                x: self.clone(),
                dim: d,
            },
        ))
    }

    /// `x - logsumexp(x)` along `dim` (`torch.log_softmax`), fused and stable for large `|x|`.
    ///
    /// Prefer it to `softmax(..).log()`, which underflows to `-inf` for very negative scores.
    /// Gradient: `g - softmax(x) * sum(g)` along `dim`.
    ///
    /// # Shapes
    /// As [`Tensor::softmax`]: same shape as the input.
    ///
    /// # Errors
    /// If the tensor is not f32 or f64, or `dim` is out of range.
    ///
    /// ```
    /// use sinapsis_core::{Tensor, DType};
    /// let y = Tensor::new(&[[0.0f64, 0.0], [0.0, -1000.0]])?.log_softmax(1)?.to_vec::<f64>()?;
    /// let ln2 = std::f64::consts::LN_2;
    /// assert!((y[0] + ln2).abs() < 1e-12 && (y[1] + ln2).abs() < 1e-12);
    /// assert_eq!(y[3], -1000.0); // softmax(..).log() would give -inf here
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn log_softmax<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.resolve("log_softmax", self.shape())?;
        let storage = self.along_dim("log_softmax", d, log_softmax_row, log_softmax_row)?;
        Ok(Tensor::from_op(
            storage,
            self.shape().clone(),
            &[self],
            || Op::LogSoftmax {
                x: self.clone(),
                dim: d,
            },
        ))
    }

    /// Binary cross entropy of probabilities `self` against `target`, per element and
    /// unreduced (`F.binary_cross_entropy(p, y, reduction="none")`):
    /// `-(y ln p + (1 - y) ln(1 - p))` with each log clamped at -100 as in PyTorch, so `p` = 0
    /// or 1 gives a finite loss. One fused op; its gradients are PyTorch's,
    /// `(p - y) / max(p (1 - p), 1e-12)` for `p` and `-logit(p)` for `y`.
    ///
    /// # Shapes
    /// `self` and `target` of one shape (no broadcasting, as for PyTorch's losses); the
    /// result has that shape.
    ///
    /// # Errors
    /// If the shapes or dtypes differ, the dtype is not float, or `self` holds a value outside
    /// `[0, 1]` (logits belong in a `*_with_logits` loss).
    ///
    /// ```
    /// use sinapsis_core::Tensor;
    /// let p = Tensor::new(&[0.5f64, 1.0])?;
    /// let y = Tensor::new(&[1.0f64, 0.0])?;
    /// let l = p.binary_cross_entropy(&y)?.to_vec::<f64>()?;
    /// assert!((l[0] - 2f64.ln()).abs() < 1e-15);
    /// assert_eq!(l[1], 100.0); // ln(0) clamped at -100
    /// assert!(Tensor::new(&[1.5f64])?.binary_cross_entropy(&Tensor::new(&[1.0f64])?).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn binary_cross_entropy(&self, target: &Tensor) -> Result<Tensor> {
        const OP: &str = "binary_cross_entropy";
        self.check_float(OP)?;
        self.check_same_dtype(OP, target)?;
        if self.shape() != target.shape() {
            return Err(Error::shape(
                OP,
                format!(
                    "input {} and target {}: shapes differ (losses do not broadcast)",
                    self.shape(),
                    target.shape()
                ),
            ));
        }
        let loss = self.binary(target, BinaryOp::BinaryCrossEntropy)?;
        // A probability outside [0, 1] makes a log NaN; only then look for the culprit (a NaN
        // target alone also gives NaN, which is returned as PyTorch does).
        if loss.with_cpu(|s, _| has_nan(s)) {
            if let Some(bad) = self
                .to_f64_vec()?
                .into_iter()
                .find(|p| !(0.0..=1.0).contains(p))
            {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "input holds {bad}, but must hold probabilities in [0, 1] (for logits \
                         use binary_cross_entropy_with_logits)"
                    ),
                ));
            }
        }
        Ok(loss)
    }
}

fn has_nan(s: &CpuStorage) -> bool {
    match s {
        CpuStorage::F32(v) => v.iter().any(|x| x.is_nan()),
        CpuStorage::F64(v) => v.iter().any(|x| x.is_nan()),
        _ => false,
    }
}
