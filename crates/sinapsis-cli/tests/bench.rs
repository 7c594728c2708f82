//! `sinapsis bench --quick`, in process, on W1 (synthetic data, always runs) and W5 (MNIST;
//! skipped with a note where the files are missing): the table has a row for each.

use std::sync::Mutex;

use sinapsis_cli::bench::{run, BenchOptions, Outcome, Workload};

/// Held by every test: one of them changes `SINAPSIS_DATA_DIR`, which the others read.
static ENV: Mutex<()> = Mutex::new(());

fn quick(workloads: Vec<Workload>) -> BenchOptions {
    BenchOptions {
        workloads,
        quick: true,
        in_process: true,
        ..Default::default()
    }
}

#[test]
fn quick_bench_tables_w1_and_w5() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let report = run(&quick(vec![Workload::W1, Workload::W5])).unwrap();
    let table = report.markdown();
    println!("{table}");
    assert_eq!(report.workloads.len(), 2);

    let w1 = &report.workloads[0];
    assert_eq!(w1.workload, Workload::W1);
    assert_eq!(w1.runs.len(), 1, "quick mode runs once");
    assert!(w1.metrics[0].median > 0.0);
    assert!(w1.test_acc.is_some());
    assert!(table.contains("| W1 circles | ms/epoch | **"), "{table}");

    let w5 = &report.workloads[1];
    if w5.skipped.is_some() {
        assert!(
            table.contains("| W5 inference | skipped: MNIST not found"),
            "{table}"
        );
    } else {
        assert!(
            table.contains("| W5 inference | images/s (batch 1000) | **"),
            "{table}"
        );
        assert!(table.contains("µs batch-1 latency"), "{table}");
    }

    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(json["workloads"][0]["workload"], "W1");
}

#[test]
fn missing_data_is_a_skip_not_an_error() {
    // A directory without MNIST: the workload reports why it did not run.
    let empty = std::env::temp_dir().join(format!("sinapsis_bench_empty_{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let before = std::env::var_os("SINAPSIS_DATA_DIR");
    std::env::set_var("SINAPSIS_DATA_DIR", &empty);
    let outcome = sinapsis_cli::bench::run_workload(Workload::W6, true);
    match before {
        Some(v) => std::env::set_var("SINAPSIS_DATA_DIR", v),
        None => std::env::remove_var("SINAPSIS_DATA_DIR"),
    }
    std::fs::remove_dir_all(&empty).ok();
    assert!(matches!(outcome.unwrap(), Outcome::Skipped(why) if why.contains("breast_cancer.csv")));
}

#[test]
fn bad_options_are_errors() {
    let mut opts = quick(vec![Workload::W1]);
    opts.repeats = 0;
    assert!(run(&opts).is_err());
}
