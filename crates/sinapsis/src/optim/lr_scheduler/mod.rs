//! Learning-rate schedulers, as in `torch.optim.lr_scheduler`.
//!
//! A scheduler adjusts the learning rate of every parameter group of an [`Optimizer`]. As in
//! PyTorch, building a scheduler performs its first step (epoch 0), which may already change
//! the learning rate ([`LinearLR`] multiplies it by `start_factor`, [`OneCycleLR`] sets it to
//! `max_lr / div_factor`); then `step` is called once per epoch (or once per batch for
//! [`OneCycleLR`]), after `optimizer.step()`:
//!
//! ```
//! use sinapsis::optim::lr_scheduler::{LRScheduler, StepLR};
//! # use sinapsis::optim::Optimizer;
//! # struct Sgd { lrs: Vec<f64> }
//! # impl Optimizer for Sgd {
//! #     fn step(&mut self) -> sinapsis::Result<()> { Ok(()) }
//! #     fn zero_grad(&mut self) {}
//! #     fn learning_rates(&self) -> Vec<f64> { self.lrs.clone() }
//! #     fn set_learning_rate(&mut self, group: usize, lr: f64) { self.lrs[group] = lr }
//! # }
//! # fn main() -> sinapsis::Result<()> {
//! let mut optimizer = Sgd { lrs: vec![0.1] };
//! let mut scheduler = StepLR::new(&mut optimizer, 2, 0.5)?;
//! let mut used = Vec::new();
//! for _epoch in 0..5 {
//!     used.push(optimizer.learning_rates()[0]); // the lr this epoch trains with
//!     // ... train: optimizer.step() per batch ...
//!     scheduler.step(&mut optimizer)?;
//! }
//! assert_eq!(used, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! # Ok(()) }
//! ```
//!
//! Schedulers follow PyTorch's *chainable* forms: each step reads the optimizer's current
//! learning rate and updates it (so the floating-point sequence matches PyTorch's, including
//! its rounding drift in [`CosineAnnealingLR`]). [`ReduceLROnPlateau`] is driven by a metric
//! through [`LRScheduler::step_with_metric`].
//!
//! NOTE: PyTorch stores `initial_lr` in each parameter group; here each scheduler reads the
//! optimizer's learning rates when it is built and keeps them as its `base_lrs`.
//!
//! Resuming: [`LRScheduler::state`] returns a [`SchedulerState`] (serialisable with serde);
//! build the same scheduler again on the resumed optimizer and call
//! [`LRScheduler::load_state`], which also puts back the optimizer's learning rates, so the
//! rest of the sequence is identical to an uninterrupted run.

mod cosine;
mod linear;
mod one_cycle;
mod plateau;
mod state;
mod step;

pub use cosine::{CosineAnnealingLR, CosineAnnealingWarmRestarts};
pub use linear::LinearLR;
pub use one_cycle::{AnnealStrategy, OneCycleLR, OneCycleLROptions};
pub use plateau::{PlateauMode, ReduceLROnPlateau, ReduceLROnPlateauOptions, ThresholdMode};
pub use state::SchedulerState;
pub use step::{ExponentialLR, MultiStepLR, StepLR};

use super::Optimizer;
use crate::{Error, Result};

/// What every learning-rate scheduler offers (PyTorch's `LRScheduler`).
pub trait LRScheduler {
    /// The scheduler's name as in PyTorch (`"StepLR"`), used in errors and saved states.
    fn name(&self) -> &'static str;

    /// Advances one epoch and sets the new learning rate of every parameter group
    /// (`scheduler.step()`). Call it after `optimizer.step()`.
    ///
    /// Errors if the optimizer's number of parameter groups changed since the scheduler
    /// was built, if [`OneCycleLR`] is stepped past `total_steps`, and for
    /// [`ReduceLROnPlateau`], which needs [`LRScheduler::step_with_metric`].
    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()>;

    /// Advances one epoch given the monitored metric (`scheduler.step(val_loss)`). Only
    /// [`ReduceLROnPlateau`] uses the metric; the other schedulers ignore it and `step`.
    fn step_with_metric(&mut self, metric: f64, optimizer: &mut dyn Optimizer) -> Result<()> {
        let _ = metric;
        self.step(optimizer)
    }

    /// Whether `step` needs a metric (true only for [`ReduceLROnPlateau`]), so a training
    /// loop knows which of the two step methods to call.
    fn needs_metric(&self) -> bool {
        false
    }

    /// The learning rate of each group after the last step (`get_last_lr()`).
    fn get_last_lr(&self) -> Vec<f64>;

    /// How many steps were taken since construction (`last_epoch`; 0 right after it).
    fn last_epoch(&self) -> i64;

    /// Everything needed to resume: epoch counter, base learning rates, last learning
    /// rates and the scheduler's own counters (`state_dict()`).
    fn state(&self) -> SchedulerState;

    /// Restores a state saved by [`LRScheduler::state`] on a scheduler built with the same
    /// settings (`load_state_dict()`), and sets the optimizer's learning rates to the saved
    /// last learning rates so the next step continues the saved run exactly.
    fn load_state(&mut self, state: &SchedulerState, optimizer: &mut dyn Optimizer) -> Result<()>;
}

/// What every epoch-driven scheduler keeps: PyTorch's `last_epoch`, `base_lrs` and
/// `_last_lr`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Progress {
    pub(crate) name: &'static str,
    pub(crate) last_epoch: i64,
    pub(crate) base_lrs: Vec<f64>,
    pub(crate) last_lr: Vec<f64>,
}

impl Progress {
    /// Reads the optimizer's learning rates as base lrs (PyTorch's `initial_lr`), with
    /// `last_epoch = -1`: the constructor then performs the first step.
    pub(crate) fn new(name: &'static str, optimizer: &dyn Optimizer) -> Result<Self> {
        let base_lrs = optimizer.learning_rates();
        if base_lrs.is_empty() {
            return Err(invalid(name, "the optimizer has no parameter groups"));
        }
        Ok(Progress {
            name,
            last_epoch: -1,
            last_lr: base_lrs.clone(),
            base_lrs,
        })
    }

    /// PyTorch's `LRScheduler.step()`: `last_epoch += 1`, then `lr_g = get_lr(g)` where
    /// `get_lr` receives the group index, its current lr, its base lr and the new epoch.
    pub(crate) fn advance(
        &mut self,
        optimizer: &mut dyn Optimizer,
        mut get_lr: impl FnMut(usize, f64, f64, i64) -> Result<f64>,
    ) -> Result<()> {
        let current = self.current_lrs(optimizer)?;
        let epoch = self.last_epoch + 1;
        // Compute every group first so that an error leaves the optimizer untouched.
        let new: Vec<f64> = current
            .iter()
            .zip(&self.base_lrs)
            .enumerate()
            .map(|(g, (&lr, &base))| get_lr(g, lr, base, epoch))
            .collect::<Result<_>>()?;
        for (g, &lr) in new.iter().enumerate() {
            optimizer.set_learning_rate(g, lr);
        }
        self.last_epoch = epoch;
        self.last_lr = optimizer.learning_rates();
        Ok(())
    }

    /// The optimizer's learning rates, checked against the number of groups seen at
    /// construction.
    pub(crate) fn current_lrs(&self, optimizer: &dyn Optimizer) -> Result<Vec<f64>> {
        let current = optimizer.learning_rates();
        check_groups(self.name, current.len(), self.base_lrs.len())?;
        Ok(current)
    }

    /// A state with no scheduler-specific counters.
    pub(crate) fn state(&self) -> SchedulerState {
        SchedulerState {
            scheduler: self.name.to_string(),
            last_epoch: self.last_epoch,
            base_lrs: self.base_lrs.clone(),
            last_lr: self.last_lr.clone(),
            counters: Default::default(),
        }
    }

    /// Restores the common part of `state` (after checking it belongs to this scheduler
    /// and this optimizer) and puts the saved learning rates back into the optimizer.
    pub(crate) fn load(
        &mut self,
        state: &SchedulerState,
        optimizer: &mut dyn Optimizer,
    ) -> Result<()> {
        state.check(self.name, optimizer.learning_rates().len())?;
        self.last_epoch = state.last_epoch;
        self.base_lrs = state.base_lrs.clone();
        self.last_lr = state.last_lr.clone();
        for (g, &lr) in state.last_lr.iter().enumerate() {
            optimizer.set_learning_rate(g, lr);
        }
        Ok(())
    }
}

/// Implements the bookkeeping methods of [`LRScheduler`] for a scheduler whose common
/// state lives in a `progress: Progress` field.
macro_rules! progress_accessors {
    () => {
        fn name(&self) -> &'static str {
            self.progress.name
        }

        fn get_last_lr(&self) -> Vec<f64> {
            self.progress.last_lr.clone()
        }

        fn last_epoch(&self) -> i64 {
            self.progress.last_epoch
        }
    };
}
pub(crate) use progress_accessors;

pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}

pub(crate) fn check_groups(op: &'static str, got: usize, expected: usize) -> Result<()> {
    if got != expected {
        return Err(invalid(
            op,
            format!(
                "the optimizer has {got} parameter groups, the scheduler was built for {expected}"
            ),
        ));
    }
    Ok(())
}

/// Errors unless `value` is finite.
pub(crate) fn check_finite(op: &'static str, what: &str, value: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(invalid(op, format!("{what} must be finite, got {value}")));
    }
    Ok(())
}

/// One value per parameter group from either a single value (used for every group) or
/// one value per group (PyTorch's `_format_param`).
pub(crate) fn per_group(
    op: &'static str,
    what: &str,
    values: &[f64],
    groups: usize,
) -> Result<Vec<f64>> {
    match values.len() {
        1 => Ok(vec![values[0]; groups]),
        n if n == groups => Ok(values.to_vec()),
        n => Err(invalid(
            op,
            format!("expected 1 or {groups} values for {what} (one per parameter group), got {n}"),
        )),
    }
}
