//! Slow, obviously-correct reference kernels.
//!
//! Each fast kernel in [`crate::cpu`] has a twin here written as the plainest possible loop,
//! with no blocking, no SIMD and no threads. Tests compare the fast kernels against these on
//! odd sizes (1, 7, 17, 63, 65, 257) and non-contiguous layouts. They are public so that
//! tests (and curious readers) can call them; they are not meant for real work.
//!
//! All inputs are contiguous row-major slices; outputs are fresh row-major `Vec`s.

use crate::FloatElem;

/// `a (m x k) @ b (k x n)` as a row-major `m x n` buffer, by the textbook triple loop
/// (`c[i][j] = sum_p a[i][p] * b[p][j]`, summed in order of `p`). `k == 0` gives zeros.
///
/// # Panics
/// If `a.len() != m * k` or `b.len() != k * n`.
///
/// ```
/// use sinapsis_core::cpu::reference::matmul;
/// let a = [1.0f64, 2., 3., 4.]; // 2x2
/// let b = [5.0f64, 6., 7., 8.]; // 2x2
/// assert_eq!(matmul(&a, &b, 2, 2, 2), vec![19.0, 22., 43., 50.]);
/// ```
pub fn matmul<T: FloatElem>(a: &[T], b: &[T], m: usize, k: usize, n: usize) -> Vec<T> {
    assert_eq!(
        a.len(),
        m * k,
        "reference matmul: lhs must hold m * k elements"
    );
    assert_eq!(
        b.len(),
        k * n,
        "reference matmul: rhs must hold k * n elements"
    );
    let mut c = vec![T::zero(); m * n];
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::zero();
            for p in 0..k {
                acc += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = acc;
        }
    }
    c
}

// ---- convolution and pooling ----------------------------------------------------------------

/// Output size along one axis: `(size + 2 pad - dil (k - 1) - 1) / stride + 1`.
fn out_len(size: usize, k: usize, stride: usize, pad: usize, dil: usize) -> usize {
    (size + 2 * pad - dil * (k - 1) - 1) / stride + 1
}

/// The input coordinate of output `o`, tap `t`, or `None` where it falls in the padding.
fn tap(o: usize, t: usize, stride: usize, pad: usize, dil: usize, size: usize) -> Option<usize> {
    let i = (o * stride + t * dil) as isize - pad as isize;
    (i >= 0 && (i as usize) < size).then_some(i as usize)
}

/// 2-D convolution (PyTorch's `conv2d`, a cross-correlation) by the direct loops over batch,
/// output channel, output row, output column, input channel of the group, kernel row and
/// kernel column. Returns the `N x C_out x H_out x W_out` output and its dims.
///
/// # Panics
/// If the buffers do not match their dims or the options do not fit them.
///
/// ```
/// use sinapsis_core::{cpu::reference::conv2d, Conv2dOptions};
/// let x = [1.0f64, 2., 3., 4.]; // 1x1x2x2
/// let w = [1.0f64, 1., 1., 1.]; // 1x1x2x2
/// let (y, dims) = conv2d(&x, [1, 1, 2, 2], &w, [1, 1, 2, 2], Some(&[0.5]), &Conv2dOptions::default());
/// assert_eq!((y, dims), (vec![10.5], [1, 1, 1, 1]));
/// ```
pub fn conv2d<T: FloatElem>(
    x: &[T],
    x_dims: [usize; 4],
    w: &[T],
    w_dims: [usize; 4],
    bias: Option<&[T]>,
    opts: &crate::Conv2dOptions,
) -> (Vec<T>, [usize; 4]) {
    let [n, c, h, wd] = x_dims;
    let [o, cg, kh, kw] = w_dims;
    let (s, p, d, groups) = (opts.stride, opts.padding, opts.dilation, opts.groups);
    assert_eq!(x.len(), n * c * h * wd, "reference conv2d: input size");
    assert_eq!(w.len(), o * cg * kh * kw, "reference conv2d: weight size");
    assert_eq!(cg * groups, c, "reference conv2d: channels per group");
    let og = o / groups;
    let (oh, ow) = (
        out_len(h, kh, s.0, p.0, d.0),
        out_len(wd, kw, s.1, p.1, d.1),
    );
    let mut y = vec![T::zero(); n * o * oh * ow];
    for b in 0..n {
        for oc in 0..o {
            let grp = oc / og;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bias.map_or(T::zero(), |bv| bv[oc]);
                    for ci in 0..cg {
                        let ic = grp * cg + ci;
                        for i in 0..kh {
                            let Some(iy) = tap(oy, i, s.0, p.0, d.0, h) else {
                                continue;
                            };
                            for j in 0..kw {
                                let Some(ix) = tap(ox, j, s.1, p.1, d.1, wd) else {
                                    continue;
                                };
                                acc += x[((b * c + ic) * h + iy) * wd + ix]
                                    * w[((oc * cg + ci) * kh + i) * kw + j];
                            }
                        }
                    }
                    y[((b * o + oc) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    (y, [n, o, oh, ow])
}

/// Gradients of [`conv2d`] for an upstream gradient `gy` (`N x C_out x H_out x W_out`), by
/// the same seven loops: `(d input, d weight, d bias)`.
///
/// # Panics
/// As [`conv2d`], and if `gy` does not have the output's size.
///
/// ```
/// use sinapsis_core::{cpu::reference::conv2d_backward, Conv2dOptions};
/// let x = [1.0f64, 2., 3., 4.]; // 1x1x2x2
/// let w = [1.0f64, 0., 0., 2.]; // 1x1x2x2
/// let (gx, gw, gb) = conv2d_backward(&x, [1, 1, 2, 2], &w, [1, 1, 2, 2], &[1.0], &Conv2dOptions::default());
/// assert_eq!((gx, gw, gb), (w.to_vec(), x.to_vec(), vec![1.0]));
/// ```
pub fn conv2d_backward<T: FloatElem>(
    x: &[T],
    x_dims: [usize; 4],
    w: &[T],
    w_dims: [usize; 4],
    gy: &[T],
    opts: &crate::Conv2dOptions,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let [n, c, h, wd] = x_dims;
    let [o, cg, kh, kw] = w_dims;
    let (s, p, d, groups) = (opts.stride, opts.padding, opts.dilation, opts.groups);
    assert_eq!(
        cg * groups,
        c,
        "reference conv2d_backward: channels per group"
    );
    let og = o / groups;
    let (oh, ow) = (
        out_len(h, kh, s.0, p.0, d.0),
        out_len(wd, kw, s.1, p.1, d.1),
    );
    assert_eq!(
        gy.len(),
        n * o * oh * ow,
        "reference conv2d_backward: gradient size"
    );
    let (mut gx, mut gw, mut gb) = (
        vec![T::zero(); x.len()],
        vec![T::zero(); w.len()],
        vec![T::zero(); o],
    );
    for b in 0..n {
        for oc in 0..o {
            let grp = oc / og;
            for oy in 0..oh {
                for ox in 0..ow {
                    let g = gy[((b * o + oc) * oh + oy) * ow + ox];
                    gb[oc] += g;
                    for ci in 0..cg {
                        let ic = grp * cg + ci;
                        for i in 0..kh {
                            let Some(iy) = tap(oy, i, s.0, p.0, d.0, h) else {
                                continue;
                            };
                            for j in 0..kw {
                                let Some(ix) = tap(ox, j, s.1, p.1, d.1, wd) else {
                                    continue;
                                };
                                let xi = ((b * c + ic) * h + iy) * wd + ix;
                                let wi = ((oc * cg + ci) * kh + i) * kw + j;
                                gx[xi] += g * w[wi];
                                gw[wi] += g * x[xi];
                            }
                        }
                    }
                }
            }
        }
    }
    (gx, gw, gb)
}

/// Max pooling of `N x C x H x W` (PyTorch's `max_pool2d`, dilation 1, `ceil_mode=False`,
/// padding as `-inf`) by direct loops over each window. Returns the maxima, the flat index
/// `y * W + x` of each within its plane (first in row-major order on ties; NaN wins), and the
/// output dims.
///
/// # Panics
/// If `x` does not match `x_dims` or the window does not fit.
///
/// ```
/// use sinapsis_core::cpu::reference::max_pool2d;
/// let x = [1.0f32, 5., 3., 4.]; // 1x1x2x2
/// let (y, idx, dims) = max_pool2d(&x, [1, 1, 2, 2], (2, 2), (2, 2), (0, 0));
/// assert_eq!((y, idx, dims), (vec![5.0], vec![1], [1, 1, 1, 1]));
/// ```
pub fn max_pool2d<T: FloatElem>(
    x: &[T],
    x_dims: [usize; 4],
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> (Vec<T>, Vec<i64>, [usize; 4]) {
    let [n, c, h, w] = x_dims;
    assert_eq!(x.len(), n * c * h * w, "reference max_pool2d: input size");
    let (oh, ow) = (
        out_len(h, kernel.0, stride.0, padding.0, 1),
        out_len(w, kernel.1, stride.1, padding.1, 1),
    );
    let (mut y, mut idx) = (Vec::new(), Vec::new());
    for plane in x.chunks(h * w).take(n * c) {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best: Option<(T, usize)> = None;
                for i in 0..kernel.0 {
                    let Some(iy) = tap(oy, i, stride.0, padding.0, 1, h) else {
                        continue;
                    };
                    for j in 0..kernel.1 {
                        let Some(ix) = tap(ox, j, stride.1, padding.1, 1, w) else {
                            continue;
                        };
                        let v = plane[iy * w + ix];
                        let better = match best {
                            None => true,
                            Some((b, _)) => !b.is_nan() && (v.is_nan() || v > b),
                        };
                        if better {
                            best = Some((v, iy * w + ix));
                        }
                    }
                }
                let (v, i) = best.expect("every window holds an input");
                y.push(v);
                idx.push(i as i64);
            }
        }
    }
    (y, idx, [n, c, oh, ow])
}

/// Average pooling of `N x C x H x W` (PyTorch's `avg_pool2d`, `ceil_mode=False`,
/// `count_include_pad=True`: every window divides by `kH * kW`) by direct loops.
///
/// # Panics
/// If `x` does not match `x_dims` or the window does not fit.
///
/// ```
/// use sinapsis_core::cpu::reference::avg_pool2d;
/// let x = [4.0f64]; // 1x1x1x1, padded by 1 to 3x3
/// let (y, dims) = avg_pool2d(&x, [1, 1, 1, 1], (2, 2), (1, 1), (1, 1));
/// assert_eq!((y, dims), (vec![1.0; 4], [1, 1, 2, 2]));
/// ```
pub fn avg_pool2d<T: FloatElem>(
    x: &[T],
    x_dims: [usize; 4],
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> (Vec<T>, [usize; 4]) {
    let [n, c, h, w] = x_dims;
    assert_eq!(x.len(), n * c * h * w, "reference avg_pool2d: input size");
    let (oh, ow) = (
        out_len(h, kernel.0, stride.0, padding.0, 1),
        out_len(w, kernel.1, stride.1, padding.1, 1),
    );
    let count = T::from_f64((kernel.0 * kernel.1) as f64);
    let mut y = Vec::new();
    for plane in x.chunks(h * w).take(n * c) {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = T::zero();
                for i in 0..kernel.0 {
                    let Some(iy) = tap(oy, i, stride.0, padding.0, 1, h) else {
                        continue;
                    };
                    for j in 0..kernel.1 {
                        if let Some(ix) = tap(ox, j, stride.1, padding.1, 1, w) {
                            acc += plane[iy * w + ix];
                        }
                    }
                }
                y.push(acc / count);
            }
        }
    }
    (y, [n, c, oh, ow])
}

/// Adaptive average pooling of `N x C x H x W` to `out` (PyTorch's `adaptive_avg_pool2d`):
/// output `(i, j)` averages rows `floor(i H / oH) .. ceil((i + 1) H / oH)` and the matching
/// columns, by direct loops.
///
/// # Panics
/// If `x` does not match `x_dims`.
///
/// ```
/// use sinapsis_core::cpu::reference::adaptive_avg_pool2d;
/// let x = [1.0f64, 2., 3.]; // 1x1x1x3
/// let (y, dims) = adaptive_avg_pool2d(&x, [1, 1, 1, 3], (1, 2));
/// assert_eq!((y, dims), (vec![1.5, 2.5], [1, 1, 1, 2]));
/// ```
pub fn adaptive_avg_pool2d<T: FloatElem>(
    x: &[T],
    x_dims: [usize; 4],
    out: (usize, usize),
) -> (Vec<T>, [usize; 4]) {
    let [n, c, h, w] = x_dims;
    assert_eq!(
        x.len(),
        n * c * h * w,
        "reference adaptive_avg_pool2d: input size"
    );
    let bounds = |o: usize, out: usize, size: usize| {
        let f = |v: usize| v as f64 * size as f64 / out as f64;
        (f(o).floor() as usize, f(o + 1).ceil() as usize)
    };
    let mut y = Vec::new();
    for plane in x.chunks(h * w).take(n * c) {
        for oy in 0..out.0 {
            let (y0, y1) = bounds(oy, out.0, h);
            for ox in 0..out.1 {
                let (x0, x1) = bounds(ox, out.1, w);
                let mut acc = T::zero();
                for iy in y0..y1 {
                    for ix in x0..x1 {
                        acc += plane[iy * w + ix];
                    }
                }
                y.push(acc / T::from_f64(((y1 - y0) * (x1 - x0)) as f64));
            }
        }
    }
    (y, [n, c, out.0, out.1])
}

// ---- strided walks, reductions, softmax ------------------------------------------------------

/// Row-major multi-index of flat position `i` in `dims`.
fn unravel(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        idx[d] = i % dims[d];
        i /= dims[d];
    }
    idx
}

/// The elements of a strided view, in row-major order, each found by
/// `offset + sum(index[d] * strides[d])`: the oracle for every strided walk.
///
/// ```
/// use sinapsis_core::cpu::reference::strided_to_vec;
/// // The transpose of a row-major 2x3 matrix.
/// let data = [1, 2, 3, 4, 5, 6];
/// assert_eq!(strided_to_vec(&data, &[3, 2], &[1, 3], 0), vec![1, 4, 2, 5, 3, 6]);
/// ```
pub fn strided_to_vec<T: Copy>(
    data: &[T],
    dims: &[usize],
    strides: &[usize],
    offset: usize,
) -> Vec<T> {
    let n: usize = dims.iter().product();
    (0..n)
        .map(|i| {
            let idx = unravel(i, dims);
            data[offset + idx.iter().zip(strides).map(|(a, b)| a * b).sum::<usize>()]
        })
        .collect()
}

/// Folds `x` (row-major, `dims`) over the dims in `reduce`, keepdim layout, visiting elements
/// in row-major order: the oracle for sums and extrema.
///
/// ```
/// use sinapsis_core::cpu::reference::reduce;
/// let x = [1.0, 2., 3., 4., 5., 6.]; // 2x3
/// assert_eq!(reduce(&x, &[2, 3], &[0], 0.0, |a, b| a + b), vec![5.0, 7., 9.]);
/// ```
pub fn reduce<T: Copy>(
    x: &[T],
    dims: &[usize],
    reduce: &[usize],
    init: T,
    f: impl Fn(T, T) -> T,
) -> Vec<T> {
    let kept: Vec<usize> = dims
        .iter()
        .enumerate()
        .map(|(d, &s)| if reduce.contains(&d) { 1 } else { s })
        .collect();
    let mut out = vec![init; kept.iter().product()];
    for (i, &v) in x.iter().enumerate() {
        let idx = unravel(i, dims);
        let o = idx
            .iter()
            .zip(&kept)
            .fold(0, |acc, (&j, &k)| acc * k + if k == 1 { 0 } else { j });
        out[o] = f(out[o], v);
    }
    out
}

/// Index of the first largest element along `dim` of `x` (row-major, `dims`), keepdim
/// layout; NaN counts as largest.
///
/// ```
/// use sinapsis_core::cpu::reference::argmax;
/// assert_eq!(argmax(&[1.0, 3., 3., 0.], &[1, 4], 1), vec![1]);
/// ```
pub fn argmax<T: FloatElem>(x: &[T], dims: &[usize], dim: usize) -> Vec<i64> {
    let mut kept = dims.to_vec();
    kept[dim] = 1;
    let mut best: Vec<Option<(T, i64)>> = vec![None; kept.iter().product()];
    for (i, &v) in x.iter().enumerate() {
        let idx = unravel(i, dims);
        let o = idx.iter().enumerate().fold(0, |acc, (d, &j)| {
            acc * kept[d] + if d == dim { 0 } else { j }
        });
        let take = match best[o] {
            None => true,
            Some((b, _)) => !b.is_nan() && (v.is_nan() || v > b),
        };
        if take {
            best[o] = Some((v, idx[dim] as i64));
        }
    }
    best.into_iter().map(|b| b.map_or(0, |(_, i)| i)).collect()
}

/// Softmax over the last dim of a row-major `rows x cols` buffer, straight from the
/// definition `exp(x - max) / sum(exp(x - max))`.
///
/// ```
/// use sinapsis_core::cpu::reference::softmax;
/// assert_eq!(softmax(&[0.0f64, 0.0], 1, 2), vec![0.5, 0.5]);
/// ```
pub fn softmax<T: FloatElem>(x: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let m = row.iter().fold(T::NEG_INFINITY, |a, &b| a.max(b));
        let e: Vec<T> = row.iter().map(|&v| (v - m).exp()).collect();
        let s = e.iter().fold(T::zero(), |a, &b| a + b);
        out.extend(e.iter().map(|&v| v / s));
    }
    out
}

/// Log-softmax over the last dim: `x - max - log(sum(exp(x - max)))`.
///
/// ```
/// use sinapsis_core::cpu::reference::log_softmax;
/// assert_eq!(log_softmax(&[0.0f64, 0.0], 1, 2), vec![-(2.0f64.ln()); 2]);
/// ```
pub fn log_softmax<T: FloatElem>(x: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let m = row.iter().fold(T::NEG_INFINITY, |a, &b| a.max(b));
        let s = row.iter().fold(T::zero(), |a, &v| a + (v - m).exp());
        out.extend(row.iter().map(|&v| v - m - s.ln()));
    }
    out
}
