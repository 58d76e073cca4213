//! The command line's words for what the library says in its own: settings named by their
//! flags, and which flags a user actually typed.

use clap::parser::ValueSource;
use clap::CommandFactory;

use crate::args::Cli;

/// A library error in the command line's words: the settings it names become the flags
/// that set them.
pub fn with_flags(e: descent::Error) -> anyhow::Error {
    const FLAGS: [(&str, &str); 6] = [
        ("use a softmax model", "use --model softmax"),
        ("use a logistic model", "use --model logistic"),
        (
            "use a logistic (binary) or softmax (classes) model",
            "use --model logistic (binary) or --model softmax (classes)",
        ),
        (
            "an mlp, whose loss follows",
            "--model mlp --hidden N, whose loss follows",
        ),
        ("train with loss ", "train with --loss "),
        ("leave the loss out", "leave --loss out"),
    ];
    let mut text = e.to_string();
    for (words, flags) in FLAGS {
        text = text.replace(words, flags);
    }
    anyhow::anyhow!(text)
}

/// The `--long` names of the `train` flags given on this process's command line, except
/// those whose ids are in `except`.
pub fn given_train_flags(except: &[&str]) -> Vec<String> {
    let command = Cli::command();
    let Ok(matches) = command.clone().try_get_matches_from(std::env::args_os()) else {
        return Vec::new();
    };
    let (Some(("train", m)), Some(train)) =
        (matches.subcommand(), command.find_subcommand("train"))
    else {
        return Vec::new();
    };
    train
        .get_arguments()
        .filter(|a| !except.contains(&a.get_id().as_str()))
        .filter(|a| m.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine))
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}
