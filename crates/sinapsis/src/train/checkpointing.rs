//! [`ModelCheckpoint`]: the run's checkpoints (Keras' `ModelCheckpoint`, Lightning's
//! checkpointing), and [`restore_run`] to pick a run up again.
//!
//! In the run folder: `last/` after every epoch (and on Ctrl-C, mid-epoch), `epoch-N/` every
//! `every` epochs when asked, and `model.safetensors` with the best weights by the monitored
//! metric. Each checkpoint folder holds the model, the optimizer state and a JSON with the
//! epoch, step, scheduler, random-generator and sampler state, the transforms, the model's
//! config and the history so far: everything to continue bitwise where it stopped.

use std::path::{Path, PathBuf};

use super::callback::{Callback, Context, Control};
use super::early_stopping::{BestTracker, Mode};
use super::log::{EpochLog, EpochSums, StopReason};
use crate::checkpoint::{save_model, Checkpoint, CheckpointMeta, RngState, SamplerState};
use crate::nn::Module;
use crate::optim::lr_scheduler::LRScheduler;
use crate::optim::Optimizer;
use crate::random::with_default_generator;
use crate::{Error, Result};

/// Key of the history in [`CheckpointMeta::extra`].
const HISTORY_KEY: &str = "history";
/// Key of the batches already trained on in an interrupted epoch.
const BATCH_KEY: &str = "epoch_batches_done";
/// Key of the loss and accuracy sums over those batches.
const SUMS_KEY: &str = "epoch_sums";

/// Writes the run's checkpoints (see the module docs).
pub struct ModelCheckpoint {
    dir: PathBuf,
    every: u64,
    best: Option<BestTracker>,
    template: CheckpointMeta,
}

impl ModelCheckpoint {
    /// Checkpoints into the run folder `dir`: `dir/last/` after every epoch.
    pub fn new(dir: impl Into<PathBuf>) -> ModelCheckpoint {
        ModelCheckpoint {
            dir: dir.into(),
            every: 0,
            best: None,
            template: CheckpointMeta::default(),
        }
    }

    /// Also keeps `dir/epoch-N/` every `n` epochs (0: never).
    pub fn every(mut self, n: u64) -> ModelCheckpoint {
        self.every = n;
        self
    }

    /// Writes `dir/model.safetensors` whenever `monitor` reaches a new best.
    pub fn best(mut self, monitor: impl Into<String>, mode: Mode) -> ModelCheckpoint {
        self.best = Some(BestTracker::new(monitor, mode, 0.0));
        self
    }

    /// Fields copied into every checkpoint's JSON (transforms, model config, extras).
    pub fn meta(mut self, template: CheckpointMeta) -> ModelCheckpoint {
        self.template = template;
        self
    }

    /// The best value of the monitored metric and its epoch.
    pub fn best_so_far(&self) -> Option<(f64, u64)> {
        self.best.as_ref().and_then(|b| b.best)
    }

    fn capture(&self, ctx: &Context<'_>, history: &[EpochLog]) -> Result<Checkpoint> {
        let mut ckpt = Checkpoint::capture(ctx.model, Some(&*ctx.optimizer))?;
        let mut meta = self.template.clone();
        meta.epoch = ctx.epoch;
        meta.step = ctx.step;
        meta.scheduler = ctx.scheduler.as_deref().map(LRScheduler::state);
        meta.rng = Some(RngState::from(with_default_generator(|g| g.state())));
        meta.sampler = Some(SamplerState {
            seed: ctx.loader_seed,
            epoch: ctx.epoch,
        });
        if let Some(last) = history.last() {
            meta.metrics = [
                ("train_loss", Some(last.train_loss)),
                ("train_acc", last.train_acc),
                ("val_loss", last.val_loss),
                ("val_acc", last.val_acc),
                ("lr", Some(last.lr)),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .chain(last.extra.clone())
            .collect();
        }
        let history = serde_json::to_value(history).map_err(|e| Error::InvalidArgument {
            op: "ModelCheckpoint",
            msg: format!("cannot serialise the history: {e}"),
        })?;
        meta.extra.insert(HISTORY_KEY.into(), history);
        meta.extra.insert(BATCH_KEY.into(), ctx.batch.into());
        if ctx.batch > 0 {
            // serde_json writes f64 so that it reads back bitwise.
            if let Ok(sums) = serde_json::to_value(ctx.epoch_sums) {
                meta.extra.insert(SUMS_KEY.into(), sums);
            }
        }
        ckpt.meta = meta;
        Ok(ckpt)
    }
}

impl Callback for ModelCheckpoint {
    fn on_epoch_end(&mut self, ctx: &mut Context<'_>, log: &mut EpochLog) -> Result<Control> {
        let mut history = ctx.history.clone();
        history.push(log.clone());
        let ckpt = self.capture(ctx, &history)?;
        ckpt.save(&self.dir.join("last"))?;
        if self.every > 0 && log.epoch % self.every == 0 {
            ckpt.save(&self.dir.join(format!("epoch-{}", log.epoch)))?;
        }
        if let Some(best) = &mut self.best {
            if best.update(log)? {
                save_model(ctx.model, &self.dir.join("model.safetensors"))?;
            }
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, ctx: &mut Context<'_>, stop: &StopReason) -> Result<()> {
        // Ctrl-C: keep the steps taken since the last epoch. A NaN loss is not saved (the
        // previous checkpoint is the useful one).
        if matches!(stop, StopReason::Interrupted { .. }) {
            let history = ctx.history.clone();
            self.capture(ctx, &history)?.save(&self.dir.join("last"))?;
        }
        if self.best.is_none() {
            save_model(ctx.model, &self.dir.join("model.safetensors"))?;
        }
        Ok(())
    }
}

/// Where a restored run goes on: pass these to [`Trainer::resume_from`] and
/// [`Trainer::skip_batches`](super::Trainer::skip_batches).
///
/// [`Trainer::resume_from`]: super::Trainer::resume_from
#[derive(Clone, Debug)]
pub struct ResumePoint {
    /// Epochs completed.
    pub epoch: u64,
    /// Optimizer steps taken.
    pub step: u64,
    /// Batches of the next epoch already trained on (after Ctrl-C), else 0.
    pub batches_done: u64,
    /// Loss and accuracy sums over those batches, for
    /// [`Trainer::skipped_sums`](super::Trainer::skipped_sums) (zero when none were saved).
    pub epoch_sums: EpochSums,
    /// The logs of the completed epochs.
    pub history: Vec<EpochLog>,
    /// The whole checkpoint (transforms, model config, metrics...).
    pub checkpoint: Checkpoint,
}

/// Loads the checkpoint folder `dir` (a run's `last/`) into `model`, `optimizer` and
/// `scheduler` (strictly: every name and shape must match) and restores the default
/// random generator, so training continues exactly where it stopped.
///
/// # Errors
/// A missing or corrupt checkpoint (naming the file), or a model/optimizer/scheduler that
/// does not match it.
pub fn restore_run(
    dir: &Path,
    model: &dyn Module,
    optimizer: &mut dyn Optimizer,
    scheduler: Option<&mut dyn LRScheduler>,
) -> Result<ResumePoint> {
    let checkpoint = Checkpoint::load(dir)?;
    checkpoint.restore(model, Some(&mut *optimizer))?;
    let meta = &checkpoint.meta;
    if let Some(sched) = scheduler {
        let state = meta.scheduler.as_ref().ok_or_else(|| Error::Data {
            path: dir.display().to_string(),
            msg: "the run has a scheduler but the checkpoint holds no scheduler state".into(),
        })?;
        sched.load_state(state, optimizer)?;
    }
    if let Some(rng) = meta.rng {
        with_default_generator(|g| g.set_state(&rng.into()));
    }
    let history = match meta.extra.get(HISTORY_KEY) {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| Error::Data {
            path: dir.join("checkpoint.json").display().to_string(),
            msg: format!("bad history: {e}"),
        })?,
        None => Vec::new(),
    };
    let batches_done = meta
        .extra
        .get(BATCH_KEY)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    let epoch_sums = match meta.extra.get(SUMS_KEY) {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| Error::Data {
            path: dir.join("checkpoint.json").display().to_string(),
            msg: format!("bad {SUMS_KEY}: {e}"),
        })?,
        None => EpochSums::default(),
    };
    Ok(ResumePoint {
        epoch: meta.epoch,
        step: meta.step,
        batches_done,
        epoch_sums,
        history,
        checkpoint,
    })
}
