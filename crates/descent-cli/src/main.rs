//! `descent`: train models by gradient descent on CSV or built-in data, predict, generate
//! data, preview schedules.
//!
//! A thin `main`: parse, run, print `error: ...` and map the outcome to an exit code
//! (0 success, 1 error, 2 bad usage, 3 training diverged).

mod args;
mod checkpoint_file;
mod commands;
mod data_source;
mod fsutil;
mod model_file;
mod observers;
mod optimizer_list;
mod plot;
mod prep;
mod viz_args;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
