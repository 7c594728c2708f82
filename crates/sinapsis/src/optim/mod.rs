//! Optimizers, learning-rate schedulers and gradient clipping, as in `torch.optim`,
//! `torch.optim.lr_scheduler` and `torch.nn.utils`.
//!
//! Optimizers update parameters in place (under `no_grad`, through `Tensor::update_`) and
//! keep their state keyed by parameter name, so a saved state resumes training exactly.

use crate::Result;

/// What every optimizer offers: a step, clearing gradients, and access to the learning
/// rate of each parameter group (what schedulers adjust).
pub trait Optimizer {
    /// Updates every parameter that has a gradient (`optimizer.step()`).
    fn step(&mut self) -> Result<()>;

    /// Clears the gradient of every parameter (`optimizer.zero_grad()`, set_to_none).
    fn zero_grad(&mut self);

    /// The learning rate of each parameter group, in group order.
    fn learning_rates(&self) -> Vec<f64>;

    /// Sets the learning rate of parameter group `group`.
    fn set_learning_rate(&mut self, group: usize, lr: f64);
}
