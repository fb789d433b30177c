//! The `doctalk` binary: parse arguments, dispatch, map errors to exit codes.

mod app;
mod cli;
mod commands;
mod output;

fn main() -> std::process::ExitCode {
    app::run()
}
