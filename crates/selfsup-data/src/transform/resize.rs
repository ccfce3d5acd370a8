//! Resampling to a new size with nearest, bilinear or bicubic filters.
//!
//! Hand-written rather than `image::imageops::resize`, which clamps float pixels to `[0, 1]` and
//! works through 4-channel buffers: selfsup also resizes Lab and normalised planes. The filters
//! follow PIL / MATLAB `imresize`: separable, with the kernel widened when shrinking so that
//! downsampling is antialiased (what SRGAN's bicubic low-resolution inputs need).

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::image::Image;

/// A resampling filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    /// The nearest source pixel.
    Nearest,
    /// Linear interpolation (triangle kernel).
    Bilinear,
    /// Cubic convolution with a = -0.5 (Keys; PIL's and MATLAB's bicubic).
    Bicubic,
}

impl Filter {
    fn support(self) -> f32 {
        match self {
            Filter::Nearest => 0.5,
            Filter::Bilinear => 1.0,
            Filter::Bicubic => 2.0,
        }
    }

    fn kernel(self, x: f32) -> f32 {
        let x = x.abs();
        match self {
            Filter::Nearest => f32::from(u8::from(x < 0.5)),
            Filter::Bilinear => (1.0 - x).max(0.0),
            Filter::Bicubic => {
                const A: f32 = -0.5;
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
        }
    }
}

/// For each output index: the first source index and the normalised weights from there.
fn taps(input: usize, output: usize, filter: Filter) -> Vec<(usize, Vec<f32>)> {
    let scale = input as f32 / output as f32;
    if filter == Filter::Nearest {
        return (0..output)
            .map(|i| (((i as f32 + 0.5) * scale) as usize).min(input - 1))
            .map(|j| (j, vec![1.0]))
            .collect();
    }
    let widen = scale.max(1.0);
    let support = filter.support() * widen;
    (0..output)
        .map(|i| {
            let center = (i as f32 + 0.5) * scale;
            let lo = (center - support).floor().max(0.0) as usize;
            let hi = ((center + support).ceil() as usize).min(input);
            let mut w: Vec<f32> = (lo..hi)
                .map(|j| filter.kernel((j as f32 + 0.5 - center) / widen))
                .collect();
            let sum: f32 = w.iter().sum();
            if sum != 0.0 {
                w.iter_mut().for_each(|v| *v /= sum);
            }
            (lo, w)
        })
        .collect()
}

/// The resampling of one axis from `input` to `output` samples as an `output` x `input`
/// row-major matrix, the weights [`resize`] applies: a network can resample a tensor with
/// two matrix products (`resize_matrix(h, H) . X . resize_matrix(w, W)^T`) and get what
/// [`resize`] gives, borders included.
pub fn resize_matrix(input: usize, output: usize, filter: Filter) -> Vec<f32> {
    let mut matrix = vec![0.0; output * input];
    for (row, (start, weights)) in matrix
        .chunks_exact_mut(input)
        .zip(taps(input, output, filter))
    {
        row[start..start + weights.len()].copy_from_slice(&weights);
    }
    matrix
}

/// Resamples to `height` x `width`. Values are not clamped, so bicubic may overshoot a little
/// past the input range near sharp edges, as in PIL's float mode.
pub fn resize(img: &Image, height: usize, width: usize, filter: Filter) -> Result<Image> {
    if height == 0 || width == 0 {
        return Err(DataError::invalid(
            "resize",
            format!("target size {height}x{width} has a zero side"),
        ));
    }
    if (height, width) == (img.height(), img.width()) {
        return Ok(img.clone());
    }
    let (h, w) = (img.height(), img.width());
    let col_taps = taps(w, width, filter);
    let row_taps = taps(h, height, filter);
    let mut tmp = vec![0.0; h * width];
    Ok(img.map_planes(height, width, |src, dst| {
        // Horizontal pass: h x w -> h x width.
        for (src_row, tmp_row) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(width)) {
            for (out, (start, weights)) in tmp_row.iter_mut().zip(&col_taps) {
                *out = weights
                    .iter()
                    .zip(&src_row[*start..])
                    .map(|(a, b)| a * b)
                    .sum();
            }
        }
        // Vertical pass: h x width -> height x width.
        for (dst_row, (start, weights)) in dst.chunks_exact_mut(width).zip(&row_taps) {
            dst_row.fill(0.0);
            for (k, weight) in weights.iter().enumerate() {
                let src_row = &tmp[(start + k) * width..(start + k + 1) * width];
                dst_row
                    .iter_mut()
                    .zip(src_row)
                    .for_each(|(d, s)| *d += weight * s);
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, imageops};
    use proptest::prelude::*;

    fn random_image(h: usize, w: usize, seed: u32) -> Image {
        let mut s = seed;
        let data = (0..h * w)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1 << 24) as f32
            })
            .collect();
        Image::new(1, h, w, data).unwrap()
    }

    #[test]
    fn nearest_upscaling_repeats_pixels() {
        let img = Image::new(1, 1, 2, vec![1.0, 2.0]).unwrap();
        let up = resize(&img, 2, 4, Filter::Nearest).unwrap();
        assert_eq!(up.data(), &[1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn matches_pil_float_mode() {
        // im = Image.fromarray(np.float32([[0, 1, 2, 3]]), mode="F")
        // im.resize((2, 1), Image.BILINEAR) -> [[0.71428573, 2.2857144]]
        // im.resize((2, 1), Image.BICUBIC)  -> [[0.58677685, 2.413223]]
        let img = Image::new(1, 1, 4, vec![0.0, 1.0, 2.0, 3.0]).unwrap();
        assert_close(
            resize(&img, 1, 2, Filter::Bilinear).unwrap().data(),
            &[0.714_285_73, 2.285_714_4],
        );
        assert_close(
            resize(&img, 1, 2, Filter::Bicubic).unwrap().data(),
            &[0.586_776_85, 2.413_223],
        );
        // Image.fromarray(np.float32([[0, 1], [2, 3]]), mode="F").resize((3, 3), Image.BICUBIC)
        let img = Image::new(1, 2, 2, vec![0.0, 1.0, 2.0, 3.0]).unwrap();
        assert_close(
            resize(&img, 3, 3, Filter::Bicubic).unwrap().data(),
            &[
                -0.197_368_43,
                0.368_421_05,
                0.934_210_54,
                0.934_210_54,
                1.5,
                2.065_789_5,
                2.065_789_5,
                2.631_579,
                3.197_368_4,
            ],
        );
    }

    #[test]
    fn agrees_with_imageops_on_unit_range_images() {
        // imageops' Triangle and CatmullRom are the same kernels, widened the same way; only its
        // clamping to [0, 1] differs, so compare on a smooth image that stays inside.
        for (filter, theirs) in [
            (Filter::Bilinear, imageops::FilterType::Triangle),
            (Filter::Bicubic, imageops::FilterType::CatmullRom),
        ] {
            for (h, w, nh, nw) in [(16, 12, 7, 9), (5, 6, 11, 13)] {
                let data: Vec<f32> = (0..h * w)
                    .map(|i| {
                        0.5 + 0.3 * ((i % w) as f32 * 0.4).sin() * ((i / w) as f32 * 0.3).cos()
                    })
                    .collect();
                let img = Image::new(1, h, w, data.clone()).unwrap();
                let ours = resize(&img, nh, nw, filter).unwrap();
                let buf = ImageBuffer::<Luma<f32>, _>::from_raw(w as u32, h as u32, data).unwrap();
                let reference = imageops::resize(&buf, nw as u32, nh as u32, theirs).into_raw();
                for (a, b) in ours.data().iter().zip(&reference) {
                    assert!((a - b).abs() < 2e-3, "{filter:?}: {a} vs {b}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn the_resize_matrix_resamples_as_resize(h in 1usize..12, w in 1usize..12, nh in 1usize..30, nw in 1usize..30, seed in 0u32..1000) {
            let img = random_image(h, w, seed);
            for f in [Filter::Nearest, Filter::Bilinear, Filter::Bicubic] {
                let (rows, cols) = (resize_matrix(h, nh, f), resize_matrix(w, nw, f));
                let want = resize(&img, nh, nw, f).unwrap();
                for y in 0..nh {
                    for x in 0..nw {
                        let got: f32 = (0..h)
                            .flat_map(|i| (0..w).map(move |j| (i, j)))
                            .map(|(i, j)| rows[y * h + i] * img.data()[i * w + j] * cols[x * w + j])
                            .sum();
                        prop_assert!((got - want.data()[y * nw + x]).abs() < 1e-4, "{:?} at {},{}", f, y, x);
                    }
                }
            }
        }

        #[test]
        fn constant_images_stay_constant(h in 1usize..20, w in 1usize..20, nh in 1usize..20, nw in 1usize..20) {
            let img = Image::filled(2, h, w, 0.25).unwrap();
            for f in [Filter::Nearest, Filter::Bilinear, Filter::Bicubic] {
                let out = resize(&img, nh, nw, f).unwrap();
                prop_assert_eq!(out.shape(), [2, nh, nw]);
                prop_assert!(out.data().iter().all(|v| (v - 0.25).abs() < 1e-5));
            }
        }

        #[test]
        fn bilinear_stays_within_input_range(h in 2usize..16, w in 2usize..16, nh in 1usize..24, nw in 1usize..24, seed in 0u32..1000) {
            let img = random_image(h, w, seed);
            let (lo, hi) = img.data().iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
            let out = resize(&img, nh, nw, Filter::Bilinear).unwrap();
            prop_assert!(out.data().iter().all(|&v| v >= lo - 1e-5 && v <= hi + 1e-5));
        }
    }
}
