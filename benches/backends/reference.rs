//! The two reference networks of the CPU benchmark (`docs/benchmarks.md`), layer for layer the
//! `RotNet` and `ColorNet` of the PyTorch script they are timed against. They live beside the
//! benchmark because they are no library API.

use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use selfsup::models::kernels;

fn conv3x3(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

/// conv3x3 - BatchNorm - ReLU.
#[derive(Module, Debug)]
pub struct ConvBnRelu {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBnRelu {
    /// A block mapping `cin` to `cout` channels at the same resolution.
    pub fn new(cin: usize, cout: usize, device: &Device) -> Self {
        Self {
            conv: conv3x3(cin, cout, 1, device),
            bn: BatchNormConfig::new(cout).init(device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, cin, height, width]` -> `[batch, cout, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        kernels::batch_norm(&self.bn, kernels::conv2d(&self.conv, x), true)
    }
}

/// The "rotnet" spec: a VGG-style 64-128-256 network with BatchNorm, 4 outputs
/// (117.3 GFLOP per training step of 128 images of 32x32).
#[derive(Module, Debug)]
pub struct RotNetReference {
    blocks: Vec<ConvBnRelu>,
    pool: MaxPool2d,
    fc: Linear,
}

impl RotNetReference {
    /// Builds the network with PyTorch-style default initialisation.
    pub fn new(device: &Device) -> Self {
        let widths = [
            (3, 64),
            (64, 64),
            (64, 128),
            (128, 128),
            (128, 256),
            (256, 256),
        ];
        Self {
            blocks: widths
                .iter()
                .map(|&(i, o)| ConvBnRelu::new(i, o, device))
                .collect(),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc: LinearConfig::new(256, 4).init(device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, 3, height, width]` -> logits `[batch, 4]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = x;
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(x);
            if i == 1 || i == 3 {
                x = kernels::max_pool2d(&self.pool, x);
            }
        }
        let [batch, channels, _, _] = x.dims();
        let pooled = x.mean_dim(3).mean_dim(2).reshape([batch, channels]); // [batch, 256]
        self.fc.forward(pooled)
    }
}

/// The "colornet" spec: a small encoder-decoder from 1 to 2 channels
/// (28.1 GFLOP per training step of 32 images of 64x64).
#[derive(Module, Debug)]
pub struct ColorNetReference {
    encoder: Vec<Conv2d>,
    decoder: Vec<ConvTranspose2d>,
    head: Conv2d,
}

impl ColorNetReference {
    /// Builds the network with PyTorch-style default initialisation.
    pub fn new(device: &Device) -> Self {
        let up = |i, o| {
            ConvTranspose2dConfig::new([i, o], [4, 4])
                .with_stride([2, 2])
                .with_padding([1, 1])
                .init(device)
        };
        Self {
            encoder: vec![
                conv3x3(1, 32, 1, device),
                conv3x3(32, 64, 2, device),
                conv3x3(64, 128, 2, device),
                conv3x3(128, 128, 1, device),
            ],
            decoder: vec![up(128, 64), up(64, 32)],
            head: conv3x3(32, 2, 1, device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, 1, height, width]` -> `[batch, 2, height, width]` (sides divisible by 4)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self
            .encoder
            .iter()
            .fold(x, |x, conv| relu(kernels::conv2d(conv, x)));
        let x = self
            .decoder
            .iter()
            .fold(x, |x, up| relu(kernels::conv_transpose2d(up, x)));
        kernels::conv2d(&self.head, x)
    }
}

/// Checks the networks against the spec before anything is timed: output shapes, and the
/// parameter counts of the PyTorch modules (`sum(p.numel() for p in RotNet().parameters())` =
/// 1,148,228 and ColorNet: 404,770; Burn's count also includes BatchNorm's running mean and
/// variance, 2 x 896 channels).
pub fn check_spec(device: &Device) -> Result<(), String> {
    let rot = RotNetReference::new(device);
    let color = ColorNetReference::new(device);
    let shapes = (
        rot.forward(Tensor::zeros([2, 3, 32, 32], device)).dims(),
        color.forward(Tensor::zeros([2, 1, 16, 16], device)).dims(),
    );
    let counts = (rot.num_params(), color.num_params());
    if shapes != ([2, 4], [2, 2, 16, 16]) || counts != (1_148_228 + 2 * 896, 404_770) {
        return Err(format!(
            "the reference networks differ from the spec: shapes {shapes:?}, parameters {counts:?}"
        ));
    }
    Ok(())
}
