//! The `selfsup` command-line tool: one module per command under `cli/`, each parsing its
//! arguments and calling the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Training allocates and frees large tensors every step: keep freed memory for reuse.
    selfsup::models::kernels::retain_freed_memory();
    match cli::Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
