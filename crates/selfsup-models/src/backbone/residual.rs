//! [`ResidualNet`]: SRResNet's trunk (Ledig et al. 2017, figure 4): a 9x9 convolution with
//! PReLU, then residual blocks (conv-BN-PReLU-conv-BN plus the block's input) at full
//! resolution. Block 0 is the first convolution; block `b` the `b`-th residual block.

use crate::kernels;
use std::ops::Range;

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PRelu, PReluConfig, PaddingConfig2d};
use burn::prelude::*;

/// A `kernel` x `kernel` "same" convolution from `cin` to `cout` channels.
pub fn same_conv(cin: usize, cout: usize, kernel: usize, bias: bool, device: &Device) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new([cin, cout], [kernel, kernel])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(bias)
        .init(device)
}

/// Configuration to create a [`ResidualNet`] using the [init function](ResidualNetConfig::init).
#[derive(Config, Debug)]
pub struct ResidualNetConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Channels of every layer (the paper: 64).
    pub channels: usize,
    /// Residual blocks (the paper: 16).
    pub blocks: usize,
}

impl ResidualNetConfig {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> ResidualNet {
        let c = self.channels;
        ResidualNet {
            head: same_conv(self.in_channels, c, 9, true, device),
            head_act: PReluConfig::new().init(device),
            blocks: (0..self.blocks)
                .map(|_| ResidualBlock {
                    conv1: same_conv(c, c, 3, false, device),
                    bn1: BatchNormConfig::new(c).init(device),
                    act: PReluConfig::new().init(device),
                    conv2: same_conv(c, c, 3, false, device),
                    bn2: BatchNormConfig::new(c).init(device),
                })
                .collect(),
        }
    }
}

/// conv-BN-PReLU-conv-BN, plus the input.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// First 3x3 convolution.
    pub conv1: Conv2d,
    /// Its BatchNorm.
    pub bn1: BatchNorm,
    /// PReLU between the two.
    pub act: PRelu,
    /// Second 3x3 convolution.
    pub conv2: Conv2d,
    /// Its BatchNorm.
    pub bn2: BatchNorm,
}

impl ResidualBlock {
    /// # Shapes
    /// - `x`: `[batch, c, h, w]` -> `[batch, c, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self.act.forward(kernels::batch_norm(
            &self.bn1,
            kernels::conv2d(&self.conv1, x.clone()),
            false,
        ));
        kernels::batch_norm(&self.bn2, kernels::conv2d(&self.conv2, y), false) + x
    }
}

/// SRResNet's trunk.
#[derive(Module, Debug)]
pub struct ResidualNet {
    /// The 9x9 input convolution.
    pub head: Conv2d,
    /// Its PReLU.
    pub head_act: PRelu,
    /// The residual blocks.
    pub blocks: Vec<ResidualBlock>,
}

impl ResidualNet {
    /// The outputs of blocks `range` (0: the input convolution); `x` is block `range.start`'s
    /// input (the image for 0).
    pub fn forward_range(&self, x: Tensor<4>, range: Range<usize>) -> Vec<Tensor<4>> {
        let mut x = x;
        range
            .map(|b| {
                x = match b {
                    0 => self
                        .head_act
                        .forward(kernels::conv2d(&self.head, x.clone())),
                    _ => self.blocks[b - 1].forward(x.clone()),
                };
                x.clone()
            })
            .collect()
    }

    /// Output channels of each block.
    pub fn block_channels(&self) -> Vec<usize> {
        vec![self.head.weight.dims()[0]; self.blocks.len() + 1]
    }
}
