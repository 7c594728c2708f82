//! CPU kernels. Each fast kernel has a plain reference twin in `reference` that tests
//! compare it against on odd sizes and non-contiguous layouts.

pub(crate) mod conv;
pub(crate) mod matmul;
pub(crate) mod reduce;
pub mod reference;
pub(crate) mod strided;

/// Element count above which elementwise kernels split work across rayon threads.
/// Below it the fork/join cost (a few microseconds) outweighs the gain.
pub(crate) const PAR_THRESHOLD: usize = 1 << 16;
