//! Super-resolution's samples (SRGAN, Ledig et al. 2017): a high-resolution crop out, its
//! bicubic downsampling (antialiased, as MATLAB's `imresize`) by the scale factor in.

use rand::RngExt;
use rand::rngs::StdRng;

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::pretext::PretextGenerator;
use crate::transform::{Filter, hflip, resize};

/// One image as super-resolution sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct SuperResSample {
    /// The network input: `[c, h / scale, w / scale]`.
    pub low: Image,
    /// The original: `[c, h, w]`.
    pub high: Image,
}

/// Makes [`SuperResSample`]s from images whose sides are multiples of the scale.
#[derive(Clone, Debug)]
pub struct SuperResGenerator {
    scale: usize,
    flip: bool,
}

impl SuperResGenerator {
    /// A generator downsampling by `scale` (at least 2), mirroring left-right with probability
    /// 1/2 when `flip`.
    pub fn new(scale: usize, flip: bool) -> Result<Self> {
        if scale < 2 {
            return Err(DataError::invalid(
                "superres",
                format!("the scale must be at least 2, got {scale}"),
            ));
        }
        Ok(Self { scale, flip })
    }
}

/// The bicubic downsampling of `image` by `scale`; fails, naming both, unless each side is a
/// multiple of the scale of at least one pixel.
pub fn downsample(image: &Image, scale: usize) -> Result<Image> {
    let (h, w) = (image.height(), image.width());
    if h < scale || w < scale || !h.is_multiple_of(scale) || !w.is_multiple_of(scale) {
        return Err(DataError::invalid(
            "superres",
            format!(
                "a {w}x{h} image cannot be downsampled by {scale}: each side must be a \
                 multiple of the scale"
            ),
        ));
    }
    resize(image, h / scale, w / scale, Filter::Bicubic)
}

impl PretextGenerator for SuperResGenerator {
    type Sample = SuperResSample;

    fn generate(&self, image: &Image, _index: usize, rng: &mut StdRng) -> Result<SuperResSample> {
        let high = if self.flip && rng.random_bool(0.5) {
            hflip(image)
        } else {
            image.clone()
        };
        Ok(SuperResSample {
            low: downsample(&high, self.scale)?,
            high,
        })
    }

    /// The input upsampled back to the original's size (nearest, so its pixels show), then the
    /// original.
    fn picture(&self, sample: &SuperResSample) -> Vec<Image> {
        let (h, w) = (sample.high.height(), sample.high.width());
        let low = resize(&sample.low, h, w, Filter::Nearest).unwrap_or_else(|_| sample.low.clone());
        vec![low, sample.high.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretext::sample_rng;

    #[test]
    fn the_input_is_the_bicubic_downsampling_of_the_original() {
        let data = (0..3 * 16 * 12)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let image = Image::new(3, 16, 12, data).unwrap();
        let generator = SuperResGenerator::new(4, false).unwrap();
        let s = generator
            .generate(&image, 0, &mut sample_rng(0, 0, 0))
            .unwrap();
        assert_eq!(s.high, image);
        assert_eq!(s.low.shape(), [3, 4, 3]);
        assert_eq!(s.low, resize(&image, 4, 3, Filter::Bicubic).unwrap());
        // A flat image stays flat.
        let flat = Image::filled(1, 8, 8, 0.3).unwrap();
        let low = downsample(&flat, 2).unwrap();
        assert!(low.data().iter().all(|v| (v - 0.3).abs() < 1e-6));
        assert_eq!(generator.picture(&s).len(), 2);
    }

    #[test]
    fn sides_that_are_not_multiples_of_the_scale_are_refused() {
        let image = Image::filled(3, 10, 8, 0.5).unwrap();
        let err = downsample(&image, 4).unwrap_err().to_string();
        assert!(err.contains("8x10") && err.contains("4"), "{err}");
        assert!(downsample(&Image::filled(1, 2, 2, 0.0).unwrap(), 4).is_err());
        assert!(SuperResGenerator::new(1, true).is_err());
    }
}
