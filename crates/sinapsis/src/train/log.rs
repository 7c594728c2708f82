//! What a training run records: one [`EpochLog`] per epoch, one [`StepLog`] per optimizer
//! step, and the [`History`] with why the run stopped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The figures of one epoch. Losses and accuracies are per-sample means over the whole
/// epoch (sums of `loss * batch_size` and counts of correct predictions, divided once), not
/// averages of batch averages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch number.
    pub epoch: u64,
    /// Mean training loss per sample.
    pub train_loss: f64,
    /// Training accuracy (classification runs), measured on the fly in train mode.
    pub train_acc: Option<f64>,
    /// Mean validation loss per sample, when there is a validation set.
    pub val_loss: Option<f64>,
    /// Validation accuracy (classification runs with a validation set).
    pub val_acc: Option<f64>,
    /// Learning rate of the first parameter group that the epoch trained with (at its
    /// start: a per-epoch scheduler steps after the epoch, for the next one).
    pub lr: f64,
    /// Wall time of the epoch (training and validation), seconds.
    pub time_s: f64,
    /// Further metrics by name (added by callbacks or a custom loop).
    pub extra: BTreeMap<String, f64>,
}

impl EpochLog {
    /// A metric by the name used in `history.csv` and by `monitor` settings: `train_loss`,
    /// `train_acc`, `val_loss`, `val_acc`, `lr`, `time_s` (aliases `loss`, `acc`, `accuracy`,
    /// `val_accuracy`), or an `extra` key.
    ///
    /// ```
    /// use sinapsis::train::EpochLog;
    /// let log = EpochLog { val_loss: Some(0.25), ..Default::default() };
    /// assert_eq!(log.metric("val_loss"), Some(0.25));
    /// assert_eq!(log.metric("val_acc"), None);
    /// ```
    pub fn metric(&self, name: &str) -> Option<f64> {
        match name {
            "train_loss" | "loss" => Some(self.train_loss),
            "train_acc" | "acc" | "accuracy" | "train_accuracy" => self.train_acc,
            "val_loss" => self.val_loss,
            "val_acc" | "val_accuracy" => self.val_acc,
            "lr" => Some(self.lr),
            "time_s" => Some(self.time_s),
            other => self.extra.get(other).copied(),
        }
    }
}

/// Running sums of the training part of an epoch: what its [`EpochLog::train_loss`] and
/// [`EpochLog::train_acc`] are computed from. A checkpoint written in the middle of an
/// epoch keeps them, so the resumed epoch logs the per-sample mean over the whole epoch,
/// the same as if it had never stopped.
///
/// ```
/// use sinapsis::train::EpochSums;
/// let sums = EpochSums { loss_sum: 3.0, samples: 4, correct: 3, counted: 4 };
/// assert_eq!(sums.mean_loss(), 0.75);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochSums {
    /// Sum of `batch loss * batch size` over the batches so far.
    pub loss_sum: f64,
    /// Samples so far.
    pub samples: u64,
    /// Correct predictions so far (classification runs).
    pub correct: u64,
    /// Predictions counted so far (classification runs).
    pub counted: u64,
}

impl EpochSums {
    /// The mean loss per sample so far (0 before the first batch).
    pub fn mean_loss(&self) -> f64 {
        self.loss_sum / self.samples.max(1) as f64
    }
}

/// One optimizer step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    /// 1-based epoch number.
    pub epoch: u64,
    /// Optimizer steps taken so far in the run (1-based).
    pub step: u64,
    /// Loss of the batch (mean over its samples; for accumulated gradients, of the last
    /// micro-batch).
    pub loss: f64,
    /// Learning rate used for this step (first parameter group).
    pub lr: f64,
    /// Samples in the batch.
    pub batch_size: usize,
}

/// Why [`Trainer::fit`](super::Trainer::fit) returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StopReason {
    /// All epochs ran.
    Completed,
    /// A callback (early stopping) asked to stop after this 1-based epoch.
    Stopped {
        /// The last epoch run.
        epoch: u64,
        /// Who stopped and why.
        reason: String,
    },
    /// The loss was NaN or infinite: training stopped before the optimizer step, so the
    /// weights are those of the previous step.
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: u64,
        /// 1-based batch within the epoch.
        batch: u64,
        /// The loss value.
        value: f64,
    },
    /// Ctrl-C: stopped after the current step.
    Interrupted {
        /// The 1-based epoch that was running.
        epoch: u64,
        /// Optimizer steps taken so far.
        step: u64,
    },
}

impl StopReason {
    /// Whether the run ended normally (all epochs, or stopped early by a callback).
    pub fn is_success(&self) -> bool {
        matches!(self, StopReason::Completed | StopReason::Stopped { .. })
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Completed => write!(f, "completed all epochs"),
            StopReason::Stopped { epoch, reason } => {
                write!(f, "stopped after epoch {epoch}: {reason}")
            }
            StopReason::NonFiniteLoss {
                epoch,
                batch,
                value,
            } => write!(
                f,
                "the loss became {value} at epoch {epoch}, batch {batch}: training stopped \
                 before applying that step (try a lower learning rate, gradient clipping, or \
                 a numerically stable loss such as bce_with_logits)"
            ),
            StopReason::Interrupted { epoch, step } => {
                write!(
                    f,
                    "interrupted (Ctrl-C) during epoch {epoch}, after step {step}"
                )
            }
        }
    }
}

/// Everything a run recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One entry per completed epoch (including epochs before a resume, when the trainer was
    /// given them).
    pub epochs: Vec<EpochLog>,
    /// Why the run ended.
    pub stop: StopReason,
    /// Optimizer steps taken in total.
    pub steps: u64,
}

impl History {
    /// The last completed epoch's log.
    pub fn last(&self) -> Option<&EpochLog> {
        self.epochs.last()
    }

    /// The values of a metric over the epochs (`None` where an epoch lacks it).
    ///
    /// ```
    /// use sinapsis::train::{EpochLog, History, StopReason};
    /// let h = History {
    ///     epochs: vec![EpochLog { epoch: 1, train_loss: 0.5, ..Default::default() }],
    ///     stop: StopReason::Completed,
    ///     steps: 10,
    /// };
    /// assert_eq!(h.metric("train_loss"), vec![Some(0.5)]);
    /// ```
    pub fn metric(&self, name: &str) -> Vec<Option<f64>> {
        self.epochs.iter().map(|e| e.metric(name)).collect()
    }
}
