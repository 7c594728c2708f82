//! # Sinapsis
//!
//! Deep learning in Rust with PyTorch's vocabulary and semantics. This crate is what users
//! depend on: it re-exports the tensor engine ([`sinapsis_core`]: tensors, autograd,
//! gradcheck, devices) and adds [`nn`] (modules, layers, initialisers, losses) and [`optim`]
//! (optimizers, learning-rate schedulers, gradient clipping).
//!
//! ```
//! use sinapsis::{Tensor, DType};
//! # fn main() -> sinapsis::Result<()> {
//! let x = Tensor::randn((4, 3), DType::F32)?;
//! let w = Tensor::randn((2, 3), DType::F32)?.requires_grad_(true)?;
//! let loss = x.linear(&w, None)?.relu()?.mean_all()?;
//! loss.backward()?;
//! assert_eq!(w.grad().unwrap().dims(), &[2, 3]);
//! # Ok(()) }
//! ```

pub use sinapsis_core::*;

pub mod checkpoint;
pub mod data;
mod float_map;
pub mod metrics;
pub mod nn;
pub mod optim;
pub mod plot;
pub mod tensorboard;
pub mod train;
pub mod workloads;
