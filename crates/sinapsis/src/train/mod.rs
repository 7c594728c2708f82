//! The training loop (`Trainer`) and its callbacks.
