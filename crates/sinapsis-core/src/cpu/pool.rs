//! A process-wide cache of large freed host buffers, so that the big tensors of a training
//! step (activations, gradients, im2col and matmul outputs: megabytes each) reuse memory
//! that is already mapped instead of asking the allocator for fresh pages every step.
//!
//! NOTE: why a cache at all: glibc serves every allocation above its mmap threshold with a
//! fresh `mmap` and returns it with `munmap` on free, so each page of each big tensor
//! faults on first touch, every step. On the reference CNN benchmark that was 40-55% of
//! the batch time. Buffers below [`MIN_POOLED_BYTES`] bypass this cache (its lock costs
//! more than they gain): from 1 KiB they go to the lock-free per-thread cache of
//! [`super::small_pool`], below that to malloc's own thread cache.
//!
//! Buffers are keyed by element type and size class (powers of two, each split into
//! [`SUB_STEPS`] steps), so a request reuses any cached buffer of its class; a fresh buffer
//! is allocated with the full capacity of its class, so it can serve any later request of
//! that class (the last, smaller batch of an epoch included). The untouched tail of such
//! a buffer costs address space, not memory: its pages are never faulted in.
//!
//! The public controls are in [`crate::memory`].

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::small_pool;

/// Buffers smaller than this (in bytes) are neither cached nor taken from the cache.
pub(crate) const MIN_POOLED_BYTES: usize = 64 << 10;

/// How many size classes each power of two is split into (rounding waste <= 1/4).
const SUB_STEPS: usize = 4;

/// A cached buffer not taken again within this many returns to the cache is freed.
///
/// NOTE: a shape seen for a while and then no more (an evaluation pass with its own batch
/// size between training epochs) would otherwise keep its buffers until the byte limit
/// pushes them out. A training step returns tens to a few hundred large buffers (about 25
/// on the CNN benchmark), so this keeps an unused buffer for several steps at least.
const MAX_AGE: u64 = 2048;

/// How often (in returns) old buffers are looked for.
const SWEEP_EVERY: u64 = 64;

/// Default bound on the bytes held by the cache (see [`crate::memory::set_cache_limit`]).
pub(crate) const DEFAULT_LIMIT_BYTES: usize = 1 << 30;

/// One cached buffer: a `Vec<T>` behind `Any`, with the time it was returned (for eviction
/// of the least recently returned buffer first).
struct Cached {
    stamp: u64,
    bytes: usize,
    buf: Box<dyn Any + Send>,
}

struct Cache {
    /// `(element type, class length in elements)` -> buffers of at least that capacity.
    bins: BTreeMap<(TypeId, usize), Vec<Cached>>,
    cached_bytes: usize,
    cached_buffers: usize,
    limit: usize,
    clock: u64,
    hits: u64,
    misses: u64,
    evictions: u64,
    peak_cached_bytes: usize,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    bins: BTreeMap::new(),
    cached_bytes: 0,
    cached_buffers: 0,
    limit: DEFAULT_LIMIT_BYTES,
    clock: 0,
    hits: 0,
    misses: 0,
    evictions: 0,
    peak_cached_bytes: 0,
});

fn cache() -> MutexGuard<'static, Cache> {
    // A panic while holding the lock leaves the maps consistent (every update is a single
    // push or pop followed by counter updates), so a poisoned lock is still usable.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether buffers of `n` elements of `T` go through the cache.
#[inline]
fn pooled<T>(n: usize) -> bool {
    n.saturating_mul(std::mem::size_of::<T>()) >= MIN_POOLED_BYTES
}

/// The step between size classes around `n` (n >= 1).
fn class_step(n: usize) -> usize {
    let top = usize::BITS - 1 - n.leading_zeros();
    (1usize << top) / SUB_STEPS
}

/// The smallest class length that holds `n` elements.
pub(crate) fn class_ceil(n: usize) -> usize {
    let step = class_step(n).max(1);
    n.div_ceil(step).saturating_mul(step)
}

/// The largest class length that a buffer of capacity `cap` can serve.
pub(crate) fn class_floor(cap: usize) -> usize {
    let step = class_step(cap).max(1);
    cap / step * step
}

/// A cached buffer of at least `n` elements with arbitrary content and length, or `None`.
fn take_cached<T: Send + 'static>(n: usize) -> Option<Vec<T>> {
    let key = (TypeId::of::<T>(), class_ceil(n));
    let found = {
        let mut c = cache();
        let found = c.bins.get_mut(&key).and_then(Vec::pop);
        match &found {
            Some(e) => {
                c.hits += 1;
                c.cached_bytes -= e.bytes;
                c.cached_buffers -= 1;
            }
            None => c.misses += 1,
        }
        found
    };
    let v = *found?
        .buf
        .downcast::<Vec<T>>()
        .expect("pool: bins are keyed by element type");
    debug_assert!(v.capacity() >= n);
    Some(v)
}

/// A fresh allocation for `n` elements: the full capacity of `n`'s class when pooled.
fn fresh_capacity<T>(n: usize) -> usize {
    if pooled::<T>(n) {
        class_ceil(n)
    } else {
        n
    }
}

/// An empty `Vec` (length 0) with capacity for at least `n` elements, for kernels that
/// write every element with `extend`/`par_extend`.
pub(crate) fn take_empty<T: Send + 'static>(n: usize) -> Vec<T> {
    if small_pool::handles::<T>(n) {
        if let Some(mut v) = small_pool::take::<T>(n) {
            v.clear();
            return v;
        }
    } else if pooled::<T>(n) {
        if let Some(mut v) = take_cached::<T>(n) {
            v.clear();
            return v;
        }
    }
    Vec::with_capacity(fresh_capacity::<T>(n))
}

/// `n` copies of `value`: a cached buffer filled over, or a fresh one.
///
/// NOTE: for zero values a fresh buffer comes from `calloc` (`vec![0; n]`): large ones
/// arrive from the OS already zero, so no pass over them is made here.
pub(crate) fn take_filled<T: Copy + Send + 'static>(n: usize, value: T) -> Vec<T> {
    if small_pool::handles::<T>(n) {
        if let Some(mut v) = small_pool::take::<T>(n) {
            v.clear();
            v.resize(n, value);
            return v;
        }
    } else if pooled::<T>(n) {
        if let Some(mut v) = take_cached::<T>(n) {
            v.clear();
            v.resize(n, value);
            return v;
        }
        if all_zero_bits(&value) {
            // calloc: the pages past `n` are never touched, so they cost no memory.
            let mut v = vec![value; class_ceil(n)];
            v.truncate(n);
            return v;
        }
        let mut v = Vec::with_capacity(class_ceil(n));
        v.resize(n, value);
        return v;
    }
    vec![value; n]
}

/// Whether `value` is all zero bits (what calloc hands out) for the element types tensors
/// use; `false` for any other type.
fn all_zero_bits<T: 'static>(value: &T) -> bool {
    let v: &dyn Any = value;
    if let Some(x) = v.downcast_ref::<f32>() {
        x.to_bits() == 0
    } else if let Some(x) = v.downcast_ref::<f64>() {
        x.to_bits() == 0
    } else if let Some(x) = v.downcast_ref::<i64>() {
        *x == 0
    } else if let Some(x) = v.downcast_ref::<bool>() {
        !*x
    } else {
        false
    }
}

/// `n` elements, all equal to `zero` (the caller's zero of `T`).
pub(crate) fn take_zeroed<T: Copy + Send + 'static>(n: usize, zero: T) -> Vec<T> {
    take_filled(n, zero)
}

/// `n` elements with arbitrary (initialised, stale) content, for kernels that overwrite
/// every element before anything reads it. A cached buffer keeps whatever it held; only
/// the part past its old length is filled with `fill`.
pub(crate) fn take_dirty<T: Copy + Send + 'static>(n: usize, fill: T) -> Vec<T> {
    let kept = if small_pool::handles::<T>(n) {
        small_pool::take::<T>(n)
    } else if pooled::<T>(n) {
        take_cached::<T>(n)
    } else {
        None
    };
    if let Some(mut v) = kept {
        if v.len() >= n {
            v.truncate(n);
        } else {
            v.resize(n, fill);
        }
        return v;
    }
    take_filled(n, fill)
}

/// Hands a buffer that is no longer needed to the cache (or to the allocator when it is
/// small or the cache is full). Its content is kept: takers clear or overwrite it.
pub(crate) fn recycle<T: Send + 'static>(v: Vec<T>) {
    // Mid-sized buffers stay with the calling thread.
    let Some(v) = small_pool::put(v) else {
        return;
    };
    let cap = v.capacity();
    // NOTE: only buffers whose capacity is a class length are kept. Those the cache made
    // itself always are; one made elsewhere with an exact capacity (a data loader's batch
    // passed to `Tensor::from_vec`: 128 * 784 floats) would land in the class below its own
    // size, which its own size never asks for: on the CNN benchmark one such buffer per batch
    // piled up (+0.4 MB of RSS per batch). Such buffers go back to the allocator.
    if !pooled::<T>(cap) || class_floor(cap) != cap {
        return;
    }
    let bytes = cap * std::mem::size_of::<T>();
    let key = (TypeId::of::<T>(), cap);
    let mut evicted: Vec<Cached> = Vec::new();
    {
        let mut c = cache();
        if bytes > c.limit {
            c.evictions += 1;
            drop(c);
            return; // `v` is freed here, outside the lock
        }
        if c.clock % SWEEP_EVERY == 0 {
            let oldest = c.clock.saturating_sub(MAX_AGE);
            evicted.extend(c.expire_older_than(oldest));
        }
        while c.cached_bytes + bytes > c.limit {
            match c.pop_oldest() {
                Some(e) => evicted.push(e),
                None => break,
            }
        }
        c.clock += 1;
        let stamp = c.clock;
        c.bins.entry(key).or_default().push(Cached {
            stamp,
            bytes,
            buf: Box::new(v),
        });
        c.cached_bytes += bytes;
        c.cached_buffers += 1;
        c.peak_cached_bytes = c.peak_cached_bytes.max(c.cached_bytes);
    }
    drop(evicted); // munmap outside the lock
}

impl Cache {
    /// Removes every buffer returned before `stamp`.
    fn expire_older_than(&mut self, stamp: u64) -> Vec<Cached> {
        let mut out = Vec::new();
        for list in self.bins.values_mut() {
            let mut i = 0;
            while i < list.len() {
                if list[i].stamp < stamp {
                    out.push(list.swap_remove(i));
                } else {
                    i += 1;
                }
            }
        }
        self.bins.retain(|_, list| !list.is_empty());
        for e in &out {
            self.cached_bytes -= e.bytes;
            self.cached_buffers -= 1;
            self.evictions += 1;
        }
        out
    }

    /// Removes the least recently returned buffer.
    fn pop_oldest(&mut self) -> Option<Cached> {
        let (key, pos) = self
            .bins
            .iter()
            .flat_map(|(k, list)| list.iter().enumerate().map(move |(i, e)| (e.stamp, *k, i)))
            .min_by_key(|&(stamp, _, _)| stamp)
            .map(|(_, k, i)| (k, i))?;
        let list = self.bins.get_mut(&key)?;
        let e = list.remove(pos);
        if list.is_empty() {
            self.bins.remove(&key);
        }
        self.cached_bytes -= e.bytes;
        self.cached_buffers -= 1;
        self.evictions += 1;
        Some(e)
    }

    /// Evicts until at most `limit` bytes remain; returns what was evicted.
    fn shrink_to(&mut self, limit: usize) -> Vec<Cached> {
        let mut out = Vec::new();
        while self.cached_bytes > limit {
            match self.pop_oldest() {
                Some(e) => out.push(e),
                None => break,
            }
        }
        out
    }
}

/// A snapshot of the cache's counters (see [`crate::memory::CacheStats`]).
pub(crate) struct Snapshot {
    pub cached_bytes: usize,
    pub cached_buffers: usize,
    pub peak_cached_bytes: usize,
    pub limit: usize,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

pub(crate) fn snapshot() -> Snapshot {
    let c = cache();
    Snapshot {
        cached_bytes: c.cached_bytes,
        cached_buffers: c.cached_buffers,
        peak_cached_bytes: c.peak_cached_bytes,
        limit: c.limit,
        hits: c.hits,
        misses: c.misses,
        evictions: c.evictions,
    }
}

/// Frees every cached buffer (of the per-thread cache, the calling thread's).
pub(crate) fn clear() {
    small_pool::clear();
    let all = {
        let mut c = cache();
        c.cached_bytes = 0;
        c.cached_buffers = 0;
        std::mem::take(&mut c.bins)
    };
    drop(all);
}

/// Sets the bound on cached bytes, evicting down to it.
pub(crate) fn set_limit(bytes: usize) {
    let evicted = {
        let mut c = cache();
        c.limit = bytes;
        c.shrink_to(bytes)
    };
    drop(evicted);
}

/// Zeroes the hit, miss and eviction counters and the peak.
pub(crate) fn reset_counters() {
    let mut c = cache();
    c.hits = 0;
    c.misses = 0;
    c.evictions = 0;
    c.peak_cached_bytes = c.cached_bytes;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bits_are_recognised_per_type() {
        assert!(all_zero_bits(&0.0f32) && all_zero_bits(&0.0f64));
        assert!(all_zero_bits(&0i64) && all_zero_bits(&false));
        assert!(!all_zero_bits(&-0.0f32) && !all_zero_bits(&1.0f64) && !all_zero_bits(&true));
        assert!(!all_zero_bits(&0u8)); // not a tensor element type: treated as unknown
    }

    #[test]
    fn fresh_filled_buffers_hold_their_class_and_value() {
        let n = (MIN_POOLED_BYTES / 4) * 3 + 5;
        for value in [0.0f32, 2.5] {
            let v = take_filled(n, value);
            assert_eq!(v.len(), n);
            assert!(v.capacity() >= n && class_floor(v.capacity()) == class_ceil(n));
            assert!(v.iter().all(|&x| x == value));
        }
    }

    #[test]
    fn classes_round_up_and_down_consistently() {
        for n in [
            1usize,
            3,
            4,
            5,
            7,
            8,
            9,
            1000,
            16384,
            16385,
            100_000,
            1 << 20,
        ] {
            let c = class_ceil(n);
            assert!(c >= n && c - n <= n / 4 + 1, "n={n} class={c}");
            assert_eq!(class_floor(c), c, "a class length is its own floor");
            assert!(class_floor(c + 1) <= c + 1);
        }
        // A buffer of any capacity serves only classes it can hold.
        for cap in [5usize, 17, 99, 1 << 16, (1 << 16) + 5, 300_001] {
            assert!(class_floor(cap) <= cap);
            assert_eq!(class_ceil(class_floor(cap)), class_floor(cap));
        }
    }
}
