//! Multiplicative decays: [`StepLR`], [`MultiStepLR`], [`ExponentialLR`].

use super::{check_finite, invalid, progress_accessors, LRScheduler, Progress, SchedulerState};
use crate::optim::Optimizer;
use crate::Result;

/// Decays the learning rate by `gamma` every `step_size` epochs (`torch.optim.lr_scheduler.StepLR`).
///
/// `lr_t = base_lr * gamma^floor(t / step_size)`, computed as PyTorch does, by multiplying
/// the current lr by `gamma` when `t > 0` and `t % step_size == 0`. PyTorch's default
/// `gamma` is 0.1.
///
/// ```
/// use sinapsis::optim::lr_scheduler::{LRScheduler, StepLR};
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
/// let mut sched = StepLR::new(&mut opt, 5, 0.5)?;
/// for _ in 0..10 {
///     sched.step(&mut opt)?;
/// }
/// assert_eq!(sched.get_last_lr(), [0.025]); // 0.1 * 0.5^2 after 10 epochs
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct StepLR {
    progress: Progress,
    step_size: usize,
    gamma: f64,
}

impl StepLR {
    /// `StepLR(optimizer, step_size, gamma)`; performs the first step (epoch 0).
    pub fn new(optimizer: &mut dyn Optimizer, step_size: usize, gamma: f64) -> Result<Self> {
        const NAME: &str = "StepLR";
        if step_size == 0 {
            return Err(invalid(NAME, "step_size must be positive, got 0"));
        }
        check_finite(NAME, "gamma", gamma)?;
        let mut s = StepLR {
            progress: Progress::new(NAME, optimizer)?,
            step_size,
            gamma,
        };
        s.step(optimizer)?;
        Ok(s)
    }
}

impl LRScheduler for StepLR {
    progress_accessors!();

    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let (step_size, gamma) = (self.step_size as i64, self.gamma);
        self.progress.advance(optimizer, |_, lr, _, epoch| {
            Ok(if epoch == 0 || epoch % step_size != 0 {
                lr
            } else {
                lr * gamma
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

/// Decays the learning rate by `gamma` at each milestone epoch
/// (`torch.optim.lr_scheduler.MultiStepLR`).
///
/// `lr_t = base_lr * gamma^(number of milestones <= t)`, computed by multiplying the current
/// lr by `gamma^k` at an epoch that appears `k` times among the milestones (a repeated
/// milestone decays twice, as PyTorch's `Counter` does). PyTorch's default `gamma` is 0.1.
///
/// ```
/// use sinapsis::optim::lr_scheduler::{LRScheduler, MultiStepLR};
/// # use sinapsis::optim::Optimizer;
/// # struct Sgd { lrs: Vec<f64> }
/// # impl Optimizer for Sgd {
/// #     fn step(&mut self) -> sinapsis::Result<()> { Ok(()) }
/// #     fn zero_grad(&mut self) {}
/// #     fn learning_rates(&self) -> Vec<f64> { self.lrs.clone() }
/// #     fn set_learning_rate(&mut self, group: usize, lr: f64) { self.lrs[group] = lr }
/// # }
/// # fn main() -> sinapsis::Result<()> {
/// let mut opt = Sgd { lrs: vec![1.0] };
/// let mut sched = MultiStepLR::new(&mut opt, &[2, 4], 0.5)?;
/// for _ in 0..4 {
///     sched.step(&mut opt)?;
/// }
/// assert_eq!(sched.get_last_lr(), [0.25]); // decayed at epochs 2 and 4
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    progress: Progress,
    /// Sorted; a repeated epoch counts once per occurrence.
    milestones: Vec<usize>,
    gamma: f64,
}

impl MultiStepLR {
    /// `MultiStepLR(optimizer, milestones, gamma)`; performs the first step (epoch 0).
    /// Milestones may come in any order.
    pub fn new(optimizer: &mut dyn Optimizer, milestones: &[usize], gamma: f64) -> Result<Self> {
        const NAME: &str = "MultiStepLR";
        check_finite(NAME, "gamma", gamma)?;
        let mut milestones = milestones.to_vec();
        milestones.sort_unstable();
        let mut s = MultiStepLR {
            progress: Progress::new(NAME, optimizer)?,
            milestones,
            gamma,
        };
        s.step(optimizer)?;
        Ok(s)
    }
}

impl LRScheduler for MultiStepLR {
    progress_accessors!();

    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let epoch = self.progress.last_epoch + 1;
        let hits = usize::try_from(epoch)
            .map(|e| self.milestones.iter().filter(|&&m| m == e).count())
            .unwrap_or(0);
        // NOTE: Python's `gamma ** k` is C `pow`, hence `powf` rather than `powi`.
        let factor = self.gamma.powf(hits as f64);
        self.progress.advance(optimizer, |_, lr, _, _| {
            Ok(if hits == 0 { lr } else { lr * factor })
        })
    }

    fn state(&self) -> SchedulerState {
        self.progress.state()
    }

    fn load_state(&mut self, state: &SchedulerState, optimizer: &mut dyn Optimizer) -> Result<()> {
        self.progress.load(state, optimizer)
    }
}

/// Decays the learning rate by `gamma` every epoch (`torch.optim.lr_scheduler.ExponentialLR`).
///
/// `lr_t = base_lr * gamma^t`, computed by multiplying the current lr by `gamma` at every
/// step after the first.
///
/// ```
/// use sinapsis::optim::lr_scheduler::{ExponentialLR, LRScheduler};
/// # use sinapsis::optim::Optimizer;
/// # struct Sgd { lrs: Vec<f64> }
/// # impl Optimizer for Sgd {
/// #     fn step(&mut self) -> sinapsis::Result<()> { Ok(()) }
/// #     fn zero_grad(&mut self) {}
/// #     fn learning_rates(&self) -> Vec<f64> { self.lrs.clone() }
/// #     fn set_learning_rate(&mut self, group: usize, lr: f64) { self.lrs[group] = lr }
/// # }
/// # fn main() -> sinapsis::Result<()> {
/// let mut opt = Sgd { lrs: vec![1.0] };
/// let mut sched = ExponentialLR::new(&mut opt, 0.5)?;
/// sched.step(&mut opt)?;
/// sched.step(&mut opt)?;
/// assert_eq!(opt.learning_rates(), [0.25]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    progress: Progress,
    gamma: f64,
}

impl ExponentialLR {
    /// `ExponentialLR(optimizer, gamma)`; performs the first step (epoch 0).
    pub fn new(optimizer: &mut dyn Optimizer, gamma: f64) -> Result<Self> {
        const NAME: &str = "ExponentialLR";
        check_finite(NAME, "gamma", gamma)?;
        let mut s = ExponentialLR {
            progress: Progress::new(NAME, optimizer)?,
            gamma,
        };
        s.step(optimizer)?;
        Ok(s)
    }
}

impl LRScheduler for ExponentialLR {
    progress_accessors!();

    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let gamma = self.gamma;
        self.progress.advance(optimizer, |_, lr, _, epoch| {
            Ok(if epoch == 0 { lr } else { lr * gamma })
        })
    }

    fn state(&self) -> SchedulerState {
        self.progress.state()
    }

    fn load_state(&mut self, state: &SchedulerState, optimizer: &mut dyn Optimizer) -> Result<()> {
        self.progress.load(state, optimizer)
    }
}
