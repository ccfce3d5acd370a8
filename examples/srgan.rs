//! Super-resolution with SRGAN (Ledig et al. 2017) on colour photos, through the library API:
//! an SRResNet warm-up on MSE, then the adversarial phase, on crops of the training photos;
//! then held-out crops downsampled by the scale (4 by default) and upsampled back, scored
//! beside bicubic upsampling (PSNR, SSIM), with input | prediction | bicubic | original rows.
//!
//! ```text
//! cargo run --release --example srgan                          # the bundled photos
//! cargo run --release --example srgan -- --data photos         # mate-backgrounds
//! cargo run --release --example srgan -- --warmup-epochs 2 --epochs 2   # SRResNet alone
//! ```

#[path = "shared/photos.rs"]
mod photos;

use std::path::PathBuf;

use clap::Parser;
use selfsup::train::{BackendKind, Method, MethodConfig, RunConfig};

#[derive(Parser, Debug)]
struct Args {
    /// Training photos as crops: `photos-sample` (bundled), `photos` (Debian's
    /// mate-backgrounds) or a folder of your photos with crop options (`DIR?crop=48`).
    #[arg(long, default_value = "photos-sample?crops=300&crop=48")]
    data: String,
    /// Pretraining epochs.
    #[arg(long, default_value_t = 2)]
    epochs: usize,
    /// Epochs of MSE alone (SRResNet) before the adversarial phase.
    #[arg(long, default_value_t = 1)]
    warmup_epochs: usize,
    /// The upsampling factor: 2, 3, 4 or 8.
    #[arg(long, default_value_t = 4)]
    scale: usize,
    /// The run folder; a previous run there is replaced (the CLI refuses instead).
    #[arg(long, default_value = "runs/superres-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = RunConfig::for_method(Method::SuperRes);
    config.train.epochs = args.epochs;
    if let MethodConfig::SuperRes(settings) = &mut config.method {
        settings.scale = args.scale;
        settings.gan.warmup_epochs = args.warmup_epochs;
    }
    // Held-out photos as larger crops than the training ones: the generator is convolutional.
    photos::run(&config, &args.data, 96, &args.out, args.backend)
}
