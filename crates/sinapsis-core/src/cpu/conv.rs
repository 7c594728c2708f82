//! Convolution and pooling kernels on contiguous NCHW buffers.
//!
//! Convolution lowers to GEMM through im2col: for one sample, every receptive field becomes a
//! column of a `(C * kH * kW) x (oH * oW)` matrix, so the convolution of a group is one product
//! `W_g (C_out/g x C_in/g*kH*kW) @ cols_g`. The channel-major row order makes the rows of a
//! group a contiguous block of `cols`, so groups need no copy. The backward pass reuses the
//! same pieces: `dX = col2im(W^T @ dY)` and `dW = sum over samples of dY @ cols^T`.
//!
//! Work is split over the batch in chunks of consecutive samples, one per rayon task, when
//! there is enough of it; a single large sample instead lets gemm split its own product.
//! Within a chunk, the patch matrices of several samples sit side by side so that one GEMM
//! covers a block of samples (see `BLOCK_COLS`); the products are copied into NCHW after.
//!
//! The plain loops in [`super::reference`] (`conv2d`, `conv2d_backward`, `max_pool2d`,
//! `avg_pool2d`, `adaptive_avg_pool2d`) are the oracles the tests compare these against.

use super::matmul::{GemmElem, PAR_MIN_WORK};
use super::pool::{take_dirty, take_zeroed};
use super::PAR_THRESHOLD;
use crate::FloatElem;
use gemm::Parallelism;
use rayon::prelude::*;
use std::cell::RefCell;

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
/// columns `col0 .. col0 + oH * oW` of `cols`, a matrix with row stride `ld` (several samples
/// side by side share one matrix). Only the windows' valid parts are written: the caller
/// zeroes `cols` first, so padding reads as zero.
pub(crate) fn im2col<T: FloatElem>(x: &[T], g: &ConvGeom, cols: &mut [T], ld: usize, col0: usize) {
    debug_assert_eq!(x.len(), g.x_len());
    let (hw, sw) = (g.h * g.w, g.stride.1);
    for_each_window_row(g, g.c, |row, oy, lo, hi, iy, ix0| {
        let c = row / (g.kh * g.kw);
        let src = &x[c * hw + iy * g.w..][..g.w];
        let dst = &mut cols[row * ld + col0 + oy * g.ow..][lo..hi];
        if sw == 1 {
            dst.copy_from_slice(&src[ix0..ix0 + dst.len()]);
        } else {
            for (t, d) in dst.iter_mut().enumerate() {
                *d = src[ix0 + t * sw];
            }
        }
    });
}

/// Adds the patch matrix of one sample (columns `col0 .. col0 + oH * oW` of `cols`, row
/// stride `ld`) back into its gradient `dx` (`C x H x W`): the adjoint of [`im2col`];
/// overlapping windows accumulate.
pub(crate) fn col2im<T: FloatElem>(cols: &[T], g: &ConvGeom, dx: &mut [T], ld: usize, col0: usize) {
    let (hw, sw) = (g.h * g.w, g.stride.1);
    for_each_window_row(g, g.c, |row, oy, lo, hi, iy, ix0| {
        let c = row / (g.kh * g.kw);
        let dst = &mut dx[c * hw + iy * g.w..][..g.w];
        let src = &cols[row * ld + col0 + oy * g.ow..][lo..hi];
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
/// per-chunk weight and bias gradients are summed in chunk order, so results are bitwise
/// identical whatever the number of threads (an exact resume on another machine stays
/// exact).
const CHUNKS: usize = 16;

/// Columns (output positions of several samples side by side) per GEMM block.
///
/// NOTE: putting the samples of a chunk side by side in one `K x (samples * oH * oW)` patch
/// matrix gives gemm long rows and the weight gradient a long inner dimension, with one
/// call per block instead of one per sample. On the MNIST CNN's second layer
/// (`64 x 288 @ 288 x 196` per sample) 1, 1024, 2048 and 4096 columns measured the same
/// within the (large) noise of the shared 2-core machine; 2048 keeps the patch matrix of
/// a 3x3x32 layer (288 rows) near 2 MiB, inside the L2 + L3 slice a core sees.
const BLOCK_COLS: usize = 2048;

/// How to spread `n` samples of `work` multiply-adds each: `(chunk size, chunks, gemm
/// parallelism, run chunks in parallel)`. Each chunk reuses one set of scratch buffers.
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

/// Samples per GEMM block within a chunk of `chunk` samples.
fn block_samples(g: &ConvGeom, chunk: usize) -> usize {
    let per_block = BLOCK_COLS / g.l().max(1);
    // Two or three samples per block gain little and pay the copies in and out of the
    // block; single samples are multiplied in place (see the `nb == 1` paths).
    if per_block < 4 {
        1
    } else {
        per_block.min(chunk.max(1))
    }
}

/// The rows of `W_g` as a matrix operand (`O/g x kg`), or transposed (`kg x O/g`).
fn weight_mat<'a, T>(w: &'a [T], g: &ConvGeom, grp: usize, transposed: bool) -> Mat<'a, T> {
    let (og, kg) = (g.og(), g.kg());
    let (rs, cs) = if transposed { (1, kg) } else { (kg, 1) };
    Mat {
        data: w,
        off: grp * og * kg,
        rs,
        cs,
    }
}

thread_local! {
    /// Each thread's scratch memory for patch matrices, kept between calls.
    static SCRATCH: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on three scratch buffers of `lens` elements each, with arbitrary content,
/// carved from this thread's reusable scratch memory (a fresh allocation when that memory
/// is already in use further up the stack, as when gemm's own threading runs a second
/// chunk on this thread).
///
/// NOTE: allocating the patch matrices per call cost more than the convolution: buffers
/// over 128 KiB come from mmap, and every page of a fresh mapping faults on first touch
/// (about 14 s of system time in one MNIST CNN epoch, with the allocator's other
/// mappings). The memory kept is the largest ever asked for, a few MiB per thread.
fn with_scratch<T: GemmElem, R>(
    lens: [usize; 3],
    f: impl FnOnce(&mut [T], &mut [T], &mut [T]) -> R,
) -> R {
    let total: usize = lens.iter().sum();
    let words = (total * std::mem::size_of::<T>()).div_ceil(8);
    let run = |mem: &mut Vec<u64>| {
        if mem.len() < words {
            *mem = vec![0u64; words];
        }
        // SAFETY: `mem` holds at least `total * size_of::<T>()` bytes, 8-aligned (`u64`),
        // which satisfies the alignment of T (f32 or f64: `GemmElem` is sealed to those),
        // and any bit pattern is a valid f32/f64. The slice borrows `mem` exclusively for
        // the duration of `f`.
        let all = unsafe { std::slice::from_raw_parts_mut(mem.as_mut_ptr().cast::<T>(), total) };
        let (a, rest) = all.split_at_mut(lens[0]);
        let (b, c) = rest.split_at_mut(lens[1]);
        f(a, b, c)
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut mem) => run(&mut mem),
        Err(_) => run(&mut Vec::new()),
    })
}

/// Forward convolution: `x` (`N x C x H x W`), `w` (`O x C/groups x kH x kW`), optional
/// `bias` (`O`), all contiguous; returns the contiguous `N x O x oH x oW` output.
pub(crate) fn conv2d<T: GemmElem>(x: &[T], w: &[T], bias: Option<&[T]>, g: &ConvGeom) -> Vec<T> {
    let (l, og, kg, xl, yl) = (g.l(), g.og(), g.kg(), g.x_len(), g.y_len());
    let rows = g.c * g.kh * g.kw;
    // Every output element is written below (copied, or set by gemm / bias fill), so a
    // cached buffer's stale content needs no clearing.
    let mut out = take_dirty(g.n * yl, T::zero());
    if g.n == 0 || yl == 0 {
        return out;
    }
    let (chunk, _, par, parallel) = plan(g.n, g.sample_work());
    let bs = block_samples(g, chunk);
    let run = |(ci, ys): (usize, &mut [T])| {
        let count = ys.len() / yl;
        let first = ci * chunk;
        let cap = bs.min(count) * l;
        with_scratch(
            [rows * cap, g.o * cap, 0],
            |cols: &mut [T], prod: &mut [T], _| {
                for b0 in (0..count).step_by(bs) {
                    let nb = bs.min(count - b0);
                    let ld = nb * l;
                    let cols = &mut cols[..rows * ld];
                    cols.fill(T::zero());
                    for s in 0..nb {
                        im2col(&x[(first + b0 + s) * xl..][..xl], g, cols, ld, s * l);
                    }
                    // prod (O x nb*L) = W_g @ cols_g for every group.
                    if nb == 1 {
                        // One sample: its output already is the `O x L` product.
                        let y = &mut ys[b0 * yl..][..yl];
                        if let Some(b) = bias {
                            for (row, &bv) in y.chunks_exact_mut(l).zip(b) {
                                row.fill(bv);
                            }
                        }
                        for grp in 0..g.groups {
                            gemm_to(
                                (og, kg, l),
                                &mut y[grp * og * l..][..og * l],
                                bias.is_some(),
                                weight_mat(w, g, grp, false),
                                Mat {
                                    data: cols,
                                    off: grp * kg * l,
                                    rs: l,
                                    cs: 1,
                                },
                                par,
                            );
                        }
                        continue;
                    }
                    let prod = &mut prod[..g.o * ld];
                    for grp in 0..g.groups {
                        gemm_to(
                            (og, kg, ld),
                            &mut prod[grp * og * ld..][..og * ld],
                            false,
                            weight_mat(w, g, grp, false),
                            Mat {
                                data: cols,
                                off: grp * kg * ld,
                                rs: ld,
                                cs: 1,
                            },
                            par,
                        );
                    }
                    // Into NCHW, adding the bias on the way.
                    for s in 0..nb {
                        let y = &mut ys[(b0 + s) * yl..][..yl];
                        for (o, row) in y.chunks_exact_mut(l).enumerate() {
                            let src = &prod[o * ld + s * l..][..l];
                            match bias {
                                Some(b) => {
                                    let bv = b[o];
                                    for (d, &v) in row.iter_mut().zip(src) {
                                        *d = v + bv;
                                    }
                                }
                                None => row.copy_from_slice(src),
                            }
                        }
                    }
                }
            },
        );
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
///
/// Per block of samples: `dY` is gathered into one `O x (samples * L)` matrix, then
/// `dcols = W^T @ dY` is scattered back by col2im and `dW += dY @ cols^T`; each chunk keeps
/// its own partial `dW` and `db`, summed in chunk order at the end.
#[allow(clippy::type_complexity)]
pub(crate) fn conv2d_backward<T: GemmElem>(
    x: &[T],
    w: &[T],
    gy: &[T],
    g: &ConvGeom,
    (need_x, need_w, need_b): (bool, bool, bool),
) -> (Option<Vec<T>>, Option<Vec<T>>, Option<Vec<T>>) {
    let (l, og, kg, xl, yl) = (g.l(), g.og(), g.kg(), g.x_len(), g.y_len());
    // col2im accumulates into dx: it must start at zero.
    let mut dx = need_x.then(|| take_zeroed(g.n * xl, T::zero()));
    if !(need_x || need_w || need_b) || g.n == 0 || yl == 0 {
        return (
            dx,
            need_w.then(|| vec![T::zero(); w.len()]),
            need_b.then(|| vec![T::zero(); g.o]),
        );
    }
    let (chunk, chunks, par, parallel) = plan(g.n, g.sample_work());
    let bs = block_samples(g, chunk);
    let rows = g.c * g.kh * g.kw;
    let parts: Vec<Option<&mut [T]>> = match dx.as_mut() {
        Some(d) if xl > 0 => d.chunks_mut(chunk * xl).map(Some).collect(),
        _ => (0..chunks).map(|_| None).collect(),
    };
    // Each chunk fills its samples' dx and returns its own partial dw and db.
    let run = |(ci, dxs): (usize, Option<&mut [T]>)| -> (Option<Vec<T>>, Option<Vec<T>>) {
        let first = ci * chunk;
        let count = chunk.min(g.n - first);
        let cap = bs.min(count) * l;
        let on = |need: bool| if need { rows * cap } else { 0 };
        let mut dw = need_w.then(|| vec![T::zero(); w.len()]);
        let mut db = need_b.then(|| vec![T::zero(); g.o]);
        let mut dxs = dxs;
        with_scratch(
            [on(need_w), on(need_x), if bs > 1 { g.o * cap } else { 0 }],
            |cols: &mut [T], dcols: &mut [T], gyb: &mut [T]| {
                for b0 in (0..count).step_by(bs) {
                    let nb = bs.min(count - b0);
                    let ld = nb * l;
                    // dY of the block side by side: row o holds every sample's plane o.
                    // A single sample's dY already has that layout.
                    let gyb: &[T] = if nb == 1 {
                        &gy[(first + b0) * yl..][..yl]
                    } else {
                        let gyb = &mut gyb[..g.o * ld];
                        for s in 0..nb {
                            let src = &gy[(first + b0 + s) * yl..][..yl];
                            for (o, plane) in src.chunks_exact(l).enumerate() {
                                gyb[o * ld + s * l..][..l].copy_from_slice(plane);
                            }
                        }
                        gyb
                    };
                    if let Some(db) = db.as_mut() {
                        for (acc, row) in db.iter_mut().zip(gyb.chunks_exact(ld)) {
                            *acc += super::reduce::sum_slice(row);
                        }
                    }
                    let dy = |grp: usize| Mat {
                        data: gyb,
                        off: grp * og * ld,
                        rs: ld,
                        cs: 1,
                    };
                    if let Some(dx_chunk) = dxs.as_deref_mut() {
                        // dcols = W_g^T @ dY_g for every group; col2im scatters it back.
                        let dcols = &mut dcols[..rows * ld];
                        for grp in 0..g.groups {
                            gemm_to(
                                (kg, og, ld),
                                &mut dcols[grp * kg * ld..][..kg * ld],
                                false,
                                weight_mat(w, g, grp, true),
                                dy(grp),
                                par,
                            );
                        }
                        for s in 0..nb {
                            col2im(dcols, g, &mut dx_chunk[(b0 + s) * xl..][..xl], ld, s * l);
                        }
                    }
                    if let Some(dw) = dw.as_mut() {
                        let cols = &mut cols[..rows * ld];
                        cols.fill(T::zero());
                        for s in 0..nb {
                            im2col(&x[(first + b0 + s) * xl..][..xl], g, cols, ld, s * l);
                        }
                        // dW_g += dY_g @ cols_g^T
                        for grp in 0..g.groups {
                            gemm_to(
                                (og, ld, kg),
                                &mut dw[grp * og * kg..][..og * kg],
                                true,
                                dy(grp),
                                Mat {
                                    data: cols,
                                    off: grp * kg * ld,
                                    rs: 1,
                                    cs: ld,
                                },
                                par,
                            );
                        }
                    }
                }
            },
        );
        (dw, db)
    };
    let partials: Vec<(Option<Vec<T>>, Option<Vec<T>>)> = if parallel {
        parts.into_par_iter().enumerate().map(run).collect()
    } else {
        parts.into_iter().enumerate().map(run).collect()
    };
    let sum = |parts: Vec<Vec<T>>, len: usize| {
        let mut it = parts.into_iter();
        let mut acc = it.next().unwrap_or_else(|| vec![T::zero(); len]);
        for p in it {
            for (a, v) in acc.iter_mut().zip(p) {
                *a += v;
            }
        }
        acc
    };
    let (dws, dbs): (Vec<_>, Vec<_>) = partials.into_iter().unzip();
    let dw = need_w.then(|| sum(dws.into_iter().flatten().collect(), w.len()));
    let db = need_b.then(|| sum(dbs.into_iter().flatten().collect(), g.o));
    (dx, dw, db)
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

/// Folds `v` (at flat index `i`) into the running maximum `best`: a larger value wins, a
/// NaN wins and then stays (PyTorch's rule), ties keep the earlier position.
#[inline(always)]
fn max_step<T: FloatElem>(best: &mut (T, i64), v: T, i: usize) {
    if !best.0.is_nan() && (v > best.0 || v.is_nan()) {
        *best = (v, i as i64);
    }
}

/// Max pooling over `planes` contiguous `h x w` planes. Returns the maxima and, for each, the
/// flat index `y * w + x` of the chosen input in its plane (PyTorch's `return_indices`).
/// NaN wins, as in PyTorch; ties keep the first position in row-major order.
///
/// NOTE: 2x2 windows at stride 2 (every CNN's `MaxPool2d(2)`) take a branch-light path
/// that reads the two input rows of an output row once; both paths apply `max_step` in
/// the same row-major order, so they agree exactly.
pub(crate) fn max_pool2d<T: FloatElem>(
    x: &[T],
    (h, w): (usize, usize),
    hwin: &[Window],
    wwin: &[Window],
) -> (Vec<T>, Vec<i64>) {
    let (oh, ow) = (hwin.len(), wwin.len());
    let (il, ol) = (h * w, oh * ow);
    let planes = x.len().checked_div(il).unwrap_or(0);
    // Every window writes its output and index: stale content needs no clearing.
    let mut out = take_dirty(planes * ol, T::zero());
    let mut idx = take_dirty(planes * ol, 0i64);
    if il == 0 || ol == 0 {
        return (out, idx);
    }
    let pairs = |ws: &[Window]| {
        ws.iter()
            .enumerate()
            .all(|(o, wn)| wn.start == 2 * o && wn.end == wn.start + 2)
    };
    let two_by_two = pairs(hwin) && pairs(wwin);
    let pool = |((xp, op), ip): ((&[T], &mut [T]), &mut [i64])| {
        for (oy, hy) in hwin.iter().enumerate() {
            let (orow, irow) = (&mut op[oy * ow..][..ow], &mut ip[oy * ow..][..ow]);
            if two_by_two {
                let (r0, r1) = (&xp[hy.start * w..][..w], &xp[(hy.start + 1) * w..][..w]);
                let base = hy.start * w;
                for (ox, (o, i)) in orow.iter_mut().zip(irow.iter_mut()).enumerate() {
                    let x0 = 2 * ox;
                    let mut best = (r0[x0], (base + x0) as i64);
                    max_step(&mut best, r0[x0 + 1], base + x0 + 1);
                    max_step(&mut best, r1[x0], base + w + x0);
                    max_step(&mut best, r1[x0 + 1], base + w + x0 + 1);
                    (*o, *i) = best;
                }
                continue;
            }
            for ((o, i), wx) in orow.iter_mut().zip(irow.iter_mut()).zip(wwin) {
                let mut best = (T::NEG_INFINITY, (hy.start * w + wx.start) as i64);
                for iy in hy.start..hy.end {
                    for (ix, &v) in xp[iy * w..][wx.start..wx.end].iter().enumerate() {
                        max_step(&mut best, v, iy * w + wx.start + ix);
                    }
                }
                (*o, *i) = best;
            }
        }
    };
    if x.len() >= PAR_THRESHOLD {
        x.par_chunks(il)
            .zip(out.par_chunks_mut(ol))
            .zip(idx.par_chunks_mut(ol))
            .for_each(pool);
    } else {
        x.chunks(il)
            .zip(out.chunks_mut(ol))
            .zip(idx.chunks_mut(ol))
            .for_each(pool);
    }
    (out, idx)
}

/// Gradient of [`max_pool2d`]: `g` flows to the recorded argmax of each window; windows that
/// share a maximum accumulate.
pub(crate) fn max_pool2d_backward<T: FloatElem>(
    g: &[T],
    idx: &[i64],
    (h, w): (usize, usize),
    out_len: usize,
) -> Vec<T> {
    let il = h * w;
    let planes = g.len().checked_div(out_len).unwrap_or(0);
    let mut dx = take_zeroed(planes * il, T::zero());
    if il == 0 || out_len == 0 {
        return dx;
    }
    let scatter = |((dp, gp), ip): ((&mut [T], &[T]), &[i64])| {
        for (&v, &i) in gp.iter().zip(ip) {
            dp[i as usize] += v;
        }
    };
    if dx.len() >= PAR_THRESHOLD {
        dx.par_chunks_mut(il)
            .zip(g.par_chunks(out_len))
            .zip(idx.par_chunks(out_len))
            .for_each(scatter);
    } else {
        dx.chunks_mut(il)
            .zip(g.chunks(out_len))
            .zip(idx.chunks(out_len))
            .for_each(scatter);
    }
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
    let mut out = take_dirty(planes * oh * ow, T::zero());
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
    let mut dx = take_zeroed(planes * h * w, T::zero());
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
        im2col(&x, &g, &mut cols, g.l(), 0);
        let mut dx = vec![0.0; g.x_len()];
        col2im(&c, &g, &mut dx, g.l(), 0);
        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }
}
