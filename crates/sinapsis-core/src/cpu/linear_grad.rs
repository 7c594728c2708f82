//! The backward of a linear layer `y = h W^T + b` whose input `h` is a ReLU's output, in
//! one pass over blocks of rows: the input gradient `g W` already masked where `h` is 0,
//! the weight gradient `g^T h`, and the column sums of the masked gradient (the bias
//! gradient of the layer before), each block's work done while its rows are in cache.
//!
//! NOTE: why. Unfused, W3's second layer (60000 x 100 hidden, 10 outputs) made three passes
//! over 24 MB matrices that miss the L2 cache: `g W` written (1.25 ms), `g^T h` read
//! (1.7 ms), then the ReLU's backward reading both and writing the masked copy (1.7 ms).
//! Here a block of a few hundred rows of `h` and of `g W` is read or written once and used
//! from L2 by both products, the mask and the sums. The ReLU's backward then has nothing
//! left to mask or sum (see `autograd::GradHint`).
//!
//! The reference twins are the unfused ops (`matmul`, `relu`'s backward), which the tests
//! compare this against.

use super::matmul::{for_each_piece, gemm_into, DstPtr, GemmElem, MatRef};
use super::narrow::masked_product;
use super::pool::{recycle, take_dirty, take_zeroed};
use super::rows::{add_rows_into, sum_partials as sum_partials_in_order};
use std::borrow::Cow;

/// Rows per block: `g W` and `h` for 256 rows of 100 features are 200 KB, within L2 with
/// gemm's packed panels.
const BLOCK_ROWS: usize = 256;

/// Rows per chunk: each chunk's weight gradient is a partial sum, and the partials are
/// added in chunk order, so the result has the same bits on any number of threads.
const CHUNK_ROWS: usize = 2048;

/// Layers with at most this many outputs take the register kernel of [`super::narrow`] for
/// `g W` rather than gemm (whose set-up and packing cost more than a product this shallow).
const NARROW_OUT: usize = 32;

/// Work (`rows * in`) from which chunks are shared across the rayon pool.
const PAR_MIN_ELEMS: usize = super::PAR_THRESHOLD;

/// The operands of [`relu_input_grads`].
pub(crate) struct ReluInputLinear<'a, T> {
    /// Upstream gradient, row-major `(rows, out)`.
    pub g: &'a [T],
    /// The weight `(out, in)`, any strides.
    pub w: MatRef<'a, T>,
    /// The layer's input, a ReLU's output: row-major `(rows, in)`.
    pub h: &'a [T],
    pub rows: usize,
    pub out: usize,
    pub inp: usize,
}

/// Which of the optional results [`relu_input_grads`] computes.
#[derive(Clone, Copy)]
pub(crate) struct ReluInputWants {
    /// The weight gradient `g^T h`.
    pub weight: bool,
    /// The column sums of the masked input gradient (the bias gradient of the layer whose
    /// ReLU produced `h`).
    pub sums: bool,
}

/// What [`relu_input_grads`] computes.
pub(crate) struct ReluInputGrads<T> {
    /// `(g W) * (h > 0)`, row-major `(rows, in)`.
    pub gx: Vec<T>,
    /// `g^T h`, `(out, in)`.
    pub gw: Option<Vec<T>>,
    /// The sums over the rows of `gx`, `(in)`.
    pub column_sums: Option<Vec<T>>,
}

/// The gradients of the layer in `a` that `wants` asks for; see [`ReluInputGrads`].
///
/// `h > 0` is false for NaN, as ReLU's backward (`g` where the output is positive).
pub(crate) fn relu_input_grads<T: GemmElem>(
    a: &ReluInputLinear<'_, T>,
    wants: ReluInputWants,
) -> ReluInputGrads<T> {
    let (rows, out, inp) = (a.rows, a.out, a.inp);
    debug_assert_eq!(a.g.len(), rows * out, "relu_input_grads: gradient size");
    debug_assert_eq!(a.h.len(), rows * inp, "relu_input_grads: input size");
    let zero = T::zero();
    let mut gx = take_dirty(rows * inp, zero);
    let chunks = rows.div_ceil(CHUNK_ROWS);
    let wlen = if wants.weight { out * inp } else { 0 };
    let slen = if wants.sums { inp } else { 0 };
    // Per chunk: its weight gradient (overwritten by its first block) and its column sums
    // (added to, so zeroed).
    let mut weight_partials = take_dirty(chunks * wlen, zero);
    let mut sum_partials = take_zeroed(chunks * slen, zero);
    if rows > 0 && inp > 0 {
        let gx_base = DstPtr(gx.as_mut_ptr());
        let weight_base = DstPtr(weight_partials.as_mut_ptr());
        let sum_base = DstPtr(sum_partials.as_mut_ptr());
        let chunk = |c: usize| {
            let r0 = c * CHUNK_ROWS;
            let n = CHUNK_ROWS.min(rows - r0);
            // SAFETY: chunk `c` owns rows `r0..r0 + n` of `gx` and partial `c` of each
            // buffer; no two chunks overlap, and the buffers outlive `for_each_piece`
            // (which returns only when every chunk is done).
            let (gx, gw, sums) = unsafe {
                (
                    std::slice::from_raw_parts_mut(gx_base.get().add(r0 * inp), n * inp),
                    std::slice::from_raw_parts_mut(weight_base.get().add(c * wlen), wlen),
                    std::slice::from_raw_parts_mut(sum_base.get().add(c * slen), slen),
                )
            };
            chunk_grads(a, r0, gx, (gw, sums));
        };
        if rows * inp >= PAR_MIN_ELEMS && chunks > 1 {
            for_each_piece(chunks, rayon::current_num_threads(), &chunk);
        } else {
            (0..chunks).for_each(chunk);
        }
    }
    // The partials added in chunk order (the empty sum is zero).
    let total = |partials: &[T], len: usize| {
        if len == 0 {
            Vec::new()
        } else {
            sum_partials_in_order(partials, len)
        }
    };
    let gw = wants.weight.then(|| total(&weight_partials, out * inp));
    let column_sums = wants.sums.then(|| total(&sum_partials, inp));
    recycle(weight_partials);
    recycle(sum_partials);
    ReluInputGrads {
        gx,
        gw,
        column_sums,
    }
}

/// One chunk starting at row `r0`: its rows of the masked input gradient into `gx`, and,
/// unless empty, its weight gradient `g^T h` over those rows into `gw` and the column sums
/// of its rows of `gx` added into `sums`.
fn chunk_grads<T: GemmElem>(
    a: &ReluInputLinear<'_, T>,
    r0: usize,
    gx: &mut [T],
    (gw, sums): (&mut [T], &mut [T]),
) {
    let (out, inp) = (a.out, a.inp);
    let rows = gx.len() / inp;
    let g = MatRef {
        data: a.g,
        offset: 0,
        row_stride: out,
        col_stride: 1,
    };
    let g_t = MatRef {
        row_stride: 1,
        col_stride: out,
        ..g
    };
    let h = MatRef {
        data: a.h,
        offset: 0,
        row_stride: inp,
        col_stride: 1,
    };
    // A narrow `g` (few outputs) takes the register kernel for `g W`, with `W` in rows.
    let w_rows = (out <= NARROW_OUT).then(|| rows_of(&a.w, out, inp));
    let zero = T::zero();
    for b0 in (0..rows).step_by(BLOCK_ROWS) {
        let n = BLOCK_ROWS.min(rows - b0);
        let row = r0 + b0;
        let block = &mut gx[b0 * inp..(b0 + n) * inp];
        let h_block = &a.h[row * inp..(row + n) * inp];
        if let Some(w) = &w_rows {
            let g_block = &a.g[row * out..(row + n) * out];
            masked_product(block, (g_block, w, h_block), out);
        } else {
            gemm_into(
                block,
                inp,
                (n, out, inp),
                (&g, row * out),
                (&a.w, a.w.offset),
                false,
            );
            for (v, &h) in block.iter_mut().zip(h_block) {
                *v = if h > zero { *v } else { zero };
            }
        }
        if !sums.is_empty() {
            // The block was just written: summed from cache, not memory.
            add_rows_into(sums, block);
        }
        if !gw.is_empty() {
            let lhs = (&g_t, row * out);
            gemm_into(gw, inp, (out, n, inp), lhs, (&h, row * inp), b0 > 0);
        }
    }
}

/// The `(out, in)` matrix `w` as contiguous rows (a copy only when it is strided, as a
/// transposed weight is; narrow weights are small).
fn rows_of<'a, T: GemmElem>(w: &MatRef<'a, T>, out: usize, inp: usize) -> Cow<'a, [T]> {
    if w.col_stride == 1 && (w.row_stride == inp || out <= 1) {
        return Cow::Borrowed(&w.data[w.offset..w.offset + out * inp]);
    }
    let mut rows = Vec::with_capacity(out * inp);
    for o in 0..out {
        rows.extend((0..inp).map(|i| w.data[w.offset + o * w.row_stride + i * w.col_stride]));
    }
    Cow::Owned(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sides_give_empty_or_zero_gradients() {
        let wants = ReluInputWants {
            weight: true,
            sums: true,
        };
        let run = |(rows, out, inp): (usize, usize, usize)| {
            let (g, h, w) = (
                vec![1.0f32; rows * out],
                vec![1.0f32; rows * inp],
                vec![1.0f32; out * inp],
            );
            let w = MatRef {
                data: &w,
                offset: 0,
                row_stride: inp,
                col_stride: 1,
            };
            let layer = ReluInputLinear {
                g: &g,
                w,
                h: &h,
                rows,
                out,
                inp,
            };
            let r = relu_input_grads(&layer, wants);
            (r.gx, r.gw.unwrap(), r.column_sums.unwrap())
        };
        // No rows: the weight gradient and the sums are empty sums (zeros).
        assert_eq!(run((0, 2, 3)), (vec![], vec![0.0; 6], vec![0.0; 3]));
        // No inputs or no outputs: nothing to compute, no panic.
        assert_eq!(run((4, 2, 0)), (vec![], vec![], vec![]));
        assert_eq!(run((4, 0, 3)), (vec![0.0; 12], vec![], vec![0.0; 3]));
        // One row of ones: g W = 2 per input, g^T h = 1 per weight.
        assert_eq!(run((1, 2, 3)), (vec![2.0; 3], vec![1.0; 6], vec![2.0; 3]));
    }
}
