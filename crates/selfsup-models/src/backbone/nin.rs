//! [`Nin`]: Network-in-Network as RotNet uses it on CIFAR-10.
//!
//! Gidaris et al. 2018, section 3.1: "we implement the RotNet models with Network-In-Network
//! (NIN) architectures"; each block is "three convolutional layers" (one spatial, two 1x1), and
//! the released code (`architectures/NetworkInNetwork.py`) uses 192-160-96 5x5 / 1x1 / 1x1 for
//! block 1, 192-192-192 5x5 for block 2, 3x3 for later blocks, a 3x3 stride-2 max pool after
//! block 1 and an average pool after block 2.

use burn::nn::PaddingConfig2d;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use std::ops::Range;

use burn::prelude::*;

use super::{ConvBlock, block_widths, run_blocks};

/// Configuration to create a [`Nin`] using the [init function](NinConfig::init).
#[derive(Config, Debug)]
pub struct NinConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Number of blocks (RotNet trains 3, 4 and 5).
    pub blocks: usize,
}

impl NinConfig {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> Nin {
        let layers = |cin, widths: [usize; 3], k| {
            vec![
                ConvBlock::new(cin, widths[0], k, device),
                ConvBlock::new(widths[0], widths[1], 1, device),
                ConvBlock::new(widths[1], widths[2], 1, device),
            ]
        };
        let mut blocks = vec![
            layers(self.in_channels, [192, 160, 96], 5),
            layers(96, [192, 192, 192], 5),
        ];
        for _ in 2..self.blocks {
            blocks.push(layers(192, [192, 192, 192], 3));
        }
        let pool = |k: usize| PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2);
        Nin {
            blocks,
            max_pool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(pool(3))
                .init(),
            avg_pool: AvgPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(pool(3))
                .with_count_include_pad(true)
                .init(),
        }
    }
}

/// Network-in-Network: blocks of one spatial and two 1x1 conv-BN-ReLU layers.
#[derive(Module, Debug)]
pub struct Nin {
    /// `blocks[b][l]`: layer `l` of block `b`.
    pub blocks: Vec<Vec<ConvBlock>>,
    max_pool: MaxPool2d,
    avg_pool: AvgPool2d,
}

impl Nin {
    /// Every block's output (before the pooling that follows blocks 1 and 2).
    ///
    /// # Shapes
    /// - `x`: `[batch, in_channels, h, w]` -> block 1 `[batch, 96, h, w]`, block 2
    ///   `[batch, 192, h/2, w/2]`, later blocks `[batch, 192, h/4, w/4]` (rounded up)
    pub fn forward_blocks(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        self.forward_range(x, 0..self.blocks.len())
    }

    /// The outputs of blocks `range`; `x` is block `range.start`'s input before its pool.
    pub fn forward_range(&self, x: Tensor<4>, range: Range<usize>) -> Vec<Tensor<4>> {
        run_blocks(&self.blocks, x, range, |b, x| match b {
            1 => self.max_pool.forward(x),
            2 => self.avg_pool.forward(x),
            _ => x,
        })
    }

    /// Output channels of each block.
    pub fn block_channels(&self) -> Vec<usize> {
        block_widths(&self.blocks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_shapes_follow_rotnet() {
        let device = Device::flex();
        let net = NinConfig::new(3, 4).init(&device);
        let outs = net.forward_blocks(Tensor::zeros([1, 3, 32, 32], &device));
        let dims: Vec<_> = outs.iter().map(|o| o.dims()).collect();
        assert_eq!(
            dims,
            [
                [1, 96, 32, 32],
                [1, 192, 16, 16],
                [1, 192, 8, 8],
                [1, 192, 8, 8]
            ]
        );
    }
}
