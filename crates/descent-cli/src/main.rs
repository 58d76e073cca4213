//! `descent`: train models by gradient descent on CSV or built-in data, predict, generate
//! data, preview schedules, compare optimizers, draw what happens. See `descent --help`.

fn main() -> std::process::ExitCode {
    descent_cli::main()
}
