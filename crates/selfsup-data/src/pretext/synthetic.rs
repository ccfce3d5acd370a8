//! Synthetic imagery's samples (Ren & Lee 2018): a rendered room scene with its depth, surface
//! normals and instance contours as dense targets, beside one real image for the domain
//! discriminator.

use rand::RngExt;
use rand::rngs::StdRng;

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::pretext::PretextGenerator;
use crate::render::{Scene, SceneConfig, render};
use crate::transform::grayscale;

/// Scene seeds with this bit set are held out: training draws only seeds without it.
pub const HELD_OUT: u64 = 1 << 63;

/// One training sample: a synthetic image with its geometry, and a real image.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticSample {
    /// `[c, s, s]`: the rendering, with the real image's channels (grey by BT.601 luma for 1).
    pub synthetic: Image,
    /// `[1, s, s]`: depth along the optical axis, 0 where the ray left the scene.
    pub depth: Image,
    /// `[3, s, s]`: unit normals in the camera frame (x right, y down, z forward), 0 where the
    /// ray left the scene.
    pub normals: Image,
    /// `[1, s, s]`: 1 on instance contours.
    pub contours: Image,
    /// `[c, s, s]`: the real image, as given.
    pub real: Image,
}

/// Renders one random scene per sample, at the real image's size.
#[derive(Clone, Debug)]
pub struct SyntheticGenerator {
    scene: SceneConfig,
    held_out: bool,
}

impl SyntheticGenerator {
    /// Scenes drawn as `scene` says; `held_out` scenes (for validation) are a fixed one per
    /// image index, from seeds training never draws ([`HELD_OUT`]).
    pub fn new(scene: SceneConfig, held_out: bool) -> Result<Self> {
        scene.validate()?;
        Ok(Self { scene, held_out })
    }

    /// The seed of the scene sample `index` renders, given its RNG.
    fn seed(&self, index: usize, rng: &mut StdRng) -> u64 {
        if self.held_out {
            HELD_OUT | index as u64
        } else {
            rng.random::<u64>() & !HELD_OUT
        }
    }
}

impl PretextGenerator for SyntheticGenerator {
    type Sample = SyntheticSample;

    fn generate(&self, image: &Image, index: usize, rng: &mut StdRng) -> Result<SyntheticSample> {
        let (h, w) = (image.height(), image.width());
        if h != w {
            return Err(DataError::invalid(
                "synthetic",
                format!("real images must be square (conformed), got {w}x{h}"),
            ));
        }
        let scene = Scene::random(&self.scene, self.seed(index, rng))?;
        let r = render(&scene, h, w)?;
        let synthetic = match image.channels() {
            1 => grayscale(&r.rgb),
            _ => r.rgb,
        };
        Ok(SyntheticSample {
            synthetic,
            depth: r.depth,
            normals: r.normals,
            contours: r.contours,
            real: image.clone(),
        })
    }

    /// The rendering, its depth (scaled to the farthest point), normals (`(n + 1) / 2`),
    /// contours, then the real image.
    fn picture(&self, s: &SyntheticSample) -> Vec<Image> {
        let far = s
            .depth
            .data()
            .iter()
            .copied()
            .fold(f32::MIN_POSITIVE, f32::max);
        let (mut depth, mut normals) = (s.depth.clone(), s.normals.clone());
        depth.data_mut().iter_mut().for_each(|d| *d /= far);
        normals
            .data_mut()
            .iter_mut()
            .for_each(|n| *n = (*n + 1.0) / 2.0);
        vec![
            s.synthetic.clone(),
            depth,
            normals,
            s.contours.clone(),
            s.real.clone(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretext::sample_rng;

    #[test]
    fn samples_follow_the_real_image_and_hold_out_their_scenes() {
        let grey = Image::filled(1, 24, 24, 0.5).unwrap();
        let train = SyntheticGenerator::new(SceneConfig::default(), false).unwrap();
        let a = train.generate(&grey, 3, &mut sample_rng(0, 0, 3)).unwrap();
        assert_eq!(a.synthetic.shape(), [1, 24, 24]);
        assert_eq!(a.normals.shape(), [3, 24, 24]);
        assert_eq!(a.real, grey);
        // The same RNG gives the same scene; another epoch another one.
        assert_eq!(
            a,
            train.generate(&grey, 3, &mut sample_rng(0, 0, 3)).unwrap()
        );
        assert_ne!(
            a,
            train.generate(&grey, 3, &mut sample_rng(0, 1, 3)).unwrap()
        );
        // Held-out scenes are fixed by the index, whatever the RNG.
        let val = SyntheticGenerator::new(SceneConfig::default(), true).unwrap();
        let v = val.generate(&grey, 3, &mut sample_rng(0, 0, 3)).unwrap();
        assert_eq!(v, val.generate(&grey, 3, &mut sample_rng(9, 9, 9)).unwrap());
        assert_ne!(v.synthetic, a.synthetic);

        let rgb = Image::filled(3, 16, 16, 0.5).unwrap();
        let c = train.generate(&rgb, 0, &mut sample_rng(0, 0, 0)).unwrap();
        assert_eq!(c.synthetic.shape(), [3, 16, 16]);
        assert_eq!(train.picture(&c).len(), 5);
        let wide = Image::filled(1, 16, 20, 0.5).unwrap();
        assert!(train.generate(&wide, 0, &mut sample_rng(0, 0, 0)).is_err());
    }
}
