//! [`LinearLR`]: a linear ramp of the learning-rate factor (warm-up).

use super::{invalid, progress_accessors, LRScheduler, Progress, SchedulerState};
use crate::optim::Optimizer;
use crate::Result;

/// Multiplies the learning rate by a factor that moves linearly from `start_factor` to
/// `end_factor` over `total_iters` epochs, then stays there
/// (`torch.optim.lr_scheduler.LinearLR`; typically a warm-up).
///
/// `lr_t = base_lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)`.
///
/// NOTE: as in PyTorch, building it multiplies the optimizer's learning rate by
/// `start_factor`, and each later step applies the ratio of consecutive factors,
/// `lr_t = lr_{t-1} * (1 + (e - s) / (total_iters * s + (t - 1) * (e - s)))`.
/// PyTorch's defaults are `start_factor = 1/3`, `end_factor = 1`, `total_iters = 5`.
///
/// ```
/// use sinapsis::optim::lr_scheduler::{LRScheduler, LinearLR};
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
/// let mut sched = LinearLR::new(&mut opt, 0.25, 1.0, 4)?;
/// assert_eq!(opt.learning_rates(), [0.025]); // start_factor applied at construction
/// sched.step(&mut opt)?;
/// assert!((opt.learning_rates()[0] - 0.04375).abs() < 1e-15);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct LinearLR {
    progress: Progress,
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
}

impl LinearLR {
    /// `LinearLR(optimizer, start_factor, end_factor, total_iters)`; multiplies the
    /// learning rates by `start_factor` (the first step, epoch 0).
    pub fn new(
        optimizer: &mut dyn Optimizer,
        start_factor: f64,
        end_factor: f64,
        total_iters: usize,
    ) -> Result<Self> {
        const NAME: &str = "LinearLR";
        // `!(a && b)` also rejects NaN.
        if !(start_factor > 0.0 && start_factor <= 1.0) {
            return Err(invalid(
                NAME,
                format!("start_factor must be in (0, 1], got {start_factor}"),
            ));
        }
        if !(0.0..=1.0).contains(&end_factor) {
            return Err(invalid(
                NAME,
                format!("end_factor must be in [0, 1], got {end_factor}"),
            ));
        }
        let mut s = LinearLR {
            progress: Progress::new(NAME, optimizer)?,
            start_factor,
            end_factor,
            total_iters,
        };
        s.step(optimizer)?;
        Ok(s)
    }
}

impl LRScheduler for LinearLR {
    progress_accessors!();

    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let (s, e, n) = (self.start_factor, self.end_factor, self.total_iters as i64);
        self.progress.advance(optimizer, |_, lr, _, epoch| {
            Ok(if epoch == 0 {
                lr * s
            } else if epoch > n {
                lr
            } else {
                lr * (1.0 + (e - s) / (n as f64 * s + (epoch - 1) as f64 * (e - s)))
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
