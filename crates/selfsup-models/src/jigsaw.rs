//! The context-free network (CFN) of Noroozi & Favaro (2016): nine towers with shared weights
//! read the shuffled tiles, a per-tile fully connected layer, the tile features concatenated in
//! slot order, fully connected layers and an N-way permutation classifier.
//!
//! The paper's towers are AlexNet up to pool5 and a per-tile fc6 of 1024 units; fc7 has 4096,
//! both with dropout 0.5. Here the towers are the selfsup backbone, globally pooled, and the
//! layers are narrower (128 per tile, 512 after concatenation: defaults sized for small images
//! and a CPU budget), keeping the dropout.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::backbone::{Backbone, BackboneConfig};
use crate::pretext_model::{PretextModel, StepOutput, classification_step};
use crate::towers::towers;

/// Tiles in a puzzle.
const TILES: usize = 9;

/// Configuration to create a [`JigsawNet`] using the [init function](JigsawNetConfig::init).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JigsawNetConfig {
    /// Units of the fully connected layer each tile's features go through (fc6; 1024 in the
    /// paper).
    pub tile_features: usize,
    /// Units of the layer after concatenation (fc7; 4096 in the paper).
    pub hidden: usize,
    /// Dropout after both (0.5 in the paper).
    pub dropout: f64,
}

impl Default for JigsawNetConfig {
    fn default() -> Self {
        Self {
            tile_features: 128,
            hidden: 512,
            dropout: 0.5,
        }
    }
}

impl JigsawNetConfig {
    /// Builds the network: `backbone` for `in_channels`-channel tiles, `classes` permutations.
    pub fn init(
        &self,
        backbone: &BackboneConfig,
        in_channels: usize,
        classes: usize,
        device: &Device,
    ) -> JigsawNet {
        let backbone = backbone.init(in_channels, device);
        let features = backbone.out_channels();
        JigsawNet {
            backbone,
            tile_fc: LinearConfig::new(features, self.tile_features).init(device),
            fc: LinearConfig::new(TILES * self.tile_features, self.hidden).init(device),
            out: LinearConfig::new(self.hidden, classes).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// The jigsaw puzzle solver.
#[derive(Module, Debug)]
pub struct JigsawNet {
    /// The shared tower.
    pub backbone: Backbone,
    /// fc6, applied to each tile.
    pub tile_fc: Linear,
    /// fc7, over the concatenated tiles.
    pub fc: Linear,
    /// The permutation classifier.
    pub out: Linear,
    dropout: Dropout,
}

/// Shuffled puzzles with their permutation indices.
#[derive(Clone, Debug)]
pub struct JigsawBatch {
    /// `[9 x puzzles, channels, tile, tile]`: each puzzle's nine tiles in slot order.
    pub tiles: Tensor<4>,
    /// `[puzzles]`: permutation indices.
    pub labels: Tensor<1, Int>,
}

impl JigsawNet {
    /// # Shapes
    /// - `tiles`: `[9 x batch, channels, tile, tile]` -> logits `[batch, classes]`
    pub fn forward(&self, tiles: Tensor<4>) -> Tensor<2> {
        let per_tile = towers(&self.backbone, tiles, TILES); // [batch, 9, features]
        let per_tile = self.dropout.forward(relu(self.tile_fc.forward(per_tile)));
        let [batch, _, width] = per_tile.dims();
        let joined = per_tile.reshape([batch, TILES * width]); // [batch, 9 x tile_features]
        let hidden = self.dropout.forward(relu(self.fc.forward(joined)));
        self.out.forward(hidden)
    }
}

impl PretextModel for JigsawNet {
    type Batch = JigsawBatch;

    fn forward_step(&self, batch: &JigsawBatch) -> StepOutput {
        classification_step(self.forward(batch.tiles.clone()), batch.labels.clone())
    }

    fn backbone(&self) -> &Backbone {
        &self.backbone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_have_one_column_per_permutation() {
        let device = Device::flex();
        let backbone = BackboneConfig::ConvNet { widths: vec![4, 8] };
        let net = JigsawNetConfig::default().init(&backbone, 3, 100, &device);
        let logits = net.forward(Tensor::zeros([2 * 9, 3, 10, 10], &device));
        assert_eq!(logits.dims(), [2, 100]);
    }
}
