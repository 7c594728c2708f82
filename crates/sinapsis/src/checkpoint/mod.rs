//! Checkpoints: safetensors model and optimizer files, JSON metadata, atomic writes.
// TEMPORARY (replaced by the checkpoint branch).
/// temp
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    std::fs::write(path, bytes).map_err(|e| crate::Error::Data {
        path: path.display().to_string(),
        msg: e.to_string(),
    })
}
