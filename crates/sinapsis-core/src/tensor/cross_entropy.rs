//! Cross entropy of logits against class indices as one op: each row's log-sum-exp and
//! picked logit in one pass, and a backward that writes `g (softmax - onehot)` in one pass.
//!
//! NOTE: as `log_softmax` then `gather`, the loss took five passes over the logits and
//! their gradient (log_softmax, gather's scatter into zeros, the row sums, exp, the
//! subtraction) with a libm `exp` per element: 3.7 ms of W3's epoch (60000 x 10 logits).
//! f32 rows use `cpu::fast_exp`, whose loops vectorise.

use super::nn::shift;
use super::Tensor;
use crate::autograd::Op;
use crate::cpu::fast_exp::{exp_in_place_f32, exp_in_place_f64};
use crate::cpu::pool::{recycle, take_dirty};
use crate::cpu::PAR_THRESHOLD;
use crate::storage::CpuStorage;
use crate::{DType, Error, FloatElem, Result};
use rayon::prelude::*;

/// Rows per parallel block.
const BLOCK_ROWS: usize = 1024;

/// Per-row losses and log-sum-exps of the row-major `(rows, classes)` logits `x`.
///
/// Block by block: each row shifted by its maximum into a scratch block, one `exp` pass
/// over the whole block (long runs vectorise; rows of 10 would not), then the row sums.
fn forward<T: FloatElem>(
    x: &[T],
    classes: usize,
    target: &[usize],
    exp_in_place: fn(&mut [T]),
) -> (Vec<T>, Vec<T>) {
    let rows = target.len();
    let (mut loss, mut lse) = (take_dirty(rows, T::zero()), take_dirty(rows, T::zero()));
    let block = |loss: &mut [T], lse: &mut [T], x: &[T], t: &[usize]| {
        let mut shifted = take_dirty(x.len(), T::zero());
        for ((s, row), m) in shifted
            .chunks_exact_mut(classes)
            .zip(x.chunks_exact(classes))
            .zip(lse.iter_mut())
        {
            *m = shift(row);
            for (s, &v) in s.iter_mut().zip(row) {
                *s = v - *m;
            }
        }
        exp_in_place(&mut shifted);
        let rows = shifted
            .chunks_exact(classes)
            .zip(x.chunks_exact(classes))
            .zip(t);
        for ((l, m), ((e, row), &t)) in loss.iter_mut().zip(lse.iter_mut()).zip(rows) {
            let sum = e.iter().fold(T::zero(), |a, &b| a + b);
            *m += sum.ln();
            *l = *m - row[t];
        }
        recycle(shifted);
    };
    let chunk = BLOCK_ROWS * classes;
    if x.len() >= PAR_THRESHOLD {
        loss.par_chunks_mut(BLOCK_ROWS)
            .zip(lse.par_chunks_mut(BLOCK_ROWS))
            .zip(x.par_chunks(chunk).zip(target.par_chunks(BLOCK_ROWS)))
            .for_each(|((loss, lse), (x, t))| block(loss, lse, x, t));
    } else {
        block(&mut loss, &mut lse, x, target);
    }
    (loss, lse)
}

/// `g[n] (exp(x[n, c] - lse[n]) - [c == t[n]])` for every row: the shift, one `exp` pass
/// per block, then the scaling.
fn backward<T: FloatElem>(
    x: &[T],
    classes: usize,
    (target, lse, g): (&[usize], &[T], &[T]),
    exp_in_place: fn(&mut [T]),
) -> Vec<T> {
    let mut out = take_dirty(x.len(), T::zero());
    let block = |out: &mut [T], x: &[T], t: &[usize], lse: &[T], g: &[T]| {
        for ((o, row), &lse) in out
            .chunks_exact_mut(classes)
            .zip(x.chunks_exact(classes))
            .zip(lse)
        {
            for (o, &v) in o.iter_mut().zip(row) {
                *o = v - lse;
            }
        }
        exp_in_place(out);
        for ((o, &t), &g) in out.chunks_exact_mut(classes).zip(t).zip(g) {
            o.iter_mut().for_each(|o| *o = *o * g);
            o[t] = o[t] - g;
        }
    };
    let chunk = BLOCK_ROWS * classes;
    if x.len() >= PAR_THRESHOLD {
        out.par_chunks_mut(chunk)
            .zip(
                x.par_chunks(chunk).zip(
                    target
                        .par_chunks(BLOCK_ROWS)
                        .zip(lse.par_chunks(BLOCK_ROWS).zip(g.par_chunks(BLOCK_ROWS))),
                ),
            )
            .for_each(|(out, (x, (t, (lse, g))))| block(out, x, t, lse, g));
    } else {
        block(&mut out, x, target, lse, g);
    }
    out
}

impl Tensor {
    /// Per-row cross entropy of logits against class indices,
    /// `logsumexp(x[n, :]) - x[n, t[n]]`: `F.cross_entropy(x, t, reduction="none")` for an
    /// `(N, C)` input, in one op. `nn::loss::cross_entropy` calls it when no class weight,
    /// ignored target or label smoothing needs the general path.
    ///
    /// Gradient: `g[n] (softmax(x[n]) - onehot(t[n]))`.
    ///
    /// # Shapes
    /// `self: (N, C)`, `target: (N)`; result `(N)`.
    ///
    /// # Errors
    /// If `self` is not a 2-D float tensor, `target` is not an `(N)` i64 tensor, or a target
    /// is outside `0..C`.
    ///
    /// ```
    /// use sinapsis_core::Tensor;
    /// let x = Tensor::new(&[[0.0f64, 0.0], [2.0, 0.0]])?;
    /// let l = x.cross_entropy_rows(&Tensor::new(&[1i64, 0])?)?.to_vec::<f64>()?;
    /// assert!((l[0] - 2f64.ln()).abs() < 1e-15);
    /// assert!((l[1] - (1.0 + (-2f64).exp()).ln()).abs() < 1e-15);
    /// assert!(x.cross_entropy_rows(&Tensor::new(&[2i64, 0])?).is_err());
    /// # Ok::<(), sinapsis_core::Error>(())
    /// ```
    pub fn cross_entropy_rows(&self, target: &Tensor) -> Result<Tensor> {
        const OP: &str = "cross_entropy_rows";
        self.check_float(OP)?;
        if self.rank() != 2 {
            return Err(Error::shape(
                OP,
                format!("input {} must be (N, C)", self.shape()),
            ));
        }
        let (rows, classes) = (self.dims()[0], self.dims()[1]);
        if target.dtype() != DType::I64 {
            return Err(Error::DType {
                op: OP,
                expected: "i64 class indices",
                got: target.dtype(),
            });
        }
        if target.dims() != [rows] {
            return Err(Error::shape(
                OP,
                format!(
                    "target {} must be ({rows}) for input {}",
                    target.shape(),
                    self.shape()
                ),
            ));
        }
        let t = class_indices(OP, target, classes)?;
        let x = self.contiguous()?;
        let (loss, lse) = x.with_cpu(|s, l| {
            let range = l.contiguous_range().expect("made contiguous above");
            match s {
                CpuStorage::F32(v) => {
                    let (a, b) = forward(&v[range], classes, &t, exp_in_place_f32);
                    (CpuStorage::F32(a), CpuStorage::F32(b))
                }
                CpuStorage::F64(v) => {
                    let (a, b) = forward(&v[range], classes, &t, exp_in_place_f64);
                    (CpuStorage::F64(a), CpuStorage::F64(b))
                }
                _ => unreachable!("checked float"),
            }
        });
        let lse = Tensor::from_storage(lse, [rows].into());
        Ok(Tensor::from_op(loss, [rows].into(), &[self], || {
            Op::CrossEntropyRows {
                x: self.clone(),
                target: t,
                lse,
            }
        }))
    }
}

/// The targets as indices, each checked to lie in `0..classes`.
fn class_indices(op: &'static str, target: &Tensor, classes: usize) -> Result<Vec<usize>> {
    let values = target.to_vec::<i64>()?;
    let mut out = take_dirty(values.len(), 0usize);
    for (i, (o, &t)) in out.iter_mut().zip(&values).enumerate() {
        *o = usize::try_from(t)
            .ok()
            .filter(|&t| t < classes)
            .ok_or_else(|| {
                Error::invalid(
                    op,
                    format!("target {t} (row {i}) is out of range for {classes} classes"),
                )
            })?;
    }
    Ok(out)
}

/// The gradient of [`Tensor::cross_entropy_rows`] for its logits `x`, given the checked
/// class indices, the forward's log-sum-exps and the upstream gradient `g` (one value per
/// row).
pub(crate) fn cross_entropy_rows_backward(
    x: &Tensor,
    target: &[usize],
    lse: &Tensor,
    g: &Tensor,
) -> Result<Tensor> {
    let classes = x.dims()[1];
    let (x, g) = (x.contiguous()?, g.contiguous()?);
    let range = |t: &Tensor| {
        t.layout()
            .contiguous_range()
            .expect("made contiguous above")
    };
    let (xr, gr) = (range(&x), range(&g));
    let grad = Tensor::with_cpus(&[&x, lse, &g], |s| match (s[0], s[1], s[2]) {
        (CpuStorage::F32(x), CpuStorage::F32(lse), CpuStorage::F32(g)) => {
            let (x, g) = (&x[xr.clone()], &g[gr.clone()]);
            CpuStorage::F32(backward(x, classes, (target, lse, g), exp_in_place_f32))
        }
        (CpuStorage::F64(x), CpuStorage::F64(lse), CpuStorage::F64(g)) => {
            let (x, g) = (&x[xr.clone()], &g[gr.clone()]);
            CpuStorage::F64(backward(x, classes, (target, lse, g), exp_in_place_f64))
        }
        _ => unreachable!("the loss shares its logits' float dtype"),
    });
    Ok(Tensor::from_storage(grad, x.shape().clone()))
}
