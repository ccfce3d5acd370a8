//! RotNet on the bundled Fashion-MNIST sample, through the library API: pretrain on rotation
//! prediction, save a checkpoint, then compare linear probes and k-NN on the frozen features of
//! the pretrained and of a randomly initialised backbone.
//!
//! ```text
//! cargo run --release --example rotnet                 # about 7 minutes on 2 CPU cores
//! cargo run --release --example rotnet -- --epochs 1   # quicker
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use selfsup::data::{Split, bundled_sample};
use selfsup::train::eval::{self, Pooling, ProbeConfig};
use selfsup::train::{BackendKind, ImageBatcher, Method, RunConfig, RunOptions};

#[derive(Parser, Debug)]
struct Args {
    /// Pretraining epochs over the 4,500 training images (500 are held out for validation).
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// The run folder.
    #[arg(long, default_value = "runs/rotnet-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let device = args.backend.device()?;
    let mut config = RunConfig::default();
    config.train.epochs = args.epochs;
    config.train.batch_size = 32; // 128 rotated images per step, RotNet's batch

    let train_images = Arc::new(bundled_sample(Split::Train)?);
    let options = RunOptions {
        out_dir: args.out.clone(),
        resume: false,
        progress: true,
    };
    let history = Method::Rotation.train(&config, train_images.clone(), &device, &options)?;
    let last = history.last().expect("at least one epoch");
    println!(
        "pretext (rotation) validation accuracy: {:.1}%",
        100.0 * last.val_accuracy.unwrap_or(0.0)
    );

    let test_images = bundled_sample(Split::Test)?;
    let conform = ImageBatcher::new(1, 28, 28)?;
    let checkpoint = args.out.join("checkpoints/last");
    for (name, weights) in [
        ("RotNet", Some(checkpoint.as_path())),
        ("random init", None),
    ] {
        let backbone = Method::Rotation.backbone(&config, 1, weights, &device)?;
        // The middle block and the last: the last specialises to the pretext task (see
        // docs/results.md), the middle one transfers best.
        for block in [1, backbone.block_channels().len() - 1] {
            let features = |source: &dyn selfsup::data::ImageSource| {
                eval::extract_features(&backbone, source, &conform, block, Pooling::Global, 256)
            };
            let train = features(train_images.as_ref())?;
            let test = features(&test_images)?;
            let knn = eval::knn_accuracy(&train, &test, 20, 0.07, &device)?;
            let linear = eval::linear_probe(&train, &test, &ProbeConfig::default(), &device)?;
            println!(
                "{name:>12}, block {}: linear probe {:.1}%, k-NN (k=20) {:.1}% on {} test images",
                block + 1,
                100.0 * linear,
                100.0 * knn,
                test.len()
            );
        }
    }
    println!(
        "checkpoint: {}",
        checkpoint.join("model.safetensors").display()
    );
    Ok(())
}
