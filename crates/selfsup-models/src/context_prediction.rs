//! The context-prediction network of Doersch, Gupta & Efros (2015): "a pair of AlexNet-style
//! architectures that process each patch separately, until a depth analogous to fc6 in AlexNet,
//! after which point the representations are fused. For the layers that process only one of the
//! patches, weights are tied", then fully connected layers and an 8-way classifier.
//!
//! The paper's towers are AlexNet up to fc6 (4096, batch normalisation without scale and shift),
//! fused into fc7 and fc8 of 4096 each. Here the towers are the selfsup backbone, globally
//! pooled, then a per-patch layer of 256 units and one fused layer of 512, with ReLU: sized for
//! small patches and a CPU budget.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::backbone::{Backbone, BackboneConfig};
use crate::pretext_model::{PretextModel, StepOutput, classification_step};
use crate::towers::towers;

/// Positions a neighbour can have.
const POSITIONS: usize = 8;

/// Configuration to create a [`ContextNet`] using the [init function](ContextNetConfig::init).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextNetConfig {
    /// Units of each patch's own fully connected layer (fc6; 4096 in the paper).
    pub patch_features: usize,
    /// Units of the fused layer (fc7 and fc8; 4096 each in the paper).
    pub hidden: usize,
}

impl Default for ContextNetConfig {
    fn default() -> Self {
        Self {
            patch_features: 256,
            hidden: 512,
        }
    }
}

impl ContextNetConfig {
    /// Builds the network with `backbone` towers for `in_channels`-channel patches.
    pub fn init(
        &self,
        backbone: &BackboneConfig,
        in_channels: usize,
        device: &Device,
    ) -> ContextNet {
        let backbone = backbone.init(in_channels, device);
        let features = backbone.out_channels();
        ContextNet {
            backbone,
            patch_fc: LinearConfig::new(features, self.patch_features).init(device),
            fc: LinearConfig::new(2 * self.patch_features, self.hidden).init(device),
            out: LinearConfig::new(self.hidden, POSITIONS).init(device),
        }
    }
}

/// Predicts where a patch's neighbour lies.
#[derive(Module, Debug)]
pub struct ContextNet {
    /// The shared tower.
    pub backbone: Backbone,
    /// fc6, applied to each patch.
    pub patch_fc: Linear,
    /// The fused layer.
    pub fc: Linear,
    /// The 8-way classifier.
    pub out: Linear,
}

/// Patch pairs with the neighbour's position.
#[derive(Clone, Debug)]
pub struct ContextBatch {
    /// `[2 x pairs, channels, patch, patch]`: each pair's first patch, then its neighbour.
    pub patches: Tensor<4>,
    /// `[pairs]`: positions 0 to 7.
    pub labels: Tensor<1, Int>,
}

impl ContextNet {
    /// # Shapes
    /// - `patches`: `[2 x batch, channels, patch, patch]` -> logits `[batch, 8]`
    pub fn forward(&self, patches: Tensor<4>) -> Tensor<2> {
        let per_patch = relu(self.patch_fc.forward(towers(&self.backbone, patches, 2))); // [batch, 2, f]
        let [batch, _, width] = per_patch.dims();
        let fused = relu(self.fc.forward(per_patch.reshape([batch, 2 * width])));
        self.out.forward(fused)
    }
}

impl PretextModel for ContextNet {
    type Batch = ContextBatch;

    fn forward_step(&self, batch: &ContextBatch) -> StepOutput {
        classification_step(self.forward(batch.patches.clone()), batch.labels.clone())
    }

    fn backbone(&self) -> &Backbone {
        &self.backbone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_have_eight_positions() {
        let device = Device::flex();
        let backbone = BackboneConfig::ConvNet { widths: vec![4, 8] };
        let net = ContextNetConfig::default().init(&backbone, 1, &device);
        assert_eq!(
            net.forward(Tensor::zeros([6, 1, 12, 12], &device)).dims(),
            [3, 8]
        );
    }
}
