//! Core benchmarks: matmul throughput on the reference shapes and the per-op cost of small
//! ops with and without graph recording. Prints a table next to the PyTorch figures of
//! `../shared/bench/README.md` (2-core Zen 5, PyTorch 2.15 with MKL, 2 threads).
//!
//! ```text
//! cargo bench -p sinapsis-core --bench core                  # all rayon threads
//! cargo bench -p sinapsis-core --bench core -- --threads 1   # one thread
//! cargo bench -p sinapsis-core --bench core -- --quick       # a few runs each (CI)
//! ```
//!
//! The host's speed drifts by up to 1.8x over minutes: compare ratios measured side by side
//! (run PyTorch right after this), not absolute figures from different days.

use sinapsis_core::{no_grad, DType, Tensor};
use std::hint::black_box;
use std::time::{Duration, Instant};

struct Options {
    threads: Option<usize>,
    quick: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        threads: None,
        quick: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--threads" => {
                let v = args.next().ok_or("--threads needs a number")?;
                let n = v
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("--threads: expected a positive integer, got {v:?}"))?;
                opts.threads = Some(n);
            }
            // `cargo bench` passes `--bench` to every harness-less bench.
            "--bench" => {}
            other => {
                return Err(format!(
                    "unknown argument {other:?} (use --threads N, --quick)"
                ))
            }
        }
    }
    Ok(opts)
}

/// Busy-waits so the host CPU leaves its idle clock before anything is timed.
fn spin(d: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        x = black_box(x.wrapping_add(1));
    }
}

/// Sorted durations (seconds) of `f`: `warmup` untimed calls, then timed calls until `budget`
/// is spent, at least `min_runs` and at most `max_runs`.
fn sample(
    mut f: impl FnMut(),
    warmup: usize,
    min_runs: usize,
    max_runs: usize,
    budget: Duration,
) -> Vec<f64> {
    for _ in 0..warmup {
        f();
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < max_runs && (times.len() < min_runs || start.elapsed() < budget) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times
}

fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}

struct MatmulCase {
    name: &'static str,
    /// `(m, k, n)` of the product.
    mkn: (usize, usize, usize),
    /// The lhs is the transpose of a row-major `(k, m)` tensor (a view, no copy).
    lhs_transposed: bool,
    /// PyTorch's GFLOP/s `(low, high)` on the reference machine, when measured.
    pytorch: Option<(f64, f64)>,
}

const CASES: &[MatmulCase] = &[
    MatmulCase {
        name: "2048x2048 @ 2048x2048",
        mkn: (2048, 2048, 2048),
        lhs_transposed: false,
        pytorch: Some((185.0, 196.0)),
    },
    MatmulCase {
        name: "W2 fwd   128x784 @ 784x100",
        mkn: (128, 784, 100),
        lhs_transposed: false,
        pytorch: Some((165.0, 165.0)),
    },
    MatmulCase {
        name: "W2 dW    784x128 @ 128x100 (x^T view)",
        mkn: (784, 128, 100),
        lhs_transposed: true,
        pytorch: Some((172.0, 172.0)),
    },
    MatmulCase {
        name: "W2 dX    128x100 @ 100x784",
        mkn: (128, 100, 784),
        lhs_transposed: false,
        pytorch: None,
    },
    MatmulCase {
        name: "W3 fwd   60000x784 @ 784x100",
        mkn: (60000, 784, 100),
        lhs_transposed: false,
        pytorch: Some((135.0, 135.0)),
    },
    MatmulCase {
        name: "W3 dW    784x60000 @ 60000x100 (x^T view)",
        mkn: (784, 60000, 100),
        lhs_transposed: true,
        pytorch: Some((155.0, 155.0)),
    },
    MatmulCase {
        name: "W3 dX    60000x100 @ 100x784",
        mkn: (60000, 100, 784),
        lhs_transposed: false,
        pytorch: Some((71.0, 71.0)),
    },
];

fn bench_matmuls(quick: bool) -> sinapsis_core::Result<()> {
    println!(
        "{:<48} {:>9} {:>17} {:>9} {:>7}",
        "matmul, f32", "GFLOP/s", "[min-max]", "PyTorch", "ratio"
    );
    for case in CASES {
        let (m, k, n) = case.mkn;
        let lhs = if case.lhs_transposed {
            Tensor::randn((k, m), DType::F32)?.t()?
        } else {
            Tensor::randn((m, k), DType::F32)?
        };
        let rhs = Tensor::randn((k, n), DType::F32)?;
        let flops = 2.0 * (m * k * n) as f64;
        let (warmup, min_runs, max_runs, budget) = if quick {
            (2, 3, 2_000, Duration::from_millis(200))
        } else {
            // ~1.5 s per shape: dozens of runs on the big shapes, thousands on the small.
            (3, 5, 100_000, Duration::from_millis(1500))
        };
        let times = sample(
            || drop(black_box(lhs.matmul(&rhs).expect("matmul"))),
            warmup,
            min_runs,
            max_runs,
            budget,
        );
        let gflops = |t: f64| flops / t / 1e9;
        let ours = gflops(median(&times));
        let range = format!(
            "[{:.0}-{:.0}]",
            gflops(*times.last().unwrap()),
            gflops(times[0])
        );
        let (torch, ratio) = match case.pytorch {
            Some((lo, hi)) if lo == hi => (format!("{lo:.0}"), format!("{:.2}x", ours / lo)),
            Some((lo, hi)) => (
                format!("{lo:.0}-{hi:.0}"),
                format!("{:.2}x", ours / ((lo + hi) / 2.0)),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<48} {:>9.1} {:>17} {:>9} {:>7}",
            case.name, ours, range, torch, ratio
        );
    }
    println!("(ratio: Sinapsis / PyTorch, above 1 is faster; OpenBLAS reaches 384-444 at 2048)");
    Ok(())
}

/// Median cost in ns of one call of `op`, timed in batches of `per_sample` calls.
fn per_op_ns(mut op: impl FnMut(), quick: bool) -> f64 {
    let per_sample = 200;
    let (warmup, min_runs, budget) = if quick {
        (10, 20, Duration::from_millis(50))
    } else {
        (200, 200, Duration::from_millis(700))
    };
    let times = sample(
        || {
            for _ in 0..per_sample {
                op();
            }
        },
        warmup,
        min_runs,
        1_000_000,
        budget,
    );
    median(&times) / per_sample as f64 * 1e9
}

fn bench_small_ops(quick: bool) -> sinapsis_core::Result<()> {
    println!();
    println!("{:<48} {:>9}", "small ops, (64,10) f32", "ns/op");
    let a = Tensor::randn((64, 10), DType::F32)?.requires_grad_(true)?;
    let b = Tensor::randn((64, 10), DType::F32)?;
    let x = Tensor::randn((64, 2), DType::F32)?;
    let w = Tensor::randn((2, 10), DType::F32)?.requires_grad_(true)?;
    let h = Tensor::randn((64, 10), DType::F32)?;
    let w2 = Tensor::randn((10, 1), DType::F32)?.requires_grad_(true)?;
    let rows: [(&str, &dyn Fn() -> Tensor); 4] = [
        ("a.add(&b)", &|| a.add(&b).expect("add")),
        ("a.relu()", &|| a.relu().expect("relu")),
        ("matmul 64x2 @ 2x10 (W1 layer 1)", &|| {
            x.matmul(&w).expect("matmul")
        }),
        ("matmul 64x10 @ 10x1 (W1 layer 2)", &|| {
            h.matmul(&w2).expect("matmul")
        }),
    ];
    for (name, op) in rows {
        let recorded = op().requires_grad();
        assert!(recorded, "{name} should record the graph");
        let with_graph = per_op_ns(|| drop(black_box(op())), quick);
        let without = {
            let _guard = no_grad();
            assert!(!op().requires_grad());
            per_op_ns(|| drop(black_box(op())), quick)
        };
        println!(
            "{:<48} {:>9.0}",
            format!("{name}, recording graph"),
            with_graph
        );
        println!("{:<48} {:>9.0}", format!("{name}, no_grad"), without);
    }
    Ok(())
}

fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench core: {e}");
            std::process::exit(2);
        }
    };
    if let Some(n) = opts.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!("bench core: cannot build a pool of {n} threads: {e}");
            std::process::exit(2);
        }
    }
    println!(
        "sinapsis-core bench: {} rayon thread(s){}{}",
        rayon::current_num_threads(),
        if opts.threads.is_some() {
            " (--threads)"
        } else {
            ""
        },
        if opts.quick { ", --quick" } else { "" }
    );
    spin(if opts.quick {
        Duration::from_millis(200)
    } else {
        Duration::from_secs(1)
    });
    let run = || -> sinapsis_core::Result<()> {
        bench_matmuls(opts.quick)?;
        bench_small_ops(opts.quick)
    };
    if let Err(e) = run() {
        eprintln!("bench core: {e}");
        std::process::exit(1);
    }
}
