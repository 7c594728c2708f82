//! Results of the runs, their summary against the reference figures, and the two outputs:
//! a markdown table (to paste into PERFORMANCE.md) and JSON (for machines).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::reference::{self, short};
use super::timing::median;
use super::Workload;

/// What one run (one process) of a workload measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The workload.
    pub workload: Workload,
    /// Figures by name and unit (`"ms/epoch"`, `"images/s (batch 1000)"`, ...), the
    /// reference table's keys plus any extra ones.
    pub metrics: BTreeMap<String, f64>,
    /// Test accuracy reached, in `[0, 1]`.
    pub test_acc: Option<f64>,
    /// Peak RSS of the process at the end of the run, MiB.
    pub peak_rss_mib: Option<f64>,
    /// Size of rayon's pool during the run.
    pub threads: usize,
    /// Anything a reader of the figures must know (data source, extrapolation).
    pub notes: Vec<String>,
}

impl RunResult {
    /// An empty result for `workload`.
    pub fn new(workload: Workload) -> RunResult {
        RunResult {
            workload,
            metrics: BTreeMap::new(),
            test_acc: None,
            peak_rss_mib: None,
            threads: 0,
            notes: Vec::new(),
        }
    }

    /// Records a figure.
    pub fn metric(mut self, name: &str, value: f64) -> RunResult {
        self.metrics.insert(name.to_string(), value);
        self
    }

    /// Records a note.
    pub fn note(mut self, note: impl Into<String>) -> RunResult {
        self.notes.push(note.into());
        self
    }
}

/// A run's outcome: figures, or why the workload could not run (missing data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// The workload ran.
    Ran(RunResult),
    /// The workload was skipped, and why.
    Skipped(String),
}

/// Median [min-max] of one figure over the runs, and its comparisons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// Name and unit.
    pub metric: String,
    /// Median over the runs.
    pub median: f64,
    /// Smallest run.
    pub min: f64,
    /// Largest run.
    pub max: f64,
    /// PyTorch's figure.
    pub pytorch: f64,
    /// Our time / PyTorch's time (for throughputs: PyTorch's / ours): above 1 is slower.
    pub time_ratio_vs_pytorch: f64,
    /// The best peer's name and figure.
    pub peer: Option<(String, f64)>,
    /// Our time / the best peer's time.
    pub time_ratio_vs_peer: Option<f64>,
    /// Throughput derived from the median, for reading.
    pub throughput: Option<String>,
}

/// One workload's runs and their summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadReport {
    /// The workload.
    pub workload: Workload,
    /// Every run, in order.
    pub runs: Vec<RunResult>,
    /// Why it was skipped (then `runs` is empty or partial).
    pub skipped: Option<String>,
    /// The reference figures, summarised over the runs.
    pub metrics: Vec<MetricSummary>,
    /// Median test accuracy over the runs.
    pub test_acc: Option<f64>,
    /// Largest peak RSS over the runs, MiB.
    pub peak_rss_mib: Option<f64>,
}

/// Our time over the reference's, whichever way the figure runs.
fn time_ratio(ours: f64, theirs: f64, lower_is_better: bool) -> f64 {
    if lower_is_better {
        ours / theirs
    } else {
        theirs / ours
    }
}

/// `1.38x slower` / `2.10x faster`.
fn ratio_text(time_ratio: f64) -> String {
    if !time_ratio.is_finite() || time_ratio <= 0.0 {
        "–".into()
    } else if time_ratio >= 1.0 {
        format!("{time_ratio:.2}x slower")
    } else {
        format!("{:.2}x faster", 1.0 / time_ratio)
    }
}

/// A figure with three significant digits, or `860k` for large ones.
fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 1e4 {
        short(v)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

impl WorkloadReport {
    /// Summarises `runs` of `workload` against the reference table.
    pub fn new(workload: Workload, runs: Vec<RunResult>, skipped: Option<String>) -> Self {
        let mut metrics = Vec::new();
        for r in reference::metrics_of(workload) {
            let mut values: Vec<f64> = runs
                .iter()
                .filter_map(|run| run.metrics.get(r.metric).copied())
                .collect();
            if values.is_empty() {
                continue;
            }
            let med = median(&mut values);
            metrics.push(MetricSummary {
                metric: r.metric.to_string(),
                median: med,
                min: values[0],
                max: values[values.len() - 1],
                pytorch: r.pytorch,
                time_ratio_vs_pytorch: time_ratio(med, r.pytorch, r.lower_is_better),
                peer: r.peer.map(|(name, v)| (name.to_string(), v)),
                time_ratio_vs_peer: r.peer.map(|(_, v)| time_ratio(med, v, r.lower_is_better)),
                throughput: r.throughput.map(|f| f(med)),
            });
        }
        let mut accs: Vec<f64> = runs.iter().filter_map(|r| r.test_acc).collect();
        let test_acc = (!accs.is_empty()).then(|| median(&mut accs));
        let peak_rss_mib = runs
            .iter()
            .filter_map(|r| r.peak_rss_mib)
            .max_by(f64::total_cmp);
        WorkloadReport {
            workload,
            runs,
            skipped,
            metrics,
            test_acc,
            peak_rss_mib,
        }
    }
}

/// Everything one `sinapsis bench` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// `--threads` (None: rayon's default, one per core).
    pub threads: Option<usize>,
    /// `--repeats`.
    pub repeats: usize,
    /// Whether this was a `--quick` smoke run.
    pub quick: bool,
    /// Whether the workloads ran in this process (shared peak RSS).
    pub in_process: bool,
    /// The machine's 1-minute load average at the start and at the end: above the core
    /// count, other processes competed for the CPU and the times are inflated.
    pub load_average: [Option<f64>; 2],
    /// The workloads, in the order they ran.
    pub workloads: Vec<WorkloadReport>,
}

impl BenchReport {
    /// The report as JSON.
    ///
    /// # Errors
    /// Never in practice (every field serialises).
    pub fn to_json(&self) -> sinapsis::Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| sinapsis::Error::InvalidArgument {
            op: "bench --json",
            msg: e.to_string(),
        })
    }

    /// The markdown table: one row per figure, with accuracy and memory on each
    /// workload's first row, then the notes.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let threads: Vec<usize> = self
            .workloads
            .iter()
            .flat_map(|w| w.runs.iter().map(|r| r.threads))
            .collect();
        let threads = match (threads.iter().min(), threads.iter().max()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => self.threads.map_or("default".into(), |t| t.to_string()),
        };
        let _ = writeln!(
            s,
            "Sinapsis bench: {threads} thread(s), up to {} repeat(s){}{}; median [min-max] over runs. \
             Reference: ../shared/bench/README.md (PyTorch 2 threads; best Rust peer).{}\n",
            self.repeats,
            if self.quick { ", QUICK (smoke run, figures not comparable)" } else { "" },
            if self.in_process { ", in one process (peak RSS shared)" } else { "" },
            match self.load_average {
                [Some(a), Some(b)] => format!(
                    " Load average {a:.1} at the start, {b:.1} at the end (cores: {})",
                    std::thread::available_parallelism().map_or(0, |n| n.get())
                ),
                _ => String::new(),
            },
        );
        s.push_str(
            "| workload | metric | Sinapsis | PyTorch | vs PyTorch | best peer | vs peer | throughput | test acc (PyTorch) | peak RSS MiB (PyTorch) |\n",
        );
        s.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
        let mut notes = Vec::new();
        for w in &self.workloads {
            let refs = reference::workload_ref(w.workload);
            if w.metrics.is_empty() {
                let why = w.skipped.as_deref().unwrap_or("no figures");
                let _ = writeln!(
                    s,
                    "| {} | skipped: {why} | – | – | – | – | – | – | – | – |",
                    w.workload.title()
                );
                continue;
            }
            for (i, m) in w.metrics.iter().enumerate() {
                let (acc, rss) = if i == 0 {
                    let acc = w
                        .test_acc
                        .map_or("–".into(), |a| format!("{:.1}%", 100.0 * a));
                    let rss = w.peak_rss_mib.map_or("–".into(), |r| format!("{r:.0}"));
                    let ref_acc = refs.map_or("–".into(), |r| format!("{:.1}%", r.test_acc_pct));
                    let ref_rss = refs
                        .and_then(|r| r.peak_rss_mib)
                        .map_or("–".into(), |r| format!("{r:.0}"));
                    (format!("{acc} ({ref_acc})"), format!("{rss} ({ref_rss})"))
                } else {
                    (String::new(), String::new())
                };
                let spread = if w.runs.len() > 1 {
                    format!(" [{}-{}]", num(m.min), num(m.max))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | **{}**{spread} | {} | {} | {} | {} | {} | {acc} | {rss} |",
                    if i == 0 { w.workload.title() } else { "" },
                    m.metric,
                    num(m.median),
                    num(m.pytorch),
                    ratio_text(m.time_ratio_vs_pytorch),
                    m.peer
                        .as_ref()
                        .map_or("–".into(), |(n, v)| format!("{n} {}", num(*v))),
                    m.time_ratio_vs_peer.map_or("–".into(), ratio_text),
                    m.throughput.as_deref().unwrap_or("–"),
                );
            }
            let mut seen: Vec<&str> = Vec::new();
            for note in w.runs.iter().flat_map(|r| &r.notes) {
                if !seen.contains(&note.as_str()) {
                    seen.push(note);
                    notes.push(format!("- {}: {note}", w.workload));
                }
            }
            let cap = reference::max_repeats(w.workload);
            if !self.quick && cap < self.repeats {
                notes.push(format!(
                    "- {}: {cap} run(s) only (capped for time: one run takes about a minute here)",
                    w.workload
                ));
            }
            if let Some(why) = &w.skipped {
                notes.push(format!(
                    "- {}: skipped after {} run(s): {why}",
                    w.workload,
                    w.runs.len()
                ));
            }
        }
        if !notes.is_empty() {
            s.push('\n');
            for n in notes {
                s.push_str(&n);
                s.push('\n');
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_read_both_ways() {
        assert_eq!(ratio_text(time_ratio(20.0, 10.0, true)), "2.00x slower");
        assert_eq!(ratio_text(time_ratio(5.0, 10.0, true)), "2.00x faster");
        assert_eq!(ratio_text(time_ratio(400.0, 800.0, false)), "2.00x slower");
    }

    #[test]
    fn summary_takes_median_and_spread() {
        let runs = [3.0, 1.0, 2.0]
            .iter()
            .map(|&v| RunResult::new(Workload::W1).metric("ms/epoch", v))
            .collect();
        let w = WorkloadReport::new(Workload::W1, runs, None);
        let m = &w.metrics[0];
        assert_eq!((m.median, m.min, m.max), (2.0, 1.0, 3.0));
        assert!((m.time_ratio_vs_pytorch - 2.0 / 14.6).abs() < 1e-12);
    }
}
