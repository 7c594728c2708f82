//! Reduction kernels over any set of dims, producing the keepdim layout (row-major over the
//! kept dims). Sums have fast paths for the two layouts that dominate training: reducing the
//! trailing dims of contiguous data (row sums, softmax) and the leading dims (bias gradients
//! summed over the batch).

use super::pool::{take_empty, take_filled, take_zeroed};
use super::strided::for_each_run;
use crate::layout::Layout;
use crate::shape::DimVec;
use crate::Element;
use std::ops::{Add, AddAssign};

/// Elements that can be summed.
pub(crate) trait Summable: Element + Add<Output = Self> + AddAssign {}
impl<T: Element + Add<Output = T> + AddAssign> Summable for T {}

/// Number of elements each output of a reduction over `dims` folds.
pub(crate) fn group_len(layout: &Layout, dims: &[usize]) -> usize {
    dims.iter().map(|&d| layout.dims()[d]).product()
}

/// Calls `f(group, index_in_group, value)` for every element; `group` is the row-major index
/// of the output element, `index_in_group` the row-major index over the reduced dims.
pub(crate) fn for_each_in_groups<T: Copy>(
    data: &[T],
    layout: &Layout,
    dims: &[usize],
    mut f: impl FnMut(usize, usize, T),
) {
    let rank = layout.dims().len();
    let perm: DimVec = (0..rank)
        .filter(|d| !dims.contains(d))
        .chain(dims.iter().copied())
        .collect();
    let pl = layout.permute(&perm);
    let r = group_len(layout, dims);
    if r == 0 {
        return;
    }
    let mut pos = 0usize;
    for_each_run(pl.dims(), [pl.strides()], [pl.offset()], |[o], len, [s]| {
        let mut i = 0;
        while i < len {
            let (g, j0) = (pos / r, pos % r);
            let take = (len - i).min(r - j0);
            for t in 0..take {
                f(g, j0 + t, data[o + (i + t) * s]);
            }
            i += take;
            pos += take;
        }
    });
}

/// Sum of a slice with eight independent accumulators: vectorises, and its rounding error
/// grows far slower than a single running sum's.
pub(crate) fn sum_slice<T: Summable>(x: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for &v in rest {
        s += v;
    }
    s
}

fn is_prefix(dims: &[usize]) -> bool {
    dims.iter().enumerate().all(|(i, &d)| i == d)
}

fn is_suffix(dims: &[usize], rank: usize) -> bool {
    dims.iter()
        .rev()
        .enumerate()
        .all(|(i, &d)| d == rank - 1 - i)
}

/// Sum over `dims` (sorted, distinct).
pub(crate) fn sum<T: Summable>(data: &[T], layout: &Layout, dims: &[usize]) -> Vec<T> {
    let r = group_len(layout, dims);
    let kept = |(i, &d): (usize, &usize)| if dims.contains(&i) { 1 } else { d };
    let out_n: usize = layout.dims().iter().enumerate().map(kept).product();
    if r == 0 || out_n == 0 {
        return take_zeroed(out_n, T::zero());
    }
    if let Some(range) = layout.contiguous_range() {
        let x = &data[range];
        if is_suffix(dims, layout.dims().len()) {
            let mut out = take_empty(out_n);
            out.extend(x.chunks_exact(r).map(sum_slice));
            return out;
        }
        if is_prefix(dims) {
            if out_n == 1 {
                // A column (the bias gradient of a one-output layer): one slice sum, not
                // one-element rows.
                let mut out = take_empty(1);
                out.push(sum_slice(x));
                return out;
            }
            return super::rows::column_sums(x, out_n);
        }
    }
    let mut out = take_zeroed(out_n, T::zero());
    for_each_in_groups(data, layout, dims, |g, _, v| out[g] += v);
    out
}

/// Fold over `dims` with `f`, starting every group from `init`.
pub(crate) fn fold<T: Copy + Send + 'static>(
    data: &[T],
    layout: &Layout,
    dims: &[usize],
    init: T,
    f: impl Fn(T, T) -> T,
) -> Vec<T> {
    let r = group_len(layout, dims);
    let out_n = layout.numel().checked_div(r).unwrap_or(0);
    let mut out = take_filled(out_n, init);
    for_each_in_groups(data, layout, dims, |g, _, v| out[g] = f(out[g], v));
    out
}

/// Index of the first maximum (`better = gt`) or minimum (`better = lt`) along one dim.
/// NaN counts as the extreme value, as in PyTorch.
pub(crate) fn arg_extreme<T: Copy + PartialOrd>(
    data: &[T],
    layout: &Layout,
    dim: usize,
    better: impl Fn(T, T) -> bool,
) -> Vec<i64> {
    let r = layout.dims()[dim];
    let out_n = layout.numel().checked_div(r).unwrap_or(0);
    let mut best: Vec<Option<T>> = vec![None; out_n];
    let mut idx = vec![0i64; out_n];
    #[allow(clippy::eq_op)]
    let is_nan = |v: T| v != v;
    for_each_in_groups(data, layout, &[dim], |g, j, v| match best[g] {
        None => {
            best[g] = Some(v);
            idx[g] = j as i64;
        }
        Some(b) if !is_nan(b) && (is_nan(v) || better(v, b)) => {
            best[g] = Some(v);
            idx[g] = j as i64;
        }
        _ => {}
    });
    idx
}
