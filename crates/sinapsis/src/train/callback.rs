//! Hooks into the training loop: the [`Callback`] trait and the [`Context`] it sees.

use super::log::{EpochLog, EpochSums, StepLog, StopReason};
use crate::nn::Module;
use crate::optim::lr_scheduler::LRScheduler;
use crate::optim::Optimizer;
use crate::Result;

/// What a callback sees: the model, optimizer and scheduler being trained, and the run's
/// position. Callbacks may change them (restore weights, lower the learning rate).
pub struct Context<'a> {
    /// The model.
    pub model: &'a dyn Module,
    /// Its optimizer.
    pub optimizer: &'a mut dyn Optimizer,
    /// The learning-rate scheduler, if any.
    pub scheduler: Option<&'a mut dyn LRScheduler>,
    /// Epochs completed (after `on_epoch_end`, including that epoch).
    pub epoch: u64,
    /// Optimizer steps taken.
    pub step: u64,
    /// Batches of the current epoch already trained on (0 between epochs).
    pub batch: u64,
    /// Loss and accuracy sums over those batches (zero between epochs).
    pub epoch_sums: EpochSums,
    /// The logs of the completed epochs.
    pub history: Vec<EpochLog>,
    /// The training loader's seed: with the epoch it fixes the batch order, so a checkpoint
    /// stores it to resume on the same batches.
    pub loader_seed: u64,
}

/// Whether training goes on after an epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop after this epoch, with the reason (shown to the user).
    Stop(String),
}

/// A hook into [`Trainer::fit`](super::Trainer::fit) (Keras' `Callback`). Every method has
/// an empty default; errors abort training and are returned by `fit`.
///
/// ```
/// use sinapsis::train::{Callback, Context, Control, EpochLog};
/// struct PrintLoss;
/// impl Callback for PrintLoss {
///     fn on_epoch_end(&mut self, _ctx: &mut Context<'_>, log: &mut EpochLog)
///         -> sinapsis::Result<Control> {
///         println!("epoch {}: {:.4}", log.epoch, log.train_loss);
///         Ok(Control::Continue)
///     }
/// }
/// ```
pub trait Callback {
    /// Before the first epoch (of this call: after a resume, the next epoch).
    fn on_train_begin(&mut self, _ctx: &mut Context<'_>) -> Result<()> {
        Ok(())
    }

    /// Before an epoch's first batch. `epoch` is 1-based; `batches` is the loader's length.
    fn on_epoch_begin(
        &mut self,
        _ctx: &mut Context<'_>,
        _epoch: u64,
        _batches: usize,
    ) -> Result<()> {
        Ok(())
    }

    /// After each optimizer step.
    fn on_step_end(&mut self, _ctx: &mut Context<'_>, _log: &StepLog) -> Result<()> {
        Ok(())
    }

    /// After an epoch and its validation. Callbacks run in the order they were added and may
    /// add metrics to `log.extra` for those after them.
    fn on_epoch_end(&mut self, _ctx: &mut Context<'_>, _log: &mut EpochLog) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// When training ends, for whatever reason (also after a NaN loss or Ctrl-C).
    fn on_train_end(&mut self, _ctx: &mut Context<'_>, _stop: &StopReason) -> Result<()> {
        Ok(())
    }
}
