//! `sinapsis bench`: the reference workloads W1-W6 of `../shared/bench/README.md`, run as
//! the PyTorch reference programs run them (same hyper-parameters, same timed region), with
//! the ratio against PyTorch and the best Rust peer on the reference machine.
//!
//! Method, as the reference's: every repeat of a workload is a fresh process (this
//! executable re-run as `sinapsis bench --child W2 ...`), so each repeat reports its own peak
//! RSS (`VmHWM`) and no workload warms the allocator or caches for the next. A workload's
//! figure per run is what the reference records per run (for epochs: total training time /
//! epochs, first epoch included); the table shows the median [min-max] over the repeats.
//! Loading files and building tensors stays outside the timed region, as in the reference.
//!
//! `--quick` runs a few steps of each workload (figures per epoch are then extrapolated
//! from those steps and flagged) and skips, with a note, the workloads whose data files are
//! missing; it is a smoke test and asserts nothing about time.
//!
//! ```no_run
//! use sinapsis_cli::bench::{run, BenchOptions, Workload};
//! # fn main() -> sinapsis::Result<()> {
//! let opts = BenchOptions {
//!     workloads: vec![Workload::W1],
//!     quick: true,
//!     in_process: true,
//!     ..Default::default()
//! };
//! let report = run(&opts)?;
//! println!("{}", report.markdown());
//! # Ok(()) }
//! ```

mod child;
mod cnn;
mod inference;
mod mlp;
pub mod reference;
pub mod report;
mod timing;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sinapsis::{Error, Result};

pub use report::{BenchReport, Outcome, RunResult, WorkloadReport};

/// One reference workload (see `../shared/bench/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Workload {
    /// make_circles, 2-10-1, SGD 0.1, batch 64, 100 epochs.
    W1,
    /// MNIST MLP 784-100-50-10, Adam 1e-3, batch 128, 3 epochs.
    W2,
    /// MNIST full batch 784-100-10, SGD 0.8, 100 epochs.
    W3,
    /// MNIST CNN, Adam 1e-3, batch 128, 1 epoch.
    W4,
    /// Inference with the trained W2 model: batch 1000 throughput and batch-1 latency.
    W5,
    /// Breast cancer 30-64-64-2, Adam 1e-3, batch 32, 50 epochs.
    W6,
}

impl Workload {
    /// All workloads, in order.
    pub const ALL: [Workload; 6] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
        Workload::W6,
    ];

    /// A short description for the table.
    pub fn title(self) -> &'static str {
        match self {
            Workload::W1 => "W1 circles",
            Workload::W2 => "W2 MNIST MLP",
            Workload::W3 => "W3 full batch",
            Workload::W4 => "W4 CNN",
            Workload::W5 => "W5 inference",
            Workload::W6 => "W6 tabular",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl FromStr for Workload {
    type Err = Error;

    /// `W1`..`W6` (or lower case).
    fn from_str(s: &str) -> Result<Workload> {
        Workload::ALL
            .into_iter()
            .find(|w| w.to_string().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::InvalidArgument {
                op: "bench",
                msg: format!("unknown workload {s:?}: expected one of W1, W2, W3, W4, W5, W6"),
            })
    }
}

/// Parses a comma-separated list such as `W1,W5` (duplicates removed, order kept).
///
/// # Errors
/// [`Error::InvalidArgument`] naming the first entry that is not a workload.
///
/// ```
/// use sinapsis_cli::bench::{parse_workloads, Workload};
/// assert_eq!(parse_workloads("w5,W1,W5")?, vec![Workload::W5, Workload::W1]);
/// assert!(parse_workloads("W7").is_err());
/// # Ok::<(), sinapsis::Error>(())
/// ```
pub fn parse_workloads(list: &str) -> Result<Vec<Workload>> {
    let mut out = Vec::new();
    for part in list.split(',').filter(|p| !p.trim().is_empty()) {
        let w: Workload = part.parse()?;
        if !out.contains(&w) {
            out.push(w);
        }
    }
    Ok(out)
}

/// What to run and how.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// The workloads, in the order they run (default: all).
    pub workloads: Vec<Workload>,
    /// Size of rayon's global pool in each run (default: rayon's, one per core).
    pub threads: Option<usize>,
    /// Runs of each workload (fresh processes unless `in_process`); default 3.
    pub repeats: usize,
    /// A few steps per workload and one repeat; missing data files skip a workload.
    pub quick: bool,
    /// Run the workloads in this process (for tests): no child processes, so the peak
    /// RSS is the whole process's and the thread count is the pool already built.
    pub in_process: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            workloads: Workload::ALL.to_vec(),
            threads: None,
            repeats: 3,
            quick: false,
            in_process: false,
        }
    }
}

impl BenchOptions {
    /// How many runs `workload` gets: `repeats`, one in quick mode, and never more than
    /// [`reference::max_repeats`] for the slow workloads, so the full bench stays short.
    pub fn repeats_for(&self, workload: Workload) -> usize {
        if self.quick {
            1
        } else {
            self.repeats.clamp(1, reference::max_repeats(workload))
        }
    }
}

/// Runs the workloads and collects the report (printing progress to stderr).
///
/// # Errors
/// [`Error::InvalidArgument`] for zero repeats or threads; an error naming the workload if
/// a run fails (a skipped workload, e.g. for missing data in quick mode, is not an error).
pub fn run(opts: &BenchOptions) -> Result<BenchReport> {
    if opts.repeats == 0 || opts.threads == Some(0) {
        return Err(Error::InvalidArgument {
            op: "bench",
            msg: format!(
                "--repeats and --threads must be positive, got {} and {:?}",
                opts.repeats, opts.threads
            ),
        });
    }
    if opts.in_process {
        if let Some(n) = opts.threads {
            timing::set_threads(n);
        }
    }
    let load_start = timing::load_average();
    let mut workloads = Vec::new();
    for &w in &opts.workloads {
        let mut runs = Vec::new();
        let mut skipped = None;
        for r in 0..opts.repeats_for(w) {
            eprintln!(
                "[bench] {w} run {} of {}{}",
                r + 1,
                opts.repeats_for(w),
                if opts.quick { " (quick)" } else { "" }
            );
            let outcome = if opts.in_process {
                run_workload(w, opts.quick)?
            } else {
                child::run_in_child(w, opts)?
            };
            match outcome {
                Outcome::Ran(result) => runs.push(result),
                Outcome::Skipped(why) => {
                    eprintln!("[bench] {w} skipped: {why}");
                    skipped = Some(why);
                    break;
                }
            }
        }
        workloads.push(WorkloadReport::new(w, runs, skipped));
    }
    Ok(BenchReport {
        threads: opts.threads,
        repeats: opts.repeats,
        quick: opts.quick,
        in_process: opts.in_process,
        load_average: [load_start, timing::load_average()],
        workloads,
    })
}

/// Runs one workload once in this process and measures it (the body of a child run).
///
/// # Errors
/// If the workload fails (a missing data file is a skip, not an error).
pub fn run_workload(workload: Workload, quick: bool) -> Result<Outcome> {
    let outcome = match workload {
        Workload::W1 => mlp::circles(quick)?,
        Workload::W2 => mlp::mnist_mlp(quick)?,
        Workload::W3 => mlp::mnist_fullbatch(quick)?,
        Workload::W4 => cnn::mnist_cnn(quick)?,
        Workload::W5 => inference::inference(quick)?,
        Workload::W6 => mlp::breast_cancer(quick)?,
    };
    Ok(match outcome {
        Outcome::Ran(mut r) => {
            r.peak_rss_mib = timing::peak_rss_mib();
            r.threads = rayon::current_num_threads();
            Outcome::Ran(r)
        }
        skipped => skipped,
    })
}

/// The hidden `--child W` mode: sets the thread count, runs `workload` once and prints the
/// outcome as one JSON line after [`child::RESULT_MARKER`] on stdout.
///
/// # Errors
/// If the workload fails.
pub fn child_main(workload: Workload, threads: Option<usize>, quick: bool) -> Result<()> {
    if let Some(n) = threads {
        timing::set_threads(n);
    }
    let outcome = run_workload(workload, quick)?;
    child::print_outcome(&outcome)
}
