//! Colorization (Zhang, Isola & Efros 2016) on colour photos, through the library API:
//! pretrain on crops of the training photos, colourise crops of the held-out photos, score them
//! beside the grey baseline (PSNR, SSIM, ab error, the paper's raw-accuracy AuC, saturation)
//! and draw input | prediction | grey | original rows.
//!
//! ```text
//! cargo run --release --example colorization                          # the bundled photos
//! cargo run --release --example colorization -- --data photos         # mate-backgrounds
//! cargo run --release --example colorization -- --loss l2 --epochs 1  # the regression baseline
//! ```

#[path = "shared/photos.rs"]
mod photos;

use std::path::PathBuf;

use clap::Parser;
use selfsup::train::task::ColorLoss;
use selfsup::train::{BackendKind, Method, MethodConfig, RunConfig};

#[derive(Parser, Debug)]
struct Args {
    /// Training photos as crops: `photos-sample` (bundled), `photos` (Debian's
    /// mate-backgrounds) or a folder of your photos with crop options (`DIR?crop=64`).
    #[arg(long, default_value = "photos-sample?crops=300")]
    data: String,
    /// Pretraining epochs.
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    /// `classification` (the paper's) or `l2` (its regression baseline).
    #[arg(long, default_value = "classification")]
    loss: String,
    /// The run folder; a previous run there is replaced (the CLI refuses instead).
    #[arg(long, default_value = "runs/colorization-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = RunConfig::for_method(Method::Colorization);
    config.train.epochs = args.epochs;
    let loss = match args.loss.as_str() {
        "l2" => ColorLoss::L2,
        "classification" => ColorLoss::Classification,
        other => anyhow::bail!("--loss {other}: expected classification or l2"),
    };
    if let MethodConfig::Colorization(settings) = &mut config.method {
        settings.loss = loss;
    }
    // Held-out photos as larger crops than the training ones: the network is convolutional.
    photos::run(&config, &args.data, 128, &args.out, args.backend)
}
