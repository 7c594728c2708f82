//! Shared by this crate's integration tests.

use std::sync::{Mutex, MutexGuard};

static DEFAULT_GENERATOR: Mutex<()> = Mutex::new(());

/// Held by every test that seeds or draws from the process-wide default generator (layer
/// initialisation, dropout), as `torch.manual_seed` users do. The harness runs a file's tests
/// on parallel threads: without it, two tests interleave their draws and neither sees the
/// stream its seed promises.
pub fn default_generator() -> MutexGuard<'static, ()> {
    // A failed test poisons the lock; the generator itself is still a valid stream.
    DEFAULT_GENERATOR.lock().unwrap_or_else(|e| e.into_inner())
}
