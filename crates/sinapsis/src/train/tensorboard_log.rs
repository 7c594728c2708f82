//! [`TensorBoardLogger`]: the run's curves as TensorBoard event files
//! (`tensorboard --logdir RUN_DIR/tensorboard`).

use std::path::PathBuf;

use super::callback::{Callback, Context, Control};
use super::log::{EpochLog, StepLog, StopReason};
use crate::tensorboard::SummaryWriter;
use crate::Result;

/// Writes `epoch/*` scalars (losses, accuracies, learning rate, extras) per epoch and
/// `step/loss`, `step/lr` per optimizer step.
pub struct TensorBoardLogger {
    writer: SummaryWriter,
}

impl TensorBoardLogger {
    /// Creates the event file in `log_dir`.
    ///
    /// # Errors
    /// If the folder or file cannot be created.
    pub fn new(log_dir: impl Into<PathBuf>) -> Result<TensorBoardLogger> {
        Ok(TensorBoardLogger {
            writer: SummaryWriter::new(log_dir.into())?,
        })
    }
}

impl Callback for TensorBoardLogger {
    fn on_step_end(&mut self, _ctx: &mut Context<'_>, log: &StepLog) -> Result<()> {
        self.writer.add_scalar("step/loss", log.loss, log.step)?;
        self.writer.add_scalar("step/lr", log.lr, log.step)
    }

    fn on_epoch_end(&mut self, _ctx: &mut Context<'_>, log: &mut EpochLog) -> Result<Control> {
        let values = [
            ("train_loss", Some(log.train_loss)),
            ("train_acc", log.train_acc),
            ("val_loss", log.val_loss),
            ("val_acc", log.val_acc),
            ("lr", Some(log.lr)),
        ];
        for (name, v) in values.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))) {
            self.writer
                .add_scalar(&format!("epoch/{name}"), v, log.epoch)?;
        }
        for (name, v) in &log.extra {
            self.writer
                .add_scalar(&format!("epoch/{name}"), *v, log.epoch)?;
        }
        self.writer.flush()?;
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, _ctx: &mut Context<'_>, _stop: &StopReason) -> Result<()> {
        self.writer.flush()
    }
}
