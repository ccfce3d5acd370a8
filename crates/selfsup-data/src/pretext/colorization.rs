//! Colorization's samples (Zhang, Isola & Efros 2016): the lightness of an image in, its
//! colour (the Lab a and b channels) at the resolution the network predicts out.

use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::color::{lab_to_srgb, srgb_to_lab};
use crate::error::{DataError, Result};
use crate::image::Image;
use crate::input::lightness;
use crate::pretext::PretextGenerator;
use crate::transform::{Filter, grayscale, hflip, resize};

/// How colour images become samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColorizationConfig {
    /// Mirror left-right with probability 1/2 (the paper's training mirrors its crops).
    pub flip: bool,
    /// An image is grey, and left out of the loss, when none of its target pixels has |a| or
    /// |b| above this (the authors' code: 5).
    pub grey_threshold: f32,
}

impl Default for ColorizationConfig {
    fn default() -> Self {
        Self {
            flip: true,
            grey_threshold: 5.0,
        }
    }
}

/// One image as colorization sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct ColorizationSample {
    /// The network input: L / 100, `[1, side, side]`.
    pub lightness: Image,
    /// The target colour: a and b in Lab units, `[2, side / stride, side / stride]`, read at
    /// the centre of each `stride` x `stride` cell.
    pub ab: Image,
    /// Whether the image has colour (grey images are left out of the loss).
    pub colourful: bool,
}

/// Makes [`ColorizationSample`]s from RGB images whose side is a multiple of `stride`.
#[derive(Clone, Debug)]
pub struct ColorizationGenerator {
    config: ColorizationConfig,
    stride: usize,
}

impl ColorizationGenerator {
    /// A generator whose targets are read every `stride` pixels (the network's output stride:
    /// 4 in the paper).
    pub fn new(config: ColorizationConfig, stride: usize) -> Result<Self> {
        if stride == 0 {
            return Err(DataError::invalid(
                "colorization",
                "the stride must be positive",
            ));
        }
        Ok(Self { config, stride })
    }

    /// The target stride.
    pub fn stride(&self) -> usize {
        self.stride
    }
}

/// The a and b planes of `lab` at the centre of every `stride` x `stride` cell.
pub fn subsample_ab(lab: &Image, stride: usize) -> Image {
    let (h, w) = (lab.height() / stride, lab.width() / stride);
    let mut out = Vec::with_capacity(2 * h * w);
    for c in 1..3 {
        let plane = lab.plane(c);
        for y in 0..h {
            for x in 0..w {
                out.push(plane[(y * stride + stride / 2) * lab.width() + x * stride + stride / 2]);
            }
        }
    }
    Image::new(2, h, w, out).expect("2 planes of h x w values")
}

/// An sRGB image from full-resolution lightness (`[1, H, W]`, L / 100) and ab planes at any
/// resolution (`[2, h, w]`, Lab units, resized bilinearly to H x W): how a colorization
/// prediction becomes a picture, keeping the input's L. Colours outside sRGB are clamped.
pub fn colourise(lightness: &Image, ab: &Image) -> Result<Image> {
    lab_to_srgb(&lab_image(lightness, ab)?)
}

/// The Lab image of full-resolution lightness (L / 100) and ab planes resized to match.
pub fn lab_image(lightness: &Image, ab: &Image) -> Result<Image> {
    let (h, w) = (lightness.height(), lightness.width());
    let ab = resize(ab, h, w, Filter::Bilinear)?;
    let mut data: Vec<f32> = lightness.plane(0).iter().map(|l| l * 100.0).collect();
    data.extend_from_slice(ab.data());
    Image::new(3, h, w, data)
}

impl PretextGenerator for ColorizationGenerator {
    type Sample = ColorizationSample;

    fn generate(
        &self,
        image: &Image,
        _index: usize,
        rng: &mut StdRng,
    ) -> Result<ColorizationSample> {
        if image.channels() != 3 {
            return Err(DataError::invalid(
                "colorization",
                format!("needs RGB images, got {} channels", image.channels()),
            ));
        }
        if !image.height().is_multiple_of(self.stride) || !image.width().is_multiple_of(self.stride)
        {
            return Err(DataError::invalid(
                "colorization",
                format!(
                    "a {}x{} image is not a multiple of the output stride {}",
                    image.width(),
                    image.height(),
                    self.stride
                ),
            ));
        }
        let image = if self.config.flip && rng.random_bool(0.5) {
            hflip(image)
        } else {
            image.clone()
        };
        let ab = subsample_ab(&srgb_to_lab(&image)?, self.stride);
        let threshold = self.config.grey_threshold;
        let colourful = ab.data().iter().any(|v| v.abs() > threshold);
        Ok(ColorizationSample {
            lightness: lightness(&image),
            ab,
            colourful,
        })
    }

    fn picture(&self, sample: &ColorizationSample) -> Vec<Image> {
        let grey = sample.lightness.clone();
        // The target as the network must predict it: full-resolution L, the ab at its stride.
        let target = colourise(&sample.lightness, &sample.ab)
            .unwrap_or_else(|_| grayscale(&grey).to_channels(3).expect("grey to RGB"));
        vec![grey, target]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretext::sample_rng;

    fn colourful(h: usize, w: usize) -> Image {
        let data = (0..3 * h * w)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        Image::new(3, h, w, data).unwrap()
    }

    #[test]
    fn samples_hold_lightness_and_ab_at_the_stride() {
        let generator = ColorizationGenerator::new(
            ColorizationConfig {
                flip: false,
                ..Default::default()
            },
            4,
        )
        .unwrap();
        let image = colourful(16, 12);
        let sample = generator
            .generate(&image, 0, &mut sample_rng(0, 0, 0))
            .unwrap();
        assert_eq!(sample.lightness.shape(), [1, 16, 12]);
        assert_eq!(sample.ab.shape(), [2, 4, 3]);
        assert!(sample.colourful);
        let lab = srgb_to_lab(&image).unwrap();
        assert_eq!(sample.ab.get(0, 1, 2), lab.get(1, 6, 10));
        assert_eq!(sample.ab.get(1, 3, 0), lab.get(2, 14, 2));
        assert_eq!(generator.picture(&sample).len(), 2);
    }

    #[test]
    fn grey_images_are_marked_and_other_shapes_refused() {
        let generator = ColorizationGenerator::new(ColorizationConfig::default(), 4).unwrap();
        let grey = Image::filled(3, 8, 8, 0.4).unwrap();
        let sample = generator
            .generate(&grey, 0, &mut sample_rng(0, 0, 0))
            .unwrap();
        assert!(!sample.colourful);
        let one_channel = Image::filled(1, 8, 8, 0.4).unwrap();
        assert!(
            generator
                .generate(&one_channel, 0, &mut sample_rng(0, 0, 0))
                .is_err()
        );
        let odd = colourful(10, 8);
        let err = generator
            .generate(&odd, 0, &mut sample_rng(0, 0, 0))
            .unwrap_err();
        assert!(err.to_string().contains("stride 4"), "{err}");
    }

    #[test]
    fn colourising_keeps_the_lightness() {
        let image = colourful(8, 8);
        let l = lightness(&image);
        let ab = Image::filled(2, 2, 2, 7.0).unwrap();
        let lab = lab_image(&l, &ab).unwrap();
        assert_eq!(
            lab.plane(0),
            l.plane(0).iter().map(|v| v * 100.0).collect::<Vec<_>>()
        );
        assert!(lab.plane(1).iter().all(|v| (v - 7.0).abs() < 1e-5));
    }
}
