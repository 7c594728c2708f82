//! The `sinapsis` command line's library side: the experiment file ([`config`]),
//! `--set` overrides ([`overrides`]), builders of data, model, loss and optimizer
//! ([`build`]), the model [`summary`] and the reference benchmarks ([`bench`]).

// NOTE: `!(x >= 0.0)` is deliberate: it also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::type_complexity)]
pub mod bench;
pub mod build;
pub mod config;
pub mod overrides;
pub mod run;
pub mod summary;
