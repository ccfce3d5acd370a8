//! SRGAN (Ledig et al. 2017): the SRResNet generator (a residual trunk at the low resolution, a
//! long skip, sub-pixel convolution stages that upsample by 2 or 3, a 9x9 convolution to the
//! image) and SRGAN's discriminator, trained on MSE (the SRResNet warm-up) and then MSE, or a
//! frozen network's features ([`ContentNetwork`]), plus the adversarial loss.

use crate::kernels;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, BatchNormConfig, PRelu, PReluConfig, PixelShuffle, PixelShuffleConfig};
use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup_data::transform::{Filter, resize_matrix};

use crate::backbone::{Backbone, BackboneConfig, same_conv};
use crate::content::{ContentNetwork, ContentNetworkConfig};
use crate::gan::{Adversarial, Discriminator, DiscriminatorConfig, Generated, judge, map_networks};
use crate::pretext_model::{PretextModel, StepOutput};

/// The factors one sub-pixel stage upsamples by, for an overall `scale` (2, 3, 4 or 8): twos,
/// or one three.
pub fn upsampling_stages(scale: usize) -> Option<Vec<usize>> {
    match scale {
        3 => Some(vec![3]),
        s if s >= 2 && s.is_power_of_two() && s <= 8 => Some(vec![2; s.trailing_zeros() as usize]),
        _ => None,
    }
}

/// Configuration to create an [`SrGan`] using the [init function](SrGanConfig::init).
#[derive(Clone, Debug, PartialEq)]
pub struct SrGanConfig {
    /// Image channels (in and out).
    pub channels: usize,
    /// The generator's trunk ([`BackboneConfig::Residual`]).
    pub trunk: BackboneConfig,
    /// The upsampling factor (2, 3, 4 or 8).
    pub scale: usize,
    /// The discriminator, sized for the high-resolution crops.
    pub discriminator: DiscriminatorConfig,
    /// The network whose features compare the upsampled image with the original, with the
    /// weight of that loss; `None`: the content loss is the MSE.
    pub content: Option<(ContentNetworkConfig, f64)>,
    /// Add the bicubic upsampling of the input to the generator's output, so that the network
    /// learns the residual over it (VDSR's skip; the paper's SRResNet has none).
    pub bicubic_skip: bool,
}

impl SrGanConfig {
    /// Builds both networks; fails on a scale other than 2, 3, 4 or 8.
    pub fn init(&self, device: &Device) -> Result<SrGan, String> {
        let stages = upsampling_stages(self.scale)
            .ok_or_else(|| format!("scale {} is not 2, 3, 4 or 8", self.scale))?;
        let trunk = self.trunk.init(self.channels, device);
        let c = trunk.out_channels();
        let up = stages
            .into_iter()
            .map(|r| SubPixel {
                conv: same_conv(c, c * r * r, 3, true, device),
                shuffle: PixelShuffleConfig::new(r).init(),
                act: PReluConfig::new().init(device),
            })
            .collect();
        Ok(SrGan {
            generator: SrResNet {
                trunk,
                post: same_conv(c, c, 3, false, device),
                post_bn: BatchNormConfig::new(c).init(device),
                up,
                out: same_conv(c, self.channels, 9, true, device),
                bicubic_skip: self.bicubic_skip,
            },
            discriminator: self.discriminator.init(device),
            content: self.content.as_ref().map(|(c, _)| c.init(device)),
            content_weight: self.content.as_ref().map_or(1.0, |(_, w)| *w),
        })
    }
}

/// A 3x3 convolution to r^2 times the channels, the pixel shuffle that trades them for an r
/// times larger map, PReLU.
#[derive(Module, Debug)]
pub struct SubPixel {
    /// The convolution.
    pub conv: Conv2d,
    /// The pixel shuffle.
    pub shuffle: PixelShuffle,
    /// The PReLU.
    pub act: PRelu,
}

/// SRResNet: the generator.
#[derive(Module, Debug)]
pub struct SrResNet {
    /// The 9x9 convolution and residual blocks (what downstream probes read).
    pub trunk: Backbone,
    /// The convolution after the residual blocks.
    pub post: Conv2d,
    /// Its BatchNorm, before the long skip from the trunk's first convolution.
    pub post_bn: BatchNorm,
    /// The sub-pixel upsampling stages.
    pub up: Vec<SubPixel>,
    /// The 9x9 convolution to the image.
    pub out: Conv2d,
    /// Whether the output is a residual over the input's bicubic upsampling.
    #[module(skip)]
    pub bicubic_skip: bool,
}

impl SrResNet {
    /// # Shapes
    /// - `low`: `[batch, channels, h, w]` -> `[batch, channels, scale * h, scale * w]`
    pub fn forward(&self, low: Tensor<4>) -> Tensor<4> {
        let skip_from = self.bicubic_skip.then(|| low.clone());
        let mut blocks = self.trunk.forward_blocks(low);
        let last = blocks.pop().expect("the trunk has its first convolution");
        let skip = blocks.into_iter().next().unwrap_or_else(|| last.clone());
        let x = kernels::batch_norm(&self.post_bn, kernels::conv2d(&self.post, last), false) + skip;
        let x = self.up.iter().fold(x, |x, stage| {
            stage
                .act
                .forward(stage.shuffle.forward(kernels::conv2d(&stage.conv, x)))
        });
        let out = kernels::conv2d(&self.out, x);
        match skip_from {
            Some(low) => {
                let [_, _, height, width] = out.dims();
                out + resample(low, height, width, Filter::Bicubic)
            }
            None => out,
        }
    }
}

/// `images` resampled to `height` x `width` by a matrix product per axis with the weights of
/// the data pipeline's [`resize`](selfsup_data::transform::resize), so the result is what it
/// gives, borders included.
///
/// # Shapes
/// - `images`: `[batch, channels, h, w]` -> `[batch, channels, height, width]`
pub fn resample(images: Tensor<4>, height: usize, width: usize, filter: Filter) -> Tensor<4> {
    let [b, c, h, w] = images.dims();
    let device = images.device();
    // The transposed `output x input` matrix: `input x output`, ready to multiply from the right.
    let weights = |input: usize, output: usize| {
        Tensor::<2>::from_data(
            TensorData::new(resize_matrix(input, output, filter), [output, input]),
            &device,
        )
        .transpose()
    };
    let x = images.reshape([b * c * h, w]).matmul(weights(w, width));
    let x = x
        .reshape([b * c, h, width])
        .swap_dims(1, 2)
        .reshape([b * c * width, h])
        .matmul(weights(h, height));
    x.reshape([b, c, width, height]).swap_dims(2, 3)
}

/// SRResNet with SRGAN's discriminator.
#[derive(Module, Debug)]
pub struct SrGan {
    /// The generator.
    pub generator: SrResNet,
    /// Judges high-resolution images real or generated.
    pub discriminator: Discriminator,
    /// The frozen network of the feature content loss, if the run uses one.
    pub content: Option<ContentNetwork>,
    /// The weight of the feature content loss.
    #[module(skip)]
    pub content_weight: f64,
}

/// Low-resolution images with their originals.
#[derive(Clone, Debug)]
pub struct SuperResBatch {
    /// `[batch, channels, side / scale, side / scale]`: the bicubic downsampling.
    pub low: Tensor<4>,
    /// `[batch, channels, side, side]`: the originals, in `[0, 1]`.
    pub high: Tensor<4>,
}

/// The paper computes its MSE on high-resolution images scaled to [-1, 1], twice the range of
/// selfsup's [0, 1]: its content loss is this many times the MSE reported here, which is what
/// keeps the adversarial weight (1e-3) in the paper's proportion to it.
pub const PAPER_MSE_SCALE: f64 = 4.0;

impl Adversarial for SrGan {
    type Generator = SrResNet;

    /// The MSE against the original on the paper's [-1, 1] scale ([`PAPER_MSE_SCALE`] times
    /// the `mse` reported, on [0, 1]), or with a content network, the weighted squared
    /// distance of its features (`features`; the MSE is still reported); the discriminator
    /// judges the upsampled image.
    fn generate(&self, batch: &SuperResBatch) -> Generated {
        let predicted = self.generator.forward(batch.low.clone());
        let mse = (predicted.clone() - batch.high.clone())
            .powi_scalar(2)
            .mean();
        let content = match &self.content {
            None => StepOutput::new(mse.clone().mul_scalar(PAPER_MSE_SCALE)).with("mse", mse),
            Some(network) => {
                let features = network.loss(predicted.clone(), batch.high.clone());
                StepOutput::new(features.clone().mul_scalar(self.content_weight))
                    .with("mse", mse)
                    .with("features", features)
            }
        };
        Generated {
            content,
            fake: predicted,
            real: batch.high.clone(),
        }
    }

    fn discriminator(&self) -> &Discriminator {
        &self.discriminator
    }

    map_networks!(SrResNet);
}

impl PretextModel for SrGan {
    type Batch = SuperResBatch;

    /// The MSE, with the discriminator's verdicts on real and upsampled images.
    fn forward_step(&self, batch: &SuperResBatch) -> StepOutput {
        judge(self, batch)
    }

    fn backbone(&self) -> &Backbone {
        &self.generator.trunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny RGB SRGAN for `side`-pixel low-resolution inputs: a trunk of `blocks` residual
    /// blocks of 8 channels, a small discriminator, the MSE as its content loss.
    fn tiny(scale: usize, side: usize, blocks: usize, bicubic_skip: bool) -> SrGanConfig {
        SrGanConfig {
            channels: 3,
            trunk: BackboneConfig::Residual {
                channels: 8,
                blocks,
            },
            scale,
            discriminator: DiscriminatorConfig::srgan(3, side * scale, 4, 2, 16),
            content: None,
            bicubic_skip,
        }
    }

    #[test]
    fn pixel_shuffle_matches_its_definition() {
        // out[c, h * r + i, w * r + j] = in[c * r^2 + i * r + j, h, w] (Shi et al. 2016).
        let device = Device::flex();
        let (c, r, h, w) = (2, 2, 2, 3);
        let values: Vec<f32> = (0..c * r * r * h * w).map(|v| v as f32).collect();
        let input = Tensor::<4>::from_data(
            burn::tensor::TensorData::new(values.clone(), [1, c * r * r, h, w]),
            &device,
        );
        let out = PixelShuffleConfig::new(r).init().forward(input);
        assert_eq!(out.dims(), [1, c, h * r, w * r]);
        let out = out.into_data().try_into_vec::<f32>().unwrap();
        for ch in 0..c {
            for y in 0..h * r {
                for x in 0..w * r {
                    let (i, j) = (y % r, x % r);
                    let source = ((ch * r * r + i * r + j) * h + y / r) * w + x / r;
                    assert_eq!(out[(ch * h * r + y) * w * r + x], values[source]);
                }
            }
        }
    }

    #[test]
    fn the_generator_upsamples_by_its_scale() {
        assert_eq!(upsampling_stages(4), Some(vec![2, 2]));
        assert_eq!(upsampling_stages(3), Some(vec![3]));
        assert_eq!(upsampling_stages(8), Some(vec![2, 2, 2]));
        assert_eq!(upsampling_stages(5), None);
        let device = Device::flex();
        for scale in [2, 3, 4] {
            let net = tiny(scale, 6, 2, scale == 4).init(&device).unwrap();
            let y = net.generator.forward(Tensor::zeros([2, 3, 6, 6], &device));
            assert_eq!(y.dims(), [2, 3, 6 * scale, 6 * scale]);
            assert_eq!(net.discriminator.forward(y).dims(), [2]);
        }
    }

    #[test]
    fn resample_is_the_pipelines_resize() {
        use selfsup_data::{Image, transform::resize};
        let device = Device::flex();
        let (c, h, w) = (2, 5, 7);
        let values: Vec<f32> = (0..2 * c * h * w)
            .map(|v| (v * 37 % 101) as f32 / 101.0)
            .collect();
        let images = Tensor::<4>::from_data(
            burn::tensor::TensorData::new(values.clone(), [2, c, h, w]),
            &device,
        );
        let got = resample(images, 20, 14, Filter::Bicubic)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        for (i, chunk) in values.chunks_exact(c * h * w).enumerate() {
            let want = resize(
                &Image::new(c, h, w, chunk.to_vec()).unwrap(),
                20,
                14,
                Filter::Bicubic,
            )
            .unwrap();
            let got = &got[i * c * 20 * 14..][..c * 20 * 14];
            for (a, b) in got.iter().zip(want.data()) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn with_the_bicubic_skip_a_silent_generator_upsamples_bicubically() {
        let device = Device::flex();
        let mut net = tiny(4, 6, 1, true).init(&device).unwrap().generator;
        net.out.weight = net.out.weight.map(|w| w.zeros_like());
        net.out.bias = net.out.bias.map(|b| b.map(|b| b.zeros_like()));
        let low = Tensor::<4>::random([1, 3, 6, 6], burn::tensor::Distribution::Default, &device);
        let want = resample(low.clone(), 24, 24, Filter::Bicubic);
        net.forward(low)
            .into_data()
            .assert_approx_eq::<f32>(&want.into_data(), burn::tensor::Tolerance::default());
    }

    #[test]
    fn the_content_loss_is_the_mse_on_the_papers_scale() {
        let device = Device::flex();
        let net = tiny(2, 4, 1, true).init(&device).unwrap();
        let random = |shape: [usize; 4]| {
            Tensor::<4>::random(shape, burn::tensor::Distribution::Default, &device)
        };
        let batch = SuperResBatch {
            low: random([2, 3, 4, 4]),
            high: random([2, 3, 8, 8]),
        };
        let generated = net.generate(&batch);
        // The same MSE on [-1, 1] images: every difference doubled.
        let doubled = (generated.fake.clone().mul_scalar(2.0) - batch.high.mul_scalar(2.0))
            .powi_scalar(2)
            .mean()
            .into_scalar::<f32>();
        let loss = generated.content.loss.into_scalar::<f32>();
        let mse = generated.content.metrics[0].1.clone().into_scalar::<f32>();
        assert!(
            (loss - doubled).abs() < 1e-5 * doubled,
            "{loss} vs {doubled}"
        );
        assert!(
            (loss - 4.0 * mse).abs() < 1e-5 * loss,
            "{loss} vs 4 x {mse}"
        );
    }
}
