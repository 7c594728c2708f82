//! Tiny f32 matrix products (a few thousand multiply-adds) without gemm's set-up.
//!
//! gemm spends ~5k instructions per call choosing kernels and blocking before it multiplies
//! anything; a 64x2 @ 2x10 product (W1's first layer) has 1,280 multiply-adds, so set-up was
//! most of the cost of every small-network step. Here each block of four output rows by
//! one 8-float chunk is a sum of `k` broadcast-times-chunk fused multiply-adds on AVX2
//! registers (four independent accumulators hide the FMA latency); a row's last partial
//! chunk is read and written through a lane mask. The right operand is read in place when
//! its rows are contiguous, else (a transposed weight) copied into rows once.
//!
//! Written with intrinsics: the compiler's own vectorisation of the same loops mixed scalar
//! and vector code and ran 2-5x slower than gemm. f64 (and CPUs without AVX2 + FMA) always
//! go to gemm.
//!
//! [`super::reference::matmul`] is the oracle the tests compare this against.

use super::matmul::MatRef;

/// Floats per chunk: one AVX2 register.
const LANES: usize = 8;

/// Largest copy of a transposed right operand (`k * n` floats) kept on the stack: 16 KiB.
const PANEL_MAX: usize = 4096;

/// Products of at most this many multiply-adds skip gemm.
///
/// NOTE: measured on the reference 2-core machine, one thread, per `Tensor::matmul` call
/// (~150 ns of it outside the kernel): W1's products 64x2x10 560 -> 310 ns, 64x1x10
/// 290 -> 230, 1x64x10 460 -> 325, 10x64x2 705 -> 425; 32x16x16 (8192) 388 -> 340;
/// 32x30x16 (15k) 495 -> 515 and 32x64x16 (32k) 755 -> 1040, where gemm's register tiling
/// pays for its set-up.
pub(crate) const SMALL_MAX_WORK: usize = 8192;

/// Whether `(m x k) @ (k x n)` takes this path: few multiply-adds, a copy that fits, and
/// more than one column (a matrix-vector product would use one lane of each chunk, where
/// gemm has a dedicated kernel).
pub(crate) fn is_small(m: usize, k: usize, n: usize) -> bool {
    n > 1 && m * k * n <= SMALL_MAX_WORK && k * n <= PANEL_MAX
}

/// `dst = lhs @ rhs` for one small `(m x k) @ (k x n)` f32 block (see [`super::matmul`]'s
/// `gemm_block` for the layout of `dst`); `false`, with nothing written, if the product is
/// not [`is_small`] or the CPU lacks AVX2 + FMA.
///
/// # Safety
/// As `gemm_block`: `dst` is valid for writes at `i * dst_rs + j` for `i < m`, `j < n`,
/// and the operands' views lie inside their slices (the caller checked both).
pub(crate) unsafe fn gemm_f32(
    dst: *mut f32,
    dst_rs: usize,
    (m, k, n): (usize, usize, usize),
    (lhs, lo): (&MatRef<'_, f32>, usize),
    (rhs, ro): (&MatRef<'_, f32>, usize),
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if is_small(m, k, n)
        && std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        let a = Strided::new(lhs, lo);
        let b = Strided::new(rhs, ro);
        // SAFETY: the CPU has AVX2 and FMA (checked just above); the rest is forwarded.
        unsafe { avx2::kernel((m, k, n), a, b, dst, dst_rs) };
        return true;
    }
    let _ = (dst, dst_rs, m, k, n, lhs, lo, rhs, ro);
    false
}

/// Element `(i, j)` at `data[offset + i * rs + j * cs]`.
#[derive(Clone, Copy)]
struct Strided<'a> {
    data: &'a [f32],
    offset: usize,
    rs: usize,
    cs: usize,
}

impl<'a> Strided<'a> {
    fn new(m: &MatRef<'a, f32>, offset: usize) -> Self {
        Strided {
            data: m.data,
            offset,
            rs: m.row_stride,
            cs: m.col_stride,
        }
    }

    /// # Safety
    /// `(i, j)` must lie inside the view the caller bounds-checked.
    #[inline(always)]
    unsafe fn get(&self, i: usize, j: usize) -> f32 {
        // SAFETY: the caller's bounds check covers every in-range (i, j).
        unsafe {
            *self
                .data
                .get_unchecked(self.offset + i * self.rs + j * self.cs)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Strided, LANES, PANEL_MAX};
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// Rows per block: four independent accumulator chains per chunk.
    const ROWS: usize = 4;

    /// The right operand as row-major rows of `n` floats: `ptr + p * rs + j`.
    #[derive(Clone, Copy)]
    struct Rows {
        ptr: *const f32,
        rs: usize,
    }

    /// `dst = a @ b` for `(m x k) @ (k x n)`, `dst` row-major with row stride `dst_rs`.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA. Every `(i, p)` of `a`, `(p, j)` of `b` and
    /// `dst + i * dst_rs + j` for `i < m`, `p < k`, `j < n` must be in bounds, and
    /// `k * n` must fit in [`PANEL_MAX`].
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn kernel(
        (m, k, n): (usize, usize, usize),
        a: Strided<'_>,
        b: Strided<'_>,
        dst: *mut f32,
        dst_rs: usize,
    ) {
        let mut panel = [MaybeUninit::<f32>::uninit(); PANEL_MAX];
        let rows = if b.cs == 1 {
            // Rows of `b` are already contiguous: read them where they are.
            Rows {
                // SAFETY: the offset is inside `b.data` (caller's bounds check).
                ptr: unsafe { b.data.as_ptr().add(b.offset) },
                rs: b.rs,
            }
        } else {
            // A transposed `b` (e.g. a weight in `x @ W^T`) is copied into rows once.
            assert!(k * n <= PANEL_MAX, "small gemm: panel of {k}x{n}");
            for p in 0..k {
                for j in 0..n {
                    // SAFETY: (p, j) is in bounds (caller).
                    panel[p * n + j].write(unsafe { b.get(p, j) });
                }
            }
            Rows {
                ptr: panel.as_ptr().cast(),
                rs: n,
            }
        };
        let full = m - m % ROWS;
        let mut i = 0;
        while i < full {
            // SAFETY: rows i..i + ROWS are below m; the rest forwarded.
            unsafe { block::<ROWS>(i, (k, n), a, rows, dst, dst_rs) };
            i += ROWS;
        }
        // SAFETY (each arm): rows full..m are below m; the rest forwarded.
        match m - full {
            1 => unsafe { block::<1>(full, (k, n), a, rows, dst, dst_rs) },
            2 => unsafe { block::<2>(full, (k, n), a, rows, dst, dst_rs) },
            3 => unsafe { block::<3>(full, (k, n), a, rows, dst, dst_rs) },
            _ => {}
        }
    }

    /// Rows `i..i + R` of the product, chunk by chunk; the last chunk of a row that is not
    /// a whole number of chunks is read and written through a lane mask.
    ///
    /// # Safety
    /// As [`kernel`], for rows `i..i + R`, all below `m`; `b` holds `k` rows of `n`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block<const R: usize>(
        i: usize,
        (k, n): (usize, usize),
        a: Strided<'_>,
        b: Rows,
        dst: *mut f32,
        dst_rs: usize,
    ) {
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let mut c = 0;
        while c < n {
            let cols = LANES.min(n - c);
            let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols as i32), lane);
            let mut acc = [_mm256_setzero_ps(); R];
            for p in 0..k {
                // SAFETY: columns c..c + cols of row p are in bounds (caller); masked lanes
                // are not read.
                let w = unsafe {
                    let at = b.ptr.add(p * b.rs + c);
                    if cols == LANES {
                        _mm256_loadu_ps(at)
                    } else {
                        _mm256_maskload_ps(at, mask)
                    }
                };
                for (r, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: i + r < m, p < k.
                    let x = _mm256_set1_ps(unsafe { a.get(i + r, p) });
                    *acc = _mm256_fmadd_ps(x, w, *acc);
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                // SAFETY: columns c..c + cols of row i + r are inside the destination
                // (caller); masked lanes are not written.
                unsafe {
                    let at = dst.add((i + r) * dst_rs + c);
                    if cols == LANES {
                        _mm256_storeu_ps(at, *acc);
                    } else {
                        _mm256_maskstore_ps(at, mask, *acc);
                    }
                }
            }
            c += LANES;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::reference;

    fn has_avx2_fma() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        #[allow(unreachable_code)]
        false
    }

    /// Distinct values whose sums are not exact.
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7 + seed * 13) % 23) as f32 / 7.0 - 1.5)
            .collect()
    }

    /// Runs `gemm_f32` on row-major or transposed copies of `a` and `b`, into a destination
    /// with a wider row stride, and compares with the reference triple loop.
    fn check(m: usize, k: usize, n: usize, a_t: bool, b_t: bool) {
        let a = values(m * k, 1);
        let b = values(k * n, 2);
        let want = reference::matmul(&a, &b, m, k, n);
        // A transposed operand is stored as its transpose, row-major, with strides swapped.
        let store = |v: &[f32], rows: usize, cols: usize, t: bool| -> (Vec<f32>, usize, usize) {
            if !t {
                return (v.to_vec(), cols, 1);
            }
            let mut s = vec![0.0; v.len()];
            for i in 0..rows {
                for j in 0..cols {
                    s[j * rows + i] = v[i * cols + j];
                }
            }
            (s, 1, rows)
        };
        let (ad, ars, acs) = store(&a, m, k, a_t);
        let (bd, brs, bcs) = store(&b, k, n, b_t);
        let lhs = MatRef {
            data: &ad,
            offset: 0,
            row_stride: ars,
            col_stride: acs,
        };
        let rhs = MatRef {
            data: &bd,
            offset: 0,
            row_stride: brs,
            col_stride: bcs,
        };
        // Two spare columns per row: they must keep their NaNs (no write past column n).
        let dst_rs = n + 2;
        let mut got = vec![f32::NAN; m * dst_rs];
        // SAFETY: `got` holds m rows of dst_rs >= n; the operands are whole views.
        let ran = unsafe { gemm_f32(got.as_mut_ptr(), dst_rs, (m, k, n), (&lhs, 0), (&rhs, 0)) };
        assert_eq!(ran, has_avx2_fma(), "{m}x{k}x{n}");
        if !ran {
            return;
        }
        for i in 0..m {
            for j in 0..dst_rs {
                let g = got[i * dst_rs + j];
                if j >= n {
                    assert!(g.is_nan(), "{m}x{k}x{n}: wrote past the row at ({i}, {j})");
                    continue;
                }
                let w = want[i * n + j];
                assert!(
                    (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                    "{m}x{k}x{n} (a_t {a_t}, b_t {b_t}): ({i}, {j}) is {g}, expected {w}"
                );
            }
        }
    }

    #[test]
    fn matches_the_reference_on_small_shapes_and_layouts() {
        let shapes = [
            (64, 2, 10),
            (64, 10, 2),
            (1, 64, 10),
            (64, 1, 10),
            (10, 64, 2),
            (1, 1, 2),
            (3, 5, 7),
            (7, 5, 3),
            (5, 9, 17),
            (17, 3, 8),
            (2, 100, 16),
            (6, 4, 40),
        ];
        for (m, k, n) in shapes {
            for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
                check(m, k, n, a_t, b_t);
            }
        }
    }

    #[test]
    fn broadcast_and_offset_operands_read_the_right_elements() {
        // lhs: row 1 of a 2x3 matrix repeated 4 times (row stride 0), i.e. a 4x3 view at
        // offset 3; rhs: the 3x2 block at offset 1 of a 3x3 matrix (row stride 3).
        let a_data = [0.0f32, 0.0, 0.0, 1.0, 2.0, 3.0];
        let b_data = [9.0f32, 1.0, 2.0, 9.0, 3.0, 4.0, 9.0, 5.0, 6.0];
        let lhs = MatRef {
            data: &a_data,
            offset: 0,
            row_stride: 0,
            col_stride: 1,
        };
        let rhs = MatRef {
            data: &b_data,
            offset: 0,
            row_stride: 3,
            col_stride: 1,
        };
        let mut got = [0.0f32; 8];
        // SAFETY: 4x2 destination; the views lie inside both arrays.
        if unsafe { gemm_f32(got.as_mut_ptr(), 2, (4, 3, 2), (&lhs, 3), (&rhs, 1)) } {
            // [1 2 3] @ [[1 2] [3 4] [5 6]] = [22 28], on each of the 4 rows.
            assert_eq!(got, [22.0, 28.0, 22.0, 28.0, 22.0, 28.0, 22.0, 28.0]);
        }
    }

    #[test]
    fn only_products_whose_panel_fits_are_small() {
        assert!(is_small(64, 2, 10));
        assert!(!is_small(128, 784, 100));
        assert!(!is_small(64, 10, 1)); // matrix-vector: gemm's gemv
                                       // 1 x 4097 x 2: few multiply-adds, but a copy of 4097 rows does not fit.
        assert!(!is_small(1, 4097, 2));
    }
}
