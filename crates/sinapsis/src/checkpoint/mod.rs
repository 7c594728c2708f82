//! Checkpoints: safetensors model and optimizer files, JSON metadata, atomic writes.
