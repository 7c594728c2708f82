//! Convolution and pooling kernels on contiguous NCHW buffers.
//!
//! Convolution lowers to GEMM through im2col: for one sample, every receptive field becomes a
//! column of a `(C * kH * kW) x (oH * oW)` matrix, so the convolution of a group is one product
//! `W_g (C_out/g x C_in/g*kH*kW) @ cols_g`. The channel-major row order makes the rows of a
//! group a contiguous block of `cols`, so groups need no copy. The backward pass reuses the
//! same pieces: `dX = col2im(W^T @ dY)` and `dW = sum over samples of dY @ cols^T`.
//!
//! Work is split over the batch (one gemm per sample and group, each single-threaded) when
//! there is enough of it; a single large sample instead lets gemm split its own product.
//! A 1x1 convolution with stride 1 and no padding skips im2col: the input already is `cols`.
//!
//! The plain loops in [`super::reference`] (`conv2d`, `conv2d_backward`, `max_pool2d`,
//! `avg_pool2d`, `adaptive_avg_pool2d`) are the oracles the tests compare these against.

use super::matmul::{GemmElem, PAR_MIN_WORK};
use super::PAR_THRESHOLD;
use crate::FloatElem;
use gemm::Parallelism;
use rayon::prelude::*;

/// Everything a 2-D convolution needs to know about sizes, resolved and validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvGeom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub oh: usize,
    pub ow: usize,
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
}

impl ConvGeom {
    /// Output positions per channel (`oH * oW`).
    fn l(&self) -> usize {
        self.oh * self.ow
    }
    /// Input channels per group.
    fn cg(&self) -> usize {
        self.c / self.groups
    }
    /// Output channels per group.
    fn og(&self) -> usize {
        self.o / self.groups
    }
    /// Rows of one group's block of `cols` (= columns of its weight matrix).
    fn kg(&self) -> usize {
        self.cg() * self.kh * self.kw
    }
    /// Elements of one input sample.
    fn x_len(&self) -> usize {
        self.c * self.h * self.w
    }
    /// Elements of one output sample.
    fn y_len(&self) -> usize {
        self.o * self.l()
    }
    /// A 1x1 kernel with stride 1 and no padding: the input sample is its own `cols`.
    fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == (1, 1) && self.padding == (0, 0)
    }
    /// Multiply-adds of the forward pass for one sample.
    fn sample_work(&self) -> usize {
        self.o * self.kg() * self.l()
    }
}

/// A read-only strided matrix operand: element `(i, j)` is `data[off + i * rs + j * cs]`.
#[derive(Clone, Copy)]
struct Mat<'a, T> {
    data: &'a [T],
    off: usize,
    rs: usize,
    cs: usize,
}

/// Panics (an internal bug, never user input) if a `rows x cols` view of `m` leaves its buffer.
fn check_bounds<T>(what: &str, m: &Mat<'_, T>, rows: usize, cols: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    let last = m.off + (rows - 1) * m.rs + (cols - 1) * m.cs;
    assert!(
        last < m.data.len(),
        "conv gemm {what}: {rows}x{cols} view reaches index {last} of a buffer of {}",
        m.data.len()
    );
}

/// `dst (m x n, row-major) = lhs @ rhs`, or `dst += lhs @ rhs` with `accumulate`.
fn gemm_to<T: GemmElem>(
    (m, k, n): (usize, usize, usize),
    dst: &mut [T],
    accumulate: bool,
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
    par: Parallelism,
) {
    assert_eq!(dst.len(), m * n, "conv gemm: destination size");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(T::zero());
        }
        return;
    }
    check_bounds("lhs", &lhs, m, k);
    check_bounds("rhs", &rhs, k, n);
    // SAFETY: `check_bounds` proved that every element gemm reads, `off + i*rs + j*cs` for
    // `i < rows`, `j < cols`, lies inside the operand's slice, and `dst` holds exactly
    // `m * n` elements addressed as `i * n + j` (row stride n, column stride 1). gemm writes
    // only those. With `read_dst` it computes `dst = 1 * dst + 1 * lhs @ rhs`; without it the
    // old content is never read and `dst = lhs @ rhs`. The operands are shared borrows and
    // `dst` an exclusive one, so nothing aliases the destination.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr().add(lhs.off),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr().add(rhs.off),
            rhs.cs as isize,
            rhs.rs as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            par,
        );
    }
}

/// The output positions `lo..hi` (of `out`) whose input coordinate `o * stride + off` falls
/// inside `0..size`.
fn valid_range(size: usize, out: usize, stride: usize, off: isize) -> (usize, usize) {
    let lo = if off >= 0 {
        0
    } else {
        ((-off) as usize).div_ceil(stride)
    };
    let room = size as isize - off;
    let hi = if room <= 0 {
        0
    } else {
        (room as usize).div_ceil(stride).min(out)
    };
    (lo.min(hi), hi)
}

/// Calls `f(row, oy, lo, hi, iy, ix0)` for every row `(c, i, j)` of `cols` and output row `oy`
/// whose input row `iy` exists; columns `lo..hi` of that output row read input columns
/// `ix0, ix0 + sW, ...`; everything else of the row is padding.
fn for_each_window_row(
    g: &ConvGeom,
    channels: usize,
    mut f: impl FnMut(usize, usize, usize, usize, usize, usize),
) {
    let (sh, sw) = g.stride;
    let (ph, pw) = g.padding;
    let (dh, dw) = g.dilation;
    for c in 0..channels {
        for i in 0..g.kh {
            let off_y = (i * dh) as isize - ph as isize;
            let (ylo, yhi) = valid_range(g.h, g.oh, sh, off_y);
            for j in 0..g.kw {
                let row = (c * g.kh + i) * g.kw + j;
                let off_x = (j * dw) as isize - pw as isize;
                let (lo, hi) = valid_range(g.w, g.ow, sw, off_x);
                if lo == hi {
                    continue;
                }
                let ix0 = (lo * sw) as isize + off_x;
                for oy in ylo..yhi {
                    let iy = ((oy * sh) as isize + off_y) as usize;
                    f(row, oy, lo, hi, iy, ix0 as usize);
                }
            }
        }
    }
}

/// Writes the `(C * kH * kW) x (oH * oW)` patch matrix of one sample `x` (`C x H x W`) into
/// `cols`; padding reads as zero.
pub(crate) fn im2col<T: FloatElem>(x: &[T], g: &ConvGeom, cols: &mut [T]) {
    let l = g.l();
    debug_assert_eq!(cols.len(), g.c * g.kh * g.kw * l);
    debug_assert_eq!(x.len(), g.x_len());
    // Zero first: only the windows' valid parts are written below.
    cols.fill(T::zero());
    let (hw, sw) = (g.h * g.w, g.stride.1);
    for_each_window_row(g, g.c, |row, oy, lo, hi, iy, ix0| {
        let c = row / (g.kh * g.kw);
        let src = &x[c * hw + iy * g.w..][..g.w];
        let dst = &mut cols[row * l + oy * g.ow..][lo..hi];
        if sw == 1 {
            dst.copy_from_slice(&src[ix0..ix0 + dst.len()]);
        } else {
            for (t, d) in dst.iter_mut().enumerate() {
                *d = src[ix0 + t * sw];
            }
        }
    });
}

/// Adds the patch matrix `cols` back into one sample's gradient `dx` (`C x H x W`): the
/// adjoint of [`im2col`]; overlapping windows accumulate.
pub(crate) fn col2im<T: FloatElem>(cols: &[T], g: &ConvGeom, dx: &mut [T]) {
    let l = g.l();
    let (hw, sw) = (g.h * g.w, g.stride.1);
    for_each_window_row(g, g.c, |row, oy, lo, hi, iy, ix0| {
        let c = row / (g.kh * g.kw);
        let dst = &mut dx[c * hw + iy * g.w..][..g.w];
        let src = &cols[row * l + oy * g.ow..][lo..hi];
        if sw == 1 {
            for (d, &s) in dst[ix0..ix0 + src.len()].iter_mut().zip(src) {
                *d += s;
            }
        } else {
            for (t, &s) in src.iter().enumerate() {
                dst[ix0 + t * sw] += s;
            }
        }
    });
}

/// The batch is cut into at most this many chunks of consecutive samples.
///
/// NOTE: the cut depends on the batch size alone, never on the thread count, and the
/// per-chunk weight gradients are summed in chunk order, so results are bitwise identical
/// whatever the number of threads (an exact resume on another machine stays exact).
const CHUNKS: usize = 16;

/// How to spread `n` samples of `work` multiply-adds each: `(chunk size, chunks, gemm
/// parallelism, run chunks in parallel)`. Each chunk reuses one scratch buffer.
fn plan(n: usize, work: usize) -> (usize, usize, Parallelism, bool) {
    let threads = rayon::current_num_threads();
    let chunk = n.div_ceil(CHUNKS).max(1);
    let chunks = n.div_ceil(chunk);
    let parallel = chunks >= 2 && threads > 1 && work.saturating_mul(n) >= PAR_MIN_WORK;
    // One big sample: let gemm split its own product instead.
    let par = if !parallel && work >= PAR_MIN_WORK && threads > 1 {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    (chunk, chunks, par, parallel)
}

/// Forward convolution: `x` (`N x C x H x W`), `w` (`O x C/groups x kH x kW`), optional
/// `bias` (`O`), all contiguous; returns the contiguous `N x O x oH x oW` output.
pub(crate) fn conv2d<T: GemmElem>(x: &[T], w: &[T], bias: Option<&[T]>, g: &ConvGeom) -> Vec<T> {
    let (l, og, kg, xl, yl) = (g.l(), g.og(), g.kg(), g.x_len(), g.y_len());
    let mut out = vec![T::zero(); g.n * yl];
    if g.n == 0 || yl == 0 {
        return out;
    }
    let (chunk, _, par, parallel) = plan(g.n, g.sample_work());
    let pointwise = g.pointwise();
    let run = |(ci, ys): (usize, &mut [T])| {
        let mut cols = if pointwise {
            Vec::new()
        } else {
            vec![T::zero(); g.c * g.kh * g.kw * l]
        };
        for (s, y) in ys.chunks_mut(yl).enumerate() {
            let xs = &x[(ci * chunk + s) * xl..][..xl];
            let rhs: &[T] = if pointwise {
                xs
            } else {
                im2col(xs, g, &mut cols);
                &cols
            };
            if let Some(b) = bias {
                for (row, &bv) in y.chunks_mut(l).zip(b) {
                    row.fill(bv);
                }
            }
            for grp in 0..g.groups {
                gemm_to(
                    (og, kg, l),
                    &mut y[grp * og * l..][..og * l],
                    bias.is_some(),
                    Mat {
                        data: w,
                        off: grp * og * kg,
                        rs: kg,
                        cs: 1,
                    },
                    Mat {
                        data: rhs,
                        off: grp * kg * l,
                        rs: l,
                        cs: 1,
                    },
                    par,
                );
            }
        }
    };
    if parallel {
        out.par_chunks_mut(chunk * yl).enumerate().for_each(run);
    } else {
        out.chunks_mut(chunk * yl).enumerate().for_each(run);
    }
    out
}

/// Gradients of [`conv2d`] given the upstream gradient `gy` (`N x O x oH x oW`, contiguous):
/// `(dx, dw, dbias)`, each computed only when asked for.
#[allow(clippy::type_complexity)]
pub(crate) fn conv2d_backward<T: GemmElem>(
    x: &[T],
    w: &[T],
    gy: &[T],
    g: &ConvGeom,
    (need_x, need_w, need_b): (bool, bool, bool),
) -> (Option<Vec<T>>, Option<Vec<T>>, Option<Vec<T>>) {
    let (l, og, kg, xl, yl) = (g.l(), g.og(), g.kg(), g.x_len(), g.y_len());
    let gb = need_b.then(|| {
        let mut gb = vec![T::zero(); g.o];
        for ys in gy.chunks_exact(yl.max(1)).take(g.n) {
            for (acc, row) in gb.iter_mut().zip(ys.chunks_exact(l.max(1))) {
                *acc += super::reduce::sum_slice(row);
            }
        }
        gb
    });
    let mut dx = need_x.then(|| vec![T::zero(); g.n * xl]);
    if !(need_x || need_w) || g.n == 0 || yl == 0 {
        return (dx, need_w.then(|| vec![T::zero(); w.len()]), gb);
    }
    let (chunk, chunks, par, parallel) = plan(g.n, g.sample_work());
    let pointwise = g.pointwise();
    let rows = g.c * g.kh * g.kw;
    let parts: Vec<Option<&mut [T]>> = match dx.as_mut() {
        Some(d) if xl > 0 => d.chunks_mut(chunk * xl).map(Some).collect(),
        _ => (0..chunks).map(|_| None).collect(),
    };
    // Each chunk fills its samples' dx and returns its own partial dw.
    let run = |(ci, dxs): (usize, Option<&mut [T]>)| -> Option<Vec<T>> {
        let first = ci * chunk;
        let count = chunk.min(g.n - first);
        let mut cols = if pointwise {
            Vec::new()
        } else {
            vec![T::zero(); rows * l]
        };
        let mut dcols = if pointwise || !need_x {
            Vec::new()
        } else {
            vec![T::zero(); rows * l]
        };
        let mut dw = need_w.then(|| vec![T::zero(); w.len()]);
        let mut dxs = dxs;
        for s in 0..count {
            let gys = &gy[(first + s) * yl..][..yl];
            if let Some(dx_chunk) = dxs.as_deref_mut() {
                let dxs = &mut dx_chunk[s * xl..][..xl];
                // dcols = W_g^T @ dY_g for every group; col2im scatters it back.
                let dst: &mut [T] = if pointwise { dxs } else { &mut dcols };
                for grp in 0..g.groups {
                    gemm_to(
                        (kg, og, l),
                        &mut dst[grp * kg * l..][..kg * l],
                        false,
                        Mat {
                            data: w,
                            off: grp * og * kg,
                            rs: 1,
                            cs: kg,
                        },
                        Mat {
                            data: gys,
                            off: grp * og * l,
                            rs: l,
                            cs: 1,
                        },
                        par,
                    );
                }
                if !pointwise {
                    col2im(&dcols, g, dxs);
                }
            }
            if let Some(dw) = dw.as_mut() {
                let xs = &x[(first + s) * xl..][..xl];
                let rhs: &[T] = if pointwise {
                    xs
                } else {
                    im2col(xs, g, &mut cols);
                    &cols
                };
                // dW_g += dY_g @ cols_g^T
                for grp in 0..g.groups {
                    gemm_to(
                        (og, l, kg),
                        &mut dw[grp * og * kg..][..og * kg],
                        true,
                        Mat {
                            data: gys,
                            off: grp * og * l,
                            rs: l,
                            cs: 1,
                        },
                        Mat {
                            data: rhs,
                            off: grp * kg * l,
                            rs: 1,
                            cs: l,
                        },
                        par,
                    );
                }
            }
        }
        dw
    };
    let partials: Vec<Option<Vec<T>>> = if parallel {
        parts.into_par_iter().enumerate().map(run).collect()
    } else {
        parts.into_iter().enumerate().map(run).collect()
    };
    let dw = need_w.then(|| {
        let mut it = partials.into_iter().flatten();
        let mut acc = it.next().unwrap_or_else(|| vec![T::zero(); w.len()]);
        for p in it {
            for (a, v) in acc.iter_mut().zip(p) {
                *a += v;
            }
        }
        acc
    });
    (dx, dw, gb)
}

// ---- pooling ------------------------------------------------------------------------------

/// One pooling window along an axis: input positions `start..end` (already clipped to the
/// input) and the count it divides by when averaging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: usize,
    pub end: usize,
    pub divisor: usize,
}

/// The windows of a sliding pool along one axis of `size` (PyTorch's formula with
/// `ceil_mode = False`): the divisor counts padded positions (`count_include_pad = True`).
pub(crate) fn sliding_windows(
    size: usize,
    out: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
) -> Vec<Window> {
    (0..out)
        .map(|o| {
            let start = (o * stride) as isize - pad as isize;
            let end = (start + kernel as isize).min((size + pad) as isize);
            let divisor = (end - start) as usize;
            Window {
                start: start.max(0) as usize,
                end: end.clamp(0, size as isize) as usize,
                divisor,
            }
        })
        .collect()
}

/// The windows of an adaptive pool: `floor(o * size / out) .. ceil((o + 1) * size / out)`.
pub(crate) fn adaptive_windows(size: usize, out: usize) -> Vec<Window> {
    (0..out)
        .map(|o| {
            let start = o * size / out;
            let end = ((o + 1) * size).div_ceil(out);
            Window {
                start,
                end,
                divisor: end - start,
            }
        })
        .collect()
}

/// Runs `f(plane_in, plane_out)` over matching planes, in parallel when the input is large.
fn per_plane<A: Sync, B: Send>(
    x: &[A],
    in_len: usize,
    out: &mut [B],
    out_len: usize,
    f: impl Fn(&[A], &mut [B]) + Sync,
) {
    if in_len == 0 || out_len == 0 {
        return;
    }
    if x.len() >= PAR_THRESHOLD {
        out.par_chunks_mut(out_len)
            .zip(x.par_chunks(in_len))
            .for_each(|(o, i)| f(i, o));
    } else {
        for (o, i) in out.chunks_mut(out_len).zip(x.chunks(in_len)) {
            f(i, o);
        }
    }
}

/// Max pooling over `planes` contiguous `h x w` planes. Returns the maxima and, for each, the
/// flat index `y * w + x` of the chosen input in its plane (PyTorch's `return_indices`).
/// NaN wins, as in PyTorch; ties keep the first position in row-major order.
pub(crate) fn max_pool2d<T: FloatElem>(
    x: &[T],
    (h, w): (usize, usize),
    hwin: &[Window],
    wwin: &[Window],
) -> (Vec<T>, Vec<i64>) {
    let (oh, ow) = (hwin.len(), wwin.len());
    let planes = x.len().checked_div(h * w).unwrap_or(0);
    let mut out: Vec<(T, i64)> = vec![(T::zero(), 0); planes * oh * ow];
    per_plane(x, h * w, &mut out, oh * ow, |xp, op| {
        for (oy, hy) in hwin.iter().enumerate() {
            for (ox, wx) in wwin.iter().enumerate() {
                let mut best = (T::NEG_INFINITY, (hy.start * w + wx.start) as i64);
                'win: for iy in hy.start..hy.end {
                    for ix in wx.start..wx.end {
                        let v = xp[iy * w + ix];
                        if v > best.0 || v.is_nan() {
                            best = (v, (iy * w + ix) as i64);
                            if v.is_nan() {
                                break 'win;
                            }
                        }
                    }
                }
                op[oy * ow + ox] = best;
            }
        }
    });
    out.into_iter().unzip()
}

/// Gradient of [`max_pool2d`]: `g` flows to the recorded argmax of each window; windows that
/// share a maximum accumulate.
pub(crate) fn max_pool2d_backward<T: FloatElem>(
    g: &[T],
    idx: &[i64],
    (h, w): (usize, usize),
    out_len: usize,
) -> Vec<T> {
    let planes = g.len().checked_div(out_len).unwrap_or(0);
    let mut dx = vec![T::zero(); planes * h * w];
    let pairs: Vec<(T, i64)> = g.iter().copied().zip(idx.iter().copied()).collect();
    per_plane(&pairs, out_len, &mut dx, h * w, |gp, dp| {
        for &(v, i) in gp {
            dp[i as usize] += v;
        }
    });
    dx
}

/// Average pooling over contiguous `h x w` planes with the given windows.
pub(crate) fn avg_pool2d<T: FloatElem>(
    x: &[T],
    (h, w): (usize, usize),
    hwin: &[Window],
    wwin: &[Window],
) -> Vec<T> {
    let (oh, ow) = (hwin.len(), wwin.len());
    let planes = x.len().checked_div(h * w).unwrap_or(0);
    let mut out = vec![T::zero(); planes * oh * ow];
    per_plane(x, h * w, &mut out, oh * ow, |xp, op| {
        for (oy, hy) in hwin.iter().enumerate() {
            for (ox, wx) in wwin.iter().enumerate() {
                let mut s = T::zero();
                for iy in hy.start..hy.end {
                    for &v in &xp[iy * w + wx.start..iy * w + wx.end] {
                        s += v;
                    }
                }
                op[oy * ow + ox] = s / T::from_f64((hy.divisor * wx.divisor) as f64);
            }
        }
    });
    out
}

/// Gradient of [`avg_pool2d`]: each output's gradient, divided by its divisor, is added to
/// every input of its window.
pub(crate) fn avg_pool2d_backward<T: FloatElem>(
    g: &[T],
    (h, w): (usize, usize),
    hwin: &[Window],
    wwin: &[Window],
) -> Vec<T> {
    let (oh, ow) = (hwin.len(), wwin.len());
    let planes = g.len().checked_div(oh * ow).unwrap_or(0);
    let mut dx = vec![T::zero(); planes * h * w];
    per_plane(g, oh * ow, &mut dx, h * w, |gp, dp| {
        for (oy, hy) in hwin.iter().enumerate() {
            for (ox, wx) in wwin.iter().enumerate() {
                let v = gp[oy * ow + ox] / T::from_f64((hy.divisor * wx.divisor) as f64);
                for iy in hy.start..hy.end {
                    for d in &mut dp[iy * w + wx.start..iy * w + wx.end] {
                        *d += v;
                    }
                }
            }
        }
    });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_range_matches_brute_force() {
        for size in 0..6usize {
            for out in 0..6usize {
                for stride in 1..4usize {
                    for off in -5isize..5 {
                        let ok: Vec<usize> = (0..out)
                            .filter(|&o| {
                                let i = (o * stride) as isize + off;
                                i >= 0 && i < size as isize
                            })
                            .collect();
                        let (lo, hi) = valid_range(size, out, stride, off);
                        assert_eq!(
                            (lo..hi).collect::<Vec<_>>(),
                            ok,
                            "{size} {out} {stride} {off}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for any x, c.
        let g = ConvGeom {
            n: 1,
            c: 2,
            h: 5,
            w: 7,
            o: 1,
            kh: 3,
            kw: 2,
            oh: 3,
            ow: 4,
            stride: (2, 2),
            padding: (1, 1),
            dilation: (1, 2),
            groups: 1,
        };
        let x: Vec<f64> = (0..g.x_len()).map(|i| (i as f64 * 0.37).sin()).collect();
        let rows = g.c * g.kh * g.kw * g.l();
        let c: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.11).cos()).collect();
        let mut cols = vec![0.0; rows];
        im2col(&x, &g, &mut cols);
        let mut dx = vec![0.0; g.x_len()];
        col2im(&c, &g, &mut dx);
        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }
}
