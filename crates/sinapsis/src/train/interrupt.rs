//! Ctrl-C handling: the first press asks the training loop to stop after the current step
//! (so callbacks can save a checkpoint); a second press exits at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Installs the process-wide Ctrl-C handler once. Returns whether it is in place (another
/// handler installed by the application makes this a no-op that returns `false`).
pub fn install_handler() -> bool {
    *INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                eprintln!("\nsecond Ctrl-C: exiting now");
                std::process::exit(130);
            }
            eprintln!("\nCtrl-C: stopping after this step (press again to exit now)");
        })
        .is_ok()
    })
}

/// Whether a stop was requested (by Ctrl-C or [`request_stop`]).
pub fn stop_requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Asks running training loops to stop after their current step, as Ctrl-C does (for
/// tests, GUIs and services).
pub fn request_stop() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Clears a stop request (done by the trainer when it has stopped).
pub fn clear_stop_request() {
    REQUESTED.store(false, Ordering::SeqCst);
}
