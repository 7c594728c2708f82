//! Cosine annealing: [`CosineAnnealingLR`] and [`CosineAnnealingWarmRestarts`] (SGDR).

use std::f64::consts::PI;

use super::{check_finite, invalid, progress_accessors, LRScheduler, Progress, SchedulerState};
use crate::optim::Optimizer;
use crate::Result;

/// Anneals the learning rate from its base value to `eta_min` along a half cosine over
/// `t_max` epochs, then back up, and so on (`torch.optim.lr_scheduler.CosineAnnealingLR`;
/// SGDR without restarts, <https://arxiv.org/abs/1608.03983>).
///
/// `lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2`.
///
/// NOTE: like PyTorch's `get_lr`, each step applies the recursive form
/// `lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T))`
/// (and `lr_t = lr_{t-1} + (base_lr - eta_min) * (1 - cos(pi / T)) / 2` where that
/// denominator vanishes), so the values drift from the closed form by rounding exactly as
/// PyTorch's do, and a learning rate changed from outside is carried along.
/// PyTorch's default `eta_min` is 0.
///
/// ```
/// use sinapsis::optim::lr_scheduler::{CosineAnnealingLR, LRScheduler};
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
/// let mut sched = CosineAnnealingLR::new(&mut opt, 10, 0.0)?;
/// for _ in 0..5 {
///     sched.step(&mut opt)?;
/// }
/// assert!((sched.get_last_lr()[0] - 0.05).abs() < 1e-12); // halfway down
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    progress: Progress,
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealingLR {
    /// `CosineAnnealingLR(optimizer, T_max, eta_min)`; performs the first step (epoch 0).
    pub fn new(optimizer: &mut dyn Optimizer, t_max: usize, eta_min: f64) -> Result<Self> {
        const NAME: &str = "CosineAnnealingLR";
        if t_max == 0 {
            return Err(invalid(NAME, "T_max must be positive, got 0"));
        }
        check_finite(NAME, "eta_min", eta_min)?;
        let mut s = CosineAnnealingLR {
            progress: Progress::new(NAME, optimizer)?,
            t_max,
            eta_min,
        };
        s.step(optimizer)?;
        Ok(s)
    }
}

impl LRScheduler for CosineAnnealingLR {
    progress_accessors!();

    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let (t_max, eta_min) = (self.t_max as i64, self.eta_min);
        let tm = t_max as f64;
        self.progress.advance(optimizer, |_, lr, base, epoch| {
            // NOTE: `(epoch - 1 - T_max) % (2 T_max)` is Python's modulo, never negative.
            Ok(if epoch == 0 {
                lr
            } else if (epoch - 1 - t_max).rem_euclid(2 * t_max) == 0 {
                lr + (base - eta_min) * (1.0 - (PI / tm).cos()) / 2.0
            } else {
                (1.0 + (PI * epoch as f64 / tm).cos())
                    / (1.0 + (PI * (epoch - 1) as f64 / tm).cos())
                    * (lr - eta_min)
                    + eta_min
            })
        })
    }

    fn state(&self) -> SchedulerState {
        self.progress.state()
    }

    fn load_state(&mut self, state: &SchedulerState, optimizer: &mut dyn Optimizer) -> Result<()> {
        self.progress.load(state, optimizer)
    }
}

/// Cosine annealing with warm restarts: anneals from the base learning rate to `eta_min`
/// over `T_i` epochs, then restarts at the base rate with `T_{i+1} = T_i * t_mult`
/// (`torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`; SGDR,
/// <https://arxiv.org/abs/1608.03983>).
///
/// `lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2`, where `T_cur`
/// counts the epochs since the last restart and `T_0 = t_0`. PyTorch's defaults are
/// `t_mult = 1`, `eta_min = 0`.
///
/// ```
/// use sinapsis::optim::lr_scheduler::{CosineAnnealingWarmRestarts, LRScheduler};
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
/// let mut sched = CosineAnnealingWarmRestarts::new(&mut opt, 4, 2, 0.0)?;
/// for _ in 0..4 {
///     sched.step(&mut opt)?;
/// }
/// assert_eq!(sched.get_last_lr(), [0.1]); // restarted after T_0 = 4 epochs
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct CosineAnnealingWarmRestarts {
    progress: Progress,
    t_0: u64,
    t_mult: u64,
    eta_min: f64,
    /// Epochs since the last restart.
    t_cur: u64,
    /// Length of the current cycle.
    t_i: u64,
}

impl CosineAnnealingWarmRestarts {
    /// `CosineAnnealingWarmRestarts(optimizer, T_0, T_mult, eta_min)`; performs the first
    /// step (epoch 0).
    pub fn new(
        optimizer: &mut dyn Optimizer,
        t_0: usize,
        t_mult: usize,
        eta_min: f64,
    ) -> Result<Self> {
        const NAME: &str = "CosineAnnealingWarmRestarts";
        if t_0 == 0 {
            return Err(invalid(NAME, "T_0 must be a positive integer, got 0"));
        }
        if t_mult == 0 {
            return Err(invalid(NAME, "T_mult must be an integer >= 1, got 0"));
        }
        check_finite(NAME, "eta_min", eta_min)?;
        let mut s = CosineAnnealingWarmRestarts {
            progress: Progress::new(NAME, optimizer)?,
            t_0: t_0 as u64,
            t_mult: t_mult as u64,
            eta_min,
            t_cur: 0,
            t_i: t_0 as u64,
        };
        s.step(optimizer)?;
        Ok(s)
    }
}

impl LRScheduler for CosineAnnealingWarmRestarts {
    progress_accessors!();

    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        self.progress.current_lrs(optimizer)?;
        // PyTorch's `step(epoch=None)`: the first call (last_epoch = -1) is `step(0)`.
        let (t_cur, t_i) = if self.progress.last_epoch < 0 {
            (0, self.t_0)
        } else if self.t_cur + 1 >= self.t_i {
            (
                self.t_cur + 1 - self.t_i,
                self.t_i.saturating_mul(self.t_mult),
            )
        } else {
            (self.t_cur + 1, self.t_i)
        };
        let eta_min = self.eta_min;
        let angle = PI * t_cur as f64 / t_i as f64;
        self.progress.advance(optimizer, |_, _, base, _| {
            Ok(eta_min + (base - eta_min) * (1.0 + angle.cos()) / 2.0)
        })?;
        self.t_cur = t_cur;
        self.t_i = t_i;
        Ok(())
    }

    fn state(&self) -> SchedulerState {
        let mut state = self.progress.state();
        state.counters.insert("T_cur".into(), self.t_cur as f64);
        state.counters.insert("T_i".into(), self.t_i as f64);
        state
    }

    fn load_state(&mut self, state: &SchedulerState, optimizer: &mut dyn Optimizer) -> Result<()> {
        let name = self.progress.name;
        state.check(name, optimizer.learning_rates().len())?;
        let (t_cur, t_i) = (state.count(name, "T_cur")?, state.count(name, "T_i")?);
        if t_i == 0 {
            return Err(invalid(name, "counter `T_i` must be positive, got 0"));
        }
        self.progress.load(state, optimizer)?;
        self.t_cur = t_cur;
        self.t_i = t_i;
        Ok(())
    }
}
