//! Walking strided layouts. Dims are coalesced first (adjacent dims that are contiguous with
//! each other in every operand merge into one), so most walks become a few long runs that the
//! inner loops can vectorise.

use super::pool::take_empty;
use super::PAR_THRESHOLD;
use crate::layout::Layout;
use crate::shape::DimVec;
use rayon::prelude::*;

/// Calls `f(base_offsets, run_len, run_strides)` for each innermost run of a walk over
/// `shape`, in row-major order, for `K` operands sharing that shape.
pub(crate) fn for_each_run<const K: usize>(
    shape: &[usize],
    strides: [&[usize]; K],
    offsets: [usize; K],
    mut f: impl FnMut([usize; K], usize, [usize; K]),
) {
    if shape.contains(&0) {
        return;
    }
    let mut dims = DimVec::new();
    let mut st: [DimVec; K] = std::array::from_fn(|_| DimVec::new());
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let mergeable =
            !dims.is_empty() && (0..K).all(|k| *st[k].last().unwrap() == strides[k][i] * d);
        if mergeable {
            *dims.last_mut().unwrap() *= d;
            for k in 0..K {
                *st[k].last_mut().unwrap() = strides[k][i];
            }
        } else {
            dims.push(d);
            for k in 0..K {
                st[k].push(strides[k][i]);
            }
        }
    }
    let Some(inner) = dims.pop() else {
        f(offsets, 1, [0; K]);
        return;
    };
    let inner_st: [usize; K] = std::array::from_fn(|k| st[k].pop().unwrap());
    let outer: usize = dims.iter().product();
    let mut idx = DimVec::from_elem(0, dims.len());
    let mut base = offsets;
    for _ in 0..outer {
        f(base, inner, inner_st);
        for d in (0..dims.len()).rev() {
            idx[d] += 1;
            for k in 0..K {
                base[k] += st[k][d];
            }
            if idx[d] < dims[d] {
                break;
            }
            for k in 0..K {
                base[k] -= st[k][d] * dims[d];
            }
            idx[d] = 0;
        }
    }
}

/// Appends `f(x)` for every `x` of `src` to `out`.
///
/// NOTE: why not `out.extend(src.iter().map(f))`: `Vec::extend` bumps the length once per
/// element, and that store keeps the loop scalar (callgrind: ~5.6 instructions per element
/// for `relu`). Writing into the spare capacity and setting the length once lets the
/// compiler vectorise the loop.
#[inline]
fn extend_map<T: Copy, U>(out: &mut Vec<U>, src: &[T], f: impl Fn(T) -> U) {
    out.reserve(src.len());
    let spare = &mut out.spare_capacity_mut()[..src.len()];
    for (d, &x) in spare.iter_mut().zip(src) {
        d.write(f(x));
    }
    // SAFETY: the loop initialised the `src.len()` elements past the old length, and
    // `reserve` made room for them.
    unsafe { out.set_len(out.len() + src.len()) }
}

/// Appends `f(x, y)` for the pairs of `a` and `b` (equal lengths) to `out`; see
/// [`extend_map`] for why.
#[inline]
fn extend_zip<A: Copy, B: Copy, U>(out: &mut Vec<U>, a: &[A], b: &[B], f: impl Fn(A, B) -> U) {
    let len = a.len().min(b.len());
    out.reserve(len);
    let spare = &mut out.spare_capacity_mut()[..len];
    for ((d, &x), &y) in spare.iter_mut().zip(&a[..len]).zip(&b[..len]) {
        d.write(f(x, y));
    }
    // SAFETY: the loop initialised the `len` elements past the old length.
    unsafe { out.set_len(out.len() + len) }
}

/// Appends `f(x, y, z)` for the triples of `a`, `b` and `c` (equal lengths) to `out`.
///
/// NOTE: an indexed loop over slices cut to one length, not a zip of three iterators: the
/// nested zips kept the loop scalar (relu's backward, `x > 0 ? g : 0`, took ~17
/// instructions per element).
#[inline]
fn extend_zip3<A: Copy, B: Copy, C: Copy, U>(
    out: &mut Vec<U>,
    (a, b, c): (&[A], &[B], &[C]),
    f: impl Fn(A, B, C) -> U,
) {
    let len = a.len().min(b.len()).min(c.len());
    out.reserve(len);
    let (a, b, c) = (&a[..len], &b[..len], &c[..len]);
    let spare = &mut out.spare_capacity_mut()[..len];
    for i in 0..len {
        spare[i].write(f(a[i], b[i], c[i]));
    }
    // SAFETY: the loop initialised the `len` elements past the old length.
    unsafe { out.set_len(out.len() + len) }
}

/// Copies the elements of `layout` into a new row-major `Vec`.
pub(crate) fn to_contiguous<T: Copy + Send + Sync + 'static>(
    data: &[T],
    layout: &Layout,
) -> Vec<T> {
    map(data, layout, |x| x)
}

/// Applies `f` to every element of `layout`, producing a row-major `Vec`.
pub(crate) fn map<T, U>(data: &[T], layout: &Layout, f: impl Fn(T) -> U + Sync) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + 'static,
{
    let n = layout.numel();
    // The output comes from the buffer cache; `extend` writes every element.
    let mut out = take_empty(n);
    if let Some(r) = layout.contiguous_range() {
        let src = &data[r];
        if n >= PAR_THRESHOLD {
            out.par_extend(src.par_iter().map(|&x| f(x)));
        } else {
            extend_map(&mut out, src, &f);
        }
        return out;
    }
    for_each_run(
        layout.dims(),
        [layout.strides()],
        [layout.offset()],
        |[o], len, [s]| {
            if s == 1 {
                extend_map(&mut out, &data[o..o + len], &f);
            } else if s == 0 {
                out.extend(std::iter::repeat_n(f(data[o]), len));
            } else {
                out.extend((0..len).map(|i| f(data[o + i * s])));
            }
        },
    );
    out
}

/// Applies `f` elementwise to two operands of the same shape (already broadcast).
pub(crate) fn zip_map<A, B, U>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    f: impl Fn(A, B) -> U + Sync,
) -> Vec<U>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
    U: Send + 'static,
{
    debug_assert_eq!(la.dims(), lb.dims());
    let n = la.numel();
    let mut out = take_empty(n);
    if let (Some(ra), Some(rb)) = (la.contiguous_range(), lb.contiguous_range()) {
        let (a, b) = (&a[ra], &b[rb]);
        if n >= PAR_THRESHOLD {
            out.par_extend(a.par_iter().zip(b.par_iter()).map(|(&x, &y)| f(x, y)));
        } else {
            extend_zip(&mut out, a, b, &f);
        }
        return out;
    }
    for_each_run(
        la.dims(),
        [la.strides(), lb.strides()],
        [la.offset(), lb.offset()],
        |[oa, ob], len, [sa, sb]| match (sa, sb) {
            (1, 1) => extend_zip(&mut out, &a[oa..oa + len], &b[ob..ob + len], &f),
            (1, 0) => {
                let y = b[ob];
                extend_map(&mut out, &a[oa..oa + len], |x| f(x, y));
            }
            (0, 1) => {
                let x = a[oa];
                extend_map(&mut out, &b[ob..ob + len], |y| f(x, y));
            }
            _ => out.extend((0..len).map(|i| f(a[oa + i * sa], b[ob + i * sb]))),
        },
    );
    out
}

/// Applies `f` elementwise to three operands of the same shape.
pub(crate) fn zip3_map<A, B, C, U>(
    (a, la): (&[A], &Layout),
    (b, lb): (&[B], &Layout),
    (c, lc): (&[C], &Layout),
    f: impl Fn(A, B, C) -> U + Sync,
) -> Vec<U>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
    C: Copy + Send + Sync,
    U: Send + 'static,
{
    let n = la.numel();
    let mut out = take_empty(n);
    if let (Some(ra), Some(rb), Some(rc)) = (
        la.contiguous_range(),
        lb.contiguous_range(),
        lc.contiguous_range(),
    ) {
        let (a, b, c) = (&a[ra], &b[rb], &c[rc]);
        if n >= PAR_THRESHOLD {
            out.par_extend((a, b, c).into_par_iter().map(|(&x, &y, &z)| f(x, y, z)));
        } else {
            extend_zip3(&mut out, (a, b, c), &f);
        }
        return out;
    }
    for_each_run(
        la.dims(),
        [la.strides(), lb.strides(), lc.strides()],
        [la.offset(), lb.offset(), lc.offset()],
        // Unit-stride runs, with at most one operand broadcast along the run (an upstream
        // gradient expanded from a mean, say), take the vectorisable loops.
        |[oa, ob, oc], len, [sa, sb, sc]| match (sa, sb, sc) {
            (1, 1, 1) => extend_zip3(
                &mut out,
                (&a[oa..oa + len], &b[ob..ob + len], &c[oc..oc + len]),
                &f,
            ),
            (1, 1, 0) => {
                let z = c[oc];
                extend_zip(&mut out, &a[oa..oa + len], &b[ob..ob + len], |x, y| {
                    f(x, y, z)
                });
            }
            (1, 0, 1) => {
                let y = b[ob];
                extend_zip(&mut out, &a[oa..oa + len], &c[oc..oc + len], |x, z| {
                    f(x, y, z)
                });
            }
            (0, 1, 1) => {
                let x = a[oa];
                extend_zip(&mut out, &b[ob..ob + len], &c[oc..oc + len], |y, z| {
                    f(x, y, z)
                });
            }
            _ => out.extend((0..len).map(|i| f(a[oa + i * sa], b[ob + i * sb], c[oc + i * sc]))),
        },
    );
    out
}
