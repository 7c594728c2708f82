//! Killing `sinapsis train` or `sinapsis resume` at arbitrary moments (SIGKILL, no chance to
//! clean up) never leaves an unreadable checkpoint: `last/` always loads whole, its epoch
//! never goes backwards, and `resume` picks the run up again every time.
//!
//! The run saves `last/` after every epoch and each epoch is a single step, so the process
//! spends most of its time saving and the kills land mid-save.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sinapsis::checkpoint::Checkpoint;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sinapsis"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sinapsis")
}

/// Waits until `last/` exists (the first epoch was saved), then a further `delay`, and
/// kills the process.
fn kill_after_first_save(mut child: Child, last: &Path, delay: Duration) {
    let start = Instant::now();
    while !last.join("checkpoint.json").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no checkpoint after 60 s"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("sinapsis exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(delay);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The epoch of the checkpoint in `last`, after checking that it loads whole.
fn checked_epoch(last: &Path) -> u64 {
    let ckpt = Checkpoint::load(last).unwrap_or_else(|e| panic!("{}: {e}", last.display()));
    assert_eq!(ckpt.model.len(), 4, "2-10-1 MLP: two weights, two biases");
    for (name, t) in &ckpt.model {
        let v = t.to_vec::<f32>().unwrap();
        assert!(v.iter().all(|x| x.is_finite()), "{name}: {v:?}");
    }
    assert!(ckpt.optimizer.is_some(), "the optimizer state is saved too");
    ckpt.meta.epoch
}

/// `history.csv` is written atomically too: a header and whole rows only.
fn check_history(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let fields = lines.next().expect("header").split(',').count();
    for line in lines {
        assert_eq!(
            line.split(',').count(),
            fields,
            "{}: {line:?}",
            path.display()
        );
    }
    assert!(text.ends_with('\n'), "{} ends mid-row", path.display());
}

#[test]
fn killed_runs_always_leave_a_loadable_checkpoint() {
    let out = std::env::temp_dir().join(format!("sinapsis-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let config = repo().join("configs/circles.toml");
    let (config, out_arg) = (config.to_str().unwrap(), out.to_str().unwrap());
    // 200 samples in one batch: an epoch is one step, and `last/` is saved after each.
    let overrides = [
        "--set",
        "data.n_samples=200",
        "--set",
        "training.batch_size=200",
        "--set",
        "training.epochs=1000000",
    ];
    let mut args = vec!["train", config, "--out", out_arg];
    args.extend(overrides);
    let run = out.join("circles");
    let last = run.join("last");
    kill_after_first_save(spawn(&args), &last, Duration::from_millis(50));
    let mut epoch = checked_epoch(&last);

    // Delays spread over a few save periods, so the kills fall at different points of the
    // save (writing the staged folder, syncing, renaming).
    for delay_ms in [0, 3, 7, 13, 29, 61, 97, 151] {
        let resume = spawn(&["resume", run.to_str().unwrap()]);
        kill_after_first_save(resume, &last, Duration::from_millis(delay_ms));
        let now = checked_epoch(&last);
        check_history(&run.join("history.csv"));
        assert!(now >= epoch, "last/ went back from epoch {epoch} to {now}");
        epoch = now;
    }
    assert!(epoch > 1, "the resumed runs made progress");
    let _ = std::fs::remove_dir_all(&out);
}
