//! The run folder: where `sinapsis train` writes, and how later commands find things in it.

use std::path::{Path, PathBuf};

use sinapsis::{Error, Result};

/// Names of the files in a run folder.
pub const CONFIG: &str = "config.toml";
/// Per-epoch history.
pub const HISTORY: &str = "history.csv";
/// Per-step losses (when `training.log_steps`).
pub const STEPS: &str = "steps.csv";
/// Final test metrics.
pub const METRICS: &str = "metrics.json";
/// The best model's weights (PyTorch names).
pub const MODEL: &str = "model.safetensors";
/// The latest full checkpoint.
pub const LAST: &str = "last";
/// The one-page report.
pub const REPORT: &str = "report.md";
/// Plot folder.
pub const PLOTS: &str = "plots";

pub(crate) fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Data {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

/// Creates `parent/name`, or `parent/name-2`, `-3`... if it exists (a run never overwrites
/// another).
///
/// # Errors
/// If the folder cannot be created.
pub fn create_run_dir(parent: &Path, name: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    for i in 1u32.. {
        let candidate = if i == 1 {
            parent.join(name)
        } else {
            parent.join(format!("{name}-{i}"))
        };
        match std::fs::create_dir(&candidate) {
            Ok(()) => {
                let plots = candidate.join(PLOTS);
                std::fs::create_dir_all(&plots).map_err(|e| io_err(&plots, e))?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(&candidate, e)),
        }
    }
    unreachable!("u32 run suffixes exhausted")
}

/// Checks that `dir` is a run folder (holds `config.toml`).
///
/// # Errors
/// If it is not, saying what is missing.
pub fn check_run_dir(dir: &Path) -> Result<()> {
    if dir.join(CONFIG).is_file() {
        return Ok(());
    }
    Err(Error::Data {
        path: dir.display().to_string(),
        msg: format!(
            "not a run folder: {} is missing (run folders are made by `sinapsis train`)",
            dir.join(CONFIG).display()
        ),
    })
}
