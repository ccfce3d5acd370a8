//! Inpainting's samples (Context Encoders, Pathak et al. 2016): an image with a hole filled with
//! the dataset mean in, the original out, and the weight of each pixel in the L2 loss (the hole,
//! and a heavier border around it that ties the prediction to its context).
//!
//! Also the fills a prediction is compared with: the mean colour, and the harmonic (diffusion)
//! fill of the hole from its border.

use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::pretext::PretextGenerator;
use crate::transform::{Filter, hflip, resize};

/// The shape of the hole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskKind {
    /// The central square of half the side: a quarter of the image (the paper's main setting).
    #[default]
    Centre,
    /// Squares of a quarter of the side, at random places, possibly overlapping, until they
    /// cover a quarter of the image (25% to 31.25%).
    Blocks,
    /// Random blob-shaped regions covering 20% to 30% of the image: thresholded, upsampled
    /// noise, as the authors' released code draws them (the paper takes shapes from PASCAL
    /// VOC segmentations instead).
    Regions,
}

/// The share of the image the centre and block masks cover at least.
pub const QUARTER: f64 = 0.25;
/// The share of the image a region mask covers: strictly between these.
pub const REGION_COVERAGE: (f64, f64) = (0.2, 0.3);

/// How images become inpainting samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InpaintingConfig {
    /// The hole's shape.
    pub mask: MaskKind,
    /// Width in pixels of the border around the hole that the loss also weighs (the authors'
    /// code: 4 at 128 pixels).
    pub overlap: usize,
    /// How much heavier the border weighs than the hole (the authors' code: 10).
    pub overlap_weight: f32,
    /// The value of each channel the hole is filled with (the dataset mean).
    pub fill: Vec<f32>,
    /// Mirror left-right with probability 1/2.
    pub flip: bool,
}

impl Default for InpaintingConfig {
    fn default() -> Self {
        Self {
            mask: MaskKind::Centre,
            overlap: 2,
            overlap_weight: 10.0,
            fill: vec![0.5; 3],
            flip: true,
        }
    }
}

/// One image as inpainting sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct InpaintingSample {
    /// The network input: the image with its hole filled with the mean.
    pub masked: Image,
    /// The original image.
    pub original: Image,
    /// `[1, h, w]`: 1 in the hole, 0 elsewhere.
    pub mask: Image,
    /// `[1, h, w]`: the L2 loss weight of each pixel.
    pub weights: Image,
}

/// Makes [`InpaintingSample`]s.
#[derive(Clone, Debug)]
pub struct InpaintingGenerator {
    config: InpaintingConfig,
}

impl InpaintingGenerator {
    /// A generator; the fill must have 1 or 3 values, all finite.
    pub fn new(config: InpaintingConfig) -> Result<Self> {
        if !matches!(config.fill.len(), 1 | 3) || config.fill.iter().any(|v| !v.is_finite()) {
            return Err(DataError::invalid(
                "inpainting",
                format!(
                    "the fill must be 1 or 3 finite values, got {:?}",
                    config.fill
                ),
            ));
        }
        Ok(Self { config })
    }

    /// The configuration.
    pub fn config(&self) -> &InpaintingConfig {
        &self.config
    }
}

/// The smallest image side each mask kind accepts: the hole and its border must fit.
pub fn min_side(kind: MaskKind) -> usize {
    match kind {
        MaskKind::Centre | MaskKind::Blocks => 4,
        MaskKind::Regions => 8,
    }
}

/// A `[1, h, w]` mask of `kind` (1 in the hole), drawn from `rng` for the random kinds.
pub fn mask(kind: MaskKind, height: usize, width: usize, rng: &mut StdRng) -> Result<Image> {
    let side = height.min(width);
    if side < min_side(kind) {
        return Err(DataError::invalid(
            "inpainting",
            format!(
                "a {width}x{height} image is too small for a {kind:?} mask (at least {} pixels a side)",
                min_side(kind)
            ),
        ));
    }
    match kind {
        MaskKind::Centre => Ok(centre_mask(height, width)),
        MaskKind::Blocks => Ok(block_mask(height, width, rng)),
        MaskKind::Regions => region_mask(height, width, rng),
    }
}

/// The central `h/2 x w/2` rectangle.
pub fn centre_mask(height: usize, width: usize) -> Image {
    let (mh, mw) = (height / 2, width / 2);
    let (top, left) = ((height - mh) / 2, (width - mw) / 2);
    let mut m = Image::filled(1, height, width, 0.0).expect("a positive size");
    fill_rect(&mut m, top, left, mh, mw);
    m
}

/// The hole of [`centre_mask`] in a square image of `side` pixels: (top, left, side).
pub fn centre_square(side: usize) -> (usize, usize, usize) {
    let s = side / 2;
    ((side - s) / 2, (side - s) / 2, s)
}

fn fill_rect(mask: &mut Image, top: usize, left: usize, h: usize, w: usize) {
    let width = mask.width();
    let plane = mask.plane_mut(0);
    for y in top..top + h {
        plane[y * width + left..y * width + left + w].fill(1.0);
    }
}

/// The share of a mask's pixels in the hole.
pub fn coverage(mask: &Image) -> f64 {
    mask.plane(0).iter().filter(|v| **v > 0.5).count() as f64 / mask.plane(0).len() as f64
}

fn block_mask(height: usize, width: usize, rng: &mut StdRng) -> Image {
    let (bh, bw) = ((height / 4).max(1), (width / 4).max(1));
    let mut m = Image::filled(1, height, width, 0.0).expect("a positive size");
    while coverage(&m) < QUARTER {
        let top = rng.random_range(0..=height - bh);
        let left = rng.random_range(0..=width - bw);
        fill_rect(&mut m, top, left, bh, bw);
    }
    m
}

/// Noise cells per image side in the authors' region masks: their pattern is uniform noise at
/// 0.06 of the resolution of 128-pixel images, so blobs scale with the image.
const REGION_CELLS: f64 = 128.0 * 0.06;
/// The authors' threshold: pixels of the upsampled noise below it are in the hole.
const REGION_DENSITY: f32 = 0.25;

fn region_mask(height: usize, width: usize, rng: &mut StdRng) -> Result<Image> {
    // A pattern larger than the image, windows of it until one covers 20-30% (the authors' loop).
    let cells = REGION_CELLS.ceil() as usize + 4;
    let scale = height.max(width) as f64 / REGION_CELLS;
    let big = (cells as f64 * scale).round() as usize;
    for _ in 0..64 {
        let noise = Image::new(
            1,
            cells,
            cells,
            (0..cells * cells).map(|_| rng.random::<f32>()).collect(),
        )?;
        let pattern = resize(&noise, big, big, Filter::Bicubic)?;
        for _ in 0..16 {
            let top = rng.random_range(0..=big - height);
            let left = rng.random_range(0..=big - width);
            let data = (0..height)
                .flat_map(|y| {
                    let row = &pattern.plane(0)[(top + y) * big + left..][..width];
                    row.iter().map(|v| f32::from(u8::from(*v < REGION_DENSITY)))
                })
                .collect();
            let m = Image::new(1, height, width, data)?;
            let c = coverage(&m);
            if c > REGION_COVERAGE.0 && c < REGION_COVERAGE.1 {
                return Ok(m);
            }
        }
    }
    Err(DataError::invalid(
        "inpainting",
        "no region mask covering 20-30% of the image was drawn in 1024 tries",
    ))
}

/// `mask` grown by `radius` pixels in every direction (a square structuring element).
pub fn dilate(mask: &Image, radius: usize) -> Image {
    let (h, w) = (mask.height(), mask.width());
    let src = mask.plane(0);
    let mut rows = vec![0.0f32; h * w];
    for y in 0..h {
        for x in 0..w {
            let lo = x.saturating_sub(radius);
            let hi = (x + radius).min(w - 1);
            rows[y * w + x] = src[y * w + lo..=y * w + hi]
                .iter()
                .copied()
                .fold(0.0, f32::max);
        }
    }
    let mut out = vec![0.0f32; h * w];
    for y in 0..h {
        let lo = y.saturating_sub(radius);
        let hi = (y + radius).min(h - 1);
        for x in 0..w {
            out[y * w + x] = (lo..=hi).map(|yy| rows[yy * w + x]).fold(0.0, f32::max);
        }
    }
    Image::new(1, h, w, out).expect("the mask's shape")
}

/// The L2 loss weight of each pixel: 1 in the hole, `overlap_weight` within `overlap` pixels
/// around it, 0 elsewhere.
pub fn loss_weights(mask: &Image, overlap: usize, overlap_weight: f32) -> Image {
    let grown = dilate(mask, overlap);
    let data = mask
        .plane(0)
        .iter()
        .zip(grown.plane(0))
        .map(|(&m, &g)| {
            if m > 0.5 {
                1.0
            } else if g > 0.5 {
                overlap_weight
            } else {
                0.0
            }
        })
        .collect();
    Image::new(1, mask.height(), mask.width(), data).expect("the mask's shape")
}

/// `image` with the hole of `mask` set to `fill` (one value per channel, or one for all).
pub fn fill_hole(image: &Image, mask: &Image, fill: &[f32]) -> Result<Image> {
    check_mask(image, mask)?;
    let mut out = image.clone();
    let m = mask.plane(0);
    for c in 0..image.channels() {
        let value = fill[c.min(fill.len() - 1)];
        for (v, &k) in out.plane_mut(c).iter_mut().zip(m) {
            if k > 0.5 {
                *v = value;
            }
        }
    }
    Ok(out)
}

/// `prediction` in the hole of `mask`, `image` everywhere else: the unmasked pixels are the
/// input's exactly.
pub fn composite(image: &Image, prediction: &Image, mask: &Image) -> Result<Image> {
    check_mask(image, mask)?;
    if prediction.shape() != image.shape() {
        return Err(DataError::invalid(
            "inpainting",
            format!(
                "a prediction of shape {:?} for an image of shape {:?}",
                prediction.shape(),
                image.shape()
            ),
        ));
    }
    let mut out = image.clone();
    let m = mask.plane(0);
    for c in 0..image.channels() {
        let p = prediction.plane(c);
        for ((v, &k), &q) in out.plane_mut(c).iter_mut().zip(m).zip(p) {
            if k > 0.5 {
                *v = q;
            }
        }
    }
    Ok(out)
}

/// The harmonic fill of the hole: the solution of Laplace's equation in the hole with the
/// pixels around it as boundary values (heat diffused in from the border), by successive
/// over-relaxation. Image edges reflect (no flux across them).
pub fn diffusion_fill(image: &Image, mask: &Image) -> Result<Image> {
    check_mask(image, mask)?;
    let (h, w) = (image.height(), image.width());
    let m = mask.plane(0);
    let hole: Vec<usize> = (0..h * w).filter(|&i| m[i] > 0.5).collect();
    if hole.len() == h * w {
        return Err(DataError::invalid(
            "inpainting",
            "the mask covers the whole image: nothing to fill from",
        ));
    }
    // The optimal SOR factor for the square of the hole's extent.
    let n = (hole.len() as f64).sqrt().max(2.0);
    let omega = (2.0 / (1.0 + (std::f64::consts::PI / n).sin())) as f32;
    let mut out = image.clone();
    for c in 0..image.channels() {
        let plane = out.plane_mut(c);
        let known: Vec<f32> = (0..h * w)
            .filter(|&i| m[i] <= 0.5)
            .map(|i| plane[i])
            .collect();
        let mean = known.iter().sum::<f32>() / known.len() as f32;
        for &i in &hole {
            plane[i] = mean;
        }
        for _ in 0..10_000 {
            let mut change = 0.0f32;
            for &i in &hole {
                let (y, x) = (i / w, i % w);
                let mut sum = 0.0;
                let mut count = 0.0;
                for (dy, dx) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                    let (yy, xx) = (y as i64 + dy, x as i64 + dx);
                    if yy >= 0 && yy < h as i64 && xx >= 0 && xx < w as i64 {
                        sum += plane[yy as usize * w + xx as usize];
                        count += 1.0;
                    }
                }
                let delta = omega * (sum / count - plane[i]);
                plane[i] += delta;
                change = change.max(delta.abs());
            }
            if change < 1e-6 {
                break;
            }
        }
    }
    Ok(out)
}

fn check_mask(image: &Image, mask: &Image) -> Result<()> {
    if mask.channels() != 1 || mask.height() != image.height() || mask.width() != image.width() {
        return Err(DataError::invalid(
            "inpainting",
            format!(
                "a {}x{} mask with {} channels for a {}x{} image: a mask is one plane of the \
                 image's size",
                mask.width(),
                mask.height(),
                mask.channels(),
                image.width(),
                image.height()
            ),
        ));
    }
    Ok(())
}

impl PretextGenerator for InpaintingGenerator {
    type Sample = InpaintingSample;

    fn generate(&self, image: &Image, _index: usize, rng: &mut StdRng) -> Result<InpaintingSample> {
        let image = if self.config.flip && rng.random_bool(0.5) {
            hflip(image)
        } else {
            image.clone()
        };
        let mask = mask(self.config.mask, image.height(), image.width(), rng)?;
        Ok(InpaintingSample {
            masked: fill_hole(&image, &mask, &self.config.fill)?,
            weights: loss_weights(&mask, self.config.overlap, self.config.overlap_weight),
            original: image,
            mask,
        })
    }

    fn picture(&self, sample: &InpaintingSample) -> Vec<Image> {
        vec![sample.masked.clone(), sample.original.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretext::sample_rng;
    use proptest::prelude::*;

    fn ramp(c: usize, h: usize, w: usize) -> Image {
        let data = (0..c * h * w).map(|i| (i % 97) as f32 / 96.0).collect();
        Image::new(c, h, w, data).unwrap()
    }

    #[test]
    fn centre_mask_is_a_quarter() {
        let m = centre_mask(64, 64);
        assert_eq!(coverage(&m), 0.25);
        assert_eq!(m.get(0, 16, 16), 1.0);
        assert_eq!(m.get(0, 15, 16), 0.0);
        assert_eq!(m.get(0, 47, 47), 1.0);
        assert_eq!(m.get(0, 48, 47), 0.0);
        assert_eq!(centre_square(64), (16, 16, 32));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn random_masks_cover_their_stated_share(seed in 0u64..1000, side in 16usize..80) {
            let mut rng = sample_rng(seed, 0, 0);
            let blocks = coverage(&mask(MaskKind::Blocks, side, side, &mut rng).unwrap());
            let block = (side / 4) as f64 / side as f64;
            prop_assert!(blocks >= QUARTER && blocks < QUARTER + block * block + 1e-9, "{blocks}");
            let regions = coverage(&mask(MaskKind::Regions, side, side, &mut rng).unwrap());
            prop_assert!(regions > REGION_COVERAGE.0 && regions < REGION_COVERAGE.1, "{regions}");
        }
    }

    #[test]
    fn samples_keep_the_unmasked_pixels_and_weigh_the_border() {
        let generator = InpaintingGenerator::new(InpaintingConfig {
            flip: false,
            fill: vec![0.1, 0.2, 0.3],
            ..Default::default()
        })
        .unwrap();
        let image = ramp(3, 16, 16);
        let s = generator
            .generate(&image, 0, &mut sample_rng(0, 0, 0))
            .unwrap();
        assert_eq!(s.original, image);
        for c in 0..3 {
            for i in 0..256 {
                let expect = if s.mask.plane(0)[i] > 0.5 {
                    [0.1, 0.2, 0.3][c]
                } else {
                    image.plane(c)[i]
                };
                assert_eq!(s.masked.plane(c)[i], expect);
            }
        }
        // Hole 4..12, border 2 pixels wide: 2..14.
        assert_eq!(s.weights.get(0, 8, 8), 1.0);
        assert_eq!(s.weights.get(0, 3, 8), 10.0);
        assert_eq!(s.weights.get(0, 2, 2), 10.0);
        assert_eq!(s.weights.get(0, 1, 8), 0.0);
        assert_eq!(generator.picture(&s).len(), 2);
    }

    #[test]
    fn composite_takes_the_prediction_only_in_the_hole() {
        let image = ramp(3, 8, 8);
        let prediction = Image::filled(3, 8, 8, 0.77).unwrap();
        let m = centre_mask(8, 8);
        let out = composite(&image, &prediction, &m).unwrap();
        for i in 0..64 {
            let inside = m.plane(0)[i] > 0.5;
            assert_eq!(
                out.plane(1)[i],
                if inside { 0.77 } else { image.plane(1)[i] }
            );
        }
        let wrong = Image::filled(1, 4, 8, 1.0).unwrap();
        let err = composite(&image, &prediction, &wrong)
            .unwrap_err()
            .to_string();
        assert!(err.contains("4 mask") || err.contains("8x4 mask"), "{err}");
    }

    #[test]
    fn diffusion_fill_is_harmonic() {
        // A linear ramp is harmonic: the fill must restore it inside the hole.
        let data = (0..16 * 16).map(|i| (i % 16) as f32 / 15.0).collect();
        let image = Image::new(1, 16, 16, data).unwrap();
        let m = centre_mask(16, 16);
        let holed = fill_hole(&image, &m, &[0.0]).unwrap();
        let filled = diffusion_fill(&holed, &m).unwrap();
        for (a, b) in filled.data().iter().zip(image.data()) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        let all = Image::filled(1, 16, 16, 1.0).unwrap();
        assert!(diffusion_fill(&image, &all).is_err());
    }

    #[test]
    fn small_images_and_bad_fills_are_refused() {
        let mut rng = sample_rng(0, 0, 0);
        assert!(mask(MaskKind::Regions, 6, 40, &mut rng).is_err());
        let err = InpaintingGenerator::new(InpaintingConfig {
            fill: vec![0.5, 0.5],
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("fill"), "{err}");
    }
}
