//! The `sinapsis` command line's library side: the experiment file ([`config`]),
//! `--set` overrides ([`overrides`]), builders of data, model, loss and optimizer
//! ([`build`]) and the model [`summary`].

pub mod build;
pub mod config;
pub mod overrides;
pub mod summary;
