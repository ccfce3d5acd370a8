//! A pretext task defined outside selfsup's crates, through the public traits only: predicting
//! whether an image was mirrored left-right. The shared trainer trains it (checkpoints, resume,
//! metrics), and the shared probes evaluate its backbone against random init.
//!
//! ```text
//! cargo run --release --example custom_pretext                  # the bundled sample, 2 epochs
//! cargo run --release --example custom_pretext -- --epochs 1
//! ```
//!
//! The three parts a method needs: a generator (image -> sample), the network (here selfsup's
//! `Classifier` with two classes) and a `PretextTask` tying them together; `train` does the rest.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::RngExt;
use rand::rngs::StdRng;
use selfsup::data::pretext::PretextGenerator;
use selfsup::data::{Image, ImageSource, Split, bundled_sample, transform};
use selfsup::models::{Classifier, ClassifierConfig, LabelledBatch};
use selfsup::train::eval::{BlockScores, probe_blocks};
use selfsup::train::task::{MethodSettings, Network, PretextTask, Setup, penultimate_block};
use selfsup::train::{
    BackendKind, MethodConfig, RunConfig, RunOptions, setup, stack_images, train,
};
use serde::{Deserialize, Serialize};

/// The task's own section (`[flip]`): nothing to set but how often images are mirrored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlipConfig {
    /// Probability that an image is mirrored.
    pub probability: f64,
}

impl Default for FlipConfig {
    fn default() -> Self {
        Self { probability: 0.5 }
    }
}

impl MethodSettings for FlipConfig {}

/// An image, mirrored or not, and which.
#[derive(Clone, Debug)]
pub struct FlipSample {
    image: Image,
    flipped: bool,
}

/// Mirrors images at random.
#[derive(Clone, Debug)]
pub struct FlipGenerator {
    probability: f64,
}

impl PretextGenerator for FlipGenerator {
    type Sample = FlipSample;

    fn generate(
        &self,
        image: &Image,
        _index: usize,
        rng: &mut StdRng,
    ) -> selfsup::data::Result<FlipSample> {
        let flipped = rng.random_bool(self.probability);
        let image = if flipped {
            transform::hflip(image)
        } else {
            image.clone()
        };
        Ok(FlipSample { image, flipped })
    }

    fn picture(&self, sample: &FlipSample) -> Vec<Image> {
        vec![sample.image.clone()]
    }
}

/// Mirror prediction.
pub struct FlipTask {
    config: FlipConfig,
    setup: Setup,
}

impl PretextTask for FlipTask {
    const NAME: &'static str = "flip";
    type Config = FlipConfig;
    type Generator = FlipGenerator;
    type Model = Classifier;

    fn new(config: &FlipConfig, setup: &Setup) -> selfsup::train::Result<Self> {
        Ok(Self {
            config: config.clone(),
            setup: setup.clone(),
        })
    }

    fn model(&self, device: &Device) -> Classifier {
        ClassifierConfig {
            backbone: self.setup.backbone.clone(),
            classes: 2,
            frozen_blocks: 0,
        }
        .init(self.setup.images.network_channels(), device)
    }

    fn networks(&self) -> Vec<Network> {
        let backbone = &self.setup.backbone;
        vec![Network::backbone(
            backbone,
            self.setup.images.clone(),
            penultimate_block(backbone),
        )]
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        vec!["accuracy"]
    }

    fn generator(&self) -> selfsup::train::Result<FlipGenerator> {
        Ok(FlipGenerator {
            probability: self.config.probability,
        })
    }

    fn collate(&self, samples: Vec<FlipSample>, device: &Device) -> LabelledBatch {
        let n = samples.len();
        let labels: Vec<i64> = samples.iter().map(|s| i64::from(s.flipped)).collect();
        let images: Vec<Image> = samples.into_iter().map(|s| s.image).collect();
        LabelledBatch {
            images: stack_images(&images, device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

/// Trains mirror prediction on the sample's training split into `out` and probes every block
/// of its backbone and of a random one on the test split: (pretrained, random init) scores.
pub fn train_and_probe(
    out: &Path,
    epochs: usize,
    max_images: Option<usize>,
    backend: BackendKind,
) -> anyhow::Result<(Vec<BlockScores>, Vec<BlockScores>)> {
    let mut config = RunConfig {
        method: MethodConfig::custom::<FlipTask>(&FlipConfig::default()),
        ..RunConfig::default()
    };
    config.train.epochs = epochs;
    config.train.max_images = max_images;
    let device = backend.device()?;
    let images: Arc<dyn ImageSource> = Arc::new(bundled_sample(Split::Train)?);
    let task = FlipTask::new(
        &config.method.settings_of::<FlipTask>()?,
        &setup(&config, images.as_ref())?,
    )?;
    if out.join("checkpoints").exists() {
        std::fs::remove_dir_all(out)?;
    }
    let options = RunOptions {
        out_dir: out.to_path_buf(),
        progress: true,
        ..RunOptions::default()
    };
    train(task, &config, images.clone(), &device, &options)?;
    let test = bundled_sample(Split::Test)?;
    let last = out.join("checkpoints/last");
    Ok((
        probe_blocks(&last, false, images.as_ref(), &test, &device)?,
        probe_blocks(&last, true, images.as_ref(), &test, &device)?,
    ))
}

#[derive(clap::Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = 2)]
    epochs: usize,
    #[arg(long, default_value = "runs/flip-sample")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

#[allow(dead_code)] // the integration tests include this file for `train_and_probe`
fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let (pretrained, random) = train_and_probe(&args.out, args.epochs, None, args.backend)?;
    for (p, r) in pretrained.iter().zip(&random) {
        println!(
            "block {}: linear probe {:.1}% (random init {:.1}%), k-NN {:.1}% ({:.1}%)",
            p.block,
            100.0 * p.linear,
            100.0 * r.linear,
            100.0 * p.knn,
            100.0 * r.knn
        );
    }
    Ok(())
}
