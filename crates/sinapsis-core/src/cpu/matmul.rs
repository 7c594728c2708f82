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

use super::pool::{recycle, take_dirty, take_zeroed};
use crate::FloatElem;
use gemm::Parallelism;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

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
pub(crate) trait GemmElem: FloatElem + sealed::Sealed {
    /// Computes a small product without gemm where a kernel of this type has a way
    /// (`super::small_matmul`); `false` leaves it to gemm.
    ///
    /// # Safety
    /// As `gemm_block`.
    unsafe fn small_gemm(
        _dst: *mut Self,
        _dst_rs: usize,
        _mkn: (usize, usize, usize),
        _lhs: (&MatRef<'_, Self>, usize),
        _rhs: (&MatRef<'_, Self>, usize),
    ) -> bool {
        false
    }
}
impl GemmElem for f32 {
    unsafe fn small_gemm(
        dst: *mut f32,
        dst_rs: usize,
        mkn: (usize, usize, usize),
        lhs: (&MatRef<'_, f32>, usize),
        rhs: (&MatRef<'_, f32>, usize),
    ) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { super::small_matmul::gemm_f32(dst, dst_rs, mkn, lhs, rhs) }
    }
}
impl GemmElem for f64 {}

/// Multiply-adds (`m * k * n`) from which one product is split across rayon threads.
///
/// NOTE: measured on the reference 2-core VM: one thread runs gemm at ~110 G multiply-adds/s,
/// and an isolated product split in two gains 1.25-1.45x at 1M multiply-adds and 1.6-1.8x
/// at 10M (`benches/core.rs`). Inside a training loop the split did not pay at those sizes:
/// with the threshold at 1M, W2 (784-100-50-10, products of 10M) took 0.186 s per epoch
/// on two threads and 0.160 s on one; at 16M, 0.164 s on two (`sinapsis bench`, medians
/// of 3, quiet machine), since every split hands work to a helper that must wake and
/// packs the shared operand again. Products from 16M up (W3's 4.7G, W5's 78M, the CNN's
/// convolutions) are split; W2's stay on the calling thread.
pub(crate) const PAR_MIN_WORK: usize = 1 << 24;

/// Rows (or columns) per parallel piece are a multiple of this, so that every piece keeps
/// gemm's register tiles full (16 f32 lanes in an AVX-512 register).
const SPLIT_ALIGN: usize = 16;

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
pub(crate) struct DstPtr<T>(pub(crate) *mut T);
// SAFETY: only used to hand disjoint blocks of one buffer to rayon tasks, which all finish
// before the buffer is used again (see `gemm_one` and `linear_grad`).
unsafe impl<T: Send> Send for DstPtr<T> {}
unsafe impl<T: Send> Sync for DstPtr<T> {}

impl<T> DstPtr<T> {
    /// The pointer. A method, so that closures capture the whole (`Send`) wrapper rather
    /// than its raw-pointer field.
    pub(crate) fn get(self) -> *mut T {
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
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm_block_into(
            dst,
            dst_rs,
            (m, k, n),
            (lhs, lhs_offset),
            (rhs, rhs_offset),
            false,
        )
    }
}

/// [`gemm_block`], or with `accumulate`, `dst += lhs @ rhs` (the destination read and
/// added to).
///
/// # Safety
/// As `gemm_block`, and with `accumulate` `dst` must also be valid for reads there.
unsafe fn gemm_block_into<T: GemmElem>(
    dst: *mut T,
    dst_rs: usize,
    (m, k, n): (usize, usize, usize),
    (lhs, lhs_offset): (&MatRef<'_, T>, usize),
    (rhs, rhs_offset): (&MatRef<'_, T>, usize),
    accumulate: bool,
) {
    if m == 0 || n == 0 || k == 0 {
        // Without `accumulate` the caller's buffer is already zero, the value of an empty
        // sum; with it, adding nothing leaves it as it is.
        return;
    }
    check_bounds("lhs", lhs, lhs_offset, m, k);
    check_bounds("rhs", rhs, rhs_offset, k, n);
    // SAFETY: the operands were bounds-checked just above; the caller guarantees the
    // destination block. The small kernels only overwrite.
    if !accumulate
        && unsafe { T::small_gemm(dst, dst_rs, (m, k, n), (lhs, lhs_offset), (rhs, rhs_offset)) }
    {
        return;
    }
    // Strides of a size-1 dim are never multiplied by a non-zero index; normalising them to
    // 1 lets gemm take its unit-stride fast paths (gemv, small-matrix kernels) more often.
    let unit = |size: usize, s: usize| if size == 1 { 1 } else { s as isize };
    // SAFETY: `check_bounds` proved that every element gemm reads, `offset + i*rs + j*cs`
    // for `i < rows`, `j < cols`, lies inside the operand's slice; the caller guarantees the
    // destination block. Without `accumulate`, `read_dst = false`: the old content of
    // `dst` is never read (and `alpha` is ignored); `beta = 1` gives `dst = lhs @ rhs`.
    // With it, `alpha = beta = 1` gives `dst = dst + lhs @ rhs`. The operands are shared
    // borrows, so nothing written aliases them.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr().add(lhs_offset),
            unit(k, lhs.col_stride),
            unit(m, lhs.row_stride),
            rhs.data.as_ptr().add(rhs_offset),
            unit(n, rhs.col_stride),
            unit(k, rhs.row_stride),
            if accumulate { T::one() } else { T::zero() },
            T::one(),
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// `dst = lhs @ rhs`, or with `accumulate` `dst += lhs @ rhs`, for one `(m x k) @ (k x n)`
/// product on the calling thread; `dst` is row-major with row stride `dst_rs`. For kernels
/// that work through a large product block by block while the blocks are in cache.
///
/// # Panics
/// If an element of the product would fall outside `dst` or an operand (an internal bug).
pub(crate) fn gemm_into<T: GemmElem>(
    dst: &mut [T],
    dst_rs: usize,
    (m, k, n): (usize, usize, usize),
    (lhs, lhs_offset): (&MatRef<'_, T>, usize),
    (rhs, rhs_offset): (&MatRef<'_, T>, usize),
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        n <= dst_rs && (m - 1) * dst_rs + n <= dst.len(),
        "gemm_into: a {m}x{n} block with row stride {dst_rs} does not fit {} elements",
        dst.len()
    );
    if k == 0 && !accumulate {
        dst.chunks_mut(dst_rs)
            .take(m)
            .for_each(|row| row[..n].fill(T::zero()));
        return;
    }
    // SAFETY: `dst` is an exclusive borrow that holds every `i * dst_rs + j` (checked just
    // above); the operands are bounds-checked inside.
    unsafe {
        gemm_block_into(
            dst.as_mut_ptr(),
            dst_rs,
            (m, k, n),
            (lhs, lhs_offset),
            (rhs, rhs_offset),
            accumulate,
        )
    }
}

/// Runs `f(0)`, ..., `f(pieces - 1)` on the calling thread and up to `threads - 1` rayon
/// helpers; each participant claims the next unclaimed piece until none is left.
///
/// NOTE: why not `par_iter` or `rayon::scope`: called from outside the pool (the usual
/// case: the training loop's own thread) those put the job in the pool's queue and put the
/// caller to sleep until idle workers wake up, pick it up and wake the caller again: 10-25
/// µs on the reference 2-core VM, as long as the whole product at W2 sizes. Here the caller
/// starts on the pieces at once and waits only for pieces a helper has *claimed*, never for
/// a helper to start: a helper that wakes late (or whose core is busy with another process)
/// finds nothing left, and the product costs what it costs on one thread.
pub(crate) fn for_each_piece(pieces: usize, threads: usize, f: &(dyn Fn(usize) + Sync)) {
    let helpers = threads.min(pieces).saturating_sub(1);
    if helpers == 0 {
        (0..pieces).for_each(f);
        return;
    }
    // SAFETY (lifetime erasure): helpers only call `f` for a piece they claimed below
    // `pieces`, and this function returns only once every claimed piece is done, so `f`
    // outlives every call. A helper that runs after we returned claims nothing and never
    // touches `f`.
    let f: *const (dyn Fn(usize) + Sync + '_) = f;
    let f: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(f) };
    let shared = Arc::new(Pieces {
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        panicked: AtomicBool::new(false),
        pieces,
        f,
    });
    for _ in 0..helpers {
        let s = Arc::clone(&shared);
        rayon::spawn(move || s.work());
    }
    shared.work();
    // Only pieces already claimed by helpers can be outstanding: a short wait.
    let mut spins = 0u32;
    while shared.done.load(Ordering::Acquire) < pieces {
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    if shared.panicked.load(Ordering::Relaxed) {
        panic!("gemm: a helper thread panicked");
    }
}

/// The state `for_each_piece` shares with its helpers.
struct Pieces {
    /// The next unclaimed piece.
    next: AtomicUsize,
    /// Pieces finished (by anyone).
    done: AtomicUsize,
    panicked: AtomicBool,
    pieces: usize,
    /// The caller's closure, valid while some claimed piece is not done (see above).
    f: *const (dyn Fn(usize) + Sync + 'static),
}

// SAFETY: `f` points to a `Sync` closure and is only called as described on
// `for_each_piece`; the counters are atomics.
unsafe impl Send for Pieces {}
unsafe impl Sync for Pieces {}

impl Pieces {
    fn work(&self) {
        loop {
            let p = self.next.fetch_add(1, Ordering::Relaxed);
            if p >= self.pieces {
                return;
            }
            // SAFETY: `p < pieces` is claimed by this thread alone, and the owner of `f`
            // waits for it to be counted in `done` before `f` goes away.
            let f = unsafe { &*self.f };
            // A panic must still count the piece as done, or the caller would wait forever.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(p))).is_err() {
                self.panicked.store(true, Ordering::Relaxed);
            }
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// Products whose inner dim is at least this many times their larger outer dim, and whose
/// outer dims are both at least `K_SPLIT_MIN_SIDE`, are split along `k` (see
/// [`gemm_split_k`]). NOTE: with a thin side (W3's 10x60000x100, the second layer's weight
/// gradient) the halves ran slower than the split by columns (1.1 vs 0.8 ms).
const K_SPLIT_RATIO: usize = 8;
const K_SPLIT_MIN_SIDE: usize = 64;

/// `dst = lhs @ rhs` as two half-`k` products added, the halves run side by side: for a
/// weight gradient `g^T x`, whose inner dim is the batch (W3: 100x60000x784).
///
/// NOTE: split by rows or columns, each thread packed the whole shared operand (the 60000
/// x 100 gradient): 310 GFLOP/s. Split along `k`, each thread packs only its half of both
/// operands: 345 GFLOP/s; and computed transposed when `n > m` (`C^T = B^T A^T`, so that
/// gemm's register tiles run along the smaller side, as in W3's forward product, which
/// runs at ~410): 360. The two halves are always summed this way, on one thread too, so
/// the result does not depend on the thread count.
fn gemm_split_k<T: GemmElem>(
    dst: &mut [T],
    (m, k, n): (usize, usize, usize),
    (lhs, lo): (&MatRef<'_, T>, usize),
    (rhs, ro): (&MatRef<'_, T>, usize),
) {
    let half = k / 2;
    let flip = n > m;
    // Each half's product, as (rows, cols, left operand, right operand): the operands
    // swapped and transposed when flipped.
    fn swap<'a, T>(t: &MatRef<'a, T>) -> MatRef<'a, T> {
        MatRef {
            row_stride: t.col_stride,
            col_stride: t.row_stride,
            ..*t
        }
    }
    let (rows, cols, a, b) = if flip {
        (n, m, swap(rhs), swap(lhs))
    } else {
        (m, n, *lhs, *rhs)
    };
    // Start of the k-th inner index in each operand (its column in `lhs`, row in `rhs`).
    let at = |k0: usize| {
        let (la, lb) = (lo + k0 * lhs.col_stride, ro + k0 * rhs.row_stride);
        if flip {
            (lb, la)
        } else {
            (la, lb)
        }
    };
    let mut halves = [take_dirty(m * n, T::zero()), take_dirty(m * n, T::zero())];
    let parts = [
        DstPtr(halves[0].as_mut_ptr()),
        DstPtr(halves[1].as_mut_ptr()),
    ];
    for_each_piece(2, rayon::current_num_threads(), &|p| {
        let (k0, len) = if p == 0 { (0, half) } else { (half, k - half) };
        let (oa, ob) = at(k0);
        // SAFETY: piece `p` writes only `halves[p]`, `m * n` elements borrowed until both
        // pieces are done; the operands' k-ranges lie inside the `m x k` and `k x n` views
        // the caller passed (gemm_block checks them again).
        unsafe { gemm_block(parts[p].get(), cols, (rows, len, cols), (&a, oa), (&b, ob)) }
    });
    let [lower, upper] = &halves;
    if flip {
        // `lower` and `upper` hold C^T (n x m): element (i, j) of C is at j * m + i.
        for (i, row) in dst.chunks_exact_mut(n).enumerate() {
            for (j, d) in row.iter_mut().enumerate() {
                *d = lower[j * m + i] + upper[j * m + i];
            }
        }
    } else {
        for ((d, &l), &u) in dst.iter_mut().zip(lower).zip(upper) {
            *d = l + u;
        }
    }
    let [lower, upper] = halves;
    recycle(lower);
    recycle(upper);
}

/// One `(m x k) @ (k x n)` product into the row-major `m * n` buffer `dst`, split into
/// blocks of rows (or of columns, when `n > m`) across the rayon pool when it is large
/// enough to pay for waking the pool.
///
/// NOTE: splitting here, rather than passing `Parallelism::Rayon` to gemm, costs one
/// hand-off per product; gemm's own threading forks once per (k-chunk, n-chunk) block
/// from a sleeping caller and prepacks one operand serially, which measured 1.3-4x slower
/// on the MLP shapes (128x784x100: 90-320 vs 360-390 GFLOP/s; 784x60000x100: 290 vs 380).
/// One piece per thread: each piece packs the shared operand again, and finer pieces
/// measured slower on every shape, loaded or not (784x60000x100: 350 vs 382 GFLOP/s).
fn gemm_one<T: GemmElem>(
    dst: &mut [T],
    (m, k, n): (usize, usize, usize),
    (lhs, lo): (&MatRef<'_, T>, usize),
    (rhs, ro): (&MatRef<'_, T>, usize),
) {
    assert_eq!(dst.len(), m * n, "gemm: destination size");
    if m * k * n >= PAR_MIN_WORK && k >= K_SPLIT_RATIO * m.max(n) && m.min(n) >= K_SPLIT_MIN_SIDE {
        gemm_split_k(dst, (m, k, n), (lhs, lo), (rhs, ro));
        return;
    }
    let threads = rayon::current_num_threads();
    let (by_rows, len) = if m >= n { (true, m) } else { (false, n) };
    let piece = len.div_ceil(threads).next_multiple_of(SPLIT_ALIGN).max(1);
    let pieces = len.div_ceil(piece);
    if threads < 2 || m * k * n < PAR_MIN_WORK || pieces < 2 {
        // SAFETY: `dst` is an exclusive borrow of `m * n` elements (checked above).
        unsafe { gemm_block(dst.as_mut_ptr(), n, (m, k, n), (lhs, lo), (rhs, ro)) };
        return;
    }
    let base = DstPtr(dst.as_mut_ptr());
    for_each_piece(pieces, threads, &|p| {
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
    let len = offsets.len() * mn;
    if mn == 0 || k == 0 {
        // The zeros are the answer when `k == 0`.
        return take_zeroed(len, T::zero());
    }
    // NOTE: gemm never reads the destination (`read_dst = false`) and writes every element,
    // so the buffer may hold anything: a cached buffer is used as it is (no pass over it),
    // and a fresh one comes from calloc, whose large buffers arrive from the OS already
    // zero, again without a pass.
    let mut out = take_dirty(len, T::zero());
    let work = m * k * n;
    let threads = rayon::current_num_threads();
    let batch = offsets.len();
    if batch > 1 && threads > 1 && work < PAR_MIN_WORK && work * batch >= PAR_MIN_WORK {
        // Many small products: one run of whole products per thread, shared out as the
        // pieces of one big product are.
        let per_piece = batch.div_ceil(threads);
        let base = DstPtr(out.as_mut_ptr());
        for_each_piece(batch.div_ceil(per_piece), threads, &|p| {
            let first = p * per_piece;
            let last = (first + per_piece).min(batch);
            for (b, &(lo, ro)) in offsets.iter().enumerate().take(last).skip(first) {
                // SAFETY: `out` holds `batch * mn` elements and stays borrowed until every
                // piece is done; product `b` writes only its own `mn` elements at `b * mn`.
                let dst = unsafe { std::slice::from_raw_parts_mut(base.get().add(b * mn), mn) };
                gemm_one(
                    dst,
                    (m, k, n),
                    (&lhs, lhs.offset + lo),
                    (&rhs, rhs.offset + ro),
                );
            }
        });
    } else {
        for (dst, &(lo, ro)) in out.chunks_mut(mn).zip(offsets) {
            gemm_one(
                dst,
                (m, k, n),
                (&lhs, lhs.offset + lo),
                (&rhs, rhs.offset + ro),
            );
        }
    }
    out
}
