//! DeepCluster on the bundled Fashion-MNIST sample, through the library API: pretrain,
//! re-clustering the features before every epoch, then compare linear probes and k-NN on the frozen
//! features of every block of the pretrained and of a randomly initialised backbone.
//!
//! ```text
//! cargo run --release --example deep_cluster                 # pretrain, then probe every block
//! cargo run --release --example deep_cluster -- --epochs 1   # quicker
//! ```

use std::path::PathBuf;

use clap::Parser;
use selfsup::train::{BackendKind, Method, RunConfig};

#[path = "shared/pretrain_and_probe.rs"]
mod pretrain_and_probe;

#[derive(Parser, Debug)]
struct Args {
    /// Pretraining epochs over the 5,000 training images (none held out: the labels change).
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// The run folder; a previous run there is replaced (the CLI refuses instead).
    #[arg(long, default_value = "runs/deep-cluster-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = RunConfig::for_method(Method::DeepCluster);
    config.train.epochs = args.epochs;
    // 5,000 images: 50 clusters (the paper's tenfold over-segmentation of 10 classes would
    // leave 50 images a cluster at k = 100).
    if let selfsup::train::MethodConfig::DeepCluster(settings) = &mut config.method {
        settings.kmeans.k = 50;
    }
    pretrain_and_probe::run("DeepCluster", &config, &args.out, args.backend)
}
