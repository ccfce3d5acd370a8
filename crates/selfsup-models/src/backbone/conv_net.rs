//! [`ConvNet`]: a small VGG-style backbone for 28 to 224 pixel inputs.

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use std::ops::Range;

use burn::prelude::*;

use super::{ConvBlock, block_widths, run_blocks};

/// Configuration to create a [`ConvNet`] using the [init function](ConvNetConfig::init).
#[derive(Config, Debug)]
pub struct ConvNetConfig {
    /// Input channels (1 grey, 3 RGB, 2 Sobel...).
    pub in_channels: usize,
    /// Output channels of each block; a block is two 3x3 conv-BN-ReLU layers, and every block
    /// but the last ends with a 2x2 max pool.
    pub widths: Vec<usize>,
}

impl ConvNetConfig {
    /// Widths that suit square inputs of `side` pixels: one block per halving until the map is
    /// 8 pixels or less (at most 5 blocks), VGG's 64-128-256-512-512 progression. 28 and 32 px
    /// get 64-128-256, 64 px 64-128-256-512, 96 px and up five blocks.
    pub fn for_input(in_channels: usize, side: usize) -> Self {
        const VGG: [usize; 5] = [64, 128, 256, 512, 512];
        let mut blocks = 1;
        let mut s = side;
        while s > 8 && blocks < VGG.len() {
            s /= 2;
            blocks += 1;
        }
        Self::new(in_channels, VGG[..blocks.max(3)].to_vec())
    }

    /// Builds the network.
    pub fn init(&self, device: &Device) -> ConvNet {
        let mut cin = self.in_channels;
        let blocks = self
            .widths
            .iter()
            .map(|&w| {
                let block = vec![
                    ConvBlock::new(cin, w, 3, device),
                    ConvBlock::new(w, w, 3, device),
                ];
                cin = w;
                block
            })
            .collect();
        ConvNet {
            blocks,
            pool: MaxPool2dConfig::new([2, 2]).init(),
        }
    }
}

/// A VGG-style network: blocks of two 3x3 conv-BN-ReLU layers, 2x2 max pooling between blocks.
#[derive(Module, Debug)]
pub struct ConvNet {
    /// `blocks[b][l]`: layer `l` of block `b`.
    pub blocks: Vec<Vec<ConvBlock>>,
    pool: MaxPool2d,
}

impl ConvNet {
    /// Every block's output (before the pool that follows it).
    ///
    /// # Shapes
    /// - `x`: `[batch, in_channels, h, w]` -> block `b`: `[batch, widths[b], h / 2^b, w / 2^b]`
    pub fn forward_blocks(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        self.forward_range(x, 0..self.blocks.len())
    }

    /// The outputs of blocks `range`; `x` is block `range.start`'s input before its pool.
    pub fn forward_range(&self, x: Tensor<4>, range: Range<usize>) -> Vec<Tensor<4>> {
        run_blocks(&self.blocks, x, range, |b, x| {
            if b > 0 {
                crate::kernels::max_pool2d(&self.pool, x)
            } else {
                x
            }
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
    fn adapts_to_input_size() {
        assert_eq!(ConvNetConfig::for_input(1, 28).widths, [64, 128, 256]);
        assert_eq!(ConvNetConfig::for_input(3, 32).widths, [64, 128, 256]);
        assert_eq!(ConvNetConfig::for_input(3, 64).widths, [64, 128, 256, 512]);
        assert_eq!(ConvNetConfig::for_input(3, 224).widths.len(), 5);
    }

    #[test]
    fn blocks_halve_the_resolution() {
        let device = Device::flex();
        let net = ConvNetConfig::new(1, vec![4, 8, 16]).init(&device);
        let outs = net.forward_blocks(Tensor::zeros([2, 1, 28, 28], &device));
        let dims: Vec<_> = outs.iter().map(|o| o.dims()).collect();
        assert_eq!(dims, [[2, 4, 28, 28], [2, 8, 14, 14], [2, 16, 7, 7]]);
        assert_eq!(net.block_channels(), [4, 8, 16]);
    }
}
