//! Context prediction (Doersch, Gupta & Efros, "Unsupervised Visual Representation Learning by
//! Context Prediction", ICCV 2015): given a patch and one of its eight neighbours, predict where
//! the neighbour lies.
//!
//! "we sample patches at resolution 96-by-96. We allow a gap of 48 pixels between the sampled
//! patches in the grid, but also jitter the location of each patch in the grid by -7 to 7
//! pixels in each direction" (section 3). Against trivial shortcuts the paper drops colours
//! ("randomly drop 2 of the 3 color channels from each patch ... replacing the dropped colors
//! with Gaussian noise (standard deviation ~1/100 the standard deviation of the remaining
//! channel)") or projects them towards grey, and randomly downsamples "some patches to as little
//! as 100 total pixels, and then upsampl[es] it" (the authors' code: probability 0.33, a side
//! drawn uniformly in area between 10 and 95 pixels); patches are normalised one by one.
//!
//! The label is the neighbour's position around the first patch, numbered as in the paper's
//! Figure 2 (minus one):
//!
//! ```text
//! 0 1 2
//! 3 . 4
//! 5 6 7
//! ```
//!
//! Sizes scale with the image: unless set, a patch is 7/32 of the image side, the gap half a
//! patch (the paper's 48 of 96), the jitter 7/96 of a patch and downsampling goes down to 10/96
//! of a patch side (at least 2), all rounded. By default images are resized to 64 px: patches
//! of 14 px, a 7 px gap, 1 px jitter, down to 2 x 2 pixels. The 3 x 3 grid then spans 56 of the
//! 64 px, as the paper's 384 px grid spans most of its 400 to 670 px images.

use rand::rngs::StdRng;
use rand::{Rng, RngExt};
use rand_distr_normal::normal;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::pretext::PretextGenerator;
use crate::pretext::jigsaw::stretch;
use crate::transform::{Filter, crop, normalize_per_image, resize};

/// The eight neighbour positions as (rows, columns) from the first patch, by label.
pub const NEIGHBOURS: [(i32, i32); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// What is done to colour patches against chromatic-aberration shortcuts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorShortcut {
    /// Colours as they are.
    None,
    /// Keep one random channel; the others become faint Gaussian noise.
    #[default]
    Drop,
    /// Project every colour onto the plane orthogonal to green-magenta, `B = I - a'a / aa'`
    /// with `a = [-1, 2, -1]`.
    Project,
}

/// Configuration of the [`ContextGenerator`] (`[context_prediction]` in a run configuration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextConfig {
    /// Images are resized (bilinear) to this square side before sampling.
    pub image_size: usize,
    /// Side of each patch; by default 7/32 of `image_size` ([`ContextConfig::patch`]).
    pub patch: Option<usize>,
    /// Pixels between neighbouring grid cells; by default half a patch.
    pub gap: Option<usize>,
    /// Each patch moves by up to this many pixels on each axis; by default 7/96 of a patch.
    pub jitter: Option<usize>,
    /// Colour treatment of 3-channel patches (grey images are left alone).
    pub color: ColorShortcut,
    /// Probability that a patch is downsampled and upsampled again.
    pub downsample_probability: f64,
    /// The smallest side a downsampled patch goes down to; by default 10/96 of a patch, at
    /// least 2.
    pub min_side: Option<usize>,
    /// Normalise each patch's channels to zero mean and unit variance.
    pub normalize_patches: bool,
}

impl Default for ContextConfig {
    fn default() -> Self {
        Self {
            image_size: 64,
            patch: None,
            gap: None,
            jitter: None,
            color: ColorShortcut::Drop,
            downsample_probability: 0.33,
            min_side: None,
            normalize_patches: true,
        }
    }
}

impl ContextConfig {
    /// The patch side: `patch` if set, else 7/32 of the image (14 px of 64).
    pub fn patch(&self) -> usize {
        self.patch.unwrap_or(self.image_size * 7 / 32)
    }

    /// The gap: `gap` if set, else half a patch.
    pub fn gap(&self) -> usize {
        self.gap.unwrap_or(self.patch() / 2)
    }

    /// The jitter: `jitter` if set, else 7/96 of a patch, rounded.
    pub fn jitter(&self) -> usize {
        self.jitter.unwrap_or((self.patch() * 7 + 48) / 96)
    }

    /// The smallest pixelated side: `min_side` if set, else 10/96 of a patch, rounded, at
    /// least 2.
    pub fn min_side(&self) -> usize {
        self.min_side
            .unwrap_or(((self.patch() * 10 + 48) / 96).max(2))
    }

    /// Side of the 3 x 3 grid of patches with its gaps.
    pub fn span(&self) -> usize {
        3 * self.patch() + 2 * self.gap()
    }

    /// Checks the geometry, naming the key at fault and what would work.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| DataError::invalid("context_prediction", reason);
        let (patch, gap, jitter, min_side) =
            (self.patch(), self.gap(), self.jitter(), self.min_side());
        if patch == 0 {
            return Err(bad(format!(
                "context_prediction.patches.patch must be positive (context_prediction.patches.\
                 image_size {} is too small for a 3 x 3 grid)",
                self.image_size
            )));
        }
        let need = self.span() + 2 * jitter;
        if need > self.image_size {
            return Err(bad(format!(
                "a 3 x 3 grid of {patch} px patches with {gap} px gaps and {jitter} px jitter \
                 needs {need} px images, but context_prediction.patches.image_size is {}",
                self.image_size
            )));
        }
        if !(0.0..=1.0).contains(&self.downsample_probability) {
            return Err(bad(format!(
                "context_prediction.patches.downsample_probability {} is not in [0, 1]",
                self.downsample_probability
            )));
        }
        if min_side == 0 || min_side > patch {
            return Err(bad(format!(
                "context_prediction.patches.min_side {min_side} is not between 1 and the patch \
                 side {patch}"
            )));
        }
        Ok(())
    }
}

/// A patch, one of its neighbours, and where the neighbour lies.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextSample {
    /// The first (centre) patch.
    pub first: Image,
    /// Its neighbour.
    pub second: Image,
    /// The neighbour's position, 0 to 7 (see the module docs).
    pub label: usize,
}

/// A tiny Gaussian sampler (Box-Muller), so that the data crate needs no distribution crate.
mod rand_distr_normal {
    use rand::{Rng, RngExt};

    /// A standard normal draw.
    pub fn normal(rng: &mut impl Rng) -> f32 {
        let u1: f32 = rng.random::<f32>().max(f32::MIN_POSITIVE);
        let u2: f32 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
}

/// Makes [`ContextSample`]s.
#[derive(Clone, Debug)]
pub struct ContextGenerator {
    config: ContextConfig,
}

impl ContextGenerator {
    /// Checks the configuration.
    pub fn new(config: ContextConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// Top-left corners (row, column) of the first patch and of its neighbour at `label`.
    pub fn positions(&self, label: usize, rng: &mut impl Rng) -> [(usize, usize); 2] {
        let c = &self.config;
        let (step, jitter) = (c.patch() + c.gap(), c.jitter());
        let j = jitter as i64;
        let top = rng.random_range(jitter..=c.image_size - c.span() - jitter) as i64;
        let left = rng.random_range(jitter..=c.image_size - c.span() - jitter) as i64;
        let mut at = |row: i64, col: i64| {
            let y = top + row * step as i64 + rng.random_range(-j..=j);
            let x = left + col * step as i64 + rng.random_range(-j..=j);
            (y as usize, x as usize)
        };
        let (dy, dx) = NEIGHBOURS[label];
        let first = at(1, 1);
        let second = at(1 + i64::from(dy), 1 + i64::from(dx));
        [first, second]
    }

    /// One patch as the network sees it: colour treatment, random pixelation, normalisation.
    fn prepare(&self, patch: Image, rng: &mut StdRng) -> Result<Image> {
        let c = &self.config;
        let mut patch = if patch.channels() == 3 {
            match c.color {
                ColorShortcut::None => patch,
                ColorShortcut::Drop => drop_colors(&patch, rng),
                ColorShortcut::Project => project_colors(&patch),
            }
        } else {
            patch
        };
        if rng.random_bool(c.downsample_probability) {
            // A side drawn uniformly in area between min_side^2 and (patch - 1)^2.
            let (full, min_side) = (c.patch(), c.min_side());
            let (lo, hi) = (
                (min_side * min_side) as f32,
                ((full - 1).max(min_side).pow(2)) as f32,
            );
            let side =
                ((rng.random::<f32>() * (hi - lo) + lo).sqrt() as usize).clamp(min_side, full);
            let small = resize(&patch, side, side, Filter::Bilinear)?;
            patch = resize(&small, full, full, Filter::Bilinear)?;
        }
        Ok(if c.normalize_patches {
            normalize_per_image(&patch)
        } else {
            patch
        })
    }
}

/// Keeps one random channel; the two others become Gaussian noise with 1/100 of its standard
/// deviation.
fn drop_colors(patch: &Image, rng: &mut StdRng) -> Image {
    let keep = rng.random_range(0..3);
    let kept = patch.plane(keep);
    let n = kept.len() as f32;
    let mean = kept.iter().sum::<f32>() / n;
    let std = (kept.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n).sqrt();
    let mut out = patch.clone();
    for ch in (0..3).filter(|&ch| ch != keep) {
        for v in out.plane_mut(ch) {
            *v = mean + 0.01 * std * normal(rng);
        }
    }
    out
}

/// `B = I - a'a / aa'` with `a = [-1, 2, -1]`: removes the green-magenta component.
fn project_colors(patch: &Image) -> Image {
    let a = [-1.0f32, 2.0, -1.0];
    let norm = 6.0;
    let plane = patch.height() * patch.width();
    let mut out = patch.clone();
    let data = patch.data();
    let dst = out.data_mut();
    for i in 0..plane {
        let px = [data[i], data[plane + i], data[2 * plane + i]];
        let dot = a[0] * px[0] + a[1] * px[1] + a[2] * px[2];
        for ch in 0..3 {
            dst[ch * plane + i] = px[ch] - a[ch] * dot / norm;
        }
    }
    out
}

impl PretextGenerator for ContextGenerator {
    type Sample = ContextSample;

    fn generate(&self, image: &Image, _index: usize, rng: &mut StdRng) -> Result<ContextSample> {
        let c = &self.config;
        let image = if (image.height(), image.width()) == (c.image_size, c.image_size) {
            image.clone()
        } else {
            resize(image, c.image_size, c.image_size, Filter::Bilinear)?
        };
        let label = rng.random_range(0..NEIGHBOURS.len());
        let [(y1, x1), (y2, x2)] = self.positions(label, rng);
        let side = c.patch();
        let first = crop(&image, y1, x1, side, side)?;
        let second = crop(&image, y2, x2, side, side)?;
        Ok(ContextSample {
            first: self.prepare(first, rng)?,
            second: self.prepare(second, rng)?,
            label,
        })
    }

    fn picture(&self, sample: &ContextSample) -> Vec<Image> {
        // The first patch in the middle of a 3 x 3 board, the neighbour in its place.
        let blank = Image::filled(
            sample.first.channels(),
            sample.first.height(),
            sample.first.width(),
            1.0,
        )
        .expect("a patch has a positive size");
        let mut row = vec![blank; 9];
        let (dy, dx) = NEIGHBOURS[sample.label];
        row[4] = stretch(&sample.first);
        row[((1 + dy) * 3 + 1 + dx) as usize] = stretch(&sample.second);
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretext::sample_rng;

    #[test]
    fn labels_match_the_geometry_of_the_two_patches() {
        let g = ContextGenerator::new(ContextConfig::default()).unwrap();
        let c = ContextConfig::default();
        let step = (c.patch() + c.gap()) as i64;
        for (label, &(ey, ex)) in NEIGHBOURS.iter().enumerate() {
            for seed in 0..50 {
                let [(y1, x1), (y2, x2)] =
                    g.positions(label, &mut sample_rng(seed, 0, label as u64));
                let (dy, dx) = (y2 as i64 - y1 as i64, x2 as i64 - x1 as i64);
                // One grid step in the label's direction, up to both patches' jitter.
                let j = 2 * c.jitter() as i64;
                assert!(
                    (dy - i64::from(ey) * step).abs() <= j,
                    "label {label}: dy {dy}"
                );
                assert!(
                    (dx - i64::from(ex) * step).abs() <= j,
                    "label {label}: dx {dx}"
                );
                for (y, x) in [(y1, x1), (y2, x2)] {
                    assert!(y + c.patch() <= c.image_size && x + c.patch() <= c.image_size);
                }
            }
        }
    }

    #[test]
    fn samples_are_normalised_and_reproducible() {
        let g = ContextGenerator::new(ContextConfig::default()).unwrap();
        let mut rng = sample_rng(1, 0, 0);
        let data = (0..3 * 40 * 40).map(|_| rng.random::<f32>()).collect();
        let img = Image::new(3, 40, 40, data).unwrap();
        let a = g.generate(&img, 0, &mut sample_rng(2, 0, 5)).unwrap();
        assert_eq!(a, g.generate(&img, 0, &mut sample_rng(2, 0, 5)).unwrap());
        assert_eq!(a.first.shape(), [3, 14, 14]);
        assert!(a.label < 8);
        let mean = a.second.plane(1).iter().sum::<f32>() / (14.0 * 14.0);
        assert!(mean.abs() < 1e-4);
        assert_eq!(g.picture(&a).len(), 9);
    }

    #[test]
    fn color_dropping_leaves_one_channel_and_projection_removes_green_magenta() {
        let mut rng = sample_rng(3, 0, 0);
        let data = (0..3 * 8 * 8).map(|_| rng.random::<f32>()).collect();
        let patch = Image::new(3, 8, 8, data).unwrap();
        let dropped = drop_colors(&patch, &mut sample_rng(0, 0, 0));
        let kept = (0..3)
            .filter(|&c| dropped.plane(c) == patch.plane(c))
            .count();
        assert_eq!(kept, 1);
        let projected = project_colors(&patch);
        for i in 0..64 {
            let (r, g, b) = (
                projected.plane(0)[i],
                projected.plane(1)[i],
                projected.plane(2)[i],
            );
            assert!((-r + 2.0 * g - b).abs() < 1e-5);
        }
    }

    #[test]
    fn a_grid_that_does_not_fit_names_the_sizes() {
        let config = ContextConfig {
            image_size: 50,
            patch: Some(14),
            ..ContextConfig::default()
        };
        let err = ContextGenerator::new(config).unwrap_err().to_string();
        assert!(
            err.contains("needs 58 px")
                && err.contains("context_prediction.patches.image_size is 50"),
            "{err}"
        );
        let err = ContextGenerator::new(ContextConfig {
            image_size: 3,
            ..ContextConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("image_size 3 is too small"), "{err}");
    }

    #[test]
    fn sizes_scale_with_the_image() {
        for (image_size, patch, gap, jitter, min_side) in
            [(64, 14, 7, 1, 2), (96, 21, 10, 2, 2), (440, 96, 48, 7, 10)]
        {
            let c = ContextConfig {
                image_size,
                ..ContextConfig::default()
            };
            assert_eq!(
                (c.patch(), c.gap(), c.jitter(), c.min_side()),
                (patch, gap, jitter, min_side),
                "{image_size} px"
            );
            c.validate().unwrap();
        }
    }
}
