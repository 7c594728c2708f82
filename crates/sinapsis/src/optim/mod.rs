//! Optimizers, learning-rate schedulers and gradient clipping, as in `torch.optim`,
//! `torch.optim.lr_scheduler` and `torch.nn.utils`.
//!
//! Optimizers update parameters in place (under `no_grad`, through `Tensor::update_`) and
//! keep their state keyed by parameter name, so a saved state resumes training exactly.

pub mod lr_scheduler;

mod adagrad;
mod adam;
mod clip;
mod config;
mod generic;
mod load;
mod param_group;
mod rmsprop;
mod sgd;
mod state;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use clip::{clip_grad_norm_, clip_grad_value_};
pub use config::OptimizerConfig;
pub use generic::Optim;
pub use param_group::ParamGroup;
pub use rmsprop::{RMSprop, RmspropConfig};
pub use sgd::{SgdConfig, SGD};
pub use state::{GroupState, HyperParam, OptimizerState};

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

    /// The momentum of each parameter group, what one-cycle schedules vary: SGD's and
    /// RMSprop's `momentum`, Adam's `beta1`; `None` where the optimizer has none (Adagrad,
    /// and the default for optimizers that do not say).
    fn momenta(&self) -> Vec<Option<f64>> {
        vec![None; self.learning_rates().len()]
    }

    /// Sets the momentum (Adam: `beta1`) of parameter group `group`; does nothing where
    /// [`Optimizer::momenta`] is `None`.
    fn set_momentum(&mut self, group: usize, momentum: f64) {
        let _ = (group, momentum);
    }

    /// A snapshot of the optimizer's state and hyperparameters
    /// (`optimizer.state_dict()`), keyed by parameter name. The built-in optimizers all
    /// implement it; the default reports that this one cannot.
    fn state_dict(&self) -> Result<OptimizerState> {
        Err(crate::Error::InvalidArgument {
            op: "state_dict",
            msg: "this optimizer does not support saving its state".into(),
        })
    }

    /// Restores a state from [`Optimizer::state_dict`] (hyperparameters included, as in
    /// PyTorch). Every parameter name, buffer shape and dtype is checked first and all
    /// mismatches are reported in one error; on error nothing changes. Continuing after a
    /// load gives bit-for-bit the same updates as never having stopped.
    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()> {
        let _ = state;
        Err(crate::Error::InvalidArgument {
            op: "load_state_dict",
            msg: "this optimizer does not support loading a state".into(),
        })
    }
}
