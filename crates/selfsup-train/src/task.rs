//! [`PretextTask`]: the per-method wiring the one trainer needs, and [`Method`], the method
//! switch of the CLI.

use std::fmt;
use std::str::FromStr;

use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup_data::pretext::{PretextGenerator, RotationGenerator, RotationSample};
use selfsup_models::{PretextModel, RotNet, RotNetConfig, RotationBatch};
use serde::{Deserialize, Serialize};

use std::path::Path;
use std::sync::Arc;

use selfsup_data::ImageSource;
use selfsup_models::backbone::Backbone;

use crate::batch::stack_images;
use crate::checkpoint;
use crate::config::RunConfig;
use crate::error::{Result, TrainError};
use crate::metrics::EpochRecord;
use crate::trainer::{RunOptions, train};

/// The samples a task's generator makes.
pub type SampleOf<T> = <<T as PretextTask>::Generator as PretextGenerator>::Sample;
/// The batch a task's model consumes.
pub type BatchOf<T> = <<T as PretextTask>::Model as PretextModel>::Batch;

/// What differs between pretext methods, for the trainer: how samples are made and batched, and
/// which network learns from them. Hooks with defaults let methods that need more (DeepCluster's
/// re-clustering before each epoch) plug into the same loop.
pub trait PretextTask: Send {
    /// The method's name in configs, checkpoints and the CLI.
    const NAME: &'static str;
    /// Makes samples from images.
    type Generator: PretextGenerator + Clone + 'static;
    /// The network.
    type Model: PretextModel;

    /// Builds the method's task from a run configuration.
    fn new(config: &RunConfig) -> Result<Self>
    where
        Self: Sized;

    /// Builds a fresh network for `in_channels`-channel images.
    fn model(&self, in_channels: usize, device: &Device) -> Self::Model;

    /// The generator for the coming epoch (called after [`on_epoch_start`](Self::on_epoch_start)).
    fn generator(&self) -> Result<Self::Generator>;

    /// Turns samples into one batch on `device`.
    fn collate(&self, samples: Vec<SampleOf<Self>>, device: &Device) -> BatchOf<Self>;

    /// How many network inputs one sample holds (for throughput figures).
    fn inputs_per_sample(&self) -> usize {
        1
    }

    /// Runs before each epoch with the current network (DeepCluster re-clusters here).
    fn on_epoch_start(&mut self, _model: &Self::Model, _epoch: usize) -> Result<()> {
        Ok(())
    }
}

/// Rotation prediction (RotNet).
#[derive(Clone, Debug)]
pub struct RotationTask {
    generator: RotationGenerator,
    model: RotNetConfig,
}

impl PretextTask for RotationTask {
    const NAME: &'static str = "rotation";
    type Generator = RotationGenerator;
    type Model = RotNet;

    fn new(config: &RunConfig) -> Result<Self> {
        Ok(Self {
            generator: RotationGenerator::new(config.rotation.clone())?,
            model: RotNetConfig {
                backbone: config.backbone.clone(),
            },
        })
    }

    fn model(&self, in_channels: usize, device: &Device) -> RotNet {
        self.model.init(in_channels, device)
    }

    fn generator(&self) -> Result<RotationGenerator> {
        Ok(self.generator.clone())
    }

    fn collate(&self, samples: Vec<RotationSample>, device: &Device) -> RotationBatch {
        let n = samples.len();
        let images: Vec<_> = samples.into_iter().flat_map(|s| s.rotations).collect();
        let labels: Vec<i64> = (0..n)
            .flat_map(|_| RotationSample::LABELS.map(|l| l as i64))
            .collect();
        RotationBatch {
            images: stack_images(&images, device),
            labels: Tensor::from_data(TensorData::new(labels, [4 * n]), device),
        }
    }

    fn inputs_per_sample(&self) -> usize {
        4
    }
}

/// The pretext methods the CLI can train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Rotation prediction (RotNet, Gidaris et al. 2018).
    Rotation,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 1] = [Method::Rotation];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Rotation => RotationTask::NAME,
        }
    }

    /// Trains this method's network with [`train`] and returns the per-epoch history.
    pub fn train(
        self,
        config: &RunConfig,
        source: Arc<dyn ImageSource>,
        device: &Device,
        options: &RunOptions,
    ) -> Result<Vec<EpochRecord>> {
        match self {
            Method::Rotation => train(
                &mut RotationTask::new(config)?,
                config,
                source,
                device,
                options,
            )
            .map(|t| t.history),
        }
    }

    /// The backbone of this method's network for `in_channels`-channel images: with the weights
    /// of the checkpoint folder `weights`, or freshly initialised (seeded by `config`) without.
    pub fn backbone(
        self,
        config: &RunConfig,
        in_channels: usize,
        weights: Option<&Path>,
        device: &Device,
    ) -> Result<Backbone> {
        match self {
            Method::Rotation => backbone_of::<RotationTask>(config, in_channels, weights, device),
        }
    }
}

fn backbone_of<T: PretextTask>(
    config: &RunConfig,
    in_channels: usize,
    weights: Option<&Path>,
    device: &Device,
) -> Result<Backbone> {
    device.seed(config.train.seed);
    let mut model = T::new(config)?.model(in_channels, device);
    if let Some(dir) = weights {
        model = checkpoint::load_model(model, dir)?;
    }
    Ok(model.backbone().clone())
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = TrainError;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| TrainError::InvalidConfig {
                what: "method",
                reason: format!("'{s}' is not one of: rotation"),
            })
    }
}
