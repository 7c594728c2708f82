//! The saved state of a scheduler (`scheduler.state_dict()`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{check_groups, invalid};
use crate::Result;

/// What a scheduler needs to resume: a small, serialisable record (it goes into the JSON of
/// a checkpoint). The settings (step size, gamma, ...) are not part of it: build the same
/// scheduler again, then load the state.
///
/// NOTE: for a bit-exact resume through JSON text, parse it with serde_json's
/// `float_roundtrip` feature: its default decimal parser may be off by one bit.
///
/// ```
/// use sinapsis::optim::lr_scheduler::SchedulerState;
/// let state = SchedulerState {
///     scheduler: "ReduceLROnPlateau".into(),
///     last_epoch: 0,
///     base_lrs: vec![0.1],
///     last_lr: vec![0.1],
///     counters: [("best".to_string(), f64::INFINITY)].into_iter().collect(),
/// };
/// let json = serde_json::to_string(&state).unwrap();
/// assert_eq!(serde_json::from_str::<SchedulerState>(&json).unwrap(), state);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchedulerState {
    /// The scheduler's PyTorch name (`"StepLR"`); loading into another kind is an error.
    pub scheduler: String,
    /// Steps taken since construction (PyTorch's `last_epoch`).
    pub last_epoch: i64,
    /// The learning rate of each group when the scheduler was built (`initial_lr`).
    pub base_lrs: Vec<f64>,
    /// The learning rate of each group after the last step (`_last_lr`).
    pub last_lr: Vec<f64>,
    /// Scheduler-specific counters by name (`T_cur`, `best`, `num_bad_epochs`, ...).
    /// Non-finite values (a `best` of infinity) are written as the strings `"inf"`,
    /// `"-inf"` and `"nan"`, since JSON has no number for them.
    #[serde(default, with = "crate::float_map")]
    pub counters: BTreeMap<String, f64>,
}

impl SchedulerState {
    /// Checks that this state belongs to scheduler `name` and an optimizer with `groups`
    /// parameter groups.
    pub(crate) fn check(&self, name: &'static str, groups: usize) -> Result<()> {
        if self.scheduler != name {
            return Err(invalid(
                name,
                format!("cannot load the state of a {} scheduler", self.scheduler),
            ));
        }
        check_groups(name, groups, self.base_lrs.len())?;
        check_groups(name, groups, self.last_lr.len())
    }

    /// The counter `key`, or an error naming it when the state lacks it.
    pub(crate) fn counter(&self, name: &'static str, key: &str) -> Result<f64> {
        self.counters
            .get(key)
            .copied()
            .ok_or_else(|| invalid(name, format!("the saved state has no counter `{key}`")))
    }

    /// The counter `key` as a non-negative integer.
    pub(crate) fn count(&self, name: &'static str, key: &str) -> Result<u64> {
        let v = self.counter(name, key)?;
        if !(v >= 0.0 && v.fract() == 0.0 && v <= 2f64.powi(53)) {
            return Err(invalid(
                name,
                format!("counter `{key}` must be a non-negative integer, got {v}"),
            ));
        }
        Ok(v as u64)
    }
}
