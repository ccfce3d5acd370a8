//! RotNet (Gidaris, Singh & Komodakis, ICLR 2018): a backbone and a linear classifier over its
//! globally pooled last block that predicts which of the four rotations an image shows.
//!
//! Simplification: the paper's CIFAR classifier is the NIN's own last block followed by global
//! average pooling and a linear layer; here the head is global average pooling and one linear
//! layer over whichever backbone is configured.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::backbone::BackboneConfig;
use crate::classifier::{Classifier, ClassifierConfig, LabelledBatch};

/// The rotation classifier: a [`Classifier`] of four classes.
pub type RotNet = Classifier;
/// Rotated images with their rotation labels (0, 1, 2, 3 quarter turns), each image in all
/// four rotations.
pub type RotationBatch = LabelledBatch;

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
        ClassifierConfig {
            backbone: self.backbone.clone(),
            classes: 4,
            frozen_blocks: 0,
        }
        .init(in_channels, device)
    }
}
