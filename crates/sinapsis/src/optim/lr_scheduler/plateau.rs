//! [`ReduceLROnPlateau`]: lower the learning rate when a metric stops improving.

use std::str::FromStr;

use super::{
    check_finite, invalid, per_group, progress_accessors, LRScheduler, Progress, SchedulerState,
};
use crate::optim::Optimizer;
use crate::{Error, Result};

const NAME: &str = "ReduceLROnPlateau";

/// Whether the monitored metric should go down (a loss) or up (an accuracy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (`"min"`, the default).
    #[default]
    Min,
    /// Higher is better (`"max"`).
    Max,
}

impl FromStr for PlateauMode {
    type Err = Error;

    /// Parses PyTorch's spelling, `"min"` or `"max"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "min" => Ok(PlateauMode::Min),
            "max" => Ok(PlateauMode::Max),
            other => Err(invalid(
                NAME,
                format!("mode must be \"min\" or \"max\", got \"{other}\""),
            )),
        }
    }
}

/// How [`ReduceLROnPlateau`] decides that a metric improved on the best one so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThresholdMode {
    /// `best * (1 - threshold)` in min mode, `best * (1 + threshold)` in max mode
    /// (`"rel"`, the default).
    #[default]
    Rel,
    /// `best - threshold` in min mode, `best + threshold` in max mode (`"abs"`).
    Abs,
}

impl FromStr for ThresholdMode {
    type Err = Error;

    /// Parses PyTorch's spelling, `"rel"` or `"abs"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rel" => Ok(ThresholdMode::Rel),
            "abs" => Ok(ThresholdMode::Abs),
            other => Err(invalid(
                NAME,
                format!("threshold_mode must be \"rel\" or \"abs\", got \"{other}\""),
            )),
        }
    }
}

/// The settings of [`ReduceLROnPlateau`], with PyTorch's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLROnPlateauOptions {
    /// Whether the metric should decrease or increase ([`PlateauMode::Min`]).
    pub mode: PlateauMode,
    /// `new_lr = lr * factor`; must be below 1 (0.1).
    pub factor: f64,
    /// Epochs without improvement tolerated before reducing (10).
    pub patience: usize,
    /// The smallest change that counts as an improvement (1e-4).
    pub threshold: f64,
    /// Relative or absolute `threshold` ([`ThresholdMode::Rel`]).
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a reduction before counting bad epochs again (0).
    pub cooldown: usize,
    /// Lower bound on the learning rate: one value for every group or one per group (`[0]`).
    pub min_lr: Vec<f64>,
    /// A reduction smaller than this is skipped (1e-8).
    pub eps: f64,
}

impl Default for ReduceLROnPlateauOptions {
    fn default() -> Self {
        ReduceLROnPlateauOptions {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: vec![0.0],
            eps: 1e-8,
        }
    }
}

/// Multiplies the learning rate by `factor` once the monitored metric has not improved
/// for more than `patience` epochs (`torch.optim.lr_scheduler.ReduceLROnPlateau`).
///
/// Each [`step_with_metric`](LRScheduler::step_with_metric): a metric `m` improves on
/// `best` when `m < best * (1 - threshold)` (min mode, relative; `m < best - threshold`
/// when absolute; mirrored in max mode). After more than `patience` epochs without
/// improvement, `lr = max(lr * factor, min_lr)` (skipped if it changes the lr by no more
/// than `eps`), then `cooldown` epochs pass during which bad epochs are not counted.
/// Building it leaves the learning rates as they are.
///
/// ```
/// use sinapsis::optim::lr_scheduler::{LRScheduler, ReduceLROnPlateau, ReduceLROnPlateauOptions};
/// # use sinapsis::optim::Optimizer;
/// # struct Sgd { lrs: Vec<f64> }
/// # impl Optimizer for Sgd {
/// #     fn step(&mut self) -> sinapsis::Result<()> { Ok(()) }
/// #     fn zero_grad(&mut self) {}
/// #     fn learning_rates(&self) -> Vec<f64> { self.lrs.clone() }
/// #     fn set_learning_rate(&mut self, group: usize, lr: f64) { self.lrs[group] = lr }
/// # }
/// # fn main() -> sinapsis::Result<()> {
/// let mut opt = Sgd { lrs: vec![0.1] };
/// let options = ReduceLROnPlateauOptions { factor: 0.5, patience: 1, ..Default::default() };
/// let mut sched = ReduceLROnPlateau::new(&mut opt, options)?;
/// for val_loss in [1.0, 0.9, 0.95, 0.95] {
///     sched.step_with_metric(val_loss, &mut opt)?;
/// }
/// assert_eq!(opt.learning_rates(), [0.05]); // two epochs without improvement > patience
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    progress: Progress,
    mode: PlateauMode,
    factor: f64,
    patience: usize,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: usize,
    min_lrs: Vec<f64>,
    eps: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
}

impl ReduceLROnPlateau {
    /// `ReduceLROnPlateau(optimizer, mode, factor, ...)`. Does not change the learning rates.
    pub fn new(optimizer: &mut dyn Optimizer, options: ReduceLROnPlateauOptions) -> Result<Self> {
        let ReduceLROnPlateauOptions {
            mode,
            factor,
            patience,
            threshold,
            threshold_mode,
            cooldown,
            min_lr,
            eps,
        } = options;
        if !factor.is_finite() || factor >= 1.0 {
            return Err(invalid(NAME, format!("factor must be < 1.0, got {factor}")));
        }
        check_finite(NAME, "threshold", threshold)?;
        check_finite(NAME, "eps", eps)?;
        let mut progress = Progress::new(NAME, optimizer)?;
        progress.last_epoch = 0;
        let min_lrs = per_group(NAME, "min_lr", &min_lr, progress.base_lrs.len())?;
        for &m in &min_lrs {
            check_finite(NAME, "min_lr", m)?;
        }
        Ok(ReduceLROnPlateau {
            progress,
            mode,
            factor,
            patience,
            threshold,
            threshold_mode,
            cooldown,
            min_lrs,
            eps,
            best: Self::mode_worse(mode),
            num_bad_epochs: 0,
            cooldown_counter: 0,
        })
    }

    fn mode_worse(mode: PlateauMode) -> f64 {
        match mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }

    /// The best metric seen so far (infinity in min mode before the first step).
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Epochs since the last improvement that count towards `patience`.
    pub fn num_bad_epochs(&self) -> usize {
        self.num_bad_epochs
    }

    /// Whether the scheduler is in its cooldown after a reduction.
    pub fn in_cooldown(&self) -> bool {
        self.cooldown_counter > 0
    }

    fn is_better(&self, a: f64) -> bool {
        let (best, t) = (self.best, self.threshold);
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - t),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - t,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (t + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + t,
        }
    }
}

impl LRScheduler for ReduceLROnPlateau {
    progress_accessors!();

    /// Errors: this scheduler needs the metric ([`LRScheduler::step_with_metric`]).
    fn step(&mut self, _optimizer: &mut dyn Optimizer) -> Result<()> {
        Err(invalid(
            NAME,
            "step needs the monitored metric: call step_with_metric(metric, optimizer)",
        ))
    }

    fn step_with_metric(&mut self, metric: f64, optimizer: &mut dyn Optimizer) -> Result<()> {
        let lrs = self.progress.current_lrs(optimizer)?;
        self.progress.last_epoch += 1;
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0; // bad epochs in cooldown do not count
        }
        if self.num_bad_epochs > self.patience {
            for (g, (&old, &min_lr)) in lrs.iter().zip(&self.min_lrs).enumerate() {
                let new = (old * self.factor).max(min_lr);
                if old - new > self.eps {
                    optimizer.set_learning_rate(g, new);
                }
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.progress.last_lr = optimizer.learning_rates();
        Ok(())
    }

    fn needs_metric(&self) -> bool {
        true
    }

    fn state(&self) -> SchedulerState {
        let mut state = self.progress.state();
        state.counters.insert("best".into(), self.best);
        state
            .counters
            .insert("num_bad_epochs".into(), self.num_bad_epochs as f64);
        state
            .counters
            .insert("cooldown_counter".into(), self.cooldown_counter as f64);
        state
    }

    fn load_state(&mut self, state: &SchedulerState, optimizer: &mut dyn Optimizer) -> Result<()> {
        state.check(NAME, optimizer.learning_rates().len())?;
        let best = state.counter(NAME, "best")?;
        let bad = state.count(NAME, "num_bad_epochs")?;
        let cooldown = state.count(NAME, "cooldown_counter")?;
        self.progress.load(state, optimizer)?;
        self.best = best;
        self.num_bad_epochs = bad as usize;
        self.cooldown_counter = cooldown as usize;
        Ok(())
    }
}
