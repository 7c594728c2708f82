//! `sinapsis`: train, evaluate and predict from a TOML file.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Evaluate a run's best model.
    Eval {
        run_dir: PathBuf,
        /// Evaluate on this data instead of the run's test set.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Predict with a run's model.
    Predict {
        run_dir: PathBuf,
        input: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the model table of a config (or a run folder).
    Summary { config_or_run_dir: PathBuf },
    /// Plots.
    Plot {
        #[command(subcommand)]
        what: PlotCommand,
    },
}

#[derive(Subcommand)]
enum PlotCommand {
    /// Activation functions.
    Activations {
        #[arg(long)]
        out: Option<PathBuf>,
        names: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Summary { config_or_run_dir } => {
            match sinapsis_cli::summary::summary_of_path(&config_or_run_dir) {
                Ok(s) => {
                    print!("{s}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        _ => {
            eprintln!("not wired yet");
            ExitCode::from(2)
        }
    }
}
