//! The end of a run: test metrics (`metrics.json`, printed report and confusion matrix),
//! plots, and `report.md`, which puts it all on one page.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;
use sinapsis::checkpoint::write_atomic;
use sinapsis::train::{evaluate, EvalOptions, Evaluation, History};
use sinapsis::Result;

use super::folder;
use super::plots::{make_plots, PlotFile};
use super::session::Session;

/// Evaluates `session`'s model on its test set with every metric that applies.
///
/// # Errors
/// A failing forward pass or data read.
pub fn evaluate_test(session: &Session, keep_predictions: bool) -> Result<Evaluation> {
    let spec = &session.data.spec;
    let classification = session.output_kind().is_classification();
    evaluate(
        &session.model,
        &|o, y| session.loss.forward(o, y),
        &session.test,
        &EvalOptions {
            output: session.output_kind(),
            num_classes: classification.then_some(spec.num_classes.max(2)),
            class_names: (classification && !spec.class_names.is_empty())
                .then(|| spec.class_names.clone()),
            keep_predictions,
        },
    )
}

/// The confusion matrix as text: true classes down, predicted across.
pub fn confusion_text(counts: &[Vec<u64>]) -> String {
    let width = counts
        .iter()
        .flatten()
        .map(|c| c.to_string().len())
        .max()
        .unwrap_or(1)
        .max(counts.len().to_string().len());
    let mut out = format!("{:>6} ", "true\\pred");
    for j in 0..counts.len() {
        let _ = write!(out, " {j:>width$}");
    }
    out.push('\n');
    for (i, row) in counts.iter().enumerate() {
        let _ = write!(out, "{i:>9} ");
        for c in row {
            let _ = write!(out, " {c:>width$}");
        }
        out.push('\n');
    }
    out
}

/// Prints the test metrics to stdout.
pub fn print_evaluation(eval: &Evaluation) {
    println!("\ntest loss {:.4} on {} samples", eval.loss, eval.samples);
    if let Some(acc) = eval.accuracy {
        println!("test accuracy {:.2}%", 100.0 * acc);
    }
    if let Some(auc) = eval.roc_auc {
        println!("ROC-AUC {auc:.4}");
    }
    if let (Some(mae), Some(mse), Some(r2)) = (eval.mae, eval.mse, eval.r2) {
        println!("MAE {mae:.4}  MSE {mse:.4}  R2 {r2:.4}");
    }
    if let Some(report) = &eval.report {
        println!("\nclassification report\n{report}");
    }
    if let Some(cm) = &eval.confusion_matrix {
        println!("confusion matrix\n{}", confusion_text(&cm.counts()));
    }
}

/// Test evaluation, `metrics.json`, plots and `report.md` for a finished training run.
///
/// # Errors
/// Failing evaluation or I/O.
pub fn finish_run(
    session: &Session,
    run_dir: &Path,
    history: &History,
    seconds: f64,
) -> Result<()> {
    let eval = evaluate_test(session, true)?;
    print_evaluation(&eval);
    let best_epoch = history
        .epochs
        .iter()
        .min_by(|a, b| {
            let key = |e: &sinapsis::train::EpochLog| e.val_loss.unwrap_or(e.train_loss);
            key(a).total_cmp(&key(b))
        })
        .map(|e| e.epoch);
    let mut metrics = serde_json::to_value(&eval).unwrap_or_default();
    if let Some(obj) = metrics.as_object_mut() {
        obj.insert("epochs_run".into(), json!(history.epochs.len()));
        obj.insert("stop".into(), json!(history.stop.to_string()));
        obj.insert("train_time_s".into(), json!(seconds));
        obj.insert("best_epoch_by_loss".into(), json!(best_epoch));
    }
    let text = serde_json::to_string_pretty(&metrics).unwrap_or_default();
    write_atomic(&run_dir.join(folder::METRICS), text.as_bytes())?;
    let plots = make_plots(session, run_dir, history, &eval)?;
    let report = report_markdown(session, history, &eval, &plots, seconds);
    write_atomic(&run_dir.join(folder::REPORT), report.as_bytes())?;
    println!(
        "\nrun folder: {} (report.md, metrics.json, history.csv, plots/)",
        run_dir.display()
    );
    if !history.stop.is_success() {
        println!("note: {}", history.stop);
    }
    Ok(())
}

/// `report.md`: the run on one page.
pub fn report_markdown(
    session: &Session,
    history: &History,
    eval: &Evaluation,
    plots: &[PlotFile],
    seconds: f64,
) -> String {
    let exp = &session.exp;
    let mut md = format!("# Run report: {}\n\n", exp.name);
    let _ = writeln!(
        md,
        "- data: `{:?}`, input shape {:?}, {} training / {} test samples{}",
        exp.data.source,
        session.data.spec.input_shape,
        session.data.train.len(),
        session.data.test.len(),
        session
            .data
            .val
            .as_ref()
            .map(|v| format!(", {} validation", v.len()))
            .unwrap_or_default()
    );
    let _ = writeln!(
        md,
        "- model: {} parameters; loss `{:?}`; optimizer `{:?}`",
        session.layers.iter().map(|l| l.params).sum::<usize>(),
        exp.loss,
        exp.optimizer
    );
    let _ = writeln!(
        md,
        "- training: {} epochs run ({}), batch {}, seed {}, {:.1} s",
        history.epochs.len(),
        history.stop,
        exp.training.batch_size,
        exp.seed,
        seconds
    );
    md.push_str("\n## Test metrics\n\n");
    let _ = writeln!(
        md,
        "| metric | value |\n|---|---|\n| loss | {:.4} |",
        eval.loss
    );
    if let Some(a) = eval.accuracy {
        let _ = writeln!(md, "| accuracy | {:.2}% |", 100.0 * a);
    }
    if let Some(r) = &eval.report {
        let _ = writeln!(md, "| macro F1 | {:.4} |", r.macro_avg.f1);
        let _ = writeln!(md, "| weighted F1 | {:.4} |", r.weighted_avg.f1);
    }
    if let Some(auc) = eval.roc_auc {
        let _ = writeln!(md, "| ROC-AUC | {auc:.4} |");
    }
    for (name, v) in [("MAE", eval.mae), ("MSE", eval.mse), ("R2", eval.r2)] {
        if let Some(v) = v {
            let _ = writeln!(md, "| {name} | {v:.4} |");
        }
    }
    if let Some(r) = &eval.report {
        let _ = write!(md, "\n### Classification report\n\n```\n{r}```\n");
    }
    if let Some(cm) = &eval.confusion_matrix {
        let _ = write!(
            md,
            "\n### Confusion matrix (rows: true, columns: predicted)\n\n```\n{}```\n",
            confusion_text(&cm.counts())
        );
    }
    md.push_str("\n## History\n\n| epoch | train loss | train acc | val loss | val acc | lr |\n|---|---|---|---|---|---|\n");
    let pct = |v: Option<f64>| v.map(|a| format!("{:.2}%", 100.0 * a)).unwrap_or_default();
    let num = |v: Option<f64>| v.map(|a| format!("{a:.4}")).unwrap_or_default();
    let n = history.epochs.len();
    for (i, e) in history.epochs.iter().enumerate() {
        // Long runs: the first epochs, every tenth of the run, and the last.
        if n > 20 && i > 2 && (i + 1) % (n / 10).max(1) != 0 && i + 1 != n {
            continue;
        }
        let _ = writeln!(
            md,
            "| {} | {:.4} | {} | {} | {} | {:.3e} |",
            e.epoch,
            e.train_loss,
            pct(e.train_acc),
            num(e.val_loss),
            pct(e.val_acc),
            e.lr
        );
    }
    if !plots.is_empty() {
        md.push_str("\n## Plots\n\n");
        for p in plots {
            let _ = writeln!(
                md,
                "### {}\n\n![{}]({})\n",
                p.title, p.title, p.relative_path
            );
        }
    }
    md.push_str(
        "\n## Files\n\n- `config.toml`: the fully resolved configuration\n- `history.csv`: one row \
         per epoch\n- `metrics.json`: the test metrics\n- `model.safetensors`: the best weights \
         (PyTorch names: `safetensors.torch.load_file` + `load_state_dict`)\n- `last/`: the \
         latest checkpoint (`sinapsis resume`)\n",
    );
    md
}
