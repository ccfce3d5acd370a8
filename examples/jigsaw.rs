//! Jigsaw puzzles (CFN) on the bundled Fashion-MNIST sample, through the library API: pretrain,
//! save a checkpoint with its permutation set, then compare linear probes and k-NN on the frozen
//! features of every block of the pretrained and of a randomly initialised backbone.
//!
//! ```text
//! cargo run --release --example jigsaw                 # pretrain, then probe every block
//! cargo run --release --example jigsaw -- --epochs 1   # quicker
//! ```

use std::path::PathBuf;

use clap::Parser;
use selfsup::train::{BackendKind, Method, RunConfig};

#[path = "shared/pretrain_and_probe.rs"]
mod pretrain_and_probe;

#[derive(Parser, Debug)]
struct Args {
    /// Pretraining epochs over the 4,500 training images (500 are held out for validation).
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    /// The run folder; a previous run there is replaced (the CLI refuses instead).
    #[arg(long, default_value = "runs/jigsaw-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = RunConfig::for_method(Method::Jigsaw);
    config.train.epochs = args.epochs;
    pretrain_and_probe::run("jigsaw", &config, &args.out, args.backend)
}
