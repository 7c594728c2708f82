//! Kernels over the rows of a row-major `(batch, features)` matrix, for linear layers: the
//! epilogue after the product (bias, then ReLU, in one pass) and the backward's column sums
//! (the bias gradient), with ReLU's mask fused into the same pass.
//!
//! NOTE: on W3's 60000 x 100 hidden layer every separate pass over the matrix costs
//! 1-3 ms (24 MB each way at this machine's memory bandwidth), as much as 5% of the epoch;
//! fusing the bias, the ReLU and the bias gradient saves three of them.
//!
//! The reference twins are the unfused tensor ops (`add`, `relu`, `sum`), which the tests
//! compare these against.

use super::pool::{take_dirty, take_zeroed};
use super::reduce::Summable;
use super::PAR_THRESHOLD;
use crate::FloatElem;
use rayon::prelude::*;

/// Elements per block of rows in the column sums. Fixed rather than one block per thread:
/// each block's partial sums are added in block order, so the result has the same bits on
/// any number of threads.
const SUM_BLOCK: usize = 1 << 15;

/// Rows per block: whole rows of about `SUM_BLOCK` elements.
fn block_rows(cols: usize) -> usize {
    (SUM_BLOCK / cols.max(1)).max(1)
}

/// `y[i][j] = y[i][j] + bias[j]` over every row of `cols` elements, then `max(y, 0)` with
/// `relu` (NaN stays NaN, as `Tensor::relu`), in one pass; split across threads when large.
pub(crate) fn bias_relu<T: FloatElem>(y: &mut [T], cols: usize, bias: Option<&[T]>, relu: bool) {
    if cols == 0 || (bias.is_none() && !relu) {
        return;
    }
    let zero = T::zero();
    let block = |chunk: &mut [T]| match (bias, relu) {
        // One output (a binary classifier's logit): one run, not rows of one element.
        (Some(&[b]), false) => chunk.iter_mut().for_each(|v| *v += b),
        (Some(bias), _) => {
            for row in chunk.chunks_exact_mut(cols) {
                for (v, &b) in row.iter_mut().zip(bias) {
                    let s = *v + b;
                    *v = if relu && s <= zero { zero } else { s };
                }
            }
        }
        (None, _) => chunk
            .iter_mut()
            .for_each(|v| *v = if *v <= zero { zero } else { *v }),
    };
    if y.len() >= PAR_THRESHOLD {
        y.par_chunks_mut(block_rows(cols) * cols).for_each(block);
    } else {
        block(y);
    }
}

/// Adds each row of `x` (rows of `acc.len()` elements) into `acc`.
pub(crate) fn add_rows_into<T: Summable>(acc: &mut [T], x: &[T]) {
    for row in x.chunks_exact(acc.len()) {
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += v;
        }
    }
}

/// Sums the per-block partials (`blocks x cols`, in block order) into one row.
pub(crate) fn sum_partials<T: Summable>(partials: &[T], cols: usize) -> Vec<T> {
    let mut out = take_zeroed(cols, T::zero());
    add_rows_into(&mut out, partials);
    out
}

/// The sum of the rows of `x` (rows of `cols` elements): `x.sum(0)` for a contiguous
/// `(rows, cols)` matrix, the bias gradient of a linear layer.
pub(crate) fn column_sums<T: Summable>(x: &[T], cols: usize) -> Vec<T> {
    if cols == 0 {
        return Vec::new();
    }
    let chunk = block_rows(cols) * cols;
    let mut partials = take_zeroed(x.len().div_ceil(chunk) * cols, T::zero());
    let block = |(acc, x): (&mut [T], &[T])| add_rows_into(acc, x);
    if x.len() >= PAR_THRESHOLD {
        partials
            .par_chunks_mut(cols)
            .zip(x.par_chunks(chunk))
            .for_each(block);
    } else {
        partials
            .chunks_mut(cols)
            .zip(x.chunks(chunk))
            .for_each(block);
    }
    sum_partials(&partials, cols)
}

/// ReLU's backward from its output: `g` where `y > 0`, else 0 (PyTorch's
/// `threshold_backward(g, y, 0)`), and, with `sums`, the column sums of that masked
/// gradient (the bias gradient of the linear layer before the ReLU), in one pass.
pub(crate) fn relu_mask<T: FloatElem>(
    g: &[T],
    y: &[T],
    cols: usize,
    sums: bool,
) -> (Vec<T>, Option<Vec<T>>) {
    debug_assert_eq!(g.len(), y.len(), "relu_mask: gradient and output sizes");
    let zero = T::zero();
    let mut out = take_dirty(g.len(), zero);
    if cols == 0 || g.is_empty() {
        return (out, sums.then(|| take_zeroed(cols, zero)));
    }
    let chunk = block_rows(cols) * cols;
    let blocks = g.len().div_ceil(chunk);
    let mut partials = take_zeroed(if sums { blocks * cols } else { 0 }, zero);
    // One pass per block: each row is masked and added to the block's accumulator while
    // it is in registers. Without sums, the accumulator is empty.
    let block = |acc: &mut [T], o: &mut [T], g: &[T], y: &[T]| {
        let rows = o
            .chunks_exact_mut(cols)
            .zip(g.chunks_exact(cols))
            .zip(y.chunks_exact(cols));
        for ((o, g), y) in rows {
            if acc.is_empty() {
                for ((o, &g), &y) in o.iter_mut().zip(g).zip(y) {
                    *o = if y > zero { g } else { zero };
                }
            } else {
                for (((o, &g), &y), a) in o.iter_mut().zip(g).zip(y).zip(acc.iter_mut()) {
                    let v = if y > zero { g } else { zero };
                    *o = v;
                    *a += v;
                }
            }
        }
    };
    let acc_len = if sums { cols } else { 0 };
    if g.len() >= PAR_THRESHOLD && sums {
        partials
            .par_chunks_mut(cols)
            .zip(out.par_chunks_mut(chunk))
            .zip(g.par_chunks(chunk).zip(y.par_chunks(chunk)))
            .for_each(|((acc, o), (g, y))| block(acc, o, g, y));
    } else if g.len() >= PAR_THRESHOLD {
        out.par_chunks_mut(chunk)
            .zip(g.par_chunks(chunk).zip(y.par_chunks(chunk)))
            .for_each(|(o, (g, y))| block(&mut [], o, g, y));
    } else {
        let blocks = out
            .chunks_mut(chunk)
            .zip(g.chunks(chunk).zip(y.chunks(chunk)));
        for (b, (o, (g, y))) in blocks.enumerate() {
            block(&mut partials[b * acc_len..(b + 1) * acc_len], o, g, y);
        }
    }
    let sums = sums.then(|| sum_partials(&partials, cols));
    (out, sums)
}
