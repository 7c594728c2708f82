//! Training: the fit loop ([`Trainer`]), its settings ([`TrainConfig`]), what it records
//! ([`EpochLog`], [`StepLog`], [`History`]) and its hooks ([`Callback`]): progress bar,
//! history CSV, early stopping, checkpoints, TensorBoard. Users with their own loop use the
//! same pieces.

mod callback;
mod checkpointing;
mod config;
mod csv_log;
mod early_stopping;
mod evaluate;
pub mod interrupt;
mod log;
mod progress;
mod tensorboard_log;
mod trainer;

pub use callback::{Callback, Context, Control};
pub use checkpointing::{restore_run, ModelCheckpoint, ResumePoint};
pub use config::{Interval, OutputKind, TrainConfig};
pub use csv_log::{history_csv, HistoryCsv, StepsCsv};
pub use early_stopping::{BestTracker, EarlyStopping, Mode};
pub use evaluate::{evaluate, EvalOptions, Evaluation};
pub use log::{EpochLog, EpochSums, History, StepLog, StopReason};
pub use progress::{format_epoch_line, ProgressBar};
pub use tensorboard_log::TensorBoardLogger;
pub use trainer::{evaluate_loss, LossFn, Trainer};
