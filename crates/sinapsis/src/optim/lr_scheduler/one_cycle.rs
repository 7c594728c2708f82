//! [`OneCycleLR`]: the 1cycle policy (Smith & Topsakal, <https://arxiv.org/abs/1708.07120>).

use std::f64::consts::PI;
use std::str::FromStr;

use super::{
    check_finite, invalid, per_group, progress_accessors, LRScheduler, Progress, SchedulerState,
};
use crate::optim::Optimizer;
use crate::{Error, Result};

/// How [`OneCycleLR`] moves between two learning rates (`anneal_strategy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AnnealStrategy {
    /// `end + (start - end) / 2 * (1 + cos(pi * pct))` (`"cos"`, the default).
    #[default]
    Cos,
    /// `start + (end - start) * pct` (`"linear"`).
    Linear,
}

impl AnnealStrategy {
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

impl FromStr for AnnealStrategy {
    type Err = Error;

    /// Parses PyTorch's spelling, `"cos"` or `"linear"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cos" => Ok(AnnealStrategy::Cos),
            "linear" => Ok(AnnealStrategy::Linear),
            other => Err(invalid(
                "OneCycleLR",
                format!("anneal_strategy must be \"cos\" or \"linear\", got \"{other}\""),
            )),
        }
    }
}

/// The optional settings of [`OneCycleLR`], with PyTorch's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycleLROptions {
    /// Fraction of the steps spent increasing the learning rate (0.3).
    pub pct_start: f64,
    /// Cosine or linear annealing ([`AnnealStrategy::Cos`]).
    pub anneal_strategy: AnnealStrategy,
    /// `initial_lr = max_lr / div_factor` (25).
    pub div_factor: f64,
    /// `min_lr = initial_lr / final_div_factor` (1e4).
    pub final_div_factor: f64,
    /// Three phases (up to `max_lr`, back down to `initial_lr`, then down to `min_lr`)
    /// instead of two (up, then down to `min_lr`) (false).
    pub three_phase: bool,
    /// Cycle the momentum (Adam's `beta1`) inversely to the learning rate, between
    /// `max_momentum` and `base_momentum` (true). Needs an optimizer with a momentum
    /// ([`Optimizer::momenta`]); like PyTorch, SGD counts even with `momentum = 0`.
    pub cycle_momentum: bool,
    /// The momentum at the peak learning rate: one value or one per group (`[0.85]`).
    pub base_momentum: Vec<f64>,
    /// The momentum at the start and end of the cycle: one value or one per group
    /// (`[0.95]`).
    pub max_momentum: Vec<f64>,
}

impl Default for OneCycleLROptions {
    fn default() -> Self {
        OneCycleLROptions {
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
            cycle_momentum: true,
            base_momentum: vec![0.85],
            max_momentum: vec![0.95],
        }
    }
}

/// Which per-group learning rate a phase starts or ends at.
#[derive(Clone, Copy, Debug)]
enum Anchor {
    Initial,
    Max,
    Min,
}

/// One phase of the cycle, ending at step `end_step`: the learning rate goes from `start`
/// to `end`, the momentum from `momentum.0` to `momentum.1`.
#[derive(Clone, Copy, Debug)]
struct Phase {
    end_step: f64,
    start: Anchor,
    end: Anchor,
    momentum: (Momentum, Momentum),
}

#[derive(Clone, Copy, Debug)]
enum Momentum {
    Base,
    Max,
}

fn phase(end_step: f64, start: Anchor, end: Anchor, momentum: (Momentum, Momentum)) -> Phase {
    Phase {
        end_step,
        start,
        end,
        momentum,
    }
}

/// The 1cycle policy: the learning rate rises from `max_lr / div_factor` to `max_lr` over
/// the first `pct_start` of `total_steps`, then anneals down to
/// `max_lr / (div_factor * final_div_factor)` (`torch.optim.lr_scheduler.OneCycleLR`).
/// Step it after every batch.
///
/// With phase boundaries `p_1 = pct_start * total_steps - 1` and `p_2 = total_steps - 1`,
/// at step `t`: for `t <= p_1`, `lr = anneal(initial_lr, max_lr, t / p_1)`; otherwise
/// `lr = anneal(max_lr, min_lr, (t - p_1) / (p_2 - p_1))`, where `anneal` is the cosine
/// `end + (start - end) * (1 + cos(pi * pct)) / 2` or linear interpolation. With
/// `three_phase`, the middle boundary is `2 * pct_start * total_steps - 2` and the phases
/// are initial to max, max to initial, initial to min.
///
/// Building it sets the optimizer's learning rates (to `initial_lr`, as PyTorch does).
/// Stepping more than `total_steps` times is an error.
///
/// With `cycle_momentum` (the default), the momentum (Adam's `beta1`) moves the other
/// way along the same phases: from `max_momentum` down to `base_momentum` while the
/// learning rate rises, then back up.
///
/// ```
/// use sinapsis::optim::lr_scheduler::{LRScheduler, OneCycleLR, OneCycleLROptions};
/// # use sinapsis::optim::Optimizer;
/// # struct Sgd { lrs: Vec<f64>, momenta: Vec<f64> }
/// # impl Optimizer for Sgd {
/// #     fn step(&mut self) -> sinapsis::Result<()> { Ok(()) }
/// #     fn zero_grad(&mut self) {}
/// #     fn learning_rates(&self) -> Vec<f64> { self.lrs.clone() }
/// #     fn set_learning_rate(&mut self, group: usize, lr: f64) { self.lrs[group] = lr }
/// #     fn momenta(&self) -> Vec<Option<f64>> { self.momenta.iter().map(|&m| Some(m)).collect() }
/// #     fn set_momentum(&mut self, group: usize, m: f64) { self.momenta[group] = m }
/// # }
/// # fn main() -> sinapsis::Result<()> {
/// let mut opt = Sgd { lrs: vec![0.1], momenta: vec![0.9] };
/// // 10 steps, the peak at step pct_start * 10 - 1 = 2.
/// let options = OneCycleLROptions { anneal_strategy: "linear".parse()?, ..Default::default() };
/// let mut sched = OneCycleLR::new(&mut opt, &[1.0], 10, options)?;
/// assert_eq!(opt.learning_rates(), [0.04]); // max_lr / div_factor
/// assert_eq!(opt.momenta(), [Some(0.95)]); // max_momentum
/// sched.step(&mut opt)?;
/// sched.step(&mut opt)?;
/// assert!((sched.get_last_lr()[0] - 1.0).abs() < 1e-15); // max_lr
/// assert!((opt.momenta()[0].unwrap() - 0.85).abs() < 1e-15); // base_momentum
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    progress: Progress,
    total_steps: usize,
    anneal_strategy: AnnealStrategy,
    phases: Vec<Phase>,
    max_lrs: Vec<f64>,
    min_lrs: Vec<f64>,
    /// `(base_momentum, max_momentum)` of each group, with `cycle_momentum`.
    momenta: Option<Vec<(f64, f64)>>,
}

impl OneCycleLR {
    /// `OneCycleLR(optimizer, max_lr, total_steps, ...)`. `max_lr` holds one value for
    /// every group or one per group. Sets the learning rates for step 0.
    pub fn new(
        optimizer: &mut dyn Optimizer,
        max_lr: &[f64],
        total_steps: usize,
        options: OneCycleLROptions,
    ) -> Result<Self> {
        const NAME: &str = "OneCycleLR";
        if total_steps == 0 {
            return Err(invalid(NAME, "total_steps must be positive, got 0"));
        }
        let OneCycleLROptions {
            pct_start,
            anneal_strategy,
            div_factor,
            final_div_factor,
            three_phase,
            cycle_momentum,
            base_momentum,
            max_momentum,
        } = options;
        if !(0.0..=1.0).contains(&pct_start) {
            return Err(invalid(
                NAME,
                format!("pct_start must be in [0, 1], got {pct_start}"),
            ));
        }
        for (what, v) in [
            ("div_factor", div_factor),
            ("final_div_factor", final_div_factor),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(NAME, format!("{what} must be positive, got {v}")));
            }
        }
        let mut progress = Progress::new(NAME, optimizer)?;
        let max_lrs = per_group(NAME, "max_lr", max_lr, progress.base_lrs.len())?;
        for &m in &max_lrs {
            check_finite(NAME, "max_lr", m)?;
        }
        // PyTorch's `initial_lr` (the base lrs), `max_lr` and `min_lr` of each group.
        let initial: Vec<f64> = max_lrs.iter().map(|m| m / div_factor).collect();
        let min_lrs = initial.iter().map(|i| i / final_div_factor).collect();
        progress.base_lrs = initial;
        let groups = max_lrs.len();
        let momenta = if cycle_momentum {
            if let Some(g) = optimizer.momenta().iter().position(Option::is_none) {
                return Err(invalid(
                    NAME,
                    format!(
                        "cycle_momentum needs an optimizer with a momentum or beta1, and \
                         parameter group {g} has none; set cycle_momentum to false"
                    ),
                ));
            }
            let base = per_group(NAME, "base_momentum", &base_momentum, groups)?;
            let max = per_group(NAME, "max_momentum", &max_momentum, groups)?;
            for &m in base.iter().chain(&max) {
                check_finite(NAME, "momentum", m)?;
            }
            Some(base.into_iter().zip(max).collect())
        } else {
            None
        };
        let total = total_steps as f64;
        let (down, up, flat) = (
            (Momentum::Max, Momentum::Base),
            (Momentum::Base, Momentum::Max),
            (Momentum::Max, Momentum::Max),
        );
        let phases = if three_phase {
            vec![
                phase(pct_start * total - 1.0, Anchor::Initial, Anchor::Max, down),
                phase(
                    2.0 * pct_start * total - 2.0,
                    Anchor::Max,
                    Anchor::Initial,
                    up,
                ),
                phase(total - 1.0, Anchor::Initial, Anchor::Min, flat),
            ]
        } else {
            vec![
                phase(pct_start * total - 1.0, Anchor::Initial, Anchor::Max, down),
                phase(total - 1.0, Anchor::Max, Anchor::Min, up),
            ]
        };
        let mut s = OneCycleLR {
            progress,
            total_steps,
            anneal_strategy,
            phases,
            max_lrs,
            min_lrs,
            momenta,
        };
        // PyTorch sets every group's momentum to `max_momentum` here; the first step
        // then sets it to its value at step 0 (the same, up to rounding).
        s.step(optimizer)?;
        Ok(s)
    }

    /// `OneCycleLR(optimizer, max_lr, epochs=..., steps_per_epoch=...)`: the same as
    /// [`OneCycleLR::new`] with `total_steps = epochs * steps_per_epoch`.
    pub fn with_epochs(
        optimizer: &mut dyn Optimizer,
        max_lr: &[f64],
        epochs: usize,
        steps_per_epoch: usize,
        options: OneCycleLROptions,
    ) -> Result<Self> {
        const NAME: &str = "OneCycleLR";
        if epochs == 0 {
            return Err(invalid(NAME, "epochs must be positive, got 0"));
        }
        if steps_per_epoch == 0 {
            return Err(invalid(NAME, "steps_per_epoch must be positive, got 0"));
        }
        let total = epochs.checked_mul(steps_per_epoch).ok_or_else(|| {
            invalid(
                NAME,
                format!("epochs * steps_per_epoch overflows ({epochs} * {steps_per_epoch})"),
            )
        })?;
        Self::new(optimizer, max_lr, total, options)
    }

    /// The number of steps in the cycle.
    pub fn total_steps(&self) -> usize {
        self.total_steps
    }

    /// PyTorch's `get_lr` for group `g` at step `step_num`: the learning rate and, with
    /// `cycle_momentum`, the momentum.
    fn at(&self, step_num: i64, g: usize) -> Result<(f64, Option<f64>)> {
        let name = self.progress.name;
        if step_num > self.total_steps as i64 {
            return Err(invalid(
                name,
                format!(
                    "tried to step {step_num} times; the specified number of total steps is {}",
                    self.total_steps
                ),
            ));
        }
        let lr_at = |a: Anchor| match a {
            Anchor::Initial => self.progress.base_lrs[g],
            Anchor::Max => self.max_lrs[g],
            Anchor::Min => self.min_lrs[g],
        };
        let t = step_num as f64;
        let mut start_step = 0.0;
        for (i, phase) in self.phases.iter().enumerate() {
            if t <= phase.end_step || i == self.phases.len() - 1 {
                let len = phase.end_step - start_step;
                if len == 0.0 {
                    return Err(invalid(
                        name,
                        format!(
                            "phase {i} of the cycle has no steps (it ends at step {}); \
                             change pct_start or total_steps",
                            phase.end_step
                        ),
                    ));
                }
                let pct = (t - start_step) / len;
                let anneal = |start, end| self.anneal_strategy.anneal(start, end, pct);
                let lr = anneal(lr_at(phase.start), lr_at(phase.end));
                let momentum = self.momenta.as_ref().map(|m| {
                    let (base, max) = m[g];
                    let at = |a: Momentum| match a {
                        Momentum::Base => base,
                        Momentum::Max => max,
                    };
                    anneal(at(phase.momentum.0), at(phase.momentum.1))
                });
                return Ok((lr, momentum));
            }
            start_step = phase.end_step;
        }
        unreachable!("the last phase always matches")
    }
}

impl LRScheduler for OneCycleLR {
    progress_accessors!();

    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let groups = self.progress.current_lrs(optimizer)?.len();
        let epoch = self.progress.last_epoch + 1;
        let values = (0..groups)
            .map(|g| self.at(epoch, g))
            .collect::<Result<Vec<_>>>()?;
        self.progress
            .advance(optimizer, |g, _, _, _| Ok(values[g].0))?;
        for (g, &(_, momentum)) in values.iter().enumerate() {
            if let Some(m) = momentum {
                optimizer.set_momentum(g, m);
            }
        }
        Ok(())
    }

    fn state(&self) -> SchedulerState {
        self.progress.state()
    }

    fn load_state(&mut self, state: &SchedulerState, optimizer: &mut dyn Optimizer) -> Result<()> {
        state.check(self.progress.name, optimizer.learning_rates().len())?;
        // The momentum is a function of the step: put back its value at the saved step.
        let momenta = match (&self.momenta, state.last_epoch) {
            (Some(_), epoch) if epoch >= 0 => (0..state.base_lrs.len())
                .map(|g| self.at(epoch, g).map(|(_, m)| m))
                .collect::<Result<Vec<_>>>()?,
            _ => Vec::new(),
        };
        self.progress.load(state, optimizer)?;
        for (g, m) in momenta.into_iter().enumerate() {
            if let Some(m) = m {
                optimizer.set_momentum(g, m);
            }
        }
        Ok(())
    }
}
