//! One file per subcommand.

mod analyze;
mod bench;
mod compare;
mod completions;
mod generate;
mod gradcheck;
mod inspect;
mod lr_find;
mod predict;
mod predict_stream;
pub(crate) use predict::resolve_model;
mod schedule;
mod search;
mod stream_rows;
mod surface;
mod tour;
mod train;

use std::process::ExitCode;

use anyhow::Result;

use crate::args::{Cli, Command};

/// Exit code of a run stopped because its loss diverged.
pub const EXIT_DIVERGED: u8 = 3;

/// Exit code of a run stopped by Ctrl-C (after saving its state), as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Train(args) => train::run(*args),
        Command::Predict(args) => predict::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Schedule(args) => schedule::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Compare(args) => compare::run(*args),
        Command::Search(args) => search::run(*args),
        Command::Surface(args) => surface::run(args),
        Command::Gradcheck(args) => gradcheck::run(*args),
        Command::LrFind(args) => lr_find::run(*args),
        Command::Analyze(args) => analyze::run(*args),
        Command::Tour(args) => tour::run(args),
        Command::Optimizers => {
            for info in descent::optim::describe() {
                println!("{info}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect(args) => inspect::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Board(args) => crate::board::run(args),
    }
}
