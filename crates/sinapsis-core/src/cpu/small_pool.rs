//! A per-thread cache of recently freed mid-sized buffers (from [`MIN_BYTES`] up to the
//! shared cache's [`super::pool::MIN_POOLED_BYTES`]), reused when a buffer of exactly the
//! same capacity and element type is asked for again on the same thread.
//!
//! NOTE: why: glibc's per-thread fast path (tcache) serves chunks of up to 1032 bytes;
//! larger ones go through its bins, and `calloc` zeroes them too. A small network's
//! activations and gradients sit just above that (the circles network's 64 x 10 f32 batch
//! is 2560 bytes): there malloc, calloc and free cost ~1.5k instructions per tensor, ~8% of
//! a training step (callgrind). A training step asks for the same sizes every time, so
//! an exact-size stack per size, with no lock and no zeroing, serves nearly all of them.
//! Buffers of at least `MIN_POOLED_BYTES` go to the shared cache instead, and smaller
//! ones than [`MIN_BYTES`] stay with tcache, which is as fast as this.

use std::alloc::Layout;
use std::any::TypeId;
use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use super::pool::MIN_POOLED_BYTES;

/// Buffers of fewer bytes than this are left to the allocator's thread cache.
pub(crate) const MIN_BYTES: usize = 1024;

/// Buffers kept per size.
const MAX_PER_SIZE: usize = 8;

/// Distinct sizes kept; a new size beyond this evicts the least recently used one.
const MAX_SIZES: usize = 32;

/// Most bytes one thread keeps (bounded anyway by `MAX_SIZES * MAX_PER_SIZE` buffers of
/// under 64 KiB: 16 MiB).
const MAX_BYTES: usize = 4 << 20;

/// The buffers of one element type and capacity.
struct Bin {
    ty: TypeId,
    cap: usize,
    layout: Layout,
    /// Pointer and length of each kept buffer.
    bufs: Vec<(NonNull<u8>, usize)>,
    /// Clock value at the last use, for eviction.
    used: u64,
}

struct Cache {
    bins: Vec<Bin>,
    bytes: usize,
    clock: u64,
}

impl Cache {
    fn free_bin(&mut self, bin: Bin) {
        self.bytes -= bin.bufs.len() * bin.layout.size();
        for (p, _) in bin.bufs {
            // SAFETY: each pointer came from a `Vec` of this bin's element type and capacity
            // (see `put`), allocated by the global allocator with exactly `bin.layout`.
            unsafe { std::alloc::dealloc(p.as_ptr(), bin.layout) };
        }
    }

    fn clear(&mut self) {
        for bin in std::mem::take(&mut self.bins) {
            self.free_bin(bin);
        }
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        self.clear();
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache { bins: Vec::new(), bytes: 0, clock: 0 })
    };
}

/// Whether buffers of `cap` elements of `T` go through this cache.
#[inline]
pub(crate) fn handles<T>(cap: usize) -> bool {
    let bytes = cap.saturating_mul(std::mem::size_of::<T>());
    (MIN_BYTES..MIN_POOLED_BYTES).contains(&bytes) && !std::mem::needs_drop::<T>()
}

/// A kept buffer of exactly `cap` elements of `T`, holding the (initialised, stale)
/// elements it had when it was put here, or `None`.
pub(crate) fn take<T: 'static>(cap: usize) -> Option<Vec<T>> {
    debug_assert!(handles::<T>(cap));
    let ty = TypeId::of::<T>();
    CACHE
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            c.clock += 1;
            let clock = c.clock;
            let bin = c.bins.iter_mut().find(|b| b.cap == cap && b.ty == ty)?;
            let (p, len) = bin.bufs.pop()?;
            bin.used = clock;
            c.bytes -= bin.layout.size();
            // SAFETY: `p` came from a `Vec<T>` (same `TypeId`) of capacity `cap` whose first
            // `len` elements were initialised; `T` has no drop glue, so nothing was dropped
            // since (see `put`).
            Some(unsafe { Vec::from_raw_parts(p.as_ptr().cast::<T>(), len, cap) })
        })
        .ok()
        .flatten()
}

/// Keeps `v` for a later [`take`] of its capacity, or hands it back when it is not for
/// this cache or the cache is full (the caller drops it).
pub(crate) fn put<T: 'static>(v: Vec<T>) -> Option<Vec<T>> {
    let cap = v.capacity();
    if !handles::<T>(cap) {
        return Some(v);
    }
    let Ok(layout) = Layout::array::<T>(cap) else {
        return Some(v);
    };
    let ty = TypeId::of::<T>();
    let mut slot = Some(v);
    let _ = CACHE.try_with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else {
            return;
        };
        if c.bytes + layout.size() > MAX_BYTES {
            return;
        }
        c.clock += 1;
        let clock = c.clock;
        let at = match c.bins.iter().position(|b| b.cap == cap && b.ty == ty) {
            Some(i) => i,
            None => {
                if c.bins.len() >= MAX_SIZES {
                    let oldest = (0..c.bins.len())
                        .min_by_key(|&i| c.bins[i].used)
                        .expect("MAX_SIZES > 0");
                    let bin = c.bins.swap_remove(oldest);
                    c.free_bin(bin);
                }
                c.bins.push(Bin {
                    ty,
                    cap,
                    layout,
                    bufs: Vec::with_capacity(MAX_PER_SIZE),
                    used: clock,
                });
                c.bins.len() - 1
            }
        };
        let bin = &mut c.bins[at];
        if bin.bufs.len() >= MAX_PER_SIZE {
            return;
        }
        bin.used = clock;
        let Some(v) = slot.take() else { return };
        let mut v = ManuallyDrop::new(v);
        let p = NonNull::new(v.as_mut_ptr().cast::<u8>()).expect("a Vec's pointer is non-null");
        bin.bufs.push((p, v.len()));
        c.bytes += layout.size();
    });
    slot
}

/// Frees the calling thread's kept buffers.
pub(crate) fn clear() {
    let _ = CACHE.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c.clear();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_for_its_own_type_and_capacity_only() {
        clear();
        let v: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let (ptr, cap) = (v.as_ptr(), v.capacity());
        assert!(handles::<f32>(cap));
        assert!(put(v).is_none(), "kept");
        assert!(take::<f64>(cap).is_none(), "another element type");
        assert!(take::<f32>(cap + 1).is_none(), "another capacity");
        let back = take::<f32>(cap).expect("the kept buffer");
        assert_eq!(back.as_ptr(), ptr);
        assert_eq!(back.len(), 1000, "the stale content comes back initialised");
        assert_eq!(back[999], 999.0);
        assert!(take::<f32>(cap).is_none(), "taken once");
    }

    #[test]
    fn sizes_outside_the_range_and_full_bins_are_handed_back() {
        clear();
        assert!(put(vec![0f32; 16]).is_some(), "tcache's sizes");
        assert!(
            put(vec![0f32; 1 << 16]).is_some(),
            "the shared cache's sizes"
        );
        for _ in 0..MAX_PER_SIZE {
            assert!(put(vec![1f64; 300]).is_none());
        }
        assert!(put(vec![1f64; 300]).is_some(), "a full bin");
        clear();
        assert!(take::<f64>(300).is_none(), "cleared");
    }

    #[test]
    fn new_sizes_evict_the_least_recently_used_size() {
        clear();
        for i in 0..MAX_SIZES {
            assert!(put(Vec::<u8>::with_capacity(2000 + i)).is_none());
        }
        // Size 2000 is the oldest; using it makes 2001 the oldest.
        let v = take::<u8>(2000).unwrap();
        assert!(put(v).is_none());
        assert!(put(Vec::<u8>::with_capacity(5000)).is_none());
        assert!(take::<u8>(2001).is_none(), "evicted");
        assert!(take::<u8>(2000).is_some());
        assert!(take::<u8>(5000).is_some());
        clear();
    }
}
