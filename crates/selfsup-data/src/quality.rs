//! Image-to-image metrics, shared by the generative methods: PSNR and SSIM for any prediction,
//! and colorization's colour scores (ab error, the raw-accuracy AuC of Zhang et al. 2016,
//! saturation).
//!
//! Images are in `[0, 1]` (data range 1). SSIM is Wang et al. (2004) with an 11x11 Gaussian
//! window of sigma 1.5 and population covariances, averaged over the pixels at least 5 from
//! the border (where the window fits) and over channels: scikit-image's
//! `structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//! data_range=1.0)`.

use crate::color::{AbBins, rebalancing_weights, srgb_to_lab};
use crate::error::{DataError, Result};
use crate::image::Image;

fn same_shape(op: &'static str, a: &Image, b: &Image) -> Result<()> {
    if a.shape() == b.shape() {
        Ok(())
    } else {
        Err(DataError::invalid(
            op,
            format!("shapes differ: {:?} and {:?}", a.shape(), b.shape()),
        ))
    }
}

/// Peak signal-to-noise ratio in dB for data range 1 (infinite for identical images).
pub fn psnr(prediction: &Image, truth: &Image) -> Result<f64> {
    same_shape("psnr", prediction, truth)?;
    let n = truth.data().len().max(1) as f64;
    let mse: f64 = prediction
        .data()
        .iter()
        .zip(truth.data())
        .map(|(p, t)| f64::from(p - t).powi(2))
        .sum::<f64>()
        / n;
    Ok(10.0 * (1.0 / mse).log10())
}

/// PSNR over the pixels where `mask` (`[1, h, w]`) is above 0.5, every channel (inpainting's
/// score over the hole); fails on an empty mask or one of another size.
pub fn psnr_within(prediction: &Image, truth: &Image, mask: &Image) -> Result<f64> {
    same_shape("psnr", prediction, truth)?;
    if mask.channels() != 1 || mask.height() != truth.height() || mask.width() != truth.width() {
        return Err(DataError::invalid(
            "psnr",
            format!(
                "a {}x{} mask for {}x{} images",
                mask.width(),
                mask.height(),
                truth.width(),
                truth.height()
            ),
        ));
    }
    let inside: Vec<usize> = (0..mask.plane(0).len())
        .filter(|&i| mask.plane(0)[i] > 0.5)
        .collect();
    if inside.is_empty() {
        return Err(DataError::invalid("psnr", "the mask holds no pixel"));
    }
    let mut sum = 0.0;
    for c in 0..truth.channels() {
        let (p, t) = (prediction.plane(c), truth.plane(c));
        sum += inside
            .iter()
            .map(|&i| f64::from(p[i] - t[i]).powi(2))
            .sum::<f64>();
    }
    let mse = sum / (inside.len() * truth.channels()) as f64;
    Ok(10.0 * (1.0 / mse).log10())
}

/// SSIM's window radius: scikit-image's `int(truncate * sigma + 0.5)` with truncate 3.5.
const SSIM_RADIUS: usize = 5;
const SSIM_SIGMA: f64 = 1.5;

fn gaussian_taps() -> Vec<f64> {
    let r = SSIM_RADIUS as isize;
    let w: Vec<f64> = (-r..=r)
        .map(|x| (-0.5 * (x as f64 / SSIM_SIGMA).powi(2)).exp())
        .collect();
    let sum: f64 = w.iter().sum();
    w.into_iter().map(|v| v / sum).collect()
}

/// The separable Gaussian filter of a plane, at the pixels where the window fits.
fn filtered(plane: &[f64], h: usize, w: usize, taps: &[f64]) -> Vec<f64> {
    let r = SSIM_RADIUS;
    let (oh, ow) = (h - 2 * r, w - 2 * r);
    let mut rows = vec![0.0; h * ow];
    for y in 0..h {
        for x in 0..ow {
            rows[y * ow + x] = taps
                .iter()
                .enumerate()
                .map(|(k, t)| t * plane[y * w + x + k])
                .sum();
        }
    }
    let mut out = vec![0.0; oh * ow];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = taps
                .iter()
                .enumerate()
                .map(|(k, t)| t * rows[(y + k) * ow + x])
                .sum();
        }
    }
    out
}

/// Structural similarity (see the module docs); 1 for identical images.
pub fn ssim(prediction: &Image, truth: &Image) -> Result<f64> {
    same_shape("ssim", prediction, truth)?;
    let (h, w) = (truth.height(), truth.width());
    if h <= 2 * SSIM_RADIUS || w <= 2 * SSIM_RADIUS {
        return Err(DataError::invalid(
            "ssim",
            format!("{h}x{w} is smaller than the 11x11 window"),
        ));
    }
    let (c1, c2) = (0.01f64.powi(2), 0.03f64.powi(2));
    let taps = gaussian_taps();
    let mut total = 0.0;
    for c in 0..truth.channels() {
        let x: Vec<f64> = prediction.plane(c).iter().map(|v| f64::from(*v)).collect();
        let y: Vec<f64> = truth.plane(c).iter().map(|v| f64::from(*v)).collect();
        let product =
            |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(p, q)| p * q).collect() };
        let [ux, uy, uxx, uyy, uxy] = [
            x.clone(),
            y.clone(),
            product(&x, &x),
            product(&y, &y),
            product(&x, &y),
        ]
        .map(|p| filtered(&p, h, w, &taps));
        let map: f64 = (0..ux.len())
            .map(|i| {
                let (vx, vy) = (uxx[i] - ux[i] * ux[i], uyy[i] - uy[i] * uy[i]);
                let vxy = uxy[i] - ux[i] * uy[i];
                ((2.0 * ux[i] * uy[i] + c1) * (2.0 * vxy + c2))
                    / ((ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2))
            })
            .sum();
        total += map / ux.len() as f64;
    }
    Ok(total / truth.channels() as f64)
}

/// The largest ab distance the raw-accuracy curve sweeps (Zhang et al. 2016, section 3.1).
pub const AUC_MAX_THRESHOLD: usize = 150;

/// Colour scores of a colourised image against the original (both sRGB).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ColourScores {
    /// Mean Euclidean ab distance per pixel.
    pub ab_error: f64,
    /// Area under the curve of the fraction of pixels within ab distance t of the truth, for t
    /// from 0 to 150, normalised to `[0, 1]` (the paper's "raw accuracy" AuC).
    pub auc: f64,
    /// The same with each pixel weighted by the inverse prior probability of its true colour's
    /// bin (the paper's class-rebalanced AuC, equation 4 with lambda 0).
    pub auc_rebalanced: f64,
    /// Mean HSV saturation of the prediction (how colourful it is).
    pub saturation: f64,
    /// Mean Lab chroma `sqrt(a^2 + b^2)` of the prediction: colourfulness as the ab error
    /// measures colour, which unlike HSV saturation does not grow without bound as a pixel
    /// darkens.
    pub chroma: f64,
}

/// Mean HSV saturation of an sRGB image.
pub fn saturation(image: &Image) -> f64 {
    let n = image.height() * image.width();
    if image.channels() != 3 || n == 0 {
        return 0.0;
    }
    let d = image.data();
    let total: f64 = (0..n)
        .map(|i| {
            let (r, g, b) = (d[i], d[n + i], d[2 * n + i]);
            let max = r.max(g).max(b);
            let min = r.min(g).min(b);
            if max <= 0.0 {
                0.0
            } else {
                f64::from((max - min) / max)
            }
        })
        .sum();
    total / n as f64
}

/// Colour scores of `prediction` against `truth` (both 3-channel sRGB), the rebalanced AuC
/// weighted by `prior` (one probability per ab bin, the training data's colour prior).
pub fn colour_scores(
    prediction: &Image,
    truth: &Image,
    bins: &AbBins,
    prior: &[f64],
) -> Result<ColourScores> {
    same_shape("colour_scores", prediction, truth)?;
    let (p, t) = (srgb_to_lab(prediction)?, srgb_to_lab(truth)?);
    let n = truth.height() * truth.width();
    let weights = rebalancing_weights(prior, 0.0);
    let mut within = vec![0.0f64; AUC_MAX_THRESHOLD + 1];
    let mut within_rebalanced = vec![0.0f64; AUC_MAX_THRESHOLD + 1];
    let (mut total_error, mut total_weight, mut total_chroma) = (0.0f64, 0.0f64, 0.0f64);
    let mut scratch = Vec::new();
    for i in 0..n {
        let (ta, tb) = (t.data()[n + i], t.data()[2 * n + i]);
        let (pa, pb) = (p.data()[n + i], p.data()[2 * n + i]);
        let d = f64::from((pa - ta).hypot(pb - tb));
        total_error += d;
        total_chroma += f64::from(pa.hypot(pb));
        bins.nearest(ta, tb, 1, &mut scratch);
        let w = f64::from(weights[scratch[0].1]);
        total_weight += w;
        // Pixel i counts for every threshold from ceil(d) on.
        let first = d.ceil() as usize;
        if first <= AUC_MAX_THRESHOLD {
            within[first] += 1.0;
            within_rebalanced[first] += w;
        }
    }
    let auc = |counts: &[f64], total: f64| {
        let mut cumulative = 0.0;
        let mut area = 0.0;
        for c in counts {
            cumulative += c;
            area += cumulative / total;
        }
        area / counts.len() as f64
    };
    Ok(ColourScores {
        ab_error: total_error / n as f64,
        auc: auc(&within, n as f64),
        auc_rebalanced: auc(&within_rebalanced, total_weight),
        saturation: saturation(prediction),
        chroma: total_chroma / n as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic image pairs, the same ones the reference values below were computed on:
    ///
    /// ```text
    /// /usr/bin/python3 -c "
    /// import numpy as np
    /// from skimage.metrics import structural_similarity as ssim, peak_signal_noise_ratio as psnr
    /// def pair(c, h, w):
    ///     i, j = np.meshgrid(np.arange(h), np.arange(w), indexing='ij')
    ///     x = np.stack([((i*7 + j*13 + k*5) % 17) / 16.0 for k in range(c)], -1)
    ///     y = np.clip(x + np.stack([(((i*3 + j*5 + k) % 7) - 3) / 30.0 for k in range(c)], -1), 0, 1)
    ///     return x, y
    /// for c, h, w in [(3, 24, 20), (1, 16, 16)]:
    ///     x, y = pair(c, h, w)
    ///     print(ssim(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    ///                data_range=1.0, channel_axis=-1), psnr(x, y, data_range=1.0))"
    /// ```
    ///
    /// scikit-image 0.19.3 (Debian's python3-skimage) printed 0.9766166476798473,
    /// 23.90897409565757 and 0.978518867722, 24.0028337372725.
    fn pair(c: usize, h: usize, w: usize) -> (Image, Image) {
        let mut x = Image::filled(c, h, w, 0.0).unwrap();
        let mut y = x.clone();
        for k in 0..c {
            for i in 0..h {
                for j in 0..w {
                    let v = ((i * 7 + j * 13 + k * 5) % 17) as f32 / 16.0;
                    let noise = (((i * 3 + j * 5 + k) % 7) as f32 - 3.0) / 30.0;
                    x.plane_mut(k)[i * w + j] = v;
                    y.plane_mut(k)[i * w + j] = (v + noise).clamp(0.0, 1.0);
                }
            }
        }
        (x, y)
    }

    #[test]
    fn psnr_and_ssim_match_scikit_image() {
        for (c, h, w, want_ssim, want_psnr) in [
            (3, 24, 20, 0.976_616_647_679_847_3, 23.908_974_095_657_57),
            (1, 16, 16, 0.978_518_867_722, 24.002_833_737_272_5),
        ] {
            let (x, y) = pair(c, h, w);
            let s = ssim(&x, &y).unwrap();
            let p = psnr(&x, &y).unwrap();
            assert!(
                (s - want_ssim).abs() < 1e-5,
                "{c}x{h}x{w}: ssim {s} vs {want_ssim}"
            );
            assert!(
                (p - want_psnr).abs() < 1e-4,
                "{c}x{h}x{w}: psnr {p} vs {want_psnr}"
            );
        }
    }

    #[test]
    fn psnr_within_a_full_mask_is_psnr_and_reads_only_the_mask() {
        let (x, y) = pair(3, 12, 14);
        let all = Image::filled(1, 12, 14, 1.0).unwrap();
        let within = psnr_within(&x, &y, &all).unwrap();
        assert!((within - psnr(&x, &y).unwrap()).abs() < 1e-9);
        // Errors outside the mask do not count.
        let mut half = Image::filled(1, 12, 14, 0.0).unwrap();
        half.plane_mut(0)[..84].fill(1.0);
        let mut z = x.clone();
        for c in 0..3 {
            z.plane_mut(c)[84..].fill(0.0);
        }
        assert_eq!(psnr_within(&z, &x, &half).unwrap(), f64::INFINITY);
        assert!(psnr_within(&x, &y, &Image::filled(1, 12, 14, 0.0).unwrap()).is_err());
        assert!(psnr_within(&x, &y, &Image::filled(1, 2, 2, 1.0).unwrap()).is_err());
    }

    #[test]
    fn identical_images_give_infinite_psnr_and_ssim_one() {
        let (x, _) = pair(3, 12, 14);
        assert_eq!(psnr(&x, &x).unwrap(), f64::INFINITY);
        assert!((ssim(&x, &x).unwrap() - 1.0).abs() < 1e-12);
        // By definition: one pixel off by 0.1 in a 10-pixel image is an MSE of 1e-3, 30 dB.
        let a = Image::filled(1, 2, 5, 0.5).unwrap();
        let mut b = a.clone();
        b.plane_mut(0)[3] = 0.6;
        assert!((psnr(&a, &b).unwrap() - 30.0).abs() < 1e-4);
        assert!(ssim(&a, &b).is_err(), "smaller than the window");
        assert!(psnr(&a, &x).is_err());
    }

    #[test]
    fn colour_scores_of_a_perfect_and_a_grey_prediction() {
        let bins = AbBins::new();
        let (x, _) = pair(3, 8, 8);
        let prior = vec![1.0 / 313.0; 313];
        let perfect = colour_scores(&x, &x, &bins, &prior).unwrap();
        assert!(perfect.ab_error < 1e-3 && perfect.auc > 0.999 && perfect.auc_rebalanced > 0.999);
        // A grey prediction: every pixel's ab error is its chroma.
        let grey = crate::transform::grayscale(&x).to_channels(3).unwrap();
        let scores = colour_scores(&grey, &x, &bins, &prior).unwrap();
        assert!(
            scores.ab_error > 5.0 && scores.auc < perfect.auc,
            "{scores:?}"
        );
        assert!(saturation(&grey) < 1e-6 && saturation(&x) > 0.1);
        assert!(
            scores.chroma < 1e-3 && perfect.chroma > 5.0,
            "{scores:?} {perfect:?}"
        );
        // Against a grey truth, the ab error is the prediction's chroma.
        let against_grey = colour_scores(&x, &grey, &bins, &prior).unwrap();
        assert!((against_grey.ab_error - perfect.chroma).abs() < 1e-3);
    }
}
