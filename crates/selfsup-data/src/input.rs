//! [`InputSpec`]: how a source image becomes what a network takes, saved with every checkpoint
//! so that evaluation feeds a backbone the input it was trained on.

use serde::{Deserialize, Serialize};

use crate::color::srgb_to_lab;
use crate::error::{DataError, Result};
use crate::image::Image;
use crate::transform::{Filter, grayscale, normalize_per_image, resize, sobel};

/// A fixed transformation between the conformed image and the network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preprocess {
    /// The image as it is.
    #[default]
    None,
    /// The CIE L channel scaled to `[0, 1]` (L / 100): colorization's input.
    Lightness,
    /// Grey, then the two Sobel gradients: DeepCluster's fixed input layer.
    Sobel,
    /// Each channel standardised over the image (mean 0, standard deviation 1): how jigsaw and
    /// context prediction normalise their patches, so that a backbone trained on them is read on
    /// the statistics it learnt (its first BatchNorm's running mean and variance included).
    Standardize,
}

impl Preprocess {
    /// Channels of the preprocessed image, given the conformed image's channels.
    pub fn channels(self, image_channels: usize) -> usize {
        match self {
            Preprocess::None | Preprocess::Standardize => image_channels,
            Preprocess::Lightness => 1,
            Preprocess::Sobel => 2,
        }
    }

    /// Applies the transformation.
    pub fn apply(self, image: &Image) -> Image {
        match self {
            Preprocess::None => image.clone(),
            Preprocess::Lightness => lightness(image),
            Preprocess::Sobel => sobel(image),
            Preprocess::Standardize => normalize_per_image(image),
        }
    }
}

/// The L channel of an image scaled to `[0, 1]`; grey images are read as R = G = B.
pub fn lightness(image: &Image) -> Image {
    let rgb = if image.channels() == 3 {
        image.clone()
    } else {
        grayscale(image)
            .to_channels(3)
            .expect("grey to RGB is always possible")
    };
    let lab = srgb_to_lab(&rgb).expect("a 3-channel image converts to Lab");
    let plane = lab.height() * lab.width();
    let l = lab.data()[..plane].iter().map(|v| v / 100.0).collect();
    Image::new(1, lab.height(), lab.width(), l).expect("one plane of the Lab image")
}

/// Source images are brought to `image_channels` channels and `side` x `side` pixels
/// (bilinear), then [`Preprocess`]ed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// 1 (grey) or 3 (RGB).
    pub image_channels: usize,
    /// Side of the square image.
    pub side: usize,
    /// What happens after conforming.
    #[serde(default)]
    pub preprocess: Preprocess,
}

impl InputSpec {
    /// Checks the channel count (1 or 3) and the side (positive).
    pub fn new(image_channels: usize, side: usize, preprocess: Preprocess) -> Result<Self> {
        if image_channels != 1 && image_channels != 3 {
            return Err(DataError::invalid(
                "input",
                format!("{image_channels} channels: images are conformed to 1 (grey) or 3 (RGB)"),
            ));
        }
        if side == 0 {
            return Err(DataError::invalid(
                "input",
                "the image side must be positive",
            ));
        }
        Ok(Self {
            image_channels,
            side,
            preprocess,
        })
    }

    /// Conformed images with nothing after: `new(channels, side, Preprocess::None)`.
    pub fn plain(image_channels: usize, side: usize) -> Result<Self> {
        Self::new(image_channels, side, Preprocess::None)
    }

    /// Channels of the network input.
    pub fn network_channels(&self) -> usize {
        self.preprocess.channels(self.image_channels)
    }

    /// Brings an image to the spec's channels and size (no preprocessing).
    pub fn conform(&self, image: &Image) -> Image {
        let image = match (image.channels(), self.image_channels) {
            (a, b) if a == b => image.clone(),
            (_, 1) => grayscale(image),
            _ => grayscale(image)
                .to_channels(3)
                .expect("grey to RGB is always possible"),
        };
        if (image.height(), image.width()) == (self.side, self.side) {
            image
        } else {
            resize(&image, self.side, self.side, Filter::Bilinear)
                .expect("InputSpec::new rejects a zero side")
        }
    }

    /// Conforms, then preprocesses: the network input for `image`.
    pub fn prepare(&self, image: &Image) -> Image {
        self.preprocess.apply(&self.conform(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_gives_the_declared_channels() {
        let rgb = Image::filled(3, 10, 12, 0.5).unwrap();
        for (pre, channels) in [
            (Preprocess::None, 3),
            (Preprocess::Lightness, 1),
            (Preprocess::Sobel, 2),
            (Preprocess::Standardize, 3),
        ] {
            let spec = InputSpec::new(3, 8, pre).unwrap();
            let out = spec.prepare(&rgb);
            assert_eq!(out.shape(), [channels, 8, 8]);
            assert_eq!(spec.network_channels(), channels);
        }
        assert!(InputSpec::new(2, 8, Preprocess::None).is_err());
        assert!(InputSpec::new(1, 0, Preprocess::None).is_err());
    }

    #[test]
    fn standardize_matches_how_patches_are_normalised() {
        let image = Image::new(1, 2, 2, vec![0.0, 0.2, 0.4, 1.0]).unwrap();
        let out = Preprocess::Standardize.apply(&image);
        let n = out.data().len() as f32;
        let mean = out.data().iter().sum::<f32>() / n;
        let var = out.data().iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
        assert!(
            mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-3,
            "{mean} {var}"
        );
        assert_eq!(out, crate::transform::normalize_per_image(&image));
    }

    #[test]
    fn lightness_of_white_and_black() {
        let white = lightness(&Image::filled(1, 2, 2, 1.0).unwrap());
        assert!(
            white.data().iter().all(|v| (v - 1.0).abs() < 1e-3),
            "{white:?}"
        );
        let black = lightness(&Image::filled(3, 2, 2, 0.0).unwrap());
        assert!(black.data().iter().all(|v| v.abs() < 1e-3));
    }
}
