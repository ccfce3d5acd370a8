//! Random brightness, contrast, saturation and hue changes, as torchvision's `ColorJitter`.

use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::image::Image;
use crate::transform::grayscale;

/// Strengths of the four jitters; a factor is drawn uniformly from `[max(0, 1 - s), 1 + s]`
/// (hue: a shift from `[-hue, hue]` turns, at most 0.5), and the four are applied in a random
/// order, as torchvision does. Zero turns a jitter off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColorJitter {
    /// Brightness strength.
    pub brightness: f32,
    /// Contrast strength.
    pub contrast: f32,
    /// Saturation strength (RGB only).
    pub saturation: f32,
    /// Hue strength in turns, `0..=0.5` (RGB only).
    pub hue: f32,
}

fn blend(img: &mut Image, other: impl Fn(usize, usize) -> f32, factor: f32) {
    let n = img.height() * img.width();
    for (i, v) in img.data_mut().iter_mut().enumerate() {
        *v = (factor * *v + (1.0 - factor) * other(i / n, i % n)).clamp(0.0, 1.0);
    }
}

fn rgb_to_hsv([r, g, b]: [f32; 3]) -> [f32; 3] {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let h = if d == 0.0 {
        0.0
    } else if max == r {
        ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        (b - r) / d + 2.0
    } else {
        (r - g) / d + 4.0
    };
    let s = if max == 0.0 { 0.0 } else { d / max };
    [h / 6.0, s, max]
}

fn hsv_to_rgb([h, s, v]: [f32; 3]) -> [f32; 3] {
    let h6 = h.rem_euclid(1.0) * 6.0;
    let c = v * s;
    let x = c * (1.0 - (h6.rem_euclid(2.0) - 1.0).abs());
    let [r, g, b] = match h6 as u32 {
        0 => [c, x, 0.0],
        1 => [x, c, 0.0],
        2 => [0.0, c, x],
        3 => [0.0, x, c],
        4 => [x, 0.0, c],
        _ => [c, 0.0, x],
    };
    let m = v - c;
    [r + m, g + m, b + m]
}

impl ColorJitter {
    fn factor(strength: f32, rng: &mut impl Rng) -> Option<f32> {
        (strength > 0.0).then(|| rng.random_range((1.0 - strength).max(0.0)..=1.0 + strength))
    }

    /// Applies the jitters in a random order; grey images get brightness and contrast only.
    pub fn apply(&self, img: &Image, rng: &mut impl Rng) -> Image {
        let mut out = img.clone();
        let mut order = [0, 1, 2, 3];
        order.shuffle(rng);
        let rgb = img.channels() == 3;
        for op in order {
            match op {
                0 => {
                    if let Some(f) = Self::factor(self.brightness, rng) {
                        blend(&mut out, |_, _| 0.0, f);
                    }
                }
                1 => {
                    if let Some(f) = Self::factor(self.contrast, rng) {
                        let grey = grayscale(&out);
                        let mean = grey.data().iter().sum::<f32>() / grey.data().len() as f32;
                        blend(&mut out, |_, _| mean, f);
                    }
                }
                2 if rgb => {
                    if let Some(f) = Self::factor(self.saturation, rng) {
                        let grey = grayscale(&out);
                        blend(&mut out, |_, i| grey.data()[i], f);
                    }
                }
                3 if rgb && self.hue > 0.0 => {
                    let shift = rng.random_range(-self.hue.min(0.5)..=self.hue.min(0.5));
                    let n = out.height() * out.width();
                    let data = out.data_mut();
                    for i in 0..n {
                        let [h, s, v] = rgb_to_hsv([data[i], data[n + i], data[2 * n + i]]);
                        let [r, g, b] = hsv_to_rgb([h + shift, s, v]);
                        (data[i], data[n + i], data[2 * n + i]) = (r, g, b);
                    }
                }
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn zero_strength_is_the_identity() {
        let img = Image::new(3, 1, 2, vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6]).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(ColorJitter::default().apply(&img, &mut rng), img);
    }

    #[test]
    fn brightness_scales_and_clamps() {
        let img = Image::filled(1, 2, 2, 0.8).unwrap();
        let jitter = ColorJitter {
            brightness: 0.5,
            ..Default::default()
        };
        let mut rng = StdRng::seed_from_u64(3);
        let out = jitter.apply(&img, &mut rng);
        let v = out.data()[0];
        assert!((0.4..=1.0).contains(&v) && out.data().iter().all(|&x| x == v));
    }

    proptest! {
        #[test]
        fn hsv_round_trip(r in 0.0f32..=1.0, g in 0.0f32..=1.0, b in 0.0f32..=1.0) {
            let back = hsv_to_rgb(rgb_to_hsv([r, g, b]));
            prop_assert!((back[0] - r).abs() < 1e-5 && (back[1] - g).abs() < 1e-5 && (back[2] - b).abs() < 1e-5);
        }

        #[test]
        fn output_stays_in_unit_range(seed in 0u64..500) {
            let mut rng = StdRng::seed_from_u64(seed);
            let data = (0..12).map(|_| rng.random_range(0.0..=1.0)).collect();
            let img = Image::new(3, 2, 2, data).unwrap();
            let jitter = ColorJitter { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.5 };
            let out = jitter.apply(&img, &mut rng);
            prop_assert!(out.data().iter().all(|v| (0.0..=1.0 + 1e-6).contains(v)));
        }
    }
}
