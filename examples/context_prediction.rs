//! Context prediction on the bundled Fashion-MNIST sample, through the library API: pretrain,
//! save a checkpoint, then compare linear probes and k-NN on the frozen
//! features of every block of the pretrained and of a randomly initialised backbone.
//!
//! ```text
//! cargo run --release --example context_prediction                 # pretrain, then probe every block
//! cargo run --release --example context_prediction -- --epochs 1   # quicker
//! ```

use std::path::PathBuf;

use clap::Parser;
use selfsup::train::{BackendKind, Method, RunConfig};

#[path = "shared/pretrain_and_probe.rs"]
mod pretrain_and_probe;

#[derive(Parser, Debug)]
struct Args {
    /// Pretraining epochs over the 4,500 training images (500 are held out for validation).
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// The run folder; a previous run there is replaced (the CLI refuses instead).
    #[arg(long, default_value = "runs/context-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = RunConfig::for_method(Method::ContextPrediction);
    config.train.epochs = args.epochs;
    pretrain_and_probe::run("context", &config, &args.out, args.backend)
}
