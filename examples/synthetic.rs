//! Synthetic imagery (Ren & Lee 2018) through the library API: rendered room scenes teach the
//! trunk depth, surface normals and contours while a domain discriminator works against the
//! bundled Fashion-MNIST sample as the real images; each epoch prints the held-out scenes'
//! scores beside the training scenes' mean maps (`depth_rmse` against `depth_rmse_mean_map`...).
//! Then linear probes and k-NN on the frozen trunk, every block, against random init.
//!
//! ```text
//! cargo run --release --example synthetic                          # with the domain loss
//! cargo run --release --example synthetic -- --domain-weight 0     # without it
//! ```

use std::path::PathBuf;

use clap::Parser;
use selfsup::train::{BackendKind, Method, MethodConfig, RunConfig};

#[path = "shared/pretrain_and_probe.rs"]
mod pretrain_and_probe;

#[derive(Parser, Debug)]
struct Args {
    /// Pretraining epochs (one rendered scene for each of the sample's training images).
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Weight of the domain discriminator's loss (0: no domain adaptation).
    #[arg(long)]
    domain_weight: Option<f64>,
    /// The run folder; a previous run there is replaced (the CLI refuses instead).
    #[arg(long, default_value = "runs/synthetic-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = RunConfig::for_method(Method::Synthetic);
    config.train.epochs = args.epochs;
    if let (MethodConfig::Synthetic(settings), Some(weight)) =
        (&mut config.method, args.domain_weight)
    {
        settings.gan.weight = weight;
    }
    pretrain_and_probe::run("synthetic imagery", &config, &args.out, args.backend)
}
