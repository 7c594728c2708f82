//! One run of a workload in a fresh process: this executable re-run as
//! `sinapsis bench --child W --threads N [--quick]`, answering with one JSON line on stdout.

use std::process::{Command, Stdio};

use sinapsis::{Error, Result};

use super::{BenchOptions, Outcome, Workload};

/// Starts the line that carries a child's outcome; everything else a child prints goes to
/// stderr, which the parent passes through.
pub const RESULT_MARKER: &str = "SINAPSIS_BENCH_RESULT ";

fn bench_error(msg: String) -> Error {
    Error::InvalidArgument { op: "bench", msg }
}

/// Prints `outcome` for the parent.
pub fn print_outcome(outcome: &Outcome) -> Result<()> {
    let json = serde_json::to_string(outcome)
        .map_err(|e| bench_error(format!("cannot encode a run's result: {e}")))?;
    println!("{RESULT_MARKER}{json}");
    Ok(())
}

/// Runs `workload` once in a child process and reads its outcome.
pub fn run_in_child(workload: Workload, opts: &BenchOptions) -> Result<Outcome> {
    let exe = std::env::current_exe()
        .map_err(|e| bench_error(format!("cannot find this executable to re-run: {e}")))?;
    let mut cmd = Command::new(&exe);
    cmd.args(["bench", "--child", &workload.to_string()]);
    if let Some(n) = opts.threads {
        cmd.args(["--threads", &n.to_string()]);
    }
    if opts.quick {
        cmd.arg("--quick");
    }
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| bench_error(format!("{workload}: cannot start {}: {e}", exe.display())))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(bench_error(format!(
            "{workload}: the run failed ({}); its output: {}",
            out.status,
            stdout.trim()
        )));
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_MARKER))
        .ok_or_else(|| {
            bench_error(format!(
                "{workload}: the run printed no result line; its output: {}",
                stdout.trim()
            ))
        })?;
    serde_json::from_str(line)
        .map_err(|e| bench_error(format!("{workload}: cannot read the run's result: {e}")))
}
