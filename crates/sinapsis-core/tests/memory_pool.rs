//! The host buffer cache (`sinapsis_core::memory`): reuse, limits, eviction, zeroing,
//! small-size bypass, concurrent use, and results that do not depend on where memory came
//! from.
//!
//! The cache is process-wide, so every test here takes `SERIAL` first: the counters one test
//! checks must not move because of another test's tensors.

use rayon::prelude::*;
use sinapsis_core::memory::{self, MIN_CACHED_BYTES};
use sinapsis_core::{Conv2dOptions, DType, Generator, Result, Tensor};
use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    memory::set_cache_limit(1 << 30);
    memory::empty_cache();
    memory::reset_cache_stats();
    g
}

/// Elements of a 256 KiB f32 buffer: well above the caching threshold.
const BIG: usize = 64 << 10;

#[test]
fn dropped_buffer_is_reused() -> Result<()> {
    let _g = serial();
    let t = Tensor::zeros(BIG, DType::F32)?;
    assert_eq!(memory::cache_stats().misses, 1);
    drop(t);
    let s = memory::cache_stats();
    assert_eq!(s.cached_buffers, 1);
    assert!(s.cached_bytes >= BIG * 4);
    let t = Tensor::ones(BIG, DType::F32)?;
    let s = memory::cache_stats();
    assert_eq!((s.hits, s.misses, s.cached_buffers), (1, 1, 0));
    assert_eq!(t.sum_all()?.item::<f32>()?, BIG as f32);
    // A slightly smaller request falls in the same size class and reuses it too.
    drop(t);
    let t = Tensor::zeros(BIG - 100, DType::F32)?;
    assert_eq!(memory::cache_stats().hits, 2);
    drop(t);
    // Element types never mix: an f64 request of the same byte size misses.
    let _d = Tensor::zeros(BIG / 2, DType::F64)?;
    assert_eq!(memory::cache_stats().misses, 2);
    Ok(())
}

#[test]
fn limit_is_respected_and_oldest_buffers_are_evicted() -> Result<()> {
    let _g = serial();
    let limit = 4 * BIG * 4; // four 256 KiB buffers
    memory::set_cache_limit(limit);
    let ts: Vec<Tensor> = (0..10)
        .map(|_| Tensor::zeros(BIG, DType::F32))
        .collect::<Result<_>>()?;
    drop(ts);
    let s = memory::cache_stats();
    assert!(s.cached_bytes <= limit, "{s:?}");
    assert_eq!(s.cached_buffers, 4, "{s:?}");
    assert_eq!(s.evictions, 6, "{s:?}");
    assert!(s.peak_cached_bytes <= limit);
    // Lowering the limit evicts at once; 0 turns caching off.
    memory::set_cache_limit(BIG * 4);
    assert_eq!(memory::cache_stats().cached_buffers, 1);
    memory::set_cache_limit(0);
    let s = memory::cache_stats();
    assert_eq!((s.cached_bytes, s.cached_buffers), (0, 0));
    drop(Tensor::zeros(BIG, DType::F32)?);
    assert_eq!(memory::cache_stats().cached_buffers, 0);
    memory::set_cache_limit(1 << 30);
    // empty_cache frees everything.
    drop(Tensor::zeros(BIG, DType::F32)?);
    assert!(memory::cache_stats().cached_bytes > 0);
    memory::empty_cache();
    assert_eq!(memory::cache_stats().cached_bytes, 0);
    Ok(())
}

#[test]
fn zeroed_takes_are_zero_after_a_dirty_buffer_was_returned() -> Result<()> {
    let _g = serial();
    for dtype in [DType::F32, DType::F64, DType::I64] {
        drop(Tensor::full(BIG, 7.0, dtype)?);
        let hits = memory::cache_stats().hits;
        let z = Tensor::zeros(BIG, dtype)?;
        assert_eq!(memory::cache_stats().hits, hits + 1, "{dtype:?}");
        assert!(z
            .to_dtype(DType::F64)?
            .to_vec::<f64>()?
            .iter()
            .all(|&v| v == 0.0));
    }
    // Accumulating kernels (max-pool backward scatters into a zeroed dx) see zeros too.
    let big_x = Tensor::ones((64, 16, 16, 16), DType::F32)?.requires_grad_(true)?;
    drop(Tensor::full((64, 16, 16, 16), f32::NAN as f64, DType::F32)?);
    big_x.max_pool2d(2, 2, 0)?.sum_all()?.backward()?;
    let g = big_x.grad().unwrap().to_vec::<f32>()?;
    assert_eq!(g.iter().filter(|&&v| v == 1.0).count(), g.len() / 4);
    assert!(g.iter().all(|&v| v == 0.0 || v == 1.0));
    Ok(())
}

#[test]
fn small_buffers_bypass_the_cache() -> Result<()> {
    let _g = serial();
    let small = MIN_CACHED_BYTES / 4 - 1; // f32 elements just under the threshold
    for _ in 0..5 {
        drop(Tensor::zeros(small, DType::F32)?.add_scalar(1.0)?);
    }
    let s = memory::cache_stats();
    assert_eq!((s.hits, s.misses, s.cached_buffers), (0, 0, 0), "{s:?}");
    Ok(())
}

#[test]
fn concurrent_take_and_return_from_rayon_threads() -> Result<()> {
    let _g = serial();
    memory::set_cache_limit(8 << 20);
    let sums: Vec<f32> = (0..64usize)
        .into_par_iter()
        .map(|i| -> Result<f32> {
            let n = BIG + (i % 5) * 1000;
            let t = Tensor::full(n, 1.0, DType::F32)?;
            let u = t.mul_scalar(2.0)?; // a second pooled buffer while the first is alive
            drop(t);
            let z = Tensor::zeros(n, DType::F32)?;
            u.add(&z)?.sum_all()?.item::<f32>()
        })
        .collect::<Result<_>>()?;
    for (i, s) in sums.iter().enumerate() {
        assert_eq!(*s, 2.0 * (BIG + (i % 5) * 1000) as f32);
    }
    let s = memory::cache_stats();
    assert!(s.cached_bytes <= 8 << 20, "{s:?}");
    assert!(s.hits > 0, "{s:?}");
    memory::set_cache_limit(1 << 30);
    Ok(())
}

/// A small CNN step: forward, backward and the gradients, as raw bits.
fn cnn_step_bits() -> Result<Vec<Vec<u32>>> {
    let mut g = Generator::new(7);
    let x = g.randn((16, 3, 20, 20), DType::F32)?;
    let w1 = g.randn((8, 3, 3, 3), DType::F32)?.requires_grad_(true)?;
    let b1 = g.randn(8, DType::F32)?.requires_grad_(true)?;
    let w2 = g
        .randn((8 * 10 * 10, 10), DType::F32)?
        .requires_grad_(true)?;
    let opts = Conv2dOptions {
        padding: (1, 1),
        ..Default::default()
    };
    let h = x
        .conv2d(&w1, Some(&b1), opts)?
        .relu()?
        .max_pool2d(2, 2, 0)?;
    let h2 = h.avg_pool2d(1, 1, 0)?.reshape((16, 800))?;
    let logits = h2.matmul(&w2)?;
    let loss = logits.log_softmax(1)?.sum_all()?;
    loss.backward()?;
    let bits = |t: &Tensor| -> Result<Vec<u32>> {
        Ok(t.to_vec::<f32>()?.iter().map(|v| v.to_bits()).collect())
    };
    Ok(vec![
        bits(&logits)?,
        bits(&logits.softmax(1)?)?,
        bits(&w1.grad().unwrap())?,
        bits(&b1.grad().unwrap())?,
        bits(&w2.grad().unwrap())?,
    ])
}

#[test]
fn results_do_not_depend_on_where_memory_came_from() -> Result<()> {
    let _g = serial();
    memory::set_cache_limit(0);
    let fresh = cnn_step_bits()?;
    memory::set_cache_limit(1 << 30);
    // Fill the cache with NaN-filled buffers of every size class the step uses.
    for _ in 0..3 {
        let junk: Vec<Tensor> = (0..40)
            .map(|i| Tensor::full(BIG / 4 + i * 2000, f64::NAN, DType::F32))
            .collect::<Result<_>>()?;
        drop(junk);
    }
    let reused = cnn_step_bits()?;
    assert!(memory::cache_stats().hits > 0);
    assert_eq!(fresh, reused);
    Ok(())
}

#[test]
fn buffers_not_asked_for_again_expire() -> Result<()> {
    let _g = serial();
    drop(Tensor::zeros(3 * BIG, DType::F32)?); // a shape that never comes back
    for _ in 0..3000 {
        drop(Tensor::zeros(BIG, DType::F32)?); // steady traffic in another class
    }
    let s = memory::cache_stats();
    assert_eq!(s.cached_buffers, 1, "{s:?}");
    assert_eq!(s.cached_bytes, BIG * 4, "{s:?}");
    assert_eq!(s.evictions, 1, "{s:?}");
    Ok(())
}

#[test]
fn foreign_buffers_of_odd_capacity_are_not_kept() -> Result<()> {
    let _g = serial();
    // A data loader's batch: exact capacity 128 * 784, not a size class of the cache.
    let batch = Tensor::from_vec(vec![0.5f32; 128 * 784], (128, 784))?;
    drop(batch);
    assert_eq!(memory::cache_stats().cached_buffers, 0);
    // Built from `empty_vec` it is kept, and the next batch reuses it.
    for _ in 0..3 {
        let mut v: Vec<f32> = memory::empty_vec(128 * 784);
        v.extend(std::iter::repeat_n(0.5, 128 * 784));
        drop(Tensor::from_vec(v, (128, 784))?);
    }
    let s = memory::cache_stats();
    assert_eq!((s.hits, s.misses, s.cached_buffers), (2, 1, 1), "{s:?}");
    Ok(())
}
