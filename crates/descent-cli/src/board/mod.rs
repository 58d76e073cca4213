//! `descent board`: a local web dashboard over a directory of runs, fed live by each run's
//! `events.jsonl`.
//!
//! - [`runs`]: finding run directories and tailing their files (a watcher thread);
//! - [`server`]: the address, the `Host` check, the router, startup;
//! - [`api`]: the JSON and Server-Sent-Events handlers;
//! - [`playground`]: short runs on request for the page's sliders;
//! - [`assets`]: the page, embedded in the binary (it works offline).
//!
//! The board is read-only: it serves what is under the runs directory and nothing else.

mod api;
mod assets;
mod playground;
mod runs;
mod server;

use std::process::ExitCode;

use anyhow::Result;

use crate::args::BoardArgs;

pub fn run(args: BoardArgs) -> Result<ExitCode> {
    server::serve(args)?;
    Ok(ExitCode::SUCCESS)
}
