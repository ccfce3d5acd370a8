//! Backbones: the networks whose features self-supervision trains and evaluation reuses.
//!
//! Each backbone is a list of blocks; [`Backbone::forward_blocks`] returns every block's output
//! so that probes can read any depth.

mod conv_net;
mod nin;
mod residual;
mod strided;

pub use conv_net::{ConvNet, ConvNetConfig};
pub use nin::{Nin, NinConfig};
pub use residual::{ResidualBlock, ResidualNet, ResidualNetConfig, same_conv};
pub use strided::{
    LEAKY_SLOPE, StridedLayer, StridedNet, StridedNetConfig, strided_padding, strided_sides,
};

use crate::kernels;
use std::ops::Range;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Conv - BatchNorm - ReLU, the unit both backbones are made of.
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// The convolution (no bias: BatchNorm follows).
    pub conv: burn::nn::conv::Conv2d,
    /// Its BatchNorm.
    pub bn: burn::nn::BatchNorm,
}

impl ConvBlock {
    /// A `kernel` x `kernel` convolution with "same" padding from `cin` to `cout` channels.
    pub fn new(cin: usize, cout: usize, kernel: usize, device: &Device) -> Self {
        let pad = kernel / 2;
        Self {
            conv: burn::nn::conv::Conv2dConfig::new([cin, cout], [kernel, kernel])
                .with_padding(burn::nn::PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(false)
                .init(device),
            bn: burn::nn::BatchNormConfig::new(cout).init(device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, cin, height, width]` -> `[batch, cout, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        kernels::batch_norm(&self.bn, kernels::conv2d(&self.conv, x), true)
    }
}

/// Which backbone to build, with its settings; serialised in run configs as a table tagged by
/// `kind` (`kind = "conv_net"` with `widths`, or `kind = "nin"` with `blocks`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BackboneConfig {
    /// The VGG-style [`ConvNet`].
    ConvNet {
        /// Output channels of each block.
        widths: Vec<usize>,
    },
    /// Network-in-Network ([`Nin`]), RotNet's CIFAR backbone.
    Nin {
        /// Number of blocks, 3 to 5.
        blocks: usize,
    },
    /// SRResNet's trunk ([`ResidualNet`]): a 9x9 convolution, then residual blocks, all at
    /// full resolution.
    Residual {
        /// Channels of every layer.
        channels: usize,
        /// Residual blocks (the network has one block more: the first convolution).
        blocks: usize,
    },
    /// A discriminator's strided convolutions with LeakyReLU ([`StridedNet`]), one block per
    /// layer.
    Strided {
        /// Square kernel of every convolution.
        kernel: usize,
        /// The layers.
        layers: Vec<StridedLayer>,
    },
}

impl Default for BackboneConfig {
    /// A ConvNet of 32-64-128-128 channels: half the 64-128-256 reference width, so that the
    /// bundled-sample run finishes in minutes on two CPU cores, and four blocks like RotNet's
    /// default NIN. The last block specialises to the pretext task (Gidaris et al. 2018, section
    /// 3.1, find it the least transferable); it is cheap at its resolution and keeps the three
    /// before it general (docs/results.md measures both layouts).
    fn default() -> Self {
        BackboneConfig::ConvNet {
            widths: vec![32, 64, 128, 128],
        }
    }
}

impl BackboneConfig {
    /// Checks the settings, naming the one at fault.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            BackboneConfig::ConvNet { widths } if widths.is_empty() || widths.contains(&0) => {
                Err(format!(
                    "backbone.widths must be a non-empty list of positive numbers, got {widths:?}"
                ))
            }
            BackboneConfig::Nin { blocks } if !(3..=5).contains(blocks) => Err(format!(
                "backbone.blocks must be 3 to 5 for a NIN, got {blocks}"
            )),
            BackboneConfig::Residual { channels, .. } if *channels == 0 => {
                Err("backbone.channels must be positive".into())
            }
            BackboneConfig::Strided { kernel, layers }
                if *kernel == 0
                    || layers.is_empty()
                    || layers.iter().any(|l| l.channels == 0 || l.stride == 0) =>
            {
                Err(format!(
                    "a strided backbone needs a positive kernel and at least one layer, each \
                     with channels and a stride, got kernel {kernel} and {layers:?}"
                ))
            }
            _ => Ok(()),
        }
    }

    /// Number of blocks.
    pub fn blocks(&self) -> usize {
        match self {
            BackboneConfig::ConvNet { widths } => widths.len(),
            BackboneConfig::Nin { blocks } => *blocks,
            BackboneConfig::Residual { blocks, .. } => blocks + 1,
            BackboneConfig::Strided { layers, .. } => layers.len(),
        }
    }

    /// Channels of the last block's output (a NIN's blocks end in 96 channels for the first,
    /// 192 after).
    pub fn out_channels(&self) -> usize {
        match self {
            BackboneConfig::ConvNet { widths } => widths.last().copied().unwrap_or(0),
            BackboneConfig::Nin { blocks } => {
                if *blocks > 1 {
                    192
                } else {
                    96
                }
            }
            BackboneConfig::Residual { channels, .. } => *channels,
            BackboneConfig::Strided { layers, .. } => layers.last().map_or(0, |l| l.channels),
        }
    }

    /// The smallest square input side whose every block output is at least one pixel: a
    /// ConvNet halves (rounding down) before each block after the first, a NIN's pools keep
    /// any side of at least one pixel.
    pub fn min_side(&self) -> usize {
        match self {
            BackboneConfig::ConvNet { widths } => 1 << widths.len().saturating_sub(1).min(30),
            BackboneConfig::Nin { .. } | BackboneConfig::Residual { .. } => 1,
            BackboneConfig::Strided { kernel, layers } => (1..=*kernel << layers.len().min(20))
                .find(|&s| self.strided_fits(s))
                .unwrap_or(usize::MAX),
        }
    }

    /// Whether a strided backbone's every layer has room for its kernel on `side` pixels.
    fn strided_fits(&self, side: usize) -> bool {
        let BackboneConfig::Strided { kernel, layers } = self else {
            return true;
        };
        let mut s = side;
        for l in layers {
            let (lo, hi) = strided_padding(*kernel, l.stride);
            if s + lo + hi < *kernel {
                return false;
            }
            s = (s + lo + hi - kernel) / l.stride + 1;
        }
        true
    }

    /// How many input pixels one pixel of the last block spans: a ConvNet halves before each
    /// block after the first, a NIN pools by 2 after blocks 1 and 2.
    pub fn stride(&self) -> usize {
        match self {
            BackboneConfig::ConvNet { widths } => 1 << widths.len().saturating_sub(1).min(30),
            BackboneConfig::Nin { .. } => 4,
            BackboneConfig::Residual { .. } => 1,
            BackboneConfig::Strided { layers, .. } => layers.iter().map(|l| l.stride).product(),
        }
    }

    /// Checks that `side`-pixel inputs survive the backbone's pooling, naming both numbers.
    pub fn check_input(&self, side: usize) -> Result<(), String> {
        let min = self.min_side();
        if side < min {
            return Err(format!(
                "{side}-pixel inputs are too small for this {}-block backbone, whose pooling needs at \
                 least {min} pixels (larger inputs or fewer blocks would do)",
                self.blocks()
            ));
        }
        Ok(())
    }

    /// Builds the backbone for images with `in_channels` channels.
    pub fn init(&self, in_channels: usize, device: &Device) -> Backbone {
        match self {
            BackboneConfig::ConvNet { widths } => {
                Backbone::ConvNet(ConvNetConfig::new(in_channels, widths.clone()).init(device))
            }
            BackboneConfig::Nin { blocks } => {
                Backbone::Nin(NinConfig::new(in_channels, *blocks).init(device))
            }
            BackboneConfig::Residual { channels, blocks } => Backbone::Residual(
                ResidualNetConfig::new(in_channels, *channels, *blocks).init(device),
            ),
            BackboneConfig::Strided { kernel, layers } => Backbone::Strided(
                StridedNetConfig::new(in_channels, *kernel, layers.clone()).init(device),
            ),
        }
    }
}

/// A backbone of either kind.
#[derive(Module, Debug)]
pub enum Backbone {
    /// The VGG-style network.
    ConvNet(ConvNet),
    /// Network-in-Network.
    Nin(Nin),
    /// SRResNet's trunk.
    Residual(ResidualNet),
    /// A discriminator's convolution stack.
    Strided(StridedNet),
}

impl Backbone {
    /// Every block's output, shallowest first.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, height, width]` -> one `[batch, c_k, h_k, w_k]` per block
    pub fn forward_blocks(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        self.forward_range(x, 0..self.block_channels().len())
    }

    /// The outputs of blocks `range` only; `x` is the input of block `range.start`: the image
    /// for 0, else block `range.start - 1`'s output (fine-tuning runs frozen blocks apart).
    pub fn forward_range(&self, x: Tensor<4>, range: Range<usize>) -> Vec<Tensor<4>> {
        match self {
            Backbone::ConvNet(net) => net.forward_range(x, range),
            Backbone::Nin(net) => net.forward_range(x, range),
            Backbone::Residual(net) => net.forward_range(x, range),
            Backbone::Strided(net) => net.forward_range(x, range),
        }
    }

    /// The last block's output.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_blocks(x)
            .pop()
            .expect("a backbone has at least one block")
    }

    /// Output channels of each block.
    pub fn block_channels(&self) -> Vec<usize> {
        match self {
            Backbone::ConvNet(net) => net.block_channels(),
            Backbone::Nin(net) => net.block_channels(),
            Backbone::Residual(net) => net.block_channels(),
            Backbone::Strided(net) => net.block_channels(),
        }
    }

    /// Output channels of the last block: the width of the pooled features heads read.
    pub fn out_channels(&self) -> usize {
        self.block_channels().last().copied().unwrap_or(0)
    }
}

/// Runs blocks `range` in turn, applying `between(b, x)` before block `b` (pooling), and
/// returns each one's output: the forward pass both backbones share. `x` is the input of block
/// `range.start` before that pooling (the image, or the previous block's output).
fn run_blocks(
    blocks: &[Vec<ConvBlock>],
    x: Tensor<4>,
    range: Range<usize>,
    between: impl Fn(usize, Tensor<4>) -> Tensor<4>,
) -> Vec<Tensor<4>> {
    let mut outputs: Vec<Tensor<4>> = Vec::with_capacity(range.len());
    let mut x = x;
    for b in range {
        x = blocks[b]
            .iter()
            .fold(between(b, x), |x, layer| layer.forward(x));
        outputs.push(x.clone());
    }
    outputs
}

/// Output channels of each block: its last layer's.
fn block_widths(blocks: &[Vec<ConvBlock>]) -> Vec<usize> {
    blocks
        .iter()
        .map(|b| b.last().map_or(0, |l| l.bn.gamma.dims()[0]))
        .collect()
}

/// Global average pooling: `[batch, c, h, w]` -> `[batch, c]`.
pub fn global_avg_pool(x: Tensor<4>) -> Tensor<2> {
    let [batch, channels, _, _] = x.dims();
    x.mean_dim(3).mean_dim(2).reshape([batch, channels])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_are_tagged_tables() {
        let config: BackboneConfig =
            serde_json::from_str(r#"{"kind": "nin", "blocks": 4}"#).unwrap();
        assert_eq!(config, BackboneConfig::Nin { blocks: 4 });
        let text = serde_json::to_string(&BackboneConfig::default()).unwrap();
        assert_eq!(text, r#"{"kind":"conv_net","widths":[32,64,128,128]}"#);
        let err = serde_json::from_str::<BackboneConfig>(r#"{"kind": "nin", "widths": [4]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("widths"), "{err}");
    }

    #[test]
    fn out_channels_are_the_built_networks() {
        let device = Device::flex();
        for config in [
            BackboneConfig::default(),
            BackboneConfig::Nin { blocks: 3 },
            BackboneConfig::Residual {
                channels: 6,
                blocks: 2,
            },
            BackboneConfig::Strided {
                kernel: 3,
                layers: vec![StridedLayer {
                    channels: 5,
                    stride: 2,
                }],
            },
        ] {
            let built = config.init(2, &device).out_channels();
            assert_eq!(config.out_channels(), built, "{config:?}");
        }
    }

    #[test]
    fn input_side_is_checked_against_the_pooling() {
        let four = BackboneConfig::default();
        assert_eq!(four.min_side(), 8);
        assert!(four.check_input(8).is_ok());
        let err = four.check_input(7).unwrap_err();
        assert!(
            err.contains("7-pixel") && err.contains("at least 8"),
            "{err}"
        );
        // The smallest accepted side really gives every block at least one pixel.
        let device = Device::flex();
        let net = four.init(1, &device);
        let outs = net.forward_blocks(Tensor::zeros([1, 1, 8, 8], &device));
        assert_eq!(outs.last().unwrap().dims(), [1, 128, 1, 1]);
    }

    #[test]
    fn a_strided_stack_is_a_backbone_of_one_block_per_layer() {
        let layers = [(8, 1), (8, 2), (16, 1), (16, 2)]
            .map(|(channels, stride)| StridedLayer { channels, stride })
            .to_vec();
        let config = BackboneConfig::Strided { kernel: 3, layers };
        assert!(config.validate().is_ok());
        assert_eq!(
            (config.blocks(), config.stride(), config.min_side()),
            (4, 4, 1)
        );
        let dcgan = BackboneConfig::Strided {
            kernel: 4,
            layers: vec![
                StridedLayer {
                    channels: 4,
                    stride: 2
                };
                3
            ],
        };
        // 4x4 stride-2 layers halve: 8 pixels reach 1, 7 cannot.
        assert_eq!(dcgan.min_side(), 8);
        let device = Device::flex();
        let net = config.init(3, &device);
        let outs = net.forward_blocks(Tensor::zeros([2, 3, 12, 12], &device));
        let dims: Vec<_> = outs.iter().map(|o| o.dims()).collect();
        assert_eq!(
            dims,
            [[2, 8, 12, 12], [2, 8, 6, 6], [2, 16, 6, 6], [2, 16, 3, 3]]
        );
        assert_eq!(net.block_channels(), [8, 8, 16, 16]);
        let empty = BackboneConfig::Strided {
            kernel: 3,
            layers: vec![],
        };
        assert!(empty.validate().is_err());
    }

    #[test]
    fn a_residual_trunk_keeps_the_resolution() {
        let config = BackboneConfig::Residual {
            channels: 8,
            blocks: 2,
        };
        assert_eq!(
            (config.blocks(), config.stride(), config.min_side()),
            (3, 1, 1)
        );
        let device = Device::flex();
        let net = config.init(3, &device);
        let outs = net.forward_blocks(Tensor::ones([2, 3, 10, 12], &device));
        assert!(outs.iter().all(|o| o.dims() == [2, 8, 10, 12]));
        assert_eq!(net.block_channels(), [8, 8, 8]);
        // A block adds its residual to its input: zero weights pass the input through.
        let Backbone::Residual(mut trunk) = net else {
            unreachable!()
        };
        let x = Tensor::<4>::ones([1, 8, 4, 4], &device);
        let block = &mut trunk.blocks[0];
        block.bn2.gamma = burn::module::Param::from_tensor(Tensor::zeros([8], &device));
        block.bn2.beta = burn::module::Param::from_tensor(Tensor::zeros([8], &device));
        let y = block.forward(x.clone());
        assert!((y - x).abs().max().into_scalar::<f32>() < 1e-6);
    }
}
