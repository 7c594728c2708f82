//! [`HistoryCsv`] (`history.csv`, one row per epoch) and [`StepsCsv`] (`steps.csv`, one row
//! per optimizer step), Keras' `CSVLogger`.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::callback::{Callback, Context, Control};
use super::log::{EpochLog, StepLog, StopReason};
use crate::checkpoint::write_atomic;
use crate::{Error, Result};

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Data {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

fn cell(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The rows of `history.csv`: `epoch,train_loss,train_acc,val_loss,val_acc,lr,time_s` and
/// then every extra metric (sorted by name); empty cells where an epoch lacks a value.
/// Values are written with full precision (Rust's shortest round-trip form).
///
/// ```
/// use sinapsis::train::{history_csv, EpochLog};
/// let log = EpochLog { epoch: 1, train_loss: 0.5, lr: 0.1, ..Default::default() };
/// let csv = history_csv(&[log]);
/// assert_eq!(csv, "epoch,train_loss,train_acc,val_loss,val_acc,lr,time_s\n1,0.5,,,,0.1,0\n");
/// ```
pub fn history_csv(epochs: &[EpochLog]) -> String {
    let extras: BTreeSet<&String> = epochs.iter().flat_map(|e| e.extra.keys()).collect();
    let mut out = String::from("epoch,train_loss,train_acc,val_loss,val_acc,lr,time_s");
    for k in &extras {
        out.push(',');
        out.push_str(k);
    }
    out.push('\n');
    for e in epochs {
        out += &format!(
            "{},{},{},{},{},{},{}",
            e.epoch,
            e.train_loss,
            cell(e.train_acc),
            cell(e.val_loss),
            cell(e.val_acc),
            e.lr,
            e.time_s
        );
        for k in &extras {
            out.push(',');
            out.push_str(&cell(e.extra.get(*k).copied()));
        }
        out.push('\n');
    }
    out
}

/// Rewrites `history.csv` after every epoch (atomically: the file is always complete), with
/// the epochs of earlier sessions of a resumed run first.
pub struct HistoryCsv {
    path: PathBuf,
}

impl HistoryCsv {
    /// Writes to `path`.
    pub fn new(path: impl Into<PathBuf>) -> HistoryCsv {
        HistoryCsv { path: path.into() }
    }
}

impl Callback for HistoryCsv {
    fn on_epoch_end(&mut self, ctx: &mut Context<'_>, log: &mut EpochLog) -> Result<Control> {
        let mut all = ctx.history.clone();
        all.push(log.clone());
        write_atomic(&self.path, history_csv(&all).as_bytes())?;
        Ok(Control::Continue)
    }
}

/// Appends `step,epoch,loss,lr` per optimizer step to `steps.csv` (flushed every epoch).
/// A resumed run keeps the rows up to its checkpoint's step and appends after them.
pub struct StepsCsv {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl StepsCsv {
    /// Writes to `path`.
    pub fn new(path: impl Into<PathBuf>) -> StepsCsv {
        StepsCsv {
            path: path.into(),
            out: None,
        }
    }

    fn writer(&mut self, steps_done: u64) -> Result<&mut BufWriter<File>> {
        if self.out.is_none() {
            // Keep the rows of steps already taken (a resume), drop any written after the
            // checkpoint by the interrupted session.
            let kept: Vec<String> = std::fs::read_to_string(&self.path)
                .unwrap_or_default()
                .lines()
                .skip(1)
                .filter(|l| {
                    l.split(',')
                        .next()
                        .and_then(|s| s.parse::<u64>().ok())
                        .is_some_and(|s| s <= steps_done)
                })
                .map(str::to_string)
                .collect();
            let file = File::create(&self.path).map_err(|e| io_err(&self.path, e))?;
            let mut w = BufWriter::new(file);
            writeln!(w, "step,epoch,loss,lr").map_err(|e| io_err(&self.path, e))?;
            for l in kept {
                writeln!(w, "{l}").map_err(|e| io_err(&self.path, e))?;
            }
            self.out = Some(w);
        }
        Ok(self.out.as_mut().expect("set above"))
    }
}

impl Callback for StepsCsv {
    fn on_train_begin(&mut self, ctx: &mut Context<'_>) -> Result<()> {
        self.writer(ctx.step)?;
        Ok(())
    }

    fn on_step_end(&mut self, ctx: &mut Context<'_>, log: &StepLog) -> Result<()> {
        let path = self.path.clone();
        let w = self.writer(ctx.step)?;
        writeln!(w, "{},{},{},{}", log.step, log.epoch, log.loss, log.lr)
            .map_err(|e| io_err(&path, e))
    }

    fn on_epoch_end(&mut self, _ctx: &mut Context<'_>, _log: &mut EpochLog) -> Result<Control> {
        if let Some(w) = &mut self.out {
            w.flush().map_err(|e| io_err(&self.path, e))?;
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, _ctx: &mut Context<'_>, _stop: &StopReason) -> Result<()> {
        if let Some(mut w) = self.out.take() {
            w.flush().map_err(|e| io_err(&self.path, e))?;
        }
        Ok(())
    }
}
