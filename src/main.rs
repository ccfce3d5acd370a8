//! The `selfsup` command-line tool.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use selfsup::data::{FolderOptions, Summary, open_source};
use selfsup::train::BackendKind;

/// Self-supervised visual representation learning on Burn.
#[derive(Parser, Debug)]
#[command(name = "selfsup", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect data sources.
    #[command(subcommand)]
    Data(DataCommand),
    /// List the backends this build includes and check that each one starts.
    Backends,
}

#[derive(Subcommand, Debug)]
enum DataCommand {
    /// Print the number of images, their sizes and channels, and the label histogram.
    Info(SourceArgs),
}

/// Which data to read.
#[derive(Args, Debug)]
struct SourceArgs {
    /// `sample[:train|test]` (bundled), `fashion-mnist[:train|test]` (from Debian's
    /// dataset-fashion-mnist), an image folder (class sub-folders give labels) or an IDX file.
    #[arg(default_value = "sample")]
    source: String,
    /// Skip unreadable files in folders with a warning instead of failing.
    #[arg(long)]
    skip_bad: bool,
    /// Decode every image of a folder up front (catches truncated files a header check misses).
    #[arg(long)]
    verify: bool,
}

fn data_info(args: &SourceArgs) -> anyhow::Result<()> {
    let options = FolderOptions {
        skip_bad: args.skip_bad,
        verify: args.verify,
    };
    let source = open_source(&args.source, options)?;
    for (path, reason) in source.skipped() {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    print!("{}", Summary::of(source.as_ref())?);
    Ok(())
}

fn backends() -> anyhow::Result<()> {
    for backend in BackendKind::ALL {
        let status = match backend.device() {
            Ok(device) => {
                let x = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
                format!(
                    "compiled in, sum([1, 2, 3]) = {}",
                    x.sum().into_scalar::<f32>()
                )
            }
            Err(e) => e.to_string(),
        };
        println!("{:<8} {status}", backend.name());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Data(DataCommand::Info(args)) => data_info(args),
        Command::Backends => backends(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
