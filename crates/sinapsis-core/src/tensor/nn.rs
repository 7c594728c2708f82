//! Fused neural-network primitives: softmax, log_softmax (stable, one pass over each row)
//! and linear.

use super::Tensor;
use crate::autograd::Op;
use crate::cpu::strided::to_contiguous;
use crate::storage::CpuStorage;
use crate::{Dim, FloatElem, Result};
use rayon::prelude::*;

/// Applies `f(row_in, row_out)` to every row of a contiguous row-major buffer.
fn per_row<T: FloatElem>(x: &[T], row: usize, f: impl Fn(&[T], &mut [T]) + Sync) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
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

fn row_max<T: FloatElem>(x: &[T]) -> T {
    x.iter().fold(T::NEG_INFINITY, |m, &v| m.max(v))
}

/// Shift for a stable exp: the row max, or 0 when the max is infinite (all -inf rows give
/// NaN as in PyTorch rather than a spurious number).
fn shift<T: FloatElem>(x: &[T]) -> T {
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
            CpuStorage::F32(v) => CpuStorage::F32(per_row(&to_contiguous(v, l), row, f32k)),
            CpuStorage::F64(v) => CpuStorage::F64(per_row(&to_contiguous(v, l), row, f64k)),
            _ => unreachable!("checked float"),
        });
        if dim == last {
            return Ok(out);
        }
        // Back to the original dim order.
        let moved = Tensor::from_storage(out, x.shape().clone());
        Ok(moved.transpose(dim, last)?.contiguous_storage())
    }

    /// `exp(x) / sum(exp(x))` along `dim`, computed stably.
    ///
    /// ```
    /// # use sinapsis_core::Tensor;
    /// let p = Tensor::new(&[[0.0f64, 0.0]])?.softmax(-1)?;
    /// assert_eq!(p.to_vec::<f64>()?, vec![0.5, 0.5]);
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

    /// `x - logsumexp(x)` along `dim`, fused and stable for large |x|.
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

    /// `x W^T + b` with `W` of shape `(out, in)`, as `torch.nn.functional.linear`.
    ///
    /// # Shapes
    /// `x: (*, in)`, `weight: (out, in)`, `bias: (out)`; result `(*, out)`.
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let y = self.matmul(&weight.t()?)?;
        match bias {
            Some(b) => y.add(b),
            None => Ok(y),
        }
    }
}
