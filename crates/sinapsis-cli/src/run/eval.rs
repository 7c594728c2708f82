//! `sinapsis eval RUN_DIR [--data PATH]`: the run's best model on its test set (or on the
//! test split of other data of the same kind).

use std::path::Path;

use sinapsis::checkpoint::load_model;
use sinapsis::train::Evaluation;
use sinapsis::Result;

use super::folder;
use super::report::{evaluate_test, print_evaluation};
use super::session::Session;
use crate::config::Experiment;

/// Rebuilds the run's session from its `config.toml` (same seed: same split and fitted
/// transforms) with the best weights loaded. `data` replaces `data.path`.
///
/// # Errors
/// Not a run folder, missing weights, or data that does not fit.
pub fn load_session(run_dir: &Path, data: Option<&Path>) -> Result<Session> {
    folder::check_run_dir(run_dir)?;
    let overrides: Vec<String> = data
        .map(|p| vec![format!("data.path={:?}", p.display().to_string())])
        .unwrap_or_default();
    let exp = Experiment::load(run_dir.join(folder::CONFIG), &overrides)?;
    let session = Session::build(&exp)?;
    load_model(&session.model, &run_dir.join(folder::MODEL), true)?;
    Ok(session)
}

/// Evaluates and prints; returns the metrics.
///
/// # Errors
/// As [`load_session`].
pub fn eval(run_dir: &Path, data: Option<&Path>) -> Result<Evaluation> {
    let session = load_session(run_dir, data)?;
    let eval = evaluate_test(&session, false)?;
    print_evaluation(&eval);
    Ok(eval)
}
