//! [`EarlyStopping`]: stop when a monitored metric stops improving, and put back the best
//! weights (Keras' `EarlyStopping(restore_best_weights=True)`).

use serde::{Deserialize, Serialize};

use super::callback::{Callback, Context, Control};
use super::log::{EpochLog, StopReason};
use crate::nn::{ModuleExt, StateDict};
use crate::{Error, Result};

/// Whether larger or smaller values of the monitored metric are better.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Smaller is better (losses).
    #[default]
    Min,
    /// Larger is better (accuracy, F1, AUC).
    Max,
    /// `Max` for names containing `acc`, `f1`, `auc`, `precision`, `recall`, `r2`; else `Min`.
    Auto,
}

impl Mode {
    /// Resolves [`Mode::Auto`] for a metric name.
    ///
    /// ```
    /// use sinapsis::train::Mode;
    /// assert_eq!(Mode::Auto.resolve("val_acc"), Mode::Max);
    /// assert_eq!(Mode::Auto.resolve("val_loss"), Mode::Min);
    /// ```
    pub fn resolve(self, metric: &str) -> Mode {
        match self {
            Mode::Auto => {
                let larger_better = ["acc", "f1", "auc", "precision", "recall", "r2"];
                if larger_better.iter().any(|k| metric.contains(k)) {
                    Mode::Max
                } else {
                    Mode::Min
                }
            }
            m => m,
        }
    }

    /// Whether `value` improves on `best` by more than `min_delta`.
    pub fn improves(self, value: f64, best: f64, min_delta: f64) -> bool {
        match self {
            Mode::Max => value > best + min_delta,
            _ => value < best - min_delta,
        }
    }
}

/// Tracks the best value of a metric over epochs (shared by early stopping and best-model
/// checkpoints).
#[derive(Clone, Debug)]
pub struct BestTracker {
    /// The metric's name (as in [`EpochLog::metric`]).
    pub monitor: String,
    /// Resolved direction.
    pub mode: Mode,
    /// Smallest change that counts as an improvement.
    pub min_delta: f64,
    /// Best value so far and its 1-based epoch.
    pub best: Option<(f64, u64)>,
}

impl BestTracker {
    /// Tracks `monitor` in `mode` (Auto resolved from the name).
    pub fn new(monitor: impl Into<String>, mode: Mode, min_delta: f64) -> BestTracker {
        let monitor = monitor.into();
        let mode = mode.resolve(&monitor);
        BestTracker {
            monitor,
            mode,
            min_delta: min_delta.abs(),
            best: None,
        }
    }

    /// Reads the metric from `log`; returns whether it is a new best.
    ///
    /// # Errors
    /// If the epoch has no such metric (e.g. `val_loss` without a validation set).
    pub fn update(&mut self, log: &EpochLog) -> Result<bool> {
        let Some(value) = log.metric(&self.monitor) else {
            return Err(Error::InvalidArgument {
                op: "EarlyStopping",
                msg: format!(
                    "monitored metric '{}' is not in the epoch log (is there a validation \
                     set? available: train_loss, train_acc, val_loss, val_acc, lr{})",
                    self.monitor,
                    log.extra
                        .keys()
                        .map(|k| format!(", {k}"))
                        .collect::<String>()
                ),
            });
        };
        let better = match self.best {
            None => value.is_finite(),
            Some((best, _)) => self.mode.improves(value, best, self.min_delta),
        };
        if better {
            self.best = Some((value, log.epoch));
        }
        Ok(better)
    }
}

/// Stops training after `patience` epochs without improvement of `monitor` by more than
/// `min_delta`; with `restore_best` (default on) the model gets back the weights of its best
/// epoch when training ends (also when all epochs ran).
///
/// ```
/// use sinapsis::train::{EarlyStopping, Mode};
/// let es = EarlyStopping::new("val_loss").patience(5).min_delta(1e-4).mode(Mode::Min);
/// # let _ = es;
/// ```
pub struct EarlyStopping {
    tracker: BestTracker,
    patience: u64,
    restore_best: bool,
    wait: u64,
    best_weights: Option<StateDict>,
}

impl EarlyStopping {
    /// Monitors `monitor` (`val_loss`, `val_acc`, ...), patience 10, mode Auto.
    pub fn new(monitor: impl Into<String>) -> EarlyStopping {
        EarlyStopping {
            tracker: BestTracker::new(monitor, Mode::Auto, 0.0),
            patience: 10,
            restore_best: true,
            wait: 0,
            best_weights: None,
        }
    }

    /// Epochs without improvement before stopping.
    pub fn patience(mut self, patience: u64) -> EarlyStopping {
        self.patience = patience;
        self
    }

    /// Smallest change that counts as an improvement.
    pub fn min_delta(mut self, min_delta: f64) -> EarlyStopping {
        self.tracker.min_delta = min_delta.abs();
        self
    }

    /// Direction of improvement.
    pub fn mode(mut self, mode: Mode) -> EarlyStopping {
        self.tracker.mode = mode.resolve(&self.tracker.monitor);
        self
    }

    /// Whether to put back the best epoch's weights at the end.
    pub fn restore_best(mut self, on: bool) -> EarlyStopping {
        self.restore_best = on;
        self
    }

    /// The best value and its epoch, once one epoch has run.
    pub fn best(&self) -> Option<(f64, u64)> {
        self.tracker.best
    }
}

/// Copies of a model's tensors (not views of the live parameters).
pub(crate) fn snapshot(ctx: &Context<'_>) -> Result<StateDict> {
    ctx.model
        .state_dict()
        .into_iter()
        .map(|(k, t)| Ok((k, t.detach().copy()?)))
        .collect()
}

impl Callback for EarlyStopping {
    fn on_epoch_end(&mut self, ctx: &mut Context<'_>, log: &mut EpochLog) -> Result<Control> {
        if self.tracker.update(log)? {
            self.wait = 0;
            if self.restore_best {
                self.best_weights = Some(snapshot(ctx)?);
            }
            return Ok(Control::Continue);
        }
        self.wait += 1;
        if self.wait >= self.patience {
            let (best, epoch) = self.tracker.best.unwrap_or((f64::NAN, 0));
            return Ok(Control::Stop(format!(
                "early stopping: {} did not improve for {} epochs (best {best:.6} at epoch {epoch})",
                self.tracker.monitor, self.patience
            )));
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, ctx: &mut Context<'_>, _stop: &StopReason) -> Result<()> {
        if let Some(best) = self.best_weights.take() {
            ctx.model.load_state_dict(&best, true)?;
        }
        Ok(())
    }
}
