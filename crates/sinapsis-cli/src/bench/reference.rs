//! The reference figures the bench compares against, copied from
//! `../shared/bench/README.md` (PyTorch 2.15 CPU, MKL + oneDNN, 2 threads, medians of 5
//! runs; candle 0.11.1 and burn 0.22.1, medians of 3; the standard 2-core machine, AMD EPYC
//! Zen 5, measured 2026-11-22). The machines are noisy: compare ratios measured side by
//! side, not absolute times from different days.

use super::Workload;

/// FLOPs of one W2 epoch (README: 20.8 GFLOP).
pub const W2_GFLOP_PER_EPOCH: f64 = 20.8;
/// FLOPs of one W3 epoch (README: about 19.2 GFLOP, in large GEMMs).
pub const W3_GFLOP_PER_EPOCH: f64 = 19.2;
/// FLOPs of one W4 training batch (README: about 3.3 GFLOP).
pub const W4_GFLOP_PER_BATCH: f64 = 3.3;
/// The machine's practical f32 roofline on 2 threads (README: OpenBLAS SkylakeX kernels,
/// 384-444 GFLOP/s on 2048^3; 404 is the figure the issue uses).
pub const ROOFLINE_GFLOPS: f64 = 404.0;

/// Training samples per epoch: W1 (6700 of make_circles' 10000), W6 (455 of 569).
const W1_TRAIN: f64 = 6700.0;
const W6_TRAIN: f64 = 455.0;

/// One figure of one workload and what it compares with.
#[derive(Clone, Copy, Debug)]
pub struct MetricRef {
    /// The workload.
    pub workload: Workload,
    /// The metric's name and unit, also its key in [`super::RunResult::metrics`].
    pub metric: &'static str,
    /// Times are better low, throughputs high.
    pub lower_is_better: bool,
    /// PyTorch's figure ("best way": in-memory tensors, randperm and slicing).
    pub pytorch: f64,
    /// The best Rust peer's figure, if one ran this workload.
    pub peer: Option<(&'static str, f64)>,
    /// Throughput derived from the median figure, for the table.
    pub throughput: Option<fn(f64) -> String>,
}

/// Test accuracy and peak memory of PyTorch's runs of a workload.
#[derive(Clone, Copy, Debug)]
pub struct WorkloadRef {
    /// The workload.
    pub workload: Workload,
    /// PyTorch's median test accuracy, in percent.
    pub test_acc_pct: f64,
    /// PyTorch's peak RSS in MiB (with the CUDA wheel's ~526 MiB import floor).
    pub peak_rss_mib: Option<f64>,
}

/// The README's figures, one row per (workload, metric).
pub const METRICS: &[MetricRef] = &[
    MetricRef {
        workload: Workload::W1,
        metric: "ms/epoch",
        lower_is_better: true,
        pytorch: 14.6,
        peer: Some(("burn Flex", 3.27)),
        throughput: Some(|ms| format!("{} samples/s", short(W1_TRAIN / (ms / 1e3)))),
    },
    MetricRef {
        workload: Workload::W2,
        metric: "s/epoch",
        lower_is_better: true,
        pytorch: 0.489,
        peer: Some(("burn Flex", 0.394)),
        throughput: Some(|s| {
            format!(
                "{} images/s, {:.1} GFLOP/s",
                short(60000.0 / s),
                W2_GFLOP_PER_EPOCH / s
            )
        }),
    },
    MetricRef {
        workload: Workload::W3,
        metric: "ms/epoch",
        lower_is_better: true,
        pytorch: 157.0,
        peer: None,
        throughput: Some(|ms| {
            let gflops = W3_GFLOP_PER_EPOCH / (ms / 1e3);
            format!(
                "{gflops:.1} GFLOP/s ({:.0}% of {ROOFLINE_GFLOPS:.0})",
                100.0 * gflops / ROOFLINE_GFLOPS
            )
        }),
    },
    MetricRef {
        workload: Workload::W4,
        metric: "ms/batch",
        lower_is_better: true,
        pytorch: 34.6,
        peer: Some(("burn Flex", 89.7)),
        throughput: Some(|ms| {
            format!(
                "{} images/s, {:.1} GFLOP/s",
                short(128.0 / (ms / 1e3)),
                W4_GFLOP_PER_BATCH / (ms / 1e3)
            )
        }),
    },
    MetricRef {
        workload: Workload::W4,
        metric: "s/epoch",
        lower_is_better: true,
        pytorch: 16.24,
        peer: None,
        throughput: None,
    },
    MetricRef {
        workload: Workload::W5,
        metric: "images/s (batch 1000)",
        lower_is_better: false,
        pytorch: 860_000.0,
        peer: None,
        throughput: None,
    },
    MetricRef {
        workload: Workload::W5,
        metric: "µs batch-1 latency",
        lower_is_better: true,
        pytorch: 20.0,
        peer: None,
        throughput: None,
    },
    MetricRef {
        workload: Workload::W6,
        metric: "ms/epoch",
        lower_is_better: true,
        pytorch: 6.1,
        peer: None,
        throughput: Some(|ms| format!("{} samples/s", short(W6_TRAIN / (ms / 1e3)))),
    },
];

/// The README's accuracies and memory (W5's memory was not recorded).
pub const WORKLOADS: &[WorkloadRef] = &[
    WorkloadRef {
        workload: Workload::W1,
        test_acc_pct: 97.8,
        peak_rss_mib: Some(763.0),
    },
    WorkloadRef {
        workload: Workload::W2,
        test_acc_pct: 96.2,
        peak_rss_mib: Some(911.0),
    },
    WorkloadRef {
        workload: Workload::W3,
        test_acc_pct: 93.0,
        peak_rss_mib: Some(1077.0),
    },
    WorkloadRef {
        workload: Workload::W4,
        test_acc_pct: 98.1,
        peak_rss_mib: Some(1184.0),
    },
    WorkloadRef {
        workload: Workload::W5,
        test_acc_pct: 96.2,
        peak_rss_mib: None,
    },
    WorkloadRef {
        workload: Workload::W6,
        test_acc_pct: 97.4,
        peak_rss_mib: Some(762.0),
    },
];

/// The reference rows of `workload`, in table order.
pub fn metrics_of(workload: Workload) -> impl Iterator<Item = &'static MetricRef> {
    METRICS.iter().filter(move |m| m.workload == workload)
}

/// PyTorch's accuracy and memory for `workload`.
pub fn workload_ref(workload: Workload) -> Option<&'static WorkloadRef> {
    WORKLOADS.iter().find(|w| w.workload == workload)
}

/// The most runs a workload gets, whatever `--repeats` says: the slow ones are capped so
/// the full bench stays within a few minutes on the 2-core machine.
pub fn max_repeats(workload: Workload) -> usize {
    match workload {
        // One epoch of the CNN takes tens of seconds here.
        Workload::W4 => 1,
        _ => usize::MAX,
    }
}

/// `860k`, `1.2M`, or the number itself below ten thousand.
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        format!("{v}")
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_has_a_reference() {
        for w in Workload::ALL {
            assert!(metrics_of(w).count() >= 1, "{w}");
            assert!(workload_ref(w).is_some(), "{w}");
        }
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(859_539.0), "860k");
        assert_eq!(short(1_234_000.0), "1.23M");
        assert_eq!(short(950.4), "950");
    }
}
