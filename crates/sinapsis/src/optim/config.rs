//! What an optimizer's configuration struct (`SgdConfig`, `AdamConfig`, ...) tells the
//! shared machinery in [`Optim`](super::Optim): its name, its per-parameter buffers, how to
//! validate and serialise its hyperparameters, and the element-wise update itself.

use std::fmt;

use super::state::{Float, HyperParam, ParamState};
use crate::{Error, Result};

/// A configuration that drives an optimizer: `SgdConfig`, `AdamConfig`, `AdamWConfig`,
/// `RmspropConfig`, `AdagradConfig`. Sealed: the methods live in a crate-private supertrait.
pub trait OptimizerConfig: Kernel + Clone + fmt::Debug + Send + Sync + 'static {}

impl<C: Kernel + Clone + fmt::Debug + Send + Sync + 'static> OptimizerConfig for C {}

/// The crate-private side of [`OptimizerConfig`] (unnameable outside the crate).
pub trait Kernel {
    /// PyTorch's class name (`"SGD"`), used in errors and saved states.
    const NAME: &'static str;
    /// Names of the per-parameter buffers, as in PyTorch's `optimizer.state[p]`.
    const SLOTS: &'static [&'static str];
    /// Whether the optimizer keeps a per-parameter `step` count (all but SGD).
    const COUNTS_STEPS: bool;

    /// Checks every hyperparameter, naming the bad value.
    fn validate(&self) -> Result<()>;
    fn lr(&self) -> f64;
    fn set_lr(&mut self, lr: f64);
    fn set_weight_decay(&mut self, weight_decay: f64);
    /// The momentum (Adam: `beta1`) that one-cycle schedules vary, if there is one.
    fn momentum(&self) -> Option<f64> {
        None
    }
    fn set_momentum(&mut self, _momentum: f64) {}
    /// Every hyperparameter by PyTorch's name.
    fn hyperparameters(&self) -> Vec<(&'static str, HyperParam)>;
    fn set_hyperparameter(
        &mut self,
        key: &str,
        value: HyperParam,
    ) -> std::result::Result<(), String>;
    /// Whether buffer `SLOTS[slot]` exists once a parameter has been stepped.
    fn slot_in_use(&self, slot: usize) -> bool;
    /// Updates one parameter `p` from its gradient `g` in a single pass over the elements.
    /// The step count is already incremented (for optimizers that count steps).
    fn update<T: Float>(&self, p: &mut [T], g: &[T], state: &mut ParamState<T>);
}

pub(crate) fn invalid(name: &'static str, msg: String) -> Error {
    Error::InvalidArgument { op: name, msg }
}

/// `value >= 0` (NaN fails), else `"{name}: invalid {what}: {value}"` (the value printed
/// as Rust's `{:?}` does: `-1.0`, `1e-8`, like Python).
pub(crate) fn check_non_negative(name: &'static str, what: &str, value: f64) -> Result<()> {
    if value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(name, format!("invalid {what}: {value:?}")))
    }
}

/// Adam's betas: each in `[0, 1)`.
pub(crate) fn check_betas(name: &'static str, betas: (f64, f64)) -> Result<()> {
    for (i, b) in [betas.0, betas.1].into_iter().enumerate() {
        if !(0.0..1.0).contains(&b) {
            return Err(invalid(
                name,
                format!("invalid beta parameter at index {i}: {b:?} (must be in [0, 1))"),
            ));
        }
    }
    Ok(())
}

/// Conversion of a saved [`HyperParam`] back to a field's type.
pub(crate) trait FromHyper: Sized {
    fn from_hyper(v: HyperParam, key: &str) -> std::result::Result<Self, String>;
}

impl FromHyper for f64 {
    fn from_hyper(v: HyperParam, key: &str) -> std::result::Result<Self, String> {
        v.float(key)
    }
}

impl FromHyper for bool {
    fn from_hyper(v: HyperParam, key: &str) -> std::result::Result<Self, String> {
        v.bool(key)
    }
}

/// For a config struct with plain `f64`/`bool` fields: builder-style setters
/// (`SgdConfig::default().lr(0.1).momentum(0.9)`) and the field list as hyperparameters.
macro_rules! config_fields {
    ($ty:ident { $($field:ident: $t:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets `", stringify!($field), "` (builder style).")]
                #[must_use]
                pub fn $field(mut self, value: $t) -> Self {
                    self.$field = value;
                    self
                }
            )*

            fn field_list(&self) -> Vec<(&'static str, $crate::optim::HyperParam)> {
                vec![$((stringify!($field), $crate::optim::HyperParam::from(self.$field))),*]
            }

            fn set_field(
                &mut self,
                key: &str,
                value: $crate::optim::HyperParam,
            ) -> std::result::Result<(), String> {
                use $crate::optim::config::FromHyper;
                match key {
                    $(stringify!($field) => self.$field = <$t>::from_hyper(value, key)?,)*
                    _ => return Err(format!("unknown hyperparameter `{key}`")),
                }
                Ok(())
            }
        }
    };
}
pub(crate) use config_fields;
