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

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use selfsup::data::{FolderOptions, ImageSource, gallery, open_source, test_split_of};
use selfsup::train::task::ColorLoss;
use selfsup::train::translate::{gallery_rows, mean_scores, translate};
use selfsup::train::{BackendKind, Method, MethodConfig, RunConfig, RunOptions, train_method};

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
    let device = args.backend.device()?;
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
    if args.out.join("checkpoints").exists() {
        println!("replacing the previous run in {}", args.out.display());
        std::fs::remove_dir_all(&args.out)?;
    }
    let train: Arc<dyn ImageSource> = Arc::from(open_source(&args.data, FolderOptions::default())?);
    let options = RunOptions {
        out_dir: args.out.clone(),
        progress: true,
        data_spec: Some(args.data.clone()),
        ..RunOptions::default()
    };
    train_method(&config, train, &device, &options)?;

    // Held-out photos, as larger crops than the training ones: the network is convolutional.
    let test_spec = test_split_of(&args.data)?;
    let separator = if test_spec.contains('?') { '&' } else { '?' };
    let test = open_source(
        &format!("{test_spec}{separator}crop=128"),
        FolderOptions::default(),
    )?;
    let images = (0..test.len().min(40))
        .map(|i| Ok(test.get(i)?.image))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scored = translate(&args.out, &images, &device)?;
    println!("{} test crops of {}:", images.len(), test.describe());
    for s in mean_scores(&scored) {
        println!(
            "  {:<15} colourised {:>8.4}   grey {:>8.4}",
            s.name,
            s.prediction,
            s.baseline()
        );
    }
    let rows = gallery_rows(&scored, &images, 6);
    let picture = args.out.join("gallery.png");
    gallery::grid(&rows, 1, 2)?.save(&picture)?;
    println!(
        "input | colourised | grey | original: {}",
        picture.display()
    );
    Ok(())
}
