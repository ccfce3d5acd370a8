//! RotNet (Gidaris, Singh & Komodakis, ICLR 2018): a backbone and a linear classifier over its
//! globally pooled last block that predicts which of the four rotations an image shows.
//!
//! Simplification: the paper's CIFAR classifier is the NIN's own last block followed by global
//! average pooling and a linear layer; here the head is global average pooling and one linear
//! layer over whichever backbone is configured.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::backbone::{Backbone, BackboneConfig, global_avg_pool};
use crate::pretext_model::{PretextModel, StepOutput, classification_step};

/// Configuration to create a [`RotNet`] using the [init function](RotNetConfig::init).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotNetConfig {
    /// The backbone.
    pub backbone: BackboneConfig,
}

impl RotNetConfig {
    /// Builds the network for images with `in_channels` channels.
    pub fn init(&self, in_channels: usize, device: &Device) -> RotNet {
        let backbone = self.backbone.init(in_channels, device);
        let features = *backbone.block_channels().last().unwrap_or(&1);
        RotNet {
            backbone,
            fc: LinearConfig::new(features, 4).init(device),
        }
    }
}

/// A rotation classifier.
#[derive(Module, Debug)]
pub struct RotNet {
    /// The feature extractor.
    pub backbone: Backbone,
    /// Four-way rotation classifier over pooled features.
    pub fc: Linear,
}

/// Rotated images with their rotation labels.
#[derive(Clone, Debug)]
pub struct RotationBatch {
    /// `[4 x images, channels, height, width]`: each image in all four rotations.
    pub images: Tensor<4>,
    /// `[4 x images]`: 0, 1, 2, 3 quarter turns.
    pub labels: Tensor<1, Int>,
}

impl RotNet {
    /// # Shapes
    /// - `images`: `[batch, channels, height, width]` -> logits `[batch, 4]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.fc
            .forward(global_avg_pool(self.backbone.forward(images)))
    }
}

impl PretextModel for RotNet {
    type Batch = RotationBatch;

    fn forward_step(&self, batch: &RotationBatch) -> StepOutput {
        classification_step(self.forward(batch.images.clone()), batch.labels.clone())
    }

    fn backbone(&self) -> &Backbone {
        &self.backbone
    }
}
