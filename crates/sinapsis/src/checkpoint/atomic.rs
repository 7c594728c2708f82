//! Crash-safe writes: a file or a whole folder is written under a temporary name, synced to
//! disk, then renamed into place, so a reader sees either the old version or the new one,
//! never a mixture or a half-written file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// An I/O failure on `path`, as a [`Error::Data`] naming the file and the action.
pub(crate) fn io_error(path: &Path, action: &str, e: std::io::Error) -> Error {
    Error::Data {
        path: path.display().to_string(),
        msg: format!("cannot {action}: {e}"),
    }
}

/// `path` with `suffix` appended to its last component (`ckpt` -> `ckpt.tmp-42`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// The separator between a saved name and the writing process's id in its temporary.
const TEMPORARY_INFIX: &str = ".tmp-";

/// Where this process stages a save of `path` before renaming it into place
/// (`ckpt` -> `ckpt.tmp-<pid>`); [`remove_stale_temporaries`] parses the same name.
pub(crate) fn temporary_for(path: &Path) -> PathBuf {
    with_suffix(path, &format!("{TEMPORARY_INFIX}{}", std::process::id()))
}

/// The folder holding `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Flushes a folder's entries (new names, renames) to disk. On Linux a rename is only durable
/// once its folder is synced.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    // NOTE: opening a folder read-only and calling fsync is the POSIX way; on platforms
    // where folders cannot be opened (Windows) there is nothing to do.
    #[cfg(unix)]
    {
        let f = File::open(dir).map_err(|e| io_error(dir, "open the folder to sync it", e))?;
        f.sync_all()
            .map_err(|e| io_error(dir, "sync the folder", e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Creates (or truncates) `path`, writes `bytes` and syncs the file to disk. Not atomic by
/// itself: used inside a temporary folder, or by [`write_atomic`].
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| io_error(path, "create the file", e))?;
    f.write_all(bytes)
        .map_err(|e| io_error(path, "write the file", e))?;
    f.sync_all().map_err(|e| io_error(path, "sync the file", e))
}

/// Writes `bytes` to `path` atomically: into `path.tmp-<pid>` in the same folder, synced,
/// then renamed over `path`, and the folder synced. A crash at any point leaves either the
/// previous `path` or the new one, never a half-written file (at worst a stray `.tmp-<pid>`,
/// which the next successful save of `path` removes once that process is gone).
///
/// ```
/// # fn main() -> sinapsis::Result<()> {
/// let dir = std::env::temp_dir().join(format!("sinapsis-doc-atomic-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("notes.txt");
/// sinapsis::checkpoint::write_atomic(&path, b"first")?;
/// sinapsis::checkpoint::write_atomic(&path, b"second")?;
/// assert_eq!(std::fs::read(&path).unwrap(), b"second");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::Data`] naming the file when it cannot be written, synced or renamed (the
/// temporary file is removed then).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temporary_for(path);
    let written = write_synced(&tmp, bytes).and_then(|()| {
        fs::rename(&tmp, path).map_err(|e| io_error(path, "rename the temporary file over it", e))
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(parent_of(path))?;
    remove_stale_temporaries(path);
    Ok(())
}

/// Removes the `path.tmp-<pid>` files and folders that saves killed mid-write left behind,
/// once a save of `path` has succeeded. Only those of processes that no longer run are
/// touched (a live one may be saving right now), and only where that can be told (Linux's
/// `/proc`); elsewhere they stay. Best effort: a temporary that cannot be removed is left.
pub(crate) fn remove_stale_temporaries(path: &Path) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let prefix = format!("{name}{TEMPORARY_INFIX}");
    let Ok(entries) = fs::read_dir(parent_of(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && process_is_gone(pid) {
            let stale = entry.path();
            // The entry's own type: a symlink named like a temporary is unlinked, not followed.
            let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                fs::remove_dir_all(&stale)
            } else {
                fs::remove_file(&stale)
            };
        }
    }
}

/// Whether no process `pid` runs now; `false` where that cannot be told.
///
/// NOTE: `/proc` shows this PID namespace only. A writer in another container sharing the
/// folder may look gone; removing its temporary makes its rename fail with an error, and
/// the previous checkpoint stays intact, so nothing is lost.
fn process_is_gone(pid: u32) -> bool {
    let proc_fs = Path::new("/proc");
    cfg!(target_os = "linux")
        && proc_fs.join("self").exists()
        && !proc_fs.join(pid.to_string()).exists()
}

/// Replaces the folder `dir` by the complete, synced folder `staged` (a sibling), keeping the
/// previous version as `dir.old` until the new one is in place:
///
/// 1. if `dir` exists: remove a stale `dir.old`, rename `dir` to `dir.old`;
/// 2. rename `staged` to `dir`, sync the parent;
/// 3. remove `dir.old`, sync the parent.
///
/// A crash between 1 and 2 leaves only `dir.old`, which loaders fall back to. When `dir` is
/// missing but `dir.old` exists (an earlier crash), `dir.old` is the last good copy: it is
/// kept until step 2 succeeds.
pub(crate) fn replace_dir(staged: &Path, dir: &Path) -> Result<()> {
    let old = with_suffix(dir, ".old");
    let parent = parent_of(dir);
    if dir.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| io_error(&old, "remove the stale folder", e))?;
        }
        fs::rename(dir, &old)
            .map_err(|e| io_error(dir, "move the previous checkpoint aside", e))?;
    }
    fs::rename(staged, dir).map_err(|e| io_error(dir, "move the new checkpoint into place", e))?;
    sync_dir(parent)?;
    if old.exists() {
        fs::remove_dir_all(&old)
            .map_err(|e| io_error(&old, "remove the previous checkpoint", e))?;
        sync_dir(parent)?;
    }
    Ok(())
}
