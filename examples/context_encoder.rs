//! Inpainting with a Context Encoder (Pathak et al. 2016) on colour photos, through the library
//! API: pretrain on crops of the training photos with L2 + adversarial loss (or L2 alone), fill
//! the central quarter of crops of the held-out photos, score them beside the mean-colour and
//! diffusion fills (PSNR, SSIM, PSNR over the hole) and draw input | prediction | mean |
//! diffusion | original rows.
//!
//! ```text
//! cargo run --release --example context_encoder                          # the bundled photos
//! cargo run --release --example context_encoder -- --data photos         # mate-backgrounds
//! cargo run --release --example context_encoder -- --adversarial-weight 0  # L2 alone
//! ```

#[path = "shared/photos.rs"]
mod photos;

use std::path::PathBuf;

use clap::Parser;
use selfsup::data::pretext::MaskKind;
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
    /// The training holes: `centre`, `blocks` or `regions`.
    #[arg(long, default_value = "centre")]
    mask: String,
    /// Weight of the adversarial loss against L2 (the paper: 0.001 / 0.999; 0 for L2 alone).
    #[arg(long)]
    adversarial_weight: Option<f64>,
    /// The run folder; a previous run there is replaced (the CLI refuses instead).
    #[arg(long, default_value = "runs/inpainting-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = RunConfig::for_method(Method::Inpainting);
    config.train.epochs = args.epochs;
    let mask = match args.mask.as_str() {
        "centre" | "center" => MaskKind::Centre,
        "blocks" => MaskKind::Blocks,
        "regions" => MaskKind::Regions,
        other => anyhow::bail!("--mask {other}: expected centre, blocks or regions"),
    };
    if let MethodConfig::Inpainting(settings) = &mut config.method {
        settings.mask = mask;
        if let Some(weight) = args.adversarial_weight {
            settings.gan.weight = weight;
        }
    }
    // The held-out crops at the training size: the bottleneck is sized for it.
    let side = config.train.image_size.unwrap_or(64);
    photos::run(&config, &args.data, side, &args.out, args.backend)
}
