//! `selfsup data info`.

use clap::{Args, Subcommand};
use selfsup::data::Summary;

use super::args::{FolderArgs, open};

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Print the number of images, their sizes and channels, and the label histogram.
    Info(SourceArgs),
}

/// Which data to read.
#[derive(Args, Debug)]
pub struct SourceArgs {
    /// `sample[:train|test]` (bundled), `fashion-mnist[:train|test]` (from Debian's
    /// dataset-fashion-mnist), an image folder (class sub-folders give labels), a folder of
    /// MNIST-layout IDX files (`DIR[:train|test]`) or an IDX file.
    #[arg(default_value = "sample")]
    source: String,
    #[command(flatten)]
    folder: FolderArgs,
}

impl DataCommand {
    pub fn run(&self) -> anyhow::Result<()> {
        match self {
            DataCommand::Info(args) => {
                let source = open(&args.source, args.folder)?;
                print!("{}", Summary::of(source.as_ref())?);
                Ok(())
            }
        }
    }
}
