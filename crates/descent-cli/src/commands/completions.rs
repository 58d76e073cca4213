//! `descent completions SHELL`: the completion script of every command and flag, for bash,
//! zsh, fish, elvish or PowerShell (clap_complete).

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};

pub fn run(args: CompletionsArgs) -> Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "descent", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
