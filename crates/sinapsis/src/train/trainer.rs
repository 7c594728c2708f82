//! [`Trainer`]: the fit loop (train, validate, schedule, call back) and [`evaluate`].

use std::time::Instant;

use super::callback::{Callback, Context, Control};
use super::config::{Interval, OutputKind, TrainConfig};
use super::interrupt;
use super::log::{EpochLog, EpochSums, History, StepLog, StopReason};
use crate::data::dataset::Batch;
use crate::data::loader::DataLoader;
use crate::metrics::{class_targets, predicted_classes};
use crate::nn::{Module, ModuleExt};
use crate::optim::lr_scheduler::LRScheduler;
use crate::optim::{clip_grad_norm_, clip_grad_value_, Optimizer};
use crate::{no_grad, DType, Error, Result, Tensor};

/// A loss: `(model output, target) -> scalar`, mean over the batch (every `nn::loss`
/// struct's `forward` with the default reduction fits, through a closure).
pub type LossFn<'a> = dyn Fn(&Tensor, &Tensor) -> Result<Tensor> + 'a;

/// The training loop (Keras' `model.fit`, Lightning's `Trainer.fit`): for each epoch,
/// `model.train()`, batches through forward, loss, backward, gradient clipping and the
/// optimizer step; then `model.eval()` and validation under `no_grad`; then the scheduler
/// and the callbacks. Batches are `[input, target]` (the first and last field of each
/// batch).
///
/// ```
/// use sinapsis::data::{dataset::TensorDataset, loader::DataLoader};
/// use sinapsis::nn::{loss::MSELoss, Linear, Module, ModuleExt};
/// use sinapsis::optim::{SgdConfig, SGD};
/// use sinapsis::train::{OutputKind, TrainConfig, Trainer};
/// use sinapsis::{DType, Tensor};
/// # fn main() -> sinapsis::Result<()> {
/// sinapsis::manual_seed(0);
/// let x = Tensor::randn((64, 3), DType::F32)?;
/// let y = x.sum([1], true)?; // learn a sum
/// let train = DataLoader::new(TensorDataset::new(vec![x, y])?, 16)?.shuffle(true).seed(1);
/// let model = Linear::new(3, 1)?;
/// let mut opt = SGD::new(model.named_parameters(), SgdConfig { lr: 0.1, ..Default::default() })?;
/// let mse = MSELoss::new();
/// let mut trainer = Trainer::new(TrainConfig {
///     epochs: 20,
///     output: OutputKind::Regression,
///     ..Default::default()
/// });
/// let history = trainer.fit(&model, &|o, t| mse.forward(o, t), &mut opt, None, &train, None)?;
/// assert!(history.last().unwrap().train_loss < 1e-3);
/// # Ok(()) }
/// ```
pub struct Trainer {
    config: TrainConfig,
    callbacks: Vec<Box<dyn Callback>>,
    start_epoch: u64,
    start_step: u64,
    skip_batches: u64,
    skipped_sums: EpochSums,
    past: Vec<EpochLog>,
}

/// Sums over the batches of one pass (an epoch's training or validation part).
#[derive(Default)]
pub(super) struct PassTotals {
    loss_sum: f64,
    pub(super) samples: usize,
    correct: u64,
    counted: u64,
}

impl From<EpochSums> for PassTotals {
    fn from(s: EpochSums) -> Self {
        PassTotals {
            loss_sum: s.loss_sum,
            samples: s.samples as usize,
            correct: s.correct,
            counted: s.counted,
        }
    }
}

impl PassTotals {
    fn sums(&self) -> EpochSums {
        EpochSums {
            loss_sum: self.loss_sum,
            samples: self.samples as u64,
            correct: self.correct,
            counted: self.counted,
        }
    }

    fn add(&mut self, loss: f64, batch: usize) {
        self.loss_sum += loss * batch as f64;
        self.samples += batch;
    }

    /// Adds a batch's scalar loss tensor.
    pub(super) fn add_loss(&mut self, loss: Tensor, batch: usize) -> Result<()> {
        self.add(scalar_value(&loss)?, batch);
        Ok(())
    }

    fn count(&mut self, output: &Tensor, target: &Tensor, kind: OutputKind) -> Result<()> {
        if !kind.is_classification() {
            return Ok(());
        }
        let pred = predicted_classes(output, kind.threshold())?;
        let truth = class_targets(target)?;
        self.correct += pred.iter().zip(&truth).filter(|(p, t)| p == t).count() as u64;
        self.counted += truth.len() as u64;
        Ok(())
    }

    pub(super) fn mean_loss(&self) -> f64 {
        self.loss_sum / self.samples.max(1) as f64
    }

    fn accuracy(&self, kind: OutputKind) -> Option<f64> {
        (kind.is_classification() && self.counted > 0)
            .then(|| self.correct as f64 / self.counted as f64)
    }
}

/// `(input, target)` of a batch: its first and last fields.
pub(super) fn split_batch(batch: &Batch) -> Result<(&Tensor, &Tensor)> {
    match (batch.first(), batch.last()) {
        (Some(x), Some(y)) if batch.len() >= 2 => Ok((x, y)),
        _ => Err(Error::InvalidArgument {
            op: "Trainer",
            msg: format!(
                "a batch needs at least two fields (input, target), got {}",
                batch.len()
            ),
        }),
    }
}

/// The value of a scalar loss as `f64`, whatever its float dtype.
fn scalar_value(loss: &Tensor) -> Result<f64> {
    if loss.numel() != 1 {
        return Err(Error::InvalidArgument {
            op: "Trainer",
            msg: format!(
                "the loss must be a scalar (reduction mean or sum), got shape {}",
                loss.shape()
            ),
        });
    }
    match loss.dtype() {
        DType::F64 => loss.reshape(())?.item::<f64>(),
        _ => Ok(f64::from(
            loss.to_dtype(DType::F32)?.reshape(())?.item::<f32>()?,
        )),
    }
}

impl Trainer {
    /// A trainer with `config` and no callbacks.
    pub fn new(config: TrainConfig) -> Trainer {
        Trainer {
            config,
            callbacks: Vec::new(),
            start_epoch: 0,
            start_step: 0,
            skip_batches: 0,
            skipped_sums: EpochSums::default(),
            past: Vec::new(),
        }
    }

    /// Adds a callback; callbacks run in the order added.
    pub fn callback(mut self, callback: impl Callback + 'static) -> Trainer {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// Adds a boxed callback.
    pub fn add_callback(&mut self, callback: Box<dyn Callback>) {
        self.callbacks.push(callback);
    }

    /// Continues a run: `epochs_done` epochs and `steps_done` optimizer steps are behind
    /// it, with their logs. The next `fit` starts at epoch `epochs_done + 1`, on the batch
    /// order of that epoch (the loader's order depends only on its seed and the epoch), so
    /// with the model, optimizer, scheduler and random-generator state restored from a
    /// checkpoint the run continues exactly as if never stopped.
    pub fn resume_from(
        mut self,
        epochs_done: u64,
        steps_done: u64,
        past: Vec<EpochLog>,
    ) -> Trainer {
        self.start_epoch = epochs_done;
        self.start_step = steps_done;
        self.past = past;
        self
    }

    /// Continues inside an epoch: the next epoch skips its first `batches` batches (those
    /// trained on before an interruption). Its logged training loss and accuracy cover only
    /// the remaining batches unless the skipped batches' sums are given with
    /// [`Trainer::skipped_sums`].
    pub fn skip_batches(mut self, batches: u64) -> Trainer {
        self.skip_batches = batches;
        self
    }

    /// The loss and accuracy sums of the batches skipped by [`Trainer::skip_batches`] (from
    /// the checkpoint: [`ResumePoint::epoch_sums`](super::ResumePoint::epoch_sums)), so the
    /// resumed epoch logs its per-sample means over the whole epoch, bitwise as the
    /// uninterrupted run.
    pub fn skipped_sums(mut self, sums: EpochSums) -> Trainer {
        self.skipped_sums = sums;
        self
    }

    /// The settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Trains `model` and returns the history. `val` (optional) is evaluated after every
    /// epoch. NaN/infinite losses, Ctrl-C (when `handle_ctrl_c`) and callbacks stop the
    /// run early; [`History::stop`] says why.
    ///
    /// # Errors
    /// A failing op (shape mismatch between output and target, ...), a batch without a
    /// target field, a non-scalar loss, or a callback's error (e.g. a checkpoint that cannot
    /// be written).
    pub fn fit<'a>(
        &mut self,
        model: &'a dyn Module,
        loss_fn: &LossFn<'_>,
        optimizer: &'a mut dyn Optimizer,
        scheduler: Option<&'a mut dyn LRScheduler>,
        train: &DataLoader,
        val: Option<&DataLoader>,
    ) -> Result<History> {
        if self.config.grad_accum_steps == 0 {
            return Err(Error::InvalidArgument {
                op: "Trainer::fit",
                msg: "grad_accum_steps must be at least 1".into(),
            });
        }
        if self.config.handle_ctrl_c {
            interrupt::install_handler();
        }
        let mut ctx = Context {
            model,
            optimizer,
            scheduler,
            epoch: self.start_epoch,
            step: self.start_step,
            batch: 0,
            epoch_sums: EpochSums::default(),
            history: std::mem::take(&mut self.past),
            loader_seed: train.seed_value(),
        };
        for cb in &mut self.callbacks {
            cb.on_train_begin(&mut ctx)?;
        }
        let stop = self.run_epochs(&mut ctx, loss_fn, train, val);
        // A failed epoch still tells the callbacks, so the progress bar is closed.
        let stop = match stop {
            Ok(stop) => stop,
            Err(e) => {
                let reason = StopReason::Stopped {
                    epoch: ctx.epoch,
                    reason: format!("error: {e}"),
                };
                for cb in &mut self.callbacks {
                    let _ = cb.on_train_end(&mut ctx, &reason);
                }
                return Err(e);
            }
        };
        if matches!(stop, StopReason::Interrupted { .. }) {
            interrupt::clear_stop_request();
        }
        for cb in &mut self.callbacks {
            cb.on_train_end(&mut ctx, &stop)?;
        }
        self.start_epoch = ctx.epoch;
        self.start_step = ctx.step;
        Ok(History {
            epochs: ctx.history,
            stop,
            steps: ctx.step,
        })
    }

    fn run_epochs(
        &mut self,
        ctx: &mut Context<'_>,
        loss_fn: &LossFn<'_>,
        train: &DataLoader,
        val: Option<&DataLoader>,
    ) -> Result<StopReason> {
        let kind = self.config.output;
        while ctx.epoch < self.config.epochs {
            let epoch = ctx.epoch + 1;
            let started = Instant::now();
            // The rate this epoch trains with (its first step's under a per-step schedule),
            // as Keras logs it: the epoch-end scheduler step below already belongs to the
            // next epoch.
            let lr = first_lr(&*ctx.optimizer);
            for cb in &mut self.callbacks {
                cb.on_epoch_begin(ctx, epoch, train.len())?;
            }
            let totals = match self.train_epoch(ctx, loss_fn, train, epoch)? {
                Ok(totals) => totals,
                Err(stop) => return Ok(stop),
            };
            let val_totals = match val {
                Some(loader) => Some(validate(ctx.model, loss_fn, loader, kind)?),
                None => None,
            };
            let mut log = EpochLog {
                epoch,
                train_loss: totals.mean_loss(),
                train_acc: totals.accuracy(kind),
                val_loss: val_totals.as_ref().map(PassTotals::mean_loss),
                val_acc: val_totals.as_ref().and_then(|t| t.accuracy(kind)),
                lr,
                time_s: 0.0,
                extra: Default::default(),
            };
            if self.config.scheduler_interval == Interval::Epoch {
                self.step_scheduler(ctx, Some(&log))?;
            }
            log.time_s = started.elapsed().as_secs_f64();
            ctx.epoch = epoch;
            ctx.batch = 0;
            ctx.epoch_sums = EpochSums::default();
            let mut control = Control::Continue;
            for cb in &mut self.callbacks {
                if let Control::Stop(reason) = cb.on_epoch_end(ctx, &mut log)? {
                    control = Control::Stop(reason);
                }
            }
            ctx.history.push(log);
            if let Control::Stop(reason) = control {
                return Ok(StopReason::Stopped { epoch, reason });
            }
        }
        Ok(StopReason::Completed)
    }

    /// One epoch of training. The inner `Err` is a stop (NaN loss, Ctrl-C), not a failure.
    fn train_epoch(
        &mut self,
        ctx: &mut Context<'_>,
        loss_fn: &LossFn<'_>,
        train: &DataLoader,
        epoch: u64,
    ) -> Result<std::result::Result<PassTotals, StopReason>> {
        let kind = self.config.output;
        let accum = self.config.grad_accum_steps;
        let params = ctx.model.parameters();
        ctx.model.train();
        ctx.optimizer.zero_grad();
        let batches = train.len();
        let skip = std::mem::take(&mut self.skip_batches) as usize;
        let skipped = std::mem::take(&mut self.skipped_sums);
        // Resuming mid-epoch: start from the sums of the batches trained before the stop.
        let mut totals = if skip > 0 {
            PassTotals::from(skipped)
        } else {
            PassTotals::default()
        };
        ctx.batch = skip as u64;
        ctx.epoch_sums = totals.sums();
        for (i, batch) in train.iter_epoch(epoch - 1).enumerate().skip(skip) {
            let batch = batch?;
            ctx.batch = i as u64 + 1;
            let (x, y) = split_batch(&batch)?;
            let output = ctx.model.forward(x)?;
            let loss = loss_fn(&output, y)?;
            let value = scalar_value(&loss)?;
            if !value.is_finite() {
                ctx.optimizer.zero_grad();
                return Ok(Err(StopReason::NonFiniteLoss {
                    epoch,
                    batch: i as u64 + 1,
                    value,
                }));
            }
            if accum > 1 {
                loss.mul_scalar(1.0 / accum as f64)?.backward()?;
            } else {
                loss.backward()?;
            }
            let n = x.dims().first().copied().unwrap_or(1);
            totals.add(value, n);
            {
                let _guard = no_grad();
                totals.count(&output, y, kind)?;
            }
            ctx.epoch_sums = totals.sums();
            if (i + 1) % accum != 0 && i + 1 != batches {
                continue;
            }
            if let Some(max) = self.config.clip_grad_norm {
                clip_grad_norm_(&params, max, 2.0)?;
            }
            if let Some(v) = self.config.clip_grad_value {
                clip_grad_value_(&params, v)?;
            }
            let lr = first_lr(&*ctx.optimizer);
            ctx.optimizer.step()?;
            ctx.optimizer.zero_grad();
            ctx.step += 1;
            if self.config.scheduler_interval == Interval::Step {
                self.step_scheduler(ctx, None)?;
            }
            let log = StepLog {
                epoch,
                step: ctx.step,
                loss: value,
                lr,
                batch_size: n,
            };
            for cb in &mut self.callbacks {
                cb.on_step_end(ctx, &log)?;
            }
            if self.config.handle_ctrl_c && interrupt::stop_requested() {
                return Ok(Err(StopReason::Interrupted {
                    epoch,
                    step: ctx.step,
                }));
            }
        }
        Ok(Ok(totals))
    }

    fn step_scheduler(&self, ctx: &mut Context<'_>, log: Option<&EpochLog>) -> Result<()> {
        let Some(sched) = ctx.scheduler.as_deref_mut() else {
            return Ok(());
        };
        if !sched.needs_metric() {
            return sched.step(&mut *ctx.optimizer);
        }
        let monitor = &self.config.scheduler_monitor;
        let value = log.and_then(|l| {
            l.metric(monitor)
                .or_else(|| (monitor == "val_loss").then_some(l.train_loss))
        });
        match value {
            Some(v) => sched.step_with_metric(v, &mut *ctx.optimizer),
            None => Err(Error::InvalidArgument {
                op: "Trainer",
                msg: format!(
                    "the scheduler {} needs the metric '{monitor}' after each epoch, which \
                     this run does not produce (step it per epoch, with a metric such as \
                     val_loss or train_loss)",
                    sched.name()
                ),
            }),
        }
    }
}

/// One pass over `loader` in eval mode under `no_grad`: per-sample mean loss and counts.
fn validate(
    model: &dyn Module,
    loss_fn: &LossFn<'_>,
    loader: &DataLoader,
    kind: OutputKind,
) -> Result<PassTotals> {
    model.eval();
    let _guard = no_grad();
    let mut totals = PassTotals::default();
    for batch in loader.iter_epoch(0) {
        let batch = batch?;
        let (x, y) = split_batch(&batch)?;
        let output = model.forward(x)?;
        let value = scalar_value(&loss_fn(&output, y)?)?;
        totals.add(value, x.dims().first().copied().unwrap_or(1));
        totals.count(&output, y, kind)?;
    }
    Ok(totals)
}

/// Loss and accuracy of `model` over `loader` (eval mode, `no_grad`): `(mean loss per
/// sample, accuracy)`; accuracy is `None` for regression outputs.
///
/// # Errors
/// As [`Trainer::fit`].
pub fn evaluate_loss(
    model: &dyn Module,
    loss_fn: &LossFn<'_>,
    loader: &DataLoader,
    kind: OutputKind,
) -> Result<(f64, Option<f64>)> {
    let totals = validate(model, loss_fn, loader, kind)?;
    Ok((totals.mean_loss(), totals.accuracy(kind)))
}

/// The learning rate of the optimizer's first parameter group (0 when it has none).
fn first_lr(optimizer: &dyn Optimizer) -> f64 {
    optimizer.learning_rates().first().copied().unwrap_or(0.0)
}
