//! The colorization network of Zhang, Isola & Efros (2016): a fully convolutional encoder from
//! the L channel down to 1/8 of the resolution, a transposed convolution back up to 1/4, and a
//! 1x1 convolution to a distribution over the 313 quantised ab bins at every output pixel (or
//! to two ab values, the paper's L2 regression baseline).
//!
//! The paper's encoder is a VGG-like stack of 8 blocks (no pooling, strided and dilated
//! convolutions, 512 channels deep); here the encoder is the selfsup backbone, so that its
//! blocks are probed like every other method's. The head follows the paper's conv8: a 4x4
//! stride-2 transposed convolution per factor of 2 from the backbone's stride down to 4, a
//! 3x3 convolution, ReLU, then the 1x1 classifier.

use crate::kernels;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu, softmax};

use crate::backbone::{Backbone, BackboneConfig};
use crate::pretext_model::{PretextModel, StepOutput};

/// Configuration to create a [`Colorizer`] using the [init function](ColorizerConfig::init).
#[derive(Clone, Debug, PartialEq)]
pub struct ColorizerConfig {
    /// The encoder.
    pub backbone: BackboneConfig,
    /// Output channels per pixel: 313 bins, or 2 for ab regression.
    pub outputs: usize,
    /// Transposed convolutions (each doubles the resolution) after the backbone.
    pub upsamplings: usize,
}

impl ColorizerConfig {
    /// Builds the network for 1-channel (lightness) input.
    pub fn init(&self, device: &Device) -> Colorizer {
        let backbone = self.backbone.init(1, device);
        let width = backbone.out_channels();
        let up = (0..self.upsamplings)
            .map(|_| {
                ConvTranspose2dConfig::new([width, width], [4, 4])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .init(device)
            })
            .collect();
        Colorizer {
            backbone,
            up,
            conv: Conv2dConfig::new([width, width], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            out: Conv2dConfig::new([width, self.outputs], [1, 1]).init(device),
        }
    }
}

/// Predicts the colour of every pixel from its lightness.
#[derive(Module, Debug)]
pub struct Colorizer {
    /// The encoder.
    pub backbone: Backbone,
    /// Upsampling to the output stride (conv8's deconvolution).
    pub up: Vec<ConvTranspose2d>,
    /// A 3x3 convolution at the output stride.
    pub conv: Conv2d,
    /// Per-pixel bin logits (or ab values).
    pub out: Conv2d,
}

/// What a colorization batch is scored against.
#[derive(Clone, Debug)]
pub enum ColorTarget {
    /// Soft-encoded bins with per-pixel weights: the classification loss.
    Bins {
        /// `[batch, bins, h, w]`, each pixel's distribution over the bins.
        target: Tensor<4>,
        /// `[batch, h, w]`: the class-rebalancing weight of each pixel (0 for grey images).
        weights: Tensor<3>,
    },
    /// The ab values: the L2 regression loss.
    Ab {
        /// `[batch, 2, h, w]`, a and b divided by [`AB_SCALE`].
        ab: Tensor<4>,
        /// `[batch, 1, h, w]`: 1 for the pixels of colour images, 0 for grey ones.
        mask: Tensor<4>,
    },
}

/// The scale of ab values in the regression variant's outputs (Lab units per output unit).
pub const AB_SCALE: f32 = 100.0;

/// Lightness with its target colour.
#[derive(Clone, Debug)]
pub struct ColorizationBatch {
    /// `[batch, 1, side, side]`: L / 100.
    pub lightness: Tensor<4>,
    /// The target.
    pub target: ColorTarget,
}

impl Colorizer {
    /// # Shapes
    /// - `lightness`: `[batch, 1, side, side]` -> `[batch, outputs, side / 4, side / 4]`
    pub fn forward(&self, lightness: Tensor<4>) -> Tensor<4> {
        let x = self.backbone.forward(lightness);
        let x = self
            .up
            .iter()
            .fold(x, |x, up| relu(kernels::conv_transpose2d(up, x)));
        kernels::conv2d(&self.out, relu(kernels::conv2d(&self.conv, x)))
    }
}

/// The multinomial cross-entropy of `logits` against soft `target`s, each pixel weighted:
/// the paper's equation 2, averaged over pixels instead of summed.
pub fn rebalanced_cross_entropy(
    logits: Tensor<4>,
    target: Tensor<4>,
    weights: Tensor<3>,
) -> Tensor<1> {
    let per_pixel = (log_softmax(logits, 1) * target)
        .sum_dim(1)
        .squeeze_dim::<3>(1); // [b, h, w]
    let n = per_pixel.shape().num_elements().max(1);
    (per_pixel * weights).sum().neg().div_scalar(n as f32)
}

/// The annealed mean of the paper (section 2.2): the mean of the bin `centres` (`[bins, 2]`)
/// under the distribution sharpened by temperature `t` (`softmax(logits / t)`).
///
/// # Shapes
/// - `logits`: `[batch, bins, h, w]` -> `[batch, 2, h, w]`
pub fn annealed_mean(logits: Tensor<4>, centres: Tensor<2>, t: f32) -> Tensor<4> {
    let [batch, bins, h, w] = logits.dims();
    let p = softmax(logits.div_scalar(t), 1)
        .reshape([batch, bins, h * w])
        .swap_dims(1, 2); // [b, hw, bins]
    let centres = centres.unsqueeze_dim::<3>(0).expand([batch, bins, 2]);
    p.matmul(centres).swap_dims(1, 2).reshape([batch, 2, h, w])
}

impl PretextModel for Colorizer {
    type Batch = ColorizationBatch;

    fn forward_step(&self, batch: &ColorizationBatch) -> StepOutput {
        let out = self.forward(batch.lightness.clone());
        match &batch.target {
            ColorTarget::Bins { target, weights } => {
                let loss = rebalanced_cross_entropy(out, target.clone(), weights.clone());
                StepOutput::new(loss)
            }
            ColorTarget::Ab { ab, mask } => {
                let d = (out - ab.clone()) * mask.clone();
                let n = d.shape().num_elements().max(1);
                StepOutput::new(d.powi_scalar(2).sum().div_scalar(n as f32))
            }
        }
    }

    fn backbone(&self) -> &Backbone {
        &self.backbone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_come_at_a_quarter_of_the_resolution() {
        let device = Device::flex();
        let config = ColorizerConfig {
            backbone: BackboneConfig::ConvNet {
                widths: vec![4, 4, 8, 8],
            },
            outputs: 313,
            upsamplings: 1,
        };
        let net = config.init(&device);
        assert_eq!(
            net.forward(Tensor::zeros([2, 1, 32, 32], &device)).dims(),
            [2, 313, 8, 8]
        );
    }

    #[test]
    fn annealed_mean_goes_from_the_mean_to_the_mode() {
        let device = Device::flex();
        let centres = Tensor::<2>::from_floats([[0.0, 0.0], [10.0, -20.0], [40.0, 60.0]], &device);
        let logits = Tensor::<4>::from_floats([[[[1.0]], [[2.0]], [[0.5]]]], &device);
        let probs = [1.0f32, 2.0, 0.5].map(f32::exp);
        let total: f32 = probs.iter().sum();
        let mean_a = (10.0 * probs[1] + 40.0 * probs[2]) / total;
        let at_one = annealed_mean(logits.clone(), centres.clone(), 1.0)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert!((at_one[0] - mean_a).abs() < 1e-4, "{at_one:?} vs {mean_a}");
        let cold = annealed_mean(logits, centres, 0.01)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert!(
            (cold[0] - 10.0).abs() < 1e-3 && (cold[1] + 20.0).abs() < 1e-3,
            "{cold:?}"
        );
    }

    #[test]
    fn the_loss_weights_each_pixel() {
        let device = Device::flex();
        let logits = Tensor::<4>::zeros([1, 2, 1, 2], &device);
        let target = Tensor::<4>::from_floats([[[[1.0, 0.0]], [[0.0, 1.0]]]], &device);
        let ones = Tensor::<3>::ones([1, 1, 2], &device);
        let loss =
            rebalanced_cross_entropy(logits.clone(), target.clone(), ones).into_scalar::<f32>();
        assert!((loss - 2f32.ln()).abs() < 1e-6);
        let half = Tensor::<3>::from_floats([[[1.0, 0.0]]], &device);
        let loss = rebalanced_cross_entropy(logits, target, half).into_scalar::<f32>();
        assert!((loss - 2f32.ln() / 2.0).abs() < 1e-6);
    }
}
