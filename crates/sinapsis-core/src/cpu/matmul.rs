//! Dense matrix products on the CPU through the `gemm` crate.
//!
//! Operands go to gemm with their strides as they are: row-major, transposed (strides
//! swapped), narrowed (a larger row stride) or broadcast (stride 0). gemm packs what it needs
//! into its own cache-sized panels, so `x.transpose(0, 1)?.matmul(&g)` costs no copy. The
//! result is always a fresh row-major buffer.
//!
//! gemm picks its AVX-512 / AVX2 / scalar kernels at run time (feature `x86-v4`), so the
//! binary runs on any x86-64.
//!
//! The plain triple loop in [`super::reference::matmul`] is the oracle the tests compare
//! this against.

use crate::FloatElem;
use gemm::Parallelism;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A read-only strided matrix: element `(i, j)` is
/// `data[offset + i * row_stride + j * col_stride]`. A stride of 0 broadcasts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The element types gemm multiplies here (f32 and f64). Sealed: gemm panics on any other
/// type, so no outside type may claim it.
pub(crate) trait GemmElem: FloatElem + sealed::Sealed {}
impl GemmElem for f32 {}
impl GemmElem for f64 {}

/// Multiply-adds (`m * k * n`) from which one product is split across rayon threads.
///
/// NOTE: on the reference 2-core VM a rayon fork/join issued from a thread outside the pool
/// (the usual case: the training loop's own thread) costs 10-20 µs, because the caller
/// sleeps on a latch and the workers must be woken. Single-threaded gemm runs at about 110
/// G multiply-adds/s, so a product needs ~2M multiply-adds (~20 µs) before splitting it can
/// win at all; measurements (`benches/core.rs`) put the break-even near 2-4M. Tiny per-step
/// shapes (64x2x10) and the small layers of an MLP stay on the calling thread.
pub(crate) const PAR_MIN_WORK: usize = 1 << 18;

/// Rows (or columns) per parallel piece are a multiple of this, so that every piece keeps
/// gemm's register tiles full (16 f32 lanes in an AVX-512 register).
const SPLIT_ALIGN: usize = 16;

/// Pieces per thread when a product is split: more than one lets a thread that started
/// late, or a core busy with something else, do less, at the cost of packing the shared
/// operand once per piece.
const PIECES_PER_THREAD: usize = 2;

/// The fewest rows (or columns) in one piece.
const MIN_PIECE: usize = 32;

/// Panics (an internal bug, never user input) if any element of an `rows x cols` view at
/// `offset` would fall outside `m.data`.
fn check_bounds<T>(what: &str, m: &MatRef<'_, T>, offset: usize, rows: usize, cols: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    let last = offset + (rows - 1) * m.row_stride + (cols - 1) * m.col_stride;
    assert!(
        last < m.data.len(),
        "gemm {what}: {rows}x{cols} view at offset {offset} with strides ({}, {}) reaches \
         index {last}, past a buffer of {}",
        m.row_stride,
        m.col_stride,
        m.data.len()
    );
}

/// A raw destination pointer that may cross threads; each thread writes a disjoint block.
#[derive(Clone, Copy)]
struct DstPtr<T>(*mut T);
// SAFETY: only used to hand disjoint blocks of one buffer to rayon tasks, which all finish
// before the buffer is used again (see `gemm_one`).
unsafe impl<T: Send> Send for DstPtr<T> {}
unsafe impl<T: Send> Sync for DstPtr<T> {}

impl<T> DstPtr<T> {
    /// The pointer. A method, so that closures capture the whole (`Send`) wrapper rather
    /// than its raw-pointer field.
    fn get(self) -> *mut T {
        self.0
    }
}

/// `dst = lhs @ rhs` for one `(m x k) @ (k x n)` block, single-threaded. `dst` is row-major
/// with row stride `dst_rs` and unit column stride; it is overwritten, never read.
///
/// # Safety
/// `dst` must be valid for writes at `i * dst_rs + j` for all `i < m`, `j < n`, and no
/// other thread may touch those elements during the call. The operands are bounds-checked
/// here.
unsafe fn gemm_block<T: GemmElem>(
    dst: *mut T,
    dst_rs: usize,
    (m, k, n): (usize, usize, usize),
    (lhs, lhs_offset): (&MatRef<'_, T>, usize),
    (rhs, rhs_offset): (&MatRef<'_, T>, usize),
) {
    if m == 0 || n == 0 || k == 0 {
        return; // the caller's buffer is already zero, the value of an empty sum
    }
    check_bounds("lhs", lhs, lhs_offset, m, k);
    check_bounds("rhs", rhs, rhs_offset, k, n);
    // Strides of a size-1 dim are never multiplied by a non-zero index; normalising them to
    // 1 lets gemm take its unit-stride fast paths (gemv, small-matrix kernels) more often.
    let unit = |size: usize, s: usize| if size == 1 { 1 } else { s as isize };
    // SAFETY: `check_bounds` proved that every element gemm reads, `offset + i*rs + j*cs`
    // for `i < rows`, `j < cols`, lies inside the operand's slice; the caller guarantees the
    // destination block. `read_dst = false`: the old content of `dst` is never read (and
    // `alpha` is ignored); `beta = 1` gives `dst = lhs @ rhs`. The operands are shared
    // borrows, so nothing written aliases them.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            false,
            lhs.data.as_ptr().add(lhs_offset),
            unit(k, lhs.col_stride),
            unit(m, lhs.row_stride),
            rhs.data.as_ptr().add(rhs_offset),
            unit(n, rhs.col_stride),
            unit(k, rhs.row_stride),
            T::zero(),
            T::one(),
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// Runs `f(0)`, ..., `f(pieces - 1)` on the calling thread plus `helpers` rayon tasks; each
/// participant claims the next unclaimed piece until none is left.
///
/// NOTE: the caller works from the start instead of sleeping until pool threads pick the
/// job up (what `par_iter` does when called from outside the pool). Waking an idle rayon
/// worker takes 5-20 µs on the reference VM; meanwhile the caller is already computing,
/// and a helper that starts late (or a core busy with another process) simply ends up
/// claiming fewer pieces.
fn for_each_piece(pieces: usize, helpers: usize, f: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    let work = || loop {
        let p = next.fetch_add(1, Ordering::Relaxed);
        if p >= pieces {
            break;
        }
        f(p);
    };
    rayon::in_place_scope(|s| {
        for _ in 0..helpers.min(pieces - 1) {
            s.spawn(|_| work());
        }
        work();
    });
}

/// One `(m x k) @ (k x n)` product into the row-major `m * n` buffer `dst`, split into
/// blocks of rows (or of columns, when `n > m`) across the rayon pool when it is large
/// enough to pay for waking the pool.
///
/// NOTE: splitting here, rather than passing `Parallelism::Rayon` to gemm, costs one
/// fork/join per product; gemm forks once per (k-chunk, n-chunk) block and prepacks one
/// operand serially, which measured 1.2-2x slower on the MLP shapes (e.g. 784x60000x100).
/// Each block packs the shared operand again, so blocks stay at least `MIN_PIECE` long.
fn gemm_one<T: GemmElem>(
    dst: &mut [T],
    (m, k, n): (usize, usize, usize),
    (lhs, lo): (&MatRef<'_, T>, usize),
    (rhs, ro): (&MatRef<'_, T>, usize),
) {
    assert_eq!(dst.len(), m * n, "gemm: destination size");
    let threads = rayon::current_num_threads();
    let (by_rows, len) = if m >= n { (true, m) } else { (false, n) };
    let piece = len
        .div_ceil(threads * PIECES_PER_THREAD)
        .next_multiple_of(SPLIT_ALIGN)
        .max(MIN_PIECE);
    let pieces = len.div_ceil(piece);
    if threads < 2 || m * k * n < PAR_MIN_WORK || pieces < 2 {
        // SAFETY: `dst` is an exclusive borrow of `m * n` elements (checked above).
        unsafe { gemm_block(dst.as_mut_ptr(), n, (m, k, n), (lhs, lo), (rhs, ro)) };
        return;
    }
    // A caller outside the pool computes too, so it needs one helper fewer.
    let helpers = match rayon::current_thread_index() {
        None => threads - 1,
        Some(_) => threads,
    };
    let base = DstPtr(dst.as_mut_ptr());
    for_each_piece(pieces, helpers, |p| {
        let start = p * piece;
        let size = piece.min(len - start);
        // SAFETY: `dst` holds `m * n` elements and stays exclusively borrowed until every
        // piece has finished (`for_each_piece` returns only then). Piece `p` writes rows
        // `start..start + size` (or those columns) and nothing else, so pieces never
        // overlap.
        unsafe {
            if by_rows {
                gemm_block(
                    base.get().add(start * n),
                    n,
                    (size, k, n),
                    (lhs, lo + start * lhs.row_stride),
                    (rhs, ro),
                )
            } else {
                gemm_block(
                    base.get().add(start),
                    n,
                    (m, k, size),
                    (lhs, lo),
                    (rhs, ro + start * rhs.col_stride),
                )
            }
        }
    });
}

/// `lhs @ rhs` for one `(m x k) @ (k x n)` product, as a fresh row-major `m * n` buffer.
/// `lhs.offset` and `rhs.offset` locate the two matrices.
pub(crate) fn gemm<T: GemmElem>(
    m: usize,
    k: usize,
    n: usize,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
) -> Vec<T> {
    gemm_batched(m, k, n, lhs, rhs, &[(0, 0)])
}

/// A batch of `(m x k) @ (k x n)` products sharing strides, as one row-major buffer of
/// `offsets.len() * m * n` elements (product `b` at `b * m * n`).
///
/// Product `b` reads `lhs` at `lhs.offset + offsets[b].0` and `rhs` at
/// `rhs.offset + offsets[b].1`; a broadcast batch dim simply repeats an offset.
pub(crate) fn gemm_batched<T: GemmElem>(
    m: usize,
    k: usize,
    n: usize,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    offsets: &[(usize, usize)],
) -> Vec<T> {
    let mn = m * n;
    // NOTE: `vec![0; len]` allocates zeroed memory (calloc): large buffers come straight
    // from the OS already zero, so this costs no pass over the data before gemm writes it.
    // The zeros are also the answer when `k == 0`.
    let mut out = vec![T::zero(); offsets.len() * mn];
    if mn == 0 || k == 0 {
        return out;
    }
    let work = m * k * n;
    let run = |(dst, &(lo, ro)): (&mut [T], &(usize, usize))| {
        gemm_one(
            dst,
            (m, k, n),
            (&lhs, lhs.offset + lo),
            (&rhs, rhs.offset + ro),
        )
    };
    let many_small = offsets.len() > 1
        && work < PAR_MIN_WORK
        && work.saturating_mul(offsets.len()) >= PAR_MIN_WORK
        && rayon::current_num_threads() > 1;
    if many_small {
        // Many small products: whole products per task, several per task so that each
        // task carries about `PAR_MIN_WORK` multiply-adds.
        out.par_chunks_mut(mn)
            .zip(offsets.par_iter())
            .with_min_len((PAR_MIN_WORK / work).max(1))
            .for_each(run);
    } else {
        out.chunks_mut(mn).zip(offsets.iter()).for_each(run);
    }
    out
}
