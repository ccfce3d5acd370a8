//! RotNet on the bundled Fashion-MNIST sample, through the library API: pretrain on rotation
//! prediction, save a checkpoint, then compare linear probes and k-NN on the frozen features of
//! every block of the pretrained and of a randomly initialised backbone.
//!
//! ```text
//! cargo run --release --example rotnet                 # about 7 minutes on 2 CPU cores
//! cargo run --release --example rotnet -- --epochs 1   # quicker
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use selfsup::data::{ImageSource, Split, bundled_sample};
use selfsup::train::checkpoint::load_network;
use selfsup::train::eval::{self, Pooling, ProbeConfig, View};
use selfsup::train::{BackendKind, Method, RunConfig, RunOptions};

#[derive(Parser, Debug)]
struct Args {
    /// Pretraining epochs over the 4,500 training images (500 are held out for validation).
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// The run folder; a previous run there is replaced (the CLI refuses instead).
    #[arg(long, default_value = "runs/rotnet-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let device = args.backend.device()?;
    let mut config = RunConfig::for_method(Method::Rotation);
    config.train.epochs = args.epochs;
    config.train.batch_size = 32; // 128 rotated images per step, RotNet's batch

    if args.out.join("checkpoints").exists() {
        println!("replacing the previous run in {}", args.out.display());
        std::fs::remove_dir_all(&args.out)?;
    }
    let train_images = Arc::new(bundled_sample(Split::Train)?);
    let options = RunOptions {
        out_dir: args.out.clone(),
        progress: true,
        data_spec: Some("sample:train".into()),
        ..RunOptions::default()
    };
    let history = Method::Rotation.train(&config, train_images.clone(), &device, &options)?;
    let last = history.last().expect("at least one epoch");
    println!(
        "pretext (rotation) validation accuracy: {:.1}%",
        100.0 * last.val.get("accuracy").copied().unwrap_or(0.0)
    );

    let test_images = bundled_sample(Split::Test)?;
    let checkpoint = args.out.join("checkpoints/last");
    let train_indices: Vec<usize> = (0..train_images.len()).collect();
    let test_indices: Vec<usize> = (0..test_images.len()).collect();
    for (name, random_init) in [("RotNet", false), ("random init", true)] {
        let (backbone, network, _) = load_network(&checkpoint, None, random_init, &device)?;
        // Every block, globally pooled, from one pass over the images. The last block
        // specialises to the pretext task; the ones before it are the features to reuse.
        let views: Vec<View> = (0..backbone.block_channels().len())
            .map(|block| View {
                block,
                pooling: Pooling::Global,
            })
            .collect();
        let input = &network.input;
        let train = eval::extract_views(
            &backbone,
            train_images.as_ref(),
            &train_indices,
            input,
            &views,
            256,
        )?;
        let test = eval::extract_views(&backbone, &test_images, &test_indices, input, &views, 256)?;
        for (block, (train, test)) in train.iter().zip(&test).enumerate() {
            let knn = eval::knn_accuracy(train, test, 20, 0.07, &device)?;
            let linear = eval::linear_probe(train, test, &ProbeConfig::default(), &device)?;
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
