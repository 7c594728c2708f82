//! What the commands do: `train` and `resume` ([`train`]), `eval` ([`eval`]), `predict`
//! ([`predict`]), and the run folder they leave behind ([`folder`], [`report`], [`plots`]).

pub mod eval;
pub mod folder;
pub mod plots;
pub mod predict;
pub mod report;
pub mod session;
pub mod train;
