//! Controls for the host buffer cache (PyTorch's `torch.cuda.memory` controls, for CPU).
//!
//! Freed tensor buffers of 64 KiB or more are kept in a process-wide cache, keyed by
//! element type and size class, and handed to the next tensor of a similar size; that
//! saves the page faults of fresh memory on every training step. The cache holds at most
//! [`cache_limit`] bytes (1 GiB by default), evicting the least recently freed buffers
//! first. Only where memory comes from changes: results are the same with or without it.
//!
//! ```
//! use sinapsis_core::{memory, Tensor, DType};
//! # fn main() -> sinapsis_core::Result<()> {
//! let before = memory::cache_stats();
//! drop(Tensor::zeros((512, 512), DType::F32)?); // 1 MiB, returned to the cache
//! let y = Tensor::zeros((512, 512), DType::F32)?; // served from the cache
//! assert!(memory::cache_stats().hits > before.hits);
//! assert_eq!(y.sum_all()?.item::<f32>()?, 0.0);
//! memory::empty_cache(); // give the cached memory back to the allocator
//! # Ok(()) }
//! ```

use crate::cpu::pool;

/// Counters of the buffer cache, from [`cache_stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
    /// Bytes held by cached (free) buffers right now.
    pub cached_bytes: usize,
    /// Number of cached buffers right now.
    pub cached_buffers: usize,
    /// The most bytes cached at once since the start (or the last [`reset_cache_stats`]).
    pub peak_cached_bytes: usize,
    /// The bound on cached bytes ([`set_cache_limit`]).
    pub limit_bytes: usize,
    /// Large buffer requests served from the cache.
    pub hits: u64,
    /// Large buffer requests that had to allocate.
    pub misses: u64,
    /// Buffers freed to the allocator to stay under the limit.
    pub evictions: u64,
}

/// Buffers smaller than this many bytes bypass the shared cache: those of 1 KiB and more
/// are kept in a small per-thread cache instead (exact sizes, at most 4 MiB per thread),
/// smaller ones are left to malloc's own thread cache.
pub const MIN_CACHED_BYTES: usize = pool::MIN_POOLED_BYTES;

/// Frees every cached buffer back to the allocator (PyTorch's `empty_cache`): the shared
/// cache's, and the calling thread's small buffers. Buffers in use by live tensors are not
/// affected.
///
/// ```
/// sinapsis_core::memory::empty_cache();
/// assert_eq!(sinapsis_core::memory::cache_stats().cached_bytes, 0);
/// ```
pub fn empty_cache() {
    pool::clear();
}

/// Sets the most bytes the cache may hold, evicting least recently freed buffers until it
/// fits. `0` turns caching off.
///
/// ```
/// use sinapsis_core::memory;
/// let old = memory::cache_limit();
/// memory::set_cache_limit(256 << 20); // 256 MiB
/// assert!(memory::cache_stats().cached_bytes <= 256 << 20);
/// memory::set_cache_limit(old);
/// ```
pub fn set_cache_limit(bytes: usize) {
    pool::set_limit(bytes);
}

/// The current bound on cached bytes (1 GiB unless changed by [`set_cache_limit`]).
///
/// ```
/// assert!(sinapsis_core::memory::cache_limit() > 0);
/// ```
pub fn cache_limit() -> usize {
    pool::snapshot().limit
}

/// A snapshot of the cache's counters.
///
/// ```
/// let s = sinapsis_core::memory::cache_stats();
/// assert!(s.cached_bytes <= s.limit_bytes);
/// ```
pub fn cache_stats() -> CacheStats {
    let s = pool::snapshot();
    CacheStats {
        cached_bytes: s.cached_bytes,
        cached_buffers: s.cached_buffers,
        peak_cached_bytes: s.peak_cached_bytes,
        limit_bytes: s.limit,
        hits: s.hits,
        misses: s.misses,
        evictions: s.evictions,
    }
}

/// An empty `Vec` with room for at least `n` elements, from the cache when it holds a
/// buffer of that size class. For code that builds a tensor's data itself (a data loader
/// gathering a batch): fill it with `extend`, hand it to [`Tensor::from_vec`], and when the
/// tensor drops the buffer returns to the cache for the next batch, with its pages already
/// mapped.
///
/// ```
/// use sinapsis_core::{memory, Tensor};
/// let mut v: Vec<f32> = memory::empty_vec(100_000);
/// assert!(v.is_empty() && v.capacity() >= 100_000);
/// v.extend((0..100_000).map(|i| i as f32));
/// let t = Tensor::from_vec(v, (1000, 100))?;
/// assert_eq!(t.dims(), &[1000, 100]);
/// # Ok::<(), sinapsis_core::Error>(())
/// ```
///
/// [`Tensor::from_vec`]: crate::Tensor::from_vec
pub fn empty_vec<T: Send + 'static>(n: usize) -> Vec<T> {
    pool::take_empty(n)
}

/// Hands a buffer that is no longer needed to the cache (small buffers are simply freed).
/// Tensors do this themselves when they drop; this is for scratch `Vec`s of the caller's.
///
/// ```
/// use sinapsis_core::memory;
/// memory::recycle_vec(vec![0.0f64; 1 << 16]);
/// ```
pub fn recycle_vec<T: Send + 'static>(v: Vec<T>) {
    pool::recycle(v);
}

/// Zeroes the hit, miss and eviction counters and sets the peak to the current size.
///
/// ```
/// sinapsis_core::memory::reset_cache_stats();
/// ```
pub fn reset_cache_stats() {
    pool::reset_counters();
}
