//! [`ProgressBar`]: a per-epoch progress bar with loss, accuracy and ETA (indicatif), and one
//! summary line per epoch, as Keras' `verbose=1`.

use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, ProgressStyle};

use super::callback::{Callback, Context, Control};
use super::log::{EpochLog, StepLog, StopReason};
use crate::Result;

/// Shows a bar while an epoch runs (`epoch 3/20 [=====>    ] 120/469 loss 0.2345 ETA 2s`)
/// and prints one line per epoch (every `every` epochs, and the last). On a terminal that is
/// not interactive (CI logs, pipes) only the epoch lines are printed.
pub struct ProgressBar {
    epochs: u64,
    every: u64,
    bar: Option<indicatif::ProgressBar>,
    loss_sum: f64,
    samples: usize,
    last_message: Instant,
}

/// How often the bar's text is refreshed: formatting it every step would cost more than a
/// small model's step.
const MESSAGE_PERIOD: Duration = Duration::from_millis(100);

impl ProgressBar {
    /// A progress display for a run of `epochs` epochs.
    pub fn new(epochs: u64) -> ProgressBar {
        ProgressBar {
            epochs,
            every: 1,
            bar: None,
            loss_sum: 0.0,
            samples: 0,
            last_message: Instant::now(),
        }
    }

    /// Prints the epoch line only every `n` epochs (and for the first and last).
    pub fn every(mut self, n: u64) -> ProgressBar {
        self.every = n.max(1);
        self
    }

    fn print(&self, line: &str) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.println(line),
            _ => println!("{line}"),
        }
    }
}

/// `train_loss 0.1234  train_acc 95.20%  val_loss ...`: the line printed after an epoch.
pub fn format_epoch_line(log: &EpochLog, epochs: u64) -> String {
    let width = epochs.to_string().len();
    let mut line = format!(
        "epoch {:>width$}/{epochs}  train_loss {:.4}",
        log.epoch, log.train_loss
    );
    if let Some(a) = log.train_acc {
        line += &format!("  train_acc {:.2}%", 100.0 * a);
    }
    if let Some(l) = log.val_loss {
        line += &format!("  val_loss {l:.4}");
    }
    if let Some(a) = log.val_acc {
        line += &format!("  val_acc {:.2}%", 100.0 * a);
    }
    for (k, v) in &log.extra {
        line += &format!("  {k} {v:.4}");
    }
    line += &format!("  lr {:.3e}  {:.3}s", log.lr, log.time_s);
    line
}

impl Callback for ProgressBar {
    fn on_epoch_begin(&mut self, _ctx: &mut Context<'_>, epoch: u64, batches: usize) -> Result<()> {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(batches as u64),
            ProgressDrawTarget::stderr_with_hz(10),
        );
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30.cyan/blue}] {pos}/{len} {msg} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("epoch {epoch}/{}", self.epochs));
        self.bar = Some(bar);
        self.loss_sum = 0.0;
        self.samples = 0;
        Ok(())
    }

    fn on_step_end(&mut self, _ctx: &mut Context<'_>, log: &StepLog) -> Result<()> {
        self.loss_sum += log.loss * log.batch_size as f64;
        self.samples += log.batch_size;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if !bar.is_hidden() && self.last_message.elapsed() >= MESSAGE_PERIOD {
                self.last_message = Instant::now();
                let mean = self.loss_sum / self.samples.max(1) as f64;
                bar.set_message(format!("loss {mean:.4}"));
            }
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, _ctx: &mut Context<'_>, log: &mut EpochLog) -> Result<Control> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if log.epoch == 1 || log.epoch % self.every == 0 || log.epoch == self.epochs {
            self.print(&format_epoch_line(log, self.epochs));
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, _ctx: &mut Context<'_>, stop: &StopReason) -> Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if !matches!(stop, StopReason::Completed) {
            self.print(&stop.to_string());
        }
        Ok(())
    }
}
