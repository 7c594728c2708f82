//! Turning a checked [`Experiment`](crate::config::Experiment) into ready-to-use objects:
//! data sets, the model, the loss, the optimizer and the scheduler.

pub mod data;
pub mod init_from;
pub mod loss;
pub mod model;
pub mod optim;
