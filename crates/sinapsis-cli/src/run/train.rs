//! `sinapsis train` and `sinapsis resume`: train with progress output and leave a complete
//! run folder (see [`super::folder`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use sinapsis::checkpoint::{load_model, write_atomic, CheckpointMeta};
use sinapsis::optim::lr_scheduler::LRScheduler;
use sinapsis::train::{
    restore_run, EarlyStopping, History, HistoryCsv, Mode, ModelCheckpoint, ProgressBar, StepsCsv,
    TrainConfig, Trainer,
};
use sinapsis::Result;

use super::folder::{self, create_run_dir, io_err};
use super::report::finish_run;
use super::session::Session;
use crate::config::Experiment;

/// What a finished `train`/`resume` reports.
pub struct TrainOutcome {
    /// The run folder.
    pub run_dir: PathBuf,
    /// The training history.
    pub history: History,
}

fn mode_of(name: &str) -> Mode {
    match name {
        "min" => Mode::Min,
        "max" => Mode::Max,
        _ => Mode::Auto,
    }
}

/// The monitored metric, falling back to the training loss when it needs a validation set
/// the run does not have.
fn monitor(session: &Session) -> String {
    let m = session.exp.training.monitor.clone();
    if m.starts_with("val_") && session.val.is_none() {
        "train_loss".to_string()
    } else {
        m
    }
}

/// Trains `session`, continuing from `resume` (a `last/` checkpoint) if given, and writes the
/// run folder `run_dir`.
fn run(mut session: Session, run_dir: &Path, resume: Option<&Path>) -> Result<TrainOutcome> {
    let started = Instant::now();
    let t = session.exp.training.clone();
    let epochs = t.epochs as u64;
    let kind = session.output_kind();
    let mut trainer = Trainer::new(TrainConfig {
        epochs,
        output: kind,
        clip_grad_norm: (t.clip_grad_norm > 0.0).then_some(t.clip_grad_norm),
        clip_grad_value: (t.clip_grad_value > 0.0).then_some(t.clip_grad_value),
        grad_accum_steps: t.grad_accum_steps.max(1),
        scheduler_interval: session
            .scheduler
            .as_ref()
            .map(|(_, i)| *i)
            .unwrap_or_default(),
        scheduler_monitor: monitor(&session),
        handle_ctrl_c: true,
    });
    if let Some(last) = resume {
        let point = restore_run(
            last,
            &session.model,
            session.optimizer.as_mut(),
            session
                .scheduler
                .as_mut()
                .map(|(s, _)| s.as_mut() as &mut dyn LRScheduler),
        )?;
        println!(
            "resuming {} after epoch {} (step {})",
            run_dir.display(),
            point.epoch,
            point.step
        );
        trainer = trainer
            .resume_from(point.epoch, point.step, point.history)
            .skip_batches(point.batches_done)
            .skipped_sums(point.epoch_sums);
    }
    let every = if epochs > 20 { epochs / 20 } else { 1 };
    trainer = trainer
        .callback(ProgressBar::new(epochs).every(every))
        .callback(HistoryCsv::new(run_dir.join(folder::HISTORY)));
    if t.log_steps {
        trainer = trainer.callback(StepsCsv::new(run_dir.join(folder::STEPS)));
    }
    if t.tensorboard {
        trainer = trainer.callback(sinapsis::train::TensorBoardLogger::new(
            run_dir.join("tensorboard"),
        )?);
    }
    if let Some(es) = &t.early_stopping {
        trainer = trainer.callback(
            EarlyStopping::new(es.monitor.clone())
                .patience(es.patience as u64)
                .min_delta(es.min_delta)
                .mode(mode_of(&es.mode))
                .restore_best(es.restore_best),
        );
    }
    let meta = CheckpointMeta {
        transforms: Some(session.data.transforms.clone()),
        model_config: Some(serde_json::Value::String(session.exp.resolved_toml()?)),
        ..Default::default()
    };
    trainer = trainer.callback(
        ModelCheckpoint::new(run_dir)
            .every(t.checkpoint_every as u64)
            .best(monitor(&session), Mode::Auto)
            .meta(meta),
    );
    let (train, val) = (&session.train, session.val.as_ref());
    let loss = &session.loss;
    let history = trainer.fit(
        &session.model,
        &|o, y| loss.forward(o, y),
        session.optimizer.as_mut(),
        session
            .scheduler
            .as_mut()
            .map(|(s, _)| s.as_mut() as &mut dyn LRScheduler),
        train,
        val,
    )?;
    // The test metrics are those of the model kept as model.safetensors (the best epoch).
    let best = run_dir.join(folder::MODEL);
    if best.is_file() {
        load_model(&session.model, &best, true)?;
    }
    finish_run(&session, run_dir, &history, started.elapsed().as_secs_f64())?;
    Ok(TrainOutcome {
        run_dir: run_dir.to_path_buf(),
        history,
    })
}

/// `sinapsis train CONFIG [--out DIR] [--set k=v]...`.
///
/// # Errors
/// Config errors (before anything is written), missing data, failing I/O.
pub fn train(config: &Path, out: Option<&Path>, overrides: &[String]) -> Result<TrainOutcome> {
    let exp = Experiment::load(config, overrides)?;
    let session = Session::build(&exp)?;
    let parent = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(&exp.output.dir));
    let run_dir = create_run_dir(&parent, &exp.name)?;
    let cfg = run_dir.join(folder::CONFIG);
    write_atomic(&cfg, exp.resolved_toml()?.as_bytes())?;
    println!("run folder: {}", run_dir.display());
    print!(
        "{}",
        crate::summary::render(
            &session.layers,
            &session.data.spec.input_shape,
            exp.training.batch_size
        )
    );
    run(session, &run_dir, None)
}

/// `sinapsis resume RUN_DIR`: continues from `RUN_DIR/last/` up to the configured epochs.
///
/// # Errors
/// Not a run folder, no checkpoint, or a checkpoint that does not fit the config.
pub fn resume(run_dir: &Path) -> Result<TrainOutcome> {
    folder::check_run_dir(run_dir)?;
    let last = run_dir.join(folder::LAST);
    if !last.is_dir() && !run_dir.join("last.old").is_dir() {
        return Err(io_err(
            &last,
            "no checkpoint to resume from (the run saved none yet)",
        ));
    }
    let exp = Experiment::load(run_dir.join(folder::CONFIG), &[])?;
    // The checkpoint holds the weights: `init.init_from` was for the start of the run.
    let session = Session::build_for_restore(&exp)?;
    run(session, run_dir, Some(&last))
}
