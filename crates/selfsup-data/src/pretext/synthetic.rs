//! Synthetic imagery's samples (Ren & Lee 2018): a rendered room scene with its depth, surface
//! normals and instance contours as dense targets, beside one real image for the domain
//! discriminator.

use rand::RngExt;
use rand::rngs::StdRng;

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::pretext::PretextGenerator;
use crate::render::{Rendering, Scene, SceneConfig, render};
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

    /// The rendering, its depth, normals and contours as pictures ([`depth_picture`],
    /// [`normals_picture`]), then the real image.
    fn picture(&self, s: &SyntheticSample) -> Vec<Image> {
        vec![
            s.synthetic.clone(),
            depth_picture(&s.depth),
            normals_picture(&s.normals),
            s.contours.clone(),
            s.real.clone(),
        ]
    }
}

/// A depth map as a grey picture: scaled to its farthest point (darker is nearer), 0 where
/// nothing was hit.
pub fn depth_picture(depth: &Image) -> Image {
    let far = depth
        .data()
        .iter()
        .copied()
        .fold(f32::MIN_POSITIVE, f32::max);
    let mut picture = depth.clone();
    picture
        .data_mut()
        .iter_mut()
        .for_each(|d| *d = (*d / far).max(0.0));
    picture
}

/// Unit normals as an RGB picture, `(n + 1) / 2` (x red, y green, z blue).
pub fn normals_picture(normals: &Image) -> Image {
    let mut picture = normals.clone();
    picture
        .data_mut()
        .iter_mut()
        .for_each(|n| *n = ((*n + 1.0) / 2.0).clamp(0.0, 1.0));
    picture
}

/// Scores of dense predictions on scenes, as synthetic imagery's validation reports them: over
/// the pixels where the scene was hit, the depth RMSE and the mean angle between normals (in
/// degrees); over all pixels, the contour F-score (twice the correctly marked pixels over the
/// marked ones plus the true ones).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DenseScores {
    /// Root mean squared depth error.
    pub depth_rmse: f64,
    /// Mean angle between predicted and true normals, in degrees.
    pub normal_angle: f64,
    /// Contour F-score.
    pub contour_f: f64,
}

/// The scores of the trivial predictor that outputs, for every scene, the per-pixel mean of
/// `train` renderings' depth (over the scenes that hit the pixel) and normals (renormalised),
/// and marks as contours the pixels whose contour frequency exceeds the threshold that scores
/// best on those same renderings; scored on `held_out` renderings. What a network must beat.
pub fn mean_map_scores(train: &[Rendering], held_out: &[Rendering]) -> Result<DenseScores> {
    let Some(first) = train.first() else {
        return Err(DataError::invalid("synthetic", "no training renderings"));
    };
    let n = first.instances.len();
    let (mut depth, mut hits) = (vec![0.0f64; n], vec![0usize; n]);
    let (mut normal, mut contour) = (vec![[0.0f64; 3]; n], vec![0.0f64; n]);
    for r in train {
        for k in 0..n {
            if r.hit(k) {
                depth[k] += f64::from(r.depth.data()[k]);
                hits[k] += 1;
                for (c, sum) in normal[k].iter_mut().enumerate() {
                    *sum += f64::from(r.normals.data()[c * n + k]);
                }
            }
            contour[k] += f64::from(r.contours.data()[k]) / train.len() as f64;
        }
    }
    for k in 0..n {
        depth[k] /= hits[k].max(1) as f64;
        let length = normal[k]
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt()
            .max(1e-12);
        normal[k].iter_mut().for_each(|v| *v /= length);
    }
    let f_score = |renderings: &[Rendering], threshold: f64| {
        let (mut hit, mut marked, mut truth) = (0.0, 0.0, 0.0);
        for r in renderings {
            for (k, &t) in r.contours.data().iter().enumerate() {
                let p = f64::from(u8::from(contour[k] > threshold));
                (hit, marked, truth) = (hit + p * f64::from(t), marked + p, truth + f64::from(t));
            }
        }
        2.0 * hit / (marked + truth).max(1.0)
    };
    let threshold = (1..20)
        .map(|t| f64::from(t) / 20.0)
        .max_by(|a, b| f_score(train, *a).total_cmp(&f_score(train, *b)))
        .unwrap_or(0.5);
    let (mut squared, mut angle, mut count) = (0.0f64, 0.0f64, 0usize);
    for r in held_out {
        for k in 0..n.min(r.instances.len()) {
            if r.hit(k) {
                squared += (depth[k] - f64::from(r.depth.data()[k])).powi(2);
                let cos: f64 = (0..3)
                    .map(|c| normal[k][c] * f64::from(r.normals.data()[c * n + k]))
                    .sum();
                angle += cos.clamp(-1.0, 1.0).acos().to_degrees();
                count += 1;
            }
        }
    }
    Ok(DenseScores {
        depth_rmse: (squared / count.max(1) as f64).sqrt(),
        normal_angle: angle / count.max(1) as f64,
        contour_f: f_score(held_out, threshold),
    })
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

    #[test]
    fn the_mean_map_is_exact_on_its_own_scene_and_worse_elsewhere() {
        let config = SceneConfig::default();
        let scene = |seed| render(&Scene::random(&config, seed).unwrap(), 24, 24).unwrap();
        let one = vec![scene(1)];
        let same = mean_map_scores(&one, &one).unwrap();
        // acos near 1 turns f32 rounding into hundredths of a degree.
        assert!(
            same.depth_rmse < 1e-6 && same.normal_angle < 0.05,
            "{same:?}"
        );
        assert!((same.contour_f - 1.0).abs() < 1e-9, "{same:?}");
        let train: Vec<Rendering> = (10..30).map(scene).collect();
        let other = mean_map_scores(&train, &[scene(HELD_OUT | 3)]).unwrap();
        assert!(
            other.depth_rmse > 0.1 && other.normal_angle > 1.0,
            "{other:?}"
        );
        assert!(other.contour_f < 1.0);
        assert!(mean_map_scores(&[], &one).is_err());
    }
}
