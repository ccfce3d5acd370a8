//! A frozen network's activations as a content loss: SRGAN's "VGG loss" (Ledig et al. 2017,
//! equation 5: the squared distance between feature maps of the generated and the original
//! image), with a selfsup backbone in VGG19's place, since ImageNet weights cannot be downloaded
//! here.

use burn::module::Module;
use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use selfsup_data::Preprocess;
use selfsup_data::color::{DELTA, LUMINANCE};
use selfsup_data::transform::LUMA;

use crate::backbone::{Backbone, BackboneConfig};

/// Configuration to create a [`ContentNetwork`] using the [init function](Self::init).
#[derive(Clone, Debug, PartialEq)]
pub struct ContentNetworkConfig {
    /// The backbone's architecture, as its checkpoint records it.
    pub backbone: BackboneConfig,
    /// Image channels the backbone was trained on (1 grey or 3 RGB), before preprocessing.
    pub channels: usize,
    /// The preprocessing it was trained with.
    pub preprocess: Preprocess,
    /// The block whose activations are compared (from 0).
    pub block: usize,
}

impl ContentNetworkConfig {
    /// A randomly initialised network; its checkpoint's weights are loaded into `backbone`.
    pub fn init(&self, device: &Device) -> ContentNetwork {
        ContentNetwork {
            backbone: self
                .backbone
                .init(self.preprocess.channels(self.channels), device),
            block: self.block,
            channels: self.channels,
            preprocess: self.preprocess,
        }
    }
}

/// A pretrained backbone, never trained further, whose activations at one block compare two
/// images.
#[derive(Module, Debug)]
pub struct ContentNetwork {
    /// The backbone.
    pub backbone: Backbone,
    /// The block whose activations are compared.
    pub block: usize,
    /// Image channels it reads before preprocessing.
    pub channels: usize,
    /// Its preprocessing.
    #[module(skip)]
    pub preprocess: Preprocess,
}

impl ContentNetwork {
    /// The mean squared difference between the block's activations on `generated` and on
    /// `target` (both `[batch, channels, height, width]` in `[0, 1]`). Gradients reach
    /// `generated` only: the backbone is frozen (no parameter gradients, BatchNorm on its
    /// running statistics) and the target's features are constants.
    pub fn loss(&self, generated: Tensor<4>, target: Tensor<4>) -> Tensor<1> {
        let backbone = self.backbone.clone().freeze();
        let features = |x: Tensor<4>| {
            backbone
                .forward_range(self.prepare(x), 0..self.block + 1)
                .pop()
                .expect("at least one block")
        };
        let target = features(target).detach();
        (features(generated) - target).powi_scalar(2).mean()
    }

    /// `images` as the backbone reads them: brought to its channels (BT.601 luma for grey,
    /// grey repeated for RGB), then preprocessed, differentiably; the tensor counterpart of
    /// [`selfsup_data::InputSpec::prepare`] without the resize (the backbone is convolutional).
    pub fn prepare(&self, images: Tensor<4>) -> Tensor<4> {
        let x = to_channels(images, self.channels);
        match self.preprocess {
            Preprocess::None => x,
            Preprocess::Standardize => standardize(x),
            Preprocess::Lightness => lightness(x),
            Preprocess::Sobel => sobel(to_channels(x, 1)),
        }
    }
}

/// A weighted sum over the channels, keeping a channel axis of one.
fn weighted_channels(x: Tensor<4>, weights: [f32; 3]) -> Tensor<4> {
    let w = Tensor::<1>::from_floats(weights, &x.device()).reshape([1, 3, 1, 1]);
    (x * w).sum_dim(1)
}

fn to_channels(x: Tensor<4>, channels: usize) -> Tensor<4> {
    match (x.dims()[1], channels) {
        (a, b) if a == b => x,
        (3, 1) => weighted_channels(x, LUMA),
        (1, 3) => x.repeat_dim(1, 3),
        (a, b) => panic!("{a} to {b} channels: images have 1 or 3"),
    }
}

/// Each channel of each image to mean 0 and standard deviation 1 (population; 1e-5 added to
/// the deviation), as `normalize_per_image`.
fn standardize(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let flat = x.reshape([b, c, h * w]);
    let centred = flat.clone() - flat.mean_dim(2);
    let std = centred.clone().powi_scalar(2).mean_dim(2).sqrt();
    (centred / (std + 1e-5)).reshape([b, c, h, w])
}

/// CIE L / 100 of sRGB (grey read as R = G = B), as `selfsup_data::lightness`.
fn lightness(x: Tensor<4>) -> Tensor<4> {
    let x = to_channels(x, 3).clamp(0.0, 1.0);
    // sRGB to linear; the power is taken on values kept inside its branch so that the unused
    // branch's gradient stays finite.
    let low = x.clone().lower_equal_elem(0.040_45);
    let curved = ((x.clone().clamp_min(0.040_45) + 0.055) / 1.055).powf_scalar(2.4);
    let linear = curved.mask_where(low, x / 12.92);
    let y = weighted_channels(linear, LUMINANCE);
    let cube = DELTA * DELTA * DELTA;
    let small = y.clone().lower_equal_elem(cube);
    let f = y
        .clone()
        .clamp_min(cube)
        .powf_scalar(1.0 / 3.0)
        .mask_where(small, y / (3.0 * DELTA * DELTA) + 4.0 / 29.0);
    (f * 116.0 - 16.0) / 100.0
}

/// The two Sobel responses `[d/dx, d/dy]` of a grey image, zero-padded, as `selfsup_data`'s
/// `sobel`.
fn sobel(x: Tensor<4>) -> Tensor<4> {
    #[rustfmt::skip]
    let kernels = [
        -1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0,
        -1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0,
    ];
    let weight = Tensor::<1>::from_floats(kernels, &x.device()).reshape([2, 1, 3, 3]);
    conv2d(x, weight, None, ConvOptions::new([1, 1], [1, 1], [1, 1], 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use selfsup_data::{Image, InputSpec};

    fn image(channels: usize, h: usize, w: usize) -> Image {
        let data = (0..channels * h * w)
            .map(|i| ((i * 37 + 11) % 101) as f32 / 100.0)
            .collect();
        Image::new(channels, h, w, data).unwrap()
    }

    fn tensor(image: &Image, device: &Device) -> Tensor<4> {
        let [c, h, w] = [image.channels(), image.height(), image.width()];
        Tensor::<1>::from_floats(image.data(), device).reshape([1, c, h, w])
    }

    #[test]
    fn prepare_matches_the_data_pipeline() {
        let device = Device::flex();
        for preprocess in [
            Preprocess::None,
            Preprocess::Standardize,
            Preprocess::Lightness,
            Preprocess::Sobel,
        ] {
            for (from, to) in [(3, 1), (3, 3), (1, 3), (1, 1)] {
                let network = ContentNetworkConfig {
                    backbone: BackboneConfig::ConvNet { widths: vec![2] },
                    channels: to,
                    preprocess,
                    block: 0,
                }
                .init(&device);
                // Square, so that the data pipeline does not resize it.
                let img = image(from, 6, 6);
                let spec = InputSpec::new(to, 6, preprocess).unwrap();
                let want = spec.preprocess.apply(&spec.conform(&img));
                let got = network.prepare(tensor(&img, &device));
                assert_eq!(
                    got.dims()[1],
                    want.channels(),
                    "{preprocess:?} {from}->{to}"
                );
                let got = got.into_data().try_into_vec::<f32>().unwrap();
                for (g, w) in got.iter().zip(want.data()) {
                    assert!(
                        (g - w).abs() < 1e-4,
                        "{preprocess:?} {from}->{to}: {g} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_loss_is_zero_on_equal_images_and_trains_only_the_input() {
        let device = Device::flex().autodiff();
        let network = ContentNetworkConfig {
            backbone: BackboneConfig::ConvNet { widths: vec![3, 4] },
            channels: 1,
            preprocess: Preprocess::None,
            block: 1,
        }
        .init(&device);
        let target = tensor(&image(3, 8, 8), &device);
        assert!(
            network
                .loss(target.clone(), target.clone())
                .into_scalar::<f32>()
                < 1e-10
        );
        let generated = tensor(&image(3, 8, 8), &device)
            .flip([3])
            .detach()
            .require_grad();
        let loss = network.loss(generated.clone(), target);
        assert!(loss.clone().into_scalar::<f32>() > 0.0);
        let grads = loss.backward();
        let input_grad = generated.grad(&grads).expect("the input gets a gradient");
        assert!(input_grad.abs().sum().into_scalar::<f32>() > 0.0);
        let Backbone::ConvNet(net) = &network.backbone else {
            unreachable!()
        };
        let weight = net.blocks[0][0].conv.weight.val();
        assert!(weight.grad(&grads).is_none(), "the backbone stays frozen");
    }
}
