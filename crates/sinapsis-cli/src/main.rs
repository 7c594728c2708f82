//! `sinapsis`: train, evaluate and predict from a TOML file.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// NOTE: a training step of a small network makes and frees ~90 small blocks (tensor
/// handles, graph nodes, shapes); glibc's allocator sends most frees past its per-thread
/// cache (7 blocks per size) into its slower bins. mimalloc's free lists took W1 (circles,
/// 2-10-1) from 1.07 to 1.00 ms per epoch and 9% fewer instructions per step. Programs
/// using the library pick their own allocator; this binary picks this one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Train, evaluate and predict from a TOML experiment file.
#[derive(Parser)]
#[command(name = "sinapsis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model from a config file.
    Train {
        /// The experiment file.
        config: PathBuf,
        /// Parent folder of the run folder (overrides output.dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a config key: --set optimizer.lr=0.01 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Continue an interrupted run.
    Resume { run_dir: PathBuf },
    /// Evaluate a run's best model on its test set (or on --data).
    Eval {
        /// The run folder (made by `sinapsis train`).
        run_dir: PathBuf,
        /// Labelled data instead of the run's test set: an MNIST folder or IDX images file
        /// (labels beside it) for image runs, a CSV of features then label otherwise.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Predict with a run's best model: class and probabilities per sample.
    Predict {
        /// The run folder (made by `sinapsis train`).
        run_dir: PathBuf,
        /// A CSV of feature rows, an IDX images file (.gz or raw) or a PNG image.
        input: PathBuf,
        /// Write the predictions CSV here instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the model table of a config (or a run folder).
    Summary { config_or_run_dir: PathBuf },
    /// Time the reference workloads W1-W6 against PyTorch's figures.
    Bench {
        /// Comma-separated workloads (default: all): W1,W2,...
        #[arg(long, value_name = "W1,W2,...")]
        workload: Option<String>,
        /// Size of the thread pool (default: one thread per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Runs of each workload, each in a fresh process.
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// A few steps per workload (a smoke run; skips workloads without data).
        #[arg(long)]
        quick: bool,
        /// Also write the results as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Internal: run one workload once and print its result (used by the parent run).
        #[arg(long, hide = true, value_name = "W")]
        child: Option<String>,
    },
    /// Plots.
    Plot {
        #[command(subcommand)]
        what: PlotCommand,
    },
}

#[derive(Subcommand)]
enum PlotCommand {
    /// Activation functions over [-5, 5], one small chart each.
    Activations {
        /// A .png or .svg file, or a folder (gets activations.png and activations.svg);
        /// default: activations.png here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Which activations (default: all), e.g. relu gelu tanh.
        names: Vec<String>,
    },
}

fn run(command: Command) -> sinapsis::Result<ExitCode> {
    use sinapsis_cli::run;
    match command {
        Command::Train { config, out, set } => {
            let outcome = run::train::train(&config, out.as_deref(), &set)?;
            Ok(exit_for(&outcome.history))
        }
        Command::Resume { run_dir } => Ok(exit_for(&run::train::resume(&run_dir)?.history)),
        Command::Eval { run_dir, data } => {
            run::eval::eval(&run_dir, data.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Predict {
            run_dir,
            input,
            out,
        } => {
            run::predict::predict(&run_dir, &input, out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Summary { config_or_run_dir } => {
            print!(
                "{}",
                sinapsis_cli::summary::summary_of_path(&config_or_run_dir)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            workload,
            threads,
            repeats,
            quick,
            json,
            child,
        } => {
            use sinapsis_cli::bench;
            if let Some(w) = child {
                bench::child_main(w.parse()?, threads, quick)?;
                return Ok(ExitCode::SUCCESS);
            }
            let workloads = match workload {
                Some(list) => bench::parse_workloads(&list)?,
                None => bench::Workload::ALL.to_vec(),
            };
            let opts = bench::BenchOptions {
                workloads,
                threads,
                repeats,
                quick,
                in_process: false,
            };
            let report = bench::run(&opts)?;
            println!("{}", report.markdown());
            if let Some(path) = json {
                std::fs::write(&path, report.to_json()?).map_err(|e| sinapsis::Error::Data {
                    path: path.display().to_string(),
                    msg: format!("cannot write the JSON report: {e}"),
                })?;
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Plot {
            what: PlotCommand::Activations { out, names },
        } => {
            for file in run::plots::plot_activations(out.as_deref(), &names)? {
                println!("wrote {}", file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// 0 when training ended normally; 3 after a NaN loss; 130 after Ctrl-C (the shell's
/// convention for SIGINT).
fn exit_for(history: &sinapsis::train::History) -> ExitCode {
    match history.stop {
        sinapsis::train::StopReason::NonFiniteLoss { .. } => ExitCode::from(3),
        sinapsis::train::StopReason::Interrupted { .. } => ExitCode::from(130),
        _ => ExitCode::SUCCESS,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
