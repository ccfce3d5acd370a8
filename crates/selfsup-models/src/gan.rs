//! What every adversarial method shares: a [`Discriminator`] (a strided convolution stack with
//! LeakyReLU and BatchNorm, then dense layers to one logit, the shape of both the Context
//! Encoder's and SRGAN's), the binary cross-entropy of its logits, and [`Adversarial`]: what
//! the trainer's GAN step needs from a generator-discriminator pair.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{leaky_relu, log_sigmoid};
use serde::{Deserialize, Serialize};

use crate::backbone::{
    BackboneConfig, LEAKY_SLOPE, StridedLayer, StridedNet, StridedNetConfig, strided_sides,
};

use crate::pretext_model::{PretextModel, StepOutput};

/// Configuration to create a [`Discriminator`] using the [init function](DiscriminatorConfig::init).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscriminatorConfig {
    /// Channels of the images it judges.
    pub in_channels: usize,
    /// Side of the (square) images it judges: the dense head is sized for it.
    pub side: usize,
    /// Square kernel of every convolution (the Context Encoder: 4, SRGAN: 3).
    pub kernel: usize,
    /// The convolutions, in order; every one but the first is followed by BatchNorm.
    pub layers: Vec<StridedLayer>,
    /// Width of the hidden dense layer (SRGAN: 1024), or none: one dense layer from the
    /// flattened last map to the logit (the Context Encoder's final 4x4 convolution).
    pub hidden: Option<usize>,
}

impl DiscriminatorConfig {
    /// DCGAN's discriminator, as the Context Encoder uses it: 4x4 stride-2 convolutions from
    /// `width` channels, doubling, until the map is 4 pixels (or `side` cannot halve), then one
    /// dense layer to the logit.
    pub fn dcgan(in_channels: usize, side: usize, width: usize) -> Self {
        let mut layers = Vec::new();
        let (mut s, mut c) = (side, width);
        while s > 4 && s.is_multiple_of(2) && layers.len() < 6 {
            layers.push(StridedLayer {
                channels: c,
                stride: 2,
            });
            s /= 2;
            c = (c * 2).min(8 * width);
        }
        Self {
            in_channels,
            side,
            kernel: 4,
            layers,
            hidden: None,
        }
    }

    /// SRGAN's discriminator (Ledig et al. 2017, figure 4): 3x3 convolutions in pairs, the
    /// second of each pair strided, `width`, 2 x `width`... channels for `pairs` pairs, then a
    /// dense layer of `hidden` units and the logit.
    pub fn srgan(
        in_channels: usize,
        side: usize,
        width: usize,
        pairs: usize,
        hidden: usize,
    ) -> Self {
        let layers = (0..pairs)
            .flat_map(|p| {
                let channels = width << p;
                [1, 2].map(|stride| StridedLayer { channels, stride })
            })
            .collect();
        Self {
            in_channels,
            side,
            kernel: 3,
            layers,
            hidden: Some(hidden),
        }
    }

    /// The side of the last map.
    pub fn out_side(&self) -> usize {
        strided_sides(self.side, self.kernel, &self.layers)
            .last()
            .copied()
            .unwrap_or(self.side)
    }

    /// The convolution stack as a backbone (what probes read).
    pub fn features(&self) -> BackboneConfig {
        BackboneConfig::Strided {
            kernel: self.kernel,
            layers: self.layers.clone(),
        }
    }

    /// Checks the layers and that they fit the image side, naming both.
    pub fn validate(&self) -> Result<(), String> {
        let features = self.features();
        features.validate()?;
        features.check_input(self.side)
    }

    /// Builds the network.
    pub fn init(&self, device: &Device) -> Discriminator {
        let features =
            StridedNetConfig::new(self.in_channels, self.kernel, self.layers.clone()).init(device);
        let cin = self.layers.last().map_or(self.in_channels, |l| l.channels);
        let s = self.out_side();
        let flat = cin * s * s;
        let (hidden, out) = match self.hidden {
            Some(h) => (
                Some(LinearConfig::new(flat, h).init(device)),
                LinearConfig::new(h, 1).init(device),
            ),
            None => (None, LinearConfig::new(flat, 1).init(device)),
        };
        Discriminator {
            features,
            hidden,
            out,
        }
    }
}

/// Judges images real or fake: one logit per image (positive: real).
#[derive(Module, Debug)]
pub struct Discriminator {
    /// The convolution stack.
    pub features: StridedNet,
    /// The hidden dense layer, if any.
    pub hidden: Option<Linear>,
    /// The logit.
    pub out: Linear,
}

impl Discriminator {
    /// The convolution stack's output (what SRGAN's probes read).
    ///
    /// # Shapes
    /// - `images`: `[batch, channels, side, side]` -> `[batch, c, s, s]`
    pub fn features(&self, images: Tensor<4>) -> Tensor<4> {
        let layers = self.features.convs.len();
        self.features
            .forward_range(images, 0..layers)
            .pop()
            .expect("a discriminator has at least one layer")
    }

    /// # Shapes
    /// - `images`: `[batch, channels, side, side]` -> logits `[batch]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<1> {
        let x = self.features(images).flatten::<2>(1, 3);
        let x = match &self.hidden {
            Some(fc) => leaky_relu(fc.forward(x), LEAKY_SLOPE),
            None => x,
        };
        self.out.forward(x).flatten::<1>(0, 1)
    }
}

/// The binary cross-entropy of `logits` against one label for all (`real`: 1, else 0), mean
/// over the batch; computed from the log-sigmoid, stable for logits of any size.
pub fn binary_cross_entropy(logits: Tensor<1>, real: bool) -> Tensor<1> {
    let logits = if real { logits } else { logits.neg() };
    log_sigmoid(logits).mean().neg()
}

/// The fraction of `logits` on the side of `real` (positive for real images), as a float `[1]`.
pub fn judged_right(logits: Tensor<1>, real: bool) -> Tensor<1> {
    let hits = if real {
        logits.greater_elem(0.0)
    } else {
        logits.lower_equal_elem(0.0)
    };
    hits.float().mean()
}

/// What a generator makes of a batch: its own loss and the images the discriminator judges.
#[derive(Debug)]
pub struct Generated {
    /// The generator's own (non-adversarial) loss, with its terms as metrics.
    pub content: StepOutput,
    /// The generated images as the discriminator sees them (still attached to the generator's
    /// graph).
    pub fake: Tensor<4>,
    /// The real images it sees beside them.
    pub real: Tensor<4>,
}

/// Implements [`Adversarial::map_generator`] and [`Adversarial::map_discriminator`] inside an
/// `impl Adversarial` block, for a model whose networks are its fields `generator` (of type
/// `$generator`) and `discriminator`; other fields ride along.
macro_rules! map_networks {
    ($generator:ty) => {
        fn map_generator<E>(
            self,
            step: impl FnOnce($generator) -> Result<$generator, E>,
        ) -> Result<Self, E> {
            Ok(Self {
                generator: step(self.generator)?,
                ..self
            })
        }

        fn map_discriminator<E>(
            self,
            step: impl FnOnce(Discriminator) -> Result<Discriminator, E>,
        ) -> Result<Self, E> {
            Ok(Self {
                discriminator: step(self.discriminator)?,
                ..self
            })
        }
    };
}
pub(crate) use map_networks;

/// A generator and a [`Discriminator`] trained against each other: what the shared GAN step
/// needs to run both halves and to step each network with its own optimiser.
pub trait Adversarial: PretextModel + Sized {
    /// The generator network (what the method's own loss trains).
    type Generator: Module;

    /// The generator's pass on a batch.
    fn generate(&self, batch: &Self::Batch) -> Generated;

    /// The discriminator.
    fn discriminator(&self) -> &Discriminator;

    /// The model with its generator replaced by `step`'s result (an optimiser step), the
    /// rest untouched.
    fn map_generator<E>(
        self,
        step: impl FnOnce(Self::Generator) -> Result<Self::Generator, E>,
    ) -> Result<Self, E>;

    /// The model with its discriminator replaced by `step`'s result.
    fn map_discriminator<E>(
        self,
        step: impl FnOnce(Discriminator) -> Result<Discriminator, E>,
    ) -> Result<Self, E>;
}

/// The generator's loss with the discriminator's verdicts, no update: `adversarial` (the
/// generator's non-saturating loss), `d_real_acc` and `d_fake_acc` (the shares of real and
/// generated images the discriminator judges right). What validation reports for every GAN.
pub fn judge<M: Adversarial>(model: &M, batch: &M::Batch) -> StepOutput {
    let generated = model.generate(batch);
    let real = model.discriminator().forward(generated.real);
    let fake = model.discriminator().forward(generated.fake);
    generated
        .content
        .with("adversarial", binary_cross_entropy(fake.clone(), true))
        .with("d_real_acc", judged_right(real, true))
        .with("d_fake_acc", judged_right(fake, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dcgan_stack_halves_to_four_pixels() {
        let config = DiscriminatorConfig::dcgan(3, 64, 16);
        let channels: Vec<usize> = config.layers.iter().map(|l| l.channels).collect();
        assert_eq!(channels, [16, 32, 64, 128]);
        assert_eq!(config.out_side(), 4);
        let device = Device::flex();
        let d = config.init(&device);
        let x = Tensor::<4>::zeros([2, 3, 64, 64], &device);
        assert_eq!(d.features(x.clone()).dims(), [2, 128, 4, 4]);
        assert_eq!(d.forward(x).dims(), [2]);
    }

    #[test]
    fn srgan_stack_has_strided_pairs_and_a_hidden_layer() {
        let config = DiscriminatorConfig::srgan(3, 48, 16, 3, 64);
        assert_eq!(config.layers.len(), 6);
        assert_eq!(config.out_side(), 6);
        let device = Device::flex();
        let d = config.init(&device);
        let x = Tensor::<4>::zeros([2, 3, 48, 48], &device);
        assert_eq!(d.features(x.clone()).dims(), [2, 64, 6, 6]);
        assert_eq!(d.forward(x).dims(), [2]);
    }

    #[test]
    fn cross_entropy_matches_its_definition() {
        let device = Device::flex();
        let logits = Tensor::<1>::from_floats([2.0, -1.0, 0.5], &device);
        let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
        let expect_real = -[2.0, -1.0, 0.5]
            .map(|x| sigmoid(x).ln())
            .iter()
            .sum::<f64>()
            / 3.0;
        let expect_fake = -[2.0, -1.0, 0.5]
            .map(|x| (1.0 - sigmoid(x)).ln())
            .iter()
            .sum::<f64>()
            / 3.0;
        let real = binary_cross_entropy(logits.clone(), true).into_scalar::<f32>();
        let fake = binary_cross_entropy(logits.clone(), false).into_scalar::<f32>();
        assert!(
            (f64::from(real) - expect_real).abs() < 1e-5,
            "{real} vs {expect_real}"
        );
        assert!(
            (f64::from(fake) - expect_fake).abs() < 1e-5,
            "{fake} vs {expect_fake}"
        );
        let right = judged_right(logits.clone(), true).into_scalar::<f32>();
        assert!((right - 2.0 / 3.0).abs() < 1e-6);
        let right = judged_right(logits, false).into_scalar::<f32>();
        assert!((right - 1.0 / 3.0).abs() < 1e-6);
    }
}
