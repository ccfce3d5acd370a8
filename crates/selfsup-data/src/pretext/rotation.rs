//! Rotation prediction (RotNet; Gidaris, Singh & Komodakis, "Unsupervised Representation
//! Learning by Predicting Image Rotations", ICLR 2018).
//!
//! "we propose to learn image features by training ConvNets to recognize the 2d rotation that is
//! applied to the image that it gets as input" over "the 0, 90, 180, and 270 degrees rotations"
//! (section 2.2), and "we found that ... feeding the network with all the four rotated copies of
//! an image simultaneously ... leads to better results" (section 3.1): every image therefore
//! yields all four rotations in the same batch. Rotations are exact (rot90, no interpolation),
//! so the network cannot solve the task from resampling artefacts.

use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::pretext::PretextGenerator;
use crate::transform::{center_crop, hflip, random_crop, rot90};

/// Configuration of the [`RotationGenerator`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotationConfig {
    /// Side of the square random crop taken before rotating; `None` takes the largest centred
    /// square (rotations need square images to keep one batch shape).
    pub crop: Option<usize>,
    /// Mirror left-right with probability 1/2 before rotating.
    pub flip: bool,
}

impl Default for RotationConfig {
    fn default() -> Self {
        Self {
            crop: None,
            flip: true,
        }
    }
}

/// The four rotated copies of one image; `rotations[k]` is turned by `k` x 90 degrees
/// counter-clockwise and has label `k`.
#[derive(Clone, Debug, PartialEq)]
pub struct RotationSample {
    /// Copies at 0, 90, 180 and 270 degrees.
    pub rotations: [Image; 4],
}

impl RotationSample {
    /// The label of `rotations[k]`.
    pub const LABELS: [usize; 4] = [0, 1, 2, 3];
}

/// Makes [`RotationSample`]s.
#[derive(Clone, Debug)]
pub struct RotationGenerator {
    config: RotationConfig,
}

impl RotationGenerator {
    /// Checks the configuration.
    pub fn new(config: RotationConfig) -> Result<Self> {
        if config.crop == Some(0) {
            return Err(DataError::invalid("rotation", "crop size must be positive"));
        }
        Ok(Self { config })
    }
}

impl PretextGenerator for RotationGenerator {
    type Sample = RotationSample;

    fn generate(&self, image: &Image, _index: usize, rng: &mut StdRng) -> Result<RotationSample> {
        let square = match self.config.crop {
            Some(side) => random_crop(image, side, side, rng)?,
            None => {
                let side = image.height().min(image.width());
                center_crop(image, side, side)?
            }
        };
        let base = if self.config.flip && rng.random_bool(0.5) {
            hflip(&square)
        } else {
            square
        };
        let rotations = [0, 1, 2, 3].map(|k| rot90(&base, k));
        Ok(RotationSample { rotations })
    }

    fn picture(&self, sample: &RotationSample) -> Vec<Image> {
        sample.rotations.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretext::sample_rng;
    use proptest::prelude::*;

    fn image(c: usize, h: usize, w: usize, seed: u64) -> Image {
        let mut rng = sample_rng(seed, 0, 0);
        Image::new(
            c,
            h,
            w,
            (0..c * h * w).map(|_| rng.random::<f32>()).collect(),
        )
        .unwrap()
    }

    proptest! {
        #[test]
        fn copies_are_successive_quarter_turns(h in 2usize..12, w in 2usize..12, seed in 0u64..100, flip: bool) {
            let generator = RotationGenerator::new(RotationConfig { crop: None, flip }).unwrap();
            let sample = generator.generate(&image(3, h, w, seed), 1, &mut sample_rng(seed, 0, 1)).unwrap();
            let side = h.min(w);
            for k in 0..4 {
                prop_assert_eq!(sample.rotations[k].shape(), [3, side, side]);
                // Turning copy k back by k quarter turns gives copy 0: labels match rotations.
                prop_assert_eq!(&rot90(&sample.rotations[k], -(k as i32)), &sample.rotations[0]);
            }
            // One more quarter turn after 270 degrees is the identity.
            prop_assert_eq!(&rot90(&sample.rotations[3], 1), &sample.rotations[0]);
        }
    }

    #[test]
    fn same_seed_same_sample() {
        let generator = RotationGenerator::new(RotationConfig {
            crop: Some(6),
            flip: true,
        })
        .unwrap();
        let img = image(1, 10, 10, 3);
        let a = generator
            .generate(&img, 7, &mut sample_rng(5, 1, 7))
            .unwrap();
        let b = generator
            .generate(&img, 7, &mut sample_rng(5, 1, 7))
            .unwrap();
        assert_eq!(a, b);
        let differs = (0..20).any(|i| {
            generator
                .generate(&img, i as usize, &mut sample_rng(5, 1, i))
                .unwrap()
                != a
        });
        assert!(differs, "different indices should give different crops");
        assert!(
            RotationGenerator::new(RotationConfig {
                crop: Some(0),
                flip: false
            })
            .is_err()
        );
        assert!(
            generator
                .generate(&image(1, 4, 4, 0), 0, &mut sample_rng(0, 0, 0))
                .is_err()
        );
    }
}
