//! The Context Encoder of Pathak et al. (2016): an encoder (the selfsup backbone) of the masked
//! image, a channel-wise fully connected bottleneck, and a decoder of 4x4 stride-2 transposed
//! convolutions back to the image, judged against the original by a weighted L2 loss and a
//! [`Discriminator`] of the inpainted result.

use crate::kernels;
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use crate::backbone::{Backbone, BackboneConfig};
use crate::gan::{Adversarial, Discriminator, DiscriminatorConfig, Generated, judge, map_networks};
use crate::pretext_model::{PretextModel, StepOutput};

/// Configuration to create an [`Inpainter`] using the [init function](InpainterConfig::init).
#[derive(Clone, Debug, PartialEq)]
pub struct InpainterConfig {
    /// The encoder.
    pub backbone: BackboneConfig,
    /// Image channels (in and out).
    pub channels: usize,
    /// Side of the square images: the bottleneck's fully connected layers are sized for it.
    pub side: usize,
    /// The discriminator.
    pub discriminator: DiscriminatorConfig,
}

impl InpainterConfig {
    /// Builds both networks.
    pub fn init(&self, device: &Device) -> Inpainter {
        let backbone = self.backbone.init(self.channels, device);
        let stride = self.backbone.stride();
        let s = self.side / stride;
        let width = backbone.out_channels();
        // Xavier-like scale for each channel's s^2 x s^2 map.
        let bound = (6.0 / (2 * s * s) as f64).sqrt();
        let fc = Param::from_tensor(Tensor::random(
            [width, s * s, s * s],
            burn::tensor::Distribution::Uniform(-bound, bound),
            device,
        ));
        let fc_bias = Param::from_tensor(Tensor::zeros([width, s * s], device));
        let mut c = width;
        let up = (0..stride.trailing_zeros())
            .map(|_| {
                let out = (c / 2).max(16);
                let layer = UpBlock {
                    conv: ConvTranspose2dConfig::new([c, out], [4, 4])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .with_bias(false)
                        .init(device),
                    bn: BatchNormConfig::new(out).init(device),
                };
                c = out;
                layer
            })
            .collect();
        Inpainter {
            generator: ContextEncoder {
                encoder: backbone,
                fc,
                fc_bias,
                mix: Conv2dConfig::new([width, width], [1, 1]).init(device),
                mix_bn: BatchNormConfig::new(width).init(device),
                up,
                out: Conv2dConfig::new([c, self.channels], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device),
            },
            discriminator: self.discriminator.init(device),
        }
    }
}

/// A transposed convolution that doubles the resolution, BatchNorm, ReLU.
#[derive(Module, Debug)]
pub struct UpBlock {
    /// 4x4, stride 2.
    pub conv: ConvTranspose2d,
    /// Its BatchNorm.
    pub bn: BatchNorm,
}

/// The generator: encoder, channel-wise fully connected bottleneck, decoder.
#[derive(Module, Debug)]
pub struct ContextEncoder {
    /// The encoder: what downstream tasks reuse.
    pub encoder: Backbone,
    /// `[channels, s*s, s*s]`: one fully connected layer per channel of the encoder's last
    /// map (s x s pixels), no connection between channels (the paper's section 3.1).
    pub fc: Param<Tensor<3>>,
    /// `[channels, s*s]`.
    pub fc_bias: Param<Tensor<2>>,
    /// The stride-1 (1x1) convolution that then mixes the channels.
    pub mix: Conv2d,
    /// Its BatchNorm.
    pub mix_bn: BatchNorm,
    /// The decoder's upsampling.
    pub up: Vec<UpBlock>,
    /// The last 3x3 convolution to the image's channels.
    pub out: Conv2d,
}

impl ContextEncoder {
    /// The image predicted everywhere, in `[0, 1]`.
    ///
    /// # Shapes
    /// - `masked`: `[batch, channels, side, side]` -> `[batch, channels, side, side]`
    pub fn forward(&self, masked: Tensor<4>) -> Tensor<4> {
        let x = self.encoder.forward(masked);
        let [n, c, h, w] = x.dims();
        // [c, n, hw] x [c, hw, hw]: each channel's map through its own layer.
        let x = x.reshape([n, c, h * w]).swap_dims(0, 1);
        let x = x.matmul(self.fc.val()) + self.fc_bias.val().unsqueeze_dim::<3>(1);
        let x = relu(x).swap_dims(0, 1).reshape([n, c, h, w]);
        let x = kernels::batch_norm(&self.mix_bn, kernels::conv2d(&self.mix, x), true);
        let x = self.up.iter().fold(x, |x, up| {
            kernels::batch_norm(&up.bn, kernels::conv_transpose2d(&up.conv, x), true)
        });
        sigmoid(kernels::conv2d(&self.out, x))
    }
}

/// The Context Encoder with its discriminator.
#[derive(Module, Debug)]
pub struct Inpainter {
    /// Encoder - bottleneck - decoder.
    pub generator: ContextEncoder,
    /// Judges inpainted images against originals.
    pub discriminator: Discriminator,
}

/// Masked images with what was under the masks.
#[derive(Clone, Debug)]
pub struct InpaintingBatch {
    /// `[batch, channels, side, side]`: the images with their holes filled with the dataset mean.
    pub masked: Tensor<4>,
    /// `[batch, channels, side, side]`: the originals, in `[0, 1]`.
    pub original: Tensor<4>,
    /// `[batch, 1, side, side]`: 1 in the hole.
    pub mask: Tensor<4>,
    /// `[batch, 1, side, side]`: each pixel's weight in the L2 loss (1 in the hole, heavier on
    /// the border around it, 0 elsewhere).
    pub weights: Tensor<4>,
    /// The square (top, left, side) the discriminator judges when every hole is that square
    /// (central masks: the paper's discriminator sees the predicted region without its
    /// context); `None`: the whole image with the prediction in its hole.
    pub judged: Option<[usize; 3]>,
}

impl Adversarial for Inpainter {
    type Generator = ContextEncoder;

    /// The generator's weighted L2 loss over the hole and its border; the discriminator judges
    /// the inpainted images (prediction in the hole, original elsewhere) against the originals.
    fn generate(&self, batch: &InpaintingBatch) -> Generated {
        let predicted = self.generator.forward(batch.masked.clone());
        let channels = predicted.dims()[1];
        let error = (predicted.clone() - batch.original.clone()).powi_scalar(2);
        let weighted = (error * batch.weights.clone()).sum();
        let region = batch.weights.clone().greater_elem(0.0).float().sum();
        let l2 = weighted / region.mul_scalar(channels as f32).clamp_min(1.0);
        let (fake, real) = match batch.judged {
            Some([top, left, side]) => {
                let square = |x: Tensor<4>| {
                    let [n, c, _, _] = x.dims();
                    x.slice([0..n, 0..c, top..top + side, left..left + side])
                };
                (square(predicted), square(batch.original.clone()))
            }
            None => {
                let keep = batch.mask.clone().neg().add_scalar(1.0);
                let fake = batch.original.clone() * keep + predicted * batch.mask.clone();
                (fake, batch.original.clone())
            }
        };
        Generated {
            content: StepOutput::new(l2.clone()).with("l2", l2),
            fake,
            real,
        }
    }

    fn discriminator(&self) -> &Discriminator {
        &self.discriminator
    }

    map_networks!(ContextEncoder);
}

impl PretextModel for Inpainter {
    type Batch = InpaintingBatch;

    /// The L2 loss, with the discriminator's verdicts on real and inpainted images.
    fn forward_step(&self, batch: &InpaintingBatch) -> StepOutput {
        judge(self, batch)
    }

    fn backbone(&self) -> &Backbone {
        &self.generator.encoder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_keeps_the_image_shape() {
        let device = Device::flex();
        let config = InpainterConfig {
            backbone: BackboneConfig::ConvNet {
                widths: vec![4, 8, 16],
            },
            channels: 3,
            side: 16,
            discriminator: DiscriminatorConfig::dcgan(3, 16, 4),
        };
        let net = config.init(&device);
        assert_eq!(net.generator.fc.val().dims(), [16, 16, 16]);
        let x = Tensor::<4>::ones([2, 3, 16, 16], &device);
        let y = net.generator.forward(x);
        assert_eq!(y.dims(), [2, 3, 16, 16]);
        let values = y.into_data().try_into_vec::<f32>().unwrap();
        assert!(values.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
