//! [`Classifier`]: a backbone, global average pooling and one linear layer: the network of
//! RotNet (4 rotations) and of DeepCluster (k clusters).

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::backbone::{Backbone, BackboneConfig, global_avg_pool};
use crate::pretext_model::{PretextModel, StepOutput, classification_step};

/// Configuration to create a [`Classifier`] using the [init function](ClassifierConfig::init).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// The backbone.
    pub backbone: BackboneConfig,
    /// Number of classes.
    pub classes: usize,
    /// The first blocks of the backbone kept frozen (fine-tuning): they run in inference mode,
    /// get no gradient and keep their BatchNorm statistics.
    #[serde(default)]
    pub frozen_blocks: usize,
}

impl ClassifierConfig {
    /// Builds the network for images with `in_channels` channels.
    pub fn init(&self, in_channels: usize, device: &Device) -> Classifier {
        let backbone = self.backbone.init(in_channels, device);
        let features = backbone.out_channels();
        Classifier {
            backbone,
            fc: LinearConfig::new(features, self.classes).init(device),
            frozen: self.frozen_blocks,
        }
    }
}

/// A backbone with a linear classifier over its globally pooled last block.
#[derive(Module, Debug)]
pub struct Classifier {
    /// The feature extractor.
    pub backbone: Backbone,
    /// The classifier over pooled features.
    pub fc: Linear,
    /// Frozen leading blocks.
    pub frozen: usize,
}

/// Images with their class labels.
#[derive(Clone, Debug)]
pub struct LabelledBatch {
    /// `[batch, channels, height, width]`.
    pub images: Tensor<4>,
    /// `[batch]` class indices.
    pub labels: Tensor<1, Int>,
}

impl Classifier {
    /// # Shapes
    /// - `images`: `[batch, channels, height, width]` -> logits `[batch, classes]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let blocks = self.backbone.block_channels().len();
        let frozen = self.frozen.min(blocks);
        let mut x = images;
        if frozen > 0 {
            // Inference mode for the frozen blocks: the output is a constant of the graph.
            let autodiff = x.is_autodiff();
            let out = self
                .backbone
                .valid()
                .forward_range(x.inner(), 0..frozen)
                .pop()
                .expect("at least one frozen block");
            x = if autodiff { out.autodiff() } else { out };
        }
        let x = self
            .backbone
            .forward_range(x.clone(), frozen..blocks)
            .pop()
            .unwrap_or(x);
        self.fc.forward(global_avg_pool(x))
    }

    /// A fresh linear layer of `classes` outputs with weights drawn from N(0, 0.01) and zero
    /// bias (DeepCluster's top layer: "weight.normal_(0, 0.01)", "bias.zero_()").
    pub fn new_head(&self, classes: usize, device: &Device) -> Linear {
        let mut head = LinearConfig::new(self.backbone.out_channels(), classes)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: 0.01,
            })
            .init(device);
        head.bias = Some(Param::from_tensor(Tensor::zeros([classes], device)));
        head
    }
}

impl PretextModel for Classifier {
    type Batch = LabelledBatch;

    fn forward_step(&self, batch: &LabelledBatch) -> StepOutput {
        classification_step(self.forward(batch.images.clone()), batch.labels.clone())
    }

    fn backbone(&self) -> &Backbone {
        &self.backbone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_head_has_small_weights_and_no_bias() {
        let device = Device::flex();
        let net = ClassifierConfig {
            backbone: BackboneConfig::ConvNet { widths: vec![4, 8] },
            classes: 5,
            frozen_blocks: 0,
        }
        .init(1, &device);
        assert_eq!(
            net.forward(Tensor::zeros([3, 1, 8, 8], &device)).dims(),
            [3, 5]
        );
        let head = net.new_head(7, &device);
        let w = head.weight.val();
        assert_eq!(w.dims(), [8, 7]);
        let std = w.clone().var(0).mean().sqrt().into_scalar::<f32>();
        assert!(std < 0.05, "{std}");
        let bias = head.bias.unwrap().val().abs().sum().into_scalar::<f32>();
        assert_eq!(bias, 0.0);
    }
}
