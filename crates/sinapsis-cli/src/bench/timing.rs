//! Clocks, thread pool and memory readings shared by the workloads.

use std::time::{Duration, Instant};

/// Sizes rayon's global pool (what the CPU kernels split work over). Only the first call
/// in a process can build it; a later call leaves the existing pool and says so.
pub fn set_threads(n: usize) {
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
    {
        eprintln!(
            "[bench] cannot size the thread pool to {n} ({e}); running on {} threads",
            rayon::current_num_threads()
        );
    }
}

/// Peak resident memory of this process so far, in MiB (`VmHWM` of `/proc/self/status`,
/// what `getrusage`'s `ru_maxrss` reports, which the reference records); `None` where
/// that file does not exist (not Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// The 1-minute load average (`/proc/loadavg`); `None` where that file does not exist.
/// Above the core count, other processes were competing for the CPU during the bench.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Keeps every thread of the pool busy for `d` before timing starts.
///
/// NOTE: the reference machine's CPU runs slower for a while after idling (README: "warm
/// the CPU up for ~1 s before timing anything"); the PyTorch programs ran a ~0.2 s probe
/// loop right before training, so each run here does the same. On every thread, not just
/// the caller's: warming one core left W3's first epoch at 160-225 ms instead of ~60 in
/// about half the runs (a 1 s warm-up of one core did no better), adding 1.5 ms to its
/// mean epoch; warming both made it rare (about one run in ten).
pub fn warm_up(d: Duration) {
    rayon::broadcast(|_| spin(d));
}

/// Busy work for `d` on the calling thread.
fn spin(d: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        for i in 0..10_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
    }
}

/// Seconds since `t`.
pub fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Median of `v` (NaN when empty); sorts `v`.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn peak_rss_is_positive_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_mib().unwrap() > 0.0);
        }
    }
}
