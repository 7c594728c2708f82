//! Checkpoints: safetensors model and optimizer files, JSON metadata, atomic writes.
//!
//! - [`save_safetensors`] / [`load_safetensors`]: tensors in the format PyTorch's
//!   `safetensors.torch` reads and writes; [`save_model`] / [`load_model`] for a model's
//!   `state_dict()`.
//! - [`Checkpoint`]: a folder with `model.safetensors`, `optimizer.safetensors` and
//!   `checkpoint.json` ([`CheckpointMeta`]: epoch, step, scheduler, RNG, sampler, metrics),
//!   enough to resume training bit for bit.
//! - [`write_atomic`]: every file goes to a temporary name, is synced, then renamed, so a
//!   crash mid-save never destroys the previous version.

mod atomic;
mod folder;
mod meta;
mod safetensors_file;

pub use atomic::write_atomic;
pub use folder::{load_model, save_model, Checkpoint, META_FILE, MODEL_FILE, OPTIMIZER_FILE};
pub use meta::{CheckpointMeta, OptimizerMeta, RngState, SamplerState, FORMAT_VERSION};
pub use safetensors_file::{load_safetensors, load_safetensors_metadata, save_safetensors};
