//! CPU kernels. Each fast kernel has a plain reference twin in `reference` that tests
//! compare it against on odd sizes and non-contiguous layouts.

pub(crate) mod conv;
pub(crate) mod fast_exp;
pub(crate) mod linear_grad;
pub(crate) mod matmul;
pub(crate) mod narrow;
pub(crate) mod pool;
pub(crate) mod reduce;
pub mod reference;
pub(crate) mod rows;
pub(crate) mod small_matmul;
pub(crate) mod small_pool;
pub(crate) mod strided;

/// Element count above which elementwise kernels split work across rayon threads.
/// NOTE: handing work to rayon from a thread outside its pool (the training loop's) costs
/// 10-25 us on the reference 2-core machine, about what one core needs for 2^18 simple f32
/// ops; below that the split loses (a 128x784 MNIST batch, 100k elements, is one example).
pub(crate) const PAR_THRESHOLD: usize = 1 << 18;
