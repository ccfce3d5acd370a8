//! [`StridedNet`]: a GAN discriminator's convolution stack (strided convolutions, BatchNorm after
//! all but the first, LeakyReLU 0.2), as a backbone so that its features can be probed (SRGAN's
//! discriminator, Ledig et al. 2017).

use crate::kernels;
use std::ops::Range;

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;
use serde::{Deserialize, Serialize};

/// The negative slope of every LeakyReLU of a discriminator (DCGAN and SRGAN: 0.2).
pub const LEAKY_SLOPE: f64 = 0.2;

/// One layer of a [`StridedNet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StridedLayer {
    /// Output channels.
    pub channels: usize,
    /// Stride (2 halves the resolution).
    pub stride: usize,
}

/// Padding before and after (top/left, bottom/right) of a `kernel` x `kernel` layer with
/// `stride`: "same" for stride 1, `(k - 1) / 2` on both sides when strided, which halves even
/// sides exactly with DCGAN's 4x4 kernels.
pub fn strided_padding(kernel: usize, stride: usize) -> (usize, usize) {
    let lo = (kernel - 1) / 2;
    (lo, if stride == 1 { kernel - 1 - lo } else { lo })
}

/// The side after each layer: `floor((s + padding - k) / stride) + 1`.
pub fn strided_sides(side: usize, kernel: usize, layers: &[StridedLayer]) -> Vec<usize> {
    let mut s = side;
    layers
        .iter()
        .map(|l| {
            let (lo, hi) = strided_padding(kernel, l.stride);
            s = (s + lo + hi).saturating_sub(kernel) / l.stride + 1;
            s
        })
        .collect()
}

/// Configuration to create a [`StridedNet`] using the [init function](StridedNetConfig::init).
#[derive(Config, Debug)]
pub struct StridedNetConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Square kernel of every convolution.
    pub kernel: usize,
    /// The layers, in order.
    pub layers: Vec<StridedLayer>,
}

impl StridedNetConfig {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> StridedNet {
        let mut cin = self.in_channels;
        let (convs, norms) = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let (lo, hi) = strided_padding(self.kernel, layer.stride);
                let conv = Conv2dConfig::new([cin, layer.channels], [self.kernel, self.kernel])
                    .with_stride([layer.stride, layer.stride])
                    .with_padding(PaddingConfig2d::Explicit(lo, lo, hi, hi))
                    .with_bias(i == 0)
                    .init(device);
                let norm = (i > 0).then(|| BatchNormConfig::new(layer.channels).init(device));
                cin = layer.channels;
                (conv, norm)
            })
            .unzip();
        StridedNet { convs, norms }
    }
}

/// Strided convolutions with LeakyReLU; each layer is one block.
#[derive(Module, Debug)]
pub struct StridedNet {
    /// The convolutions.
    pub convs: Vec<Conv2d>,
    /// BatchNorm after each convolution but the first.
    pub norms: Vec<Option<BatchNorm>>,
}

impl StridedNet {
    /// The outputs of layers `range`; `x` is layer `range.start`'s input.
    pub fn forward_range(&self, x: Tensor<4>, range: Range<usize>) -> Vec<Tensor<4>> {
        let mut x = x;
        range
            .map(|i| {
                let y = kernels::conv2d(&self.convs[i], x.clone());
                let y = match &self.norms[i] {
                    Some(bn) => kernels::batch_norm(bn, y, false),
                    None => y,
                };
                x = leaky_relu(y, LEAKY_SLOPE);
                x.clone()
            })
            .collect()
    }

    /// Output channels of each layer.
    pub fn block_channels(&self) -> Vec<usize> {
        self.convs.iter().map(|c| c.weight.dims()[0]).collect()
    }
}
