//! Optimizer state: what [`Optimizer::state_dict`](super::Optimizer::state_dict) returns
//! and `load_state_dict` takes back, plus the per-parameter buffers the optimizers keep.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{FloatElem, StorageElem};

/// A snapshot of an optimizer (PyTorch's `optimizer.state_dict()`), keyed by parameter name
/// so it survives a change of parameter order and reads well in a checkpoint:
///
/// - `tensors`: per-parameter buffers named `"{param}.{buffer}"` (`"fc1.weight.exp_avg"`,
///   `"0.bias.momentum_buffer"`), with the parameter's shape and dtype;
/// - `scalars`: per-parameter counters, `"{param}.step"`;
/// - `groups`: each parameter group's parameter names and hyperparameters (learning rate
///   included: loading restores them, as in PyTorch).
///
/// Parameters that have not been stepped yet have no entry. The tensors are copies, not
/// views of the live buffers. `tensors` go naturally into a safetensors file and the rest
/// into JSON ([`GroupState`] and [`HyperParam`] are serde types).
#[derive(Clone, Debug)]
pub struct OptimizerState {
    /// PyTorch's class name of the optimizer (`"Adam"`); loading into another kind fails.
    pub optimizer: String,
    /// Per-parameter buffers, `"{param}.{buffer}"`.
    pub tensors: Vec<(String, crate::Tensor)>,
    /// Per-parameter scalars, `"{param}.step"`.
    pub scalars: Vec<(String, f64)>,
    /// Parameter groups, in order.
    pub groups: Vec<GroupState>,
}

/// One parameter group in an [`OptimizerState`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// The names of the group's parameters, in order.
    pub params: Vec<String>,
    /// Hyperparameters by PyTorch's names (`lr`, `weight_decay`, `momentum`, `amsgrad`...;
    /// Adam's `betas` are `beta1` and `beta2`).
    pub hyperparameters: BTreeMap<String, HyperParam>,
}

/// A hyperparameter value: a number or a flag (serialised as a bare JSON number or bool).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HyperParam {
    Bool(bool),
    Float(f64),
}

impl HyperParam {
    pub(crate) fn float(self, key: &str) -> std::result::Result<f64, String> {
        match self {
            HyperParam::Float(v) => Ok(v),
            HyperParam::Bool(b) => Err(format!("hyperparameter `{key}` must be a number, got {b}")),
        }
    }

    pub(crate) fn bool(self, key: &str) -> std::result::Result<bool, String> {
        match self {
            HyperParam::Bool(b) => Ok(b),
            HyperParam::Float(v) => Err(format!("hyperparameter `{key}` must be a bool, got {v}")),
        }
    }
}

impl From<f64> for HyperParam {
    fn from(v: f64) -> Self {
        HyperParam::Float(v)
    }
}

impl From<bool> for HyperParam {
    fn from(v: bool) -> Self {
        HyperParam::Bool(v)
    }
}

/// The state of one parameter: its step count and buffers (`slots[i]` holds the buffer
/// named `SLOTS[i]` of its optimizer; an empty vector means "not allocated").
#[derive(Clone, Debug)]
pub struct ParamState<T> {
    pub step: u64,
    pub slots: Vec<Vec<T>>,
}

impl<T> ParamState<T> {
    pub fn new(n_slots: usize) -> Self {
        ParamState {
            step: 0,
            slots: (0..n_slots).map(|_| Vec::new()).collect(),
        }
    }
}

/// A parameter's state in its parameter's dtype.
#[derive(Clone, Debug)]
pub enum AnyState {
    F32(ParamState<f32>),
    F64(ParamState<f64>),
}

impl AnyState {
    pub fn step(&self) -> u64 {
        match self {
            AnyState::F32(s) => s.step,
            AnyState::F64(s) => s.step,
        }
    }
}

/// The element types optimizers run on (f32, f64), with typed access to [`AnyState`].
pub trait Float: FloatElem + StorageElem {
    fn state(s: &mut AnyState) -> Option<&mut ParamState<Self>>;
    fn wrap(s: ParamState<Self>) -> AnyState;
}

impl Float for f32 {
    fn state(s: &mut AnyState) -> Option<&mut ParamState<f32>> {
        match s {
            AnyState::F32(s) => Some(s),
            AnyState::F64(_) => None,
        }
    }
    fn wrap(s: ParamState<f32>) -> AnyState {
        AnyState::F32(s)
    }
}

impl Float for f64 {
    fn state(s: &mut AnyState) -> Option<&mut ParamState<f64>> {
        match s {
            AnyState::F64(s) => Some(s),
            AnyState::F32(_) => None,
        }
    }
    fn wrap(s: ParamState<f64>) -> AnyState {
        AnyState::F64(s)
    }
}

/// `torch.lerp(start, end, weight)` with a fixed weight, in PyTorch's two-sided form (exact
/// at both ends): `start + w (end - start)` for `|w| < 0.5`, else `end - (end - start)(1 - w)`.
#[derive(Clone, Copy, Debug)]
pub struct Lerp<T> {
    w: T,
    one_minus_w: T,
    small: bool,
}

impl<T: FloatElem> Lerp<T> {
    pub fn new(weight: f64) -> Self {
        let w = T::from_f64(weight);
        Lerp {
            w,
            one_minus_w: T::one() - w,
            small: weight.abs() < 0.5,
        }
    }

    #[inline(always)]
    pub fn apply(&self, start: T, end: T) -> T {
        if self.small {
            start + self.w * (end - start)
        } else {
            end - (end - start) * self.one_minus_w
        }
    }
}
