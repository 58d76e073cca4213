//! The `descent` command line as a library: `main.rs` only calls [`main`]. The file formats
//! (`model.json`, `checkpoint.json`) and everything a run is live in the `descent` library;
//! this crate turns flags into a `RunSpec`, prints, writes and draws.
//!
//! [`main`] parses the arguments, runs the command, prints `error: ...` and maps the outcome
//! to an exit code (0 success, 1 error, 2 bad usage, 3 training diverged, 130 Ctrl-C).

/// Prints `note: ` and the message to stderr as one line in one write: the ranks of an
/// `mpirun` share one stream, and `eprintln!` writes a line in pieces, which another rank's
/// line could come between.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::write_line_to_stderr(&format!("note: {}\n", format_args!($($arg)*)))
    };
}

mod args;
mod board;
mod cluster;
mod commands;
mod flags;
mod fsutil;
mod lock;
mod observers;
mod optimizer_list;
#[cfg(feature = "mpi")]
pub mod pingpong;
mod plot;
mod prep;
mod stream;
mod viz_args;

use std::process::ExitCode;

use clap::Parser;

/// Runs the `descent` command line.
pub fn main() -> ExitCode {
    reset_sigpipe();
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            write_line_to_stderr(&format!("error: {}\n", message(&err)));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined by `: ` (as `{:#}` does), leaving out a cause whose text
/// the message already ends with: an I/O error wrapped with its path says the OS text once.
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.ends_with(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Restores the default SIGPIPE action, so that `descent ... | head` ends quietly when the
/// reader closes the pipe, like other command-line tools, instead of panicking in `println!`.
fn reset_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists; `signal` with
    // SIG_DFL only changes the disposition of SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Writes `line` (ending in a newline) to stderr in one call, so that a line of up to the
/// pipe's atomic size (4 KiB on Linux) reaches a shared stream whole; errors are ignored, as
/// there is nowhere left to report them.
fn write_line_to_stderr(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
