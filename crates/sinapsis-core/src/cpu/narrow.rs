//! A register kernel for the masked input gradient `(g W) * (h > 0)` of a linear layer with
//! few outputs whose input `h` is a ReLU's output (see [`super::linear_grad`]).
//!
//! NOTE: why not gemm. With 10 outputs (W3's second layer) the product is 10 deep: ten
//! multiply-adds per element written. Per block of rows, gemm's set-up and packing cost
//! more than that arithmetic: 1.8 ms of W3's epoch with the mask, against 1.1 ms here. Each
//! run of `L` columns of a row (16, then 8, 4 and 1 for the rest) is summed over the rows of
//! `W` in registers, masked and stored once; `W` (a few KB) stays in L1, and `h` streams in
//! row by row. (A register kernel for the weight gradient `g^T h` did not beat gemm there:
//! 0.75 ms against 0.65.)
//!
//! Plain loops compiled three times, for AVX-512, AVX2 and baseline x86-64, and picked at
//! run time (the crate is built for baseline x86-64). Every sum is one multiply and one
//! add per term in the same order, so the three give the same bits. The reference twins
//! are the unfused ops (`matmul`, `relu`'s backward), which the tests compare against.

use crate::FloatElem;

/// `gx = (g W) * (h > 0)` for a block of rows: `g` is `(rows, out)`, `w` is `(out, in)`
/// row-major, `h` and `gx` are `(rows, in)`. `h > 0` is false for NaN, as in ReLU's
/// backward.
pub(crate) fn masked_product<T: FloatElem>(
    gx: &mut [T],
    (g, w, h): (&[T], &[T], &[T]),
    out: usize,
) {
    if out == 0 {
        gx.fill(T::zero());
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { masked_product_avx512(gx, (g, w, h), out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { masked_product_avx2(gx, (g, w, h), out) };
        }
    }
    rows(gx, (g, w, h), out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn masked_product_avx512<T: FloatElem>(
    gx: &mut [T],
    operands: (&[T], &[T], &[T]),
    out: usize,
) {
    rows(gx, operands, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn masked_product_avx2<T: FloatElem>(
    gx: &mut [T],
    operands: (&[T], &[T], &[T]),
    out: usize,
) {
    rows(gx, operands, out);
}

/// [`masked_product`]'s loops, row by row.
#[inline(always)]
fn rows<T: FloatElem>(gx: &mut [T], (g, w, h): (&[T], &[T], &[T]), out: usize) {
    let inp = w.len() / out;
    let rows = gx
        .chunks_exact_mut(inp)
        .zip(g.chunks_exact(out))
        .zip(h.chunks_exact(inp));
    for ((gx, g), h) in rows {
        let mut j = runs::<T, 16>((gx, g, w, h), 0);
        j = runs::<T, 8>((gx, g, w, h), j);
        j = runs::<T, 4>((gx, g, w, h), j);
        runs::<T, 1>((gx, g, w, h), j);
    }
}

/// One row's runs of `L` columns from `j` while whole runs fit, each summed over the rows
/// of `W` in registers; returns the first column left.
#[inline(always)]
fn runs<T: FloatElem, const L: usize>(
    (gx, g, w, h): (&mut [T], &[T], &[T], &[T]),
    mut j: usize,
) -> usize {
    let inp = gx.len();
    let zero = T::zero();
    while j + L <= inp {
        let mut acc = [zero; L];
        for (&go, w) in g.iter().zip(w.chunks_exact(inp)) {
            let w: &[T; L] = w[j..j + L].try_into().expect("a run of L columns");
            for (a, &w) in acc.iter_mut().zip(w) {
                *a += go * w;
            }
        }
        let h: &[T; L] = h[j..j + L].try_into().expect("a run of L columns");
        for ((o, &a), &h) in gx[j..j + L].iter_mut().zip(&acc).zip(h) {
            *o = if h > zero { a } else { zero };
        }
        j += L;
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simd_versions_give_the_same_bits_as_the_plain_loops() {
        // 29 columns: one run each of 16, 8, 4 and 1; some of `h` zero, negative and NaN.
        let (rows_n, out, inp) = (7, 3, 29);
        let value = |i: usize| ((i * 7919) % 113) as f32 / 37.0 - 1.3;
        let g: Vec<f32> = (0..rows_n * out).map(value).collect();
        let w: Vec<f32> = (0..out * inp).map(|i| value(i + 1000)).collect();
        let mut h: Vec<f32> = (0..rows_n * inp).map(|i| value(i + 5000)).collect();
        h[3] = 0.0;
        h[4] = f32::NAN;
        let mut plain = vec![f32::NAN; rows_n * inp];
        rows(&mut plain, (&g, &w, &h), out);
        let mut fast = vec![f32::NAN; rows_n * inp];
        masked_product(&mut fast, (&g, &w, &h), out);
        for (i, (p, f)) in plain.iter().zip(&fast).enumerate() {
            assert_eq!(p.to_bits(), f.to_bits(), "element {i}");
        }
        // The mask: zero where `h` is not positive, the plain sum elsewhere.
        for (i, (&p, &h)) in plain.iter().zip(&h).enumerate() {
            let (r, j) = (i / inp, i % inp);
            let sum = (0..out).fold(0.0f32, |a, o| a + g[r * out + o] * w[o * inp + j]);
            let want = if h > 0.0 { sum } else { 0.0 };
            assert_eq!(p.to_bits(), want.to_bits(), "row {r} column {j}");
        }
        let mut none = vec![1.0f32; 4];
        masked_product(&mut none, (&[], &[], &[0.0; 4]), 0);
        assert_eq!(none, [0.0; 4], "no outputs: a zero gradient");
    }
}
