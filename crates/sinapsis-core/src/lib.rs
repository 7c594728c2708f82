//! # sinapsis-core
//!
//! The tensor engine under Sinapsis: n-dimensional tensors (f32, f64, i64, bool) with
//! PyTorch's semantics, views without copies, broadcasting, reductions, matmul through an
//! AVX-512-capable GEMM, and define-by-run reverse-mode autograd.
//!
//! ```
//! use sinapsis_core::{Tensor, DType};
//! # fn main() -> sinapsis_core::Result<()> {
//! let w = Tensor::from_vec(vec![0.5f64, -1.0, 2.0], 3)?.requires_grad_(true)?;
//! let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], 3)?;
//! let loss = w.mul(&x)?.relu()?.sum_all()?;
//! loss.backward()?;
//! assert_eq!(w.grad().unwrap().to_vec::<f64>()?, vec![1.0, 0.0, 3.0]);
//! # Ok(()) }
//! ```
//!
//! Every backward rule lives in one place, `autograd/backward.rs`. Freed tensor buffers of
//! 64 KiB or more are cached for reuse; [`memory`] has the controls.

pub mod autograd;
pub mod cpu;
mod device;
mod dtype;
mod error;
mod layout;
pub mod memory;
pub mod random;
mod shape;
mod storage;
mod tensor;

pub use autograd::{gradcheck, is_grad_enabled, no_grad, GradCheck, NoGradGuard};
pub use device::{CudaDevice, Device};
pub use dtype::{DType, Element, FloatElem};
pub use error::{Error, Result};
pub use layout::Layout;
pub use random::{manual_seed, with_default_generator, Generator, GeneratorState};
pub use shape::{Dim, Dims, Shape};
pub use storage::{CpuStorage, CudaStorage, StorageElem};
pub use tensor::{Conv1dOptions, Conv2dOptions, IntoPair, NdArray, Tensor};
