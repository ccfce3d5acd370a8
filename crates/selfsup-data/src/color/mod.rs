//! Colour spaces: sRGB <-> CIE L*a*b* under the D65 white point.
//!
//! Written by hand rather than through `palette` so that whole planes convert in one tight loop
//! without per-pixel type conversions; the tests pin it to published reference values.
//! [`AbBins`] holds colorization's quantised ab space.
//! Lab images hold L in `[0, 100]` and a, b roughly in `[-128, 127]` (not `[0, 1]`).

mod bins;

pub use bins::{AB_BINS, AbBins, BIN_STEP, BINS, RAREST, rebalancing_weights};

use crate::error::{DataError, Result};
use crate::image::Image;

/// D65 reference white in XYZ (Y = 1).
const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];
/// sRGB (linear) -> XYZ, IEC 61966-2-1 (the published 7-digit values, kept as published).
#[allow(clippy::excessive_precision)]
const RGB_TO_XYZ: [[f32; 3]; 3] = [
    [0.412_456_4, 0.357_576_1, 0.180_437_5],
    [0.212_672_9, 0.715_152_2, 0.072_175_0],
    [0.019_333_9, 0.119_192_0, 0.950_304_1],
];
/// Relative luminance Y of linear sRGB: the middle row of the sRGB-to-XYZ matrix (CIE L
/// depends on Y alone).
pub const LUMINANCE: [f32; 3] = RGB_TO_XYZ[1];
/// XYZ -> sRGB (linear), the inverse of [`RGB_TO_XYZ`].
#[allow(clippy::excessive_precision)]
const XYZ_TO_RGB: [[f32; 3]; 3] = [
    [3.240_454_2, -1.537_138_5, -0.498_531_4],
    [-0.969_266_0, 1.876_010_8, 0.041_556_0],
    [0.055_643_4, -0.204_025_9, 1.057_225_2],
];
/// CIE's delta: f(t) is linear below delta^3.
pub const DELTA: f32 = 6.0 / 29.0;

fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.040_45 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(c: f32) -> f32 {
    if c <= 0.003_130_8 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

fn lab_f(t: f32) -> f32 {
    if t > DELTA * DELTA * DELTA {
        t.cbrt()
    } else {
        t / (3.0 * DELTA * DELTA) + 4.0 / 29.0
    }
}

fn lab_f_inv(t: f32) -> f32 {
    if t > DELTA {
        t * t * t
    } else {
        3.0 * DELTA * DELTA * (t - 4.0 / 29.0)
    }
}

fn mat_mul(m: &[[f32; 3]; 3], v: [f32; 3]) -> [f32; 3] {
    m.map(|row| row[0] * v[0] + row[1] * v[1] + row[2] * v[2])
}

/// Converts one sRGB pixel (components in `[0, 1]`) to CIE Lab (D65).
pub fn srgb_to_lab_pixel(rgb: [f32; 3]) -> [f32; 3] {
    let xyz = mat_mul(&RGB_TO_XYZ, rgb.map(srgb_to_linear));
    let [fx, fy, fz] = [0, 1, 2].map(|i| lab_f(xyz[i] / WHITE[i]));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Converts one CIE Lab (D65) pixel to sRGB, clamping colours outside the sRGB gamut to
/// `[0, 1]`.
pub fn lab_to_srgb_pixel(lab: [f32; 3]) -> [f32; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let f = [fy + lab[1] / 500.0, fy, fy - lab[2] / 200.0];
    let xyz = [0, 1, 2].map(|i| WHITE[i] * lab_f_inv(f[i]));
    mat_mul(&XYZ_TO_RGB, xyz).map(|c| linear_to_srgb(c.max(0.0)).clamp(0.0, 1.0))
}

fn convert(img: &Image, op: &'static str, f: fn([f32; 3]) -> [f32; 3]) -> Result<Image> {
    if img.channels() != 3 {
        return Err(DataError::invalid(
            op,
            format!("needs a 3-channel image, got {} channels", img.channels()),
        ));
    }
    let n = img.height() * img.width();
    let src = img.data();
    let mut out = vec![0.0; 3 * n];
    for i in 0..n {
        let [a, b, c] = f([src[i], src[n + i], src[2 * n + i]]);
        out[i] = a;
        out[n + i] = b;
        out[2 * n + i] = c;
    }
    Image::new(3, img.height(), img.width(), out)
}

/// Converts an sRGB image to a CIE Lab image (L in `[0, 100]`, a/b about `[-128, 127]`).
pub fn srgb_to_lab(img: &Image) -> Result<Image> {
    convert(img, "srgb_to_lab", srgb_to_lab_pixel)
}

/// Converts a CIE Lab image back to sRGB in `[0, 1]`, clamping out-of-gamut colours.
pub fn lab_to_srgb(img: &Image) -> Result<Image> {
    convert(img, "lab_to_srgb", lab_to_srgb_pixel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Reference values from Bruce Lindbloom's calculator (sRGB, D65, companding sRGB), the same
    // numbers skimage.color.rgb2lab gives: e.g. rgb2lab([[[1, 0, 0]]]) -> [53.2408, 80.0925, 67.2032].
    const REFERENCE: [([u8; 3], [f32; 3]); 6] = [
        ([255, 0, 0], [53.2408, 80.0925, 67.2032]),
        ([0, 255, 0], [87.7347, -86.1827, 83.1793]),
        ([0, 0, 255], [32.2970, 79.1875, -107.8602]),
        ([255, 255, 255], [100.0, 0.0, 0.0]),
        ([0, 0, 0], [0.0, 0.0, 0.0]),
        ([128, 128, 128], [53.5850, 0.0, 0.0]),
    ];

    fn to_unit(rgb: [u8; 3]) -> [f32; 3] {
        rgb.map(|v| f32::from(v) / 255.0)
    }

    #[test]
    fn matches_published_values() {
        for (rgb, lab) in REFERENCE {
            let got = srgb_to_lab_pixel(to_unit(rgb));
            for k in 0..3 {
                assert!(
                    (got[k] - lab[k]).abs() < 0.02,
                    "{rgb:?}: got {got:?}, want {lab:?}"
                );
            }
        }
    }

    #[test]
    fn image_conversion_matches_pixel_conversion() {
        let img = Image::from_u8(3, 1, 2, &[255, 0, 0, 255, 0, 0]).unwrap();
        let lab = srgb_to_lab(&img).unwrap();
        assert_eq!(
            [lab.get(0, 0, 0), lab.get(1, 0, 0), lab.get(2, 0, 0)],
            srgb_to_lab_pixel([1.0, 0.0, 0.0])
        );
        assert!(srgb_to_lab(&Image::filled(1, 2, 2, 0.5).unwrap()).is_err());
    }

    proptest! {
        #[test]
        fn round_trip_within_a_thousandth(r in 0.0f32..=1.0, g in 0.0f32..=1.0, b in 0.0f32..=1.0) {
            let back = lab_to_srgb_pixel(srgb_to_lab_pixel([r, g, b]));
            for (x, y) in [r, g, b].iter().zip(back) {
                prop_assert!((x - y).abs() < 1e-3, "{:?} -> {:?}", [r, g, b], back);
            }
        }

        #[test]
        fn lightness_is_in_range(r in 0.0f32..=1.0, g in 0.0f32..=1.0, b in 0.0f32..=1.0) {
            let [l, a, bb] = srgb_to_lab_pixel([r, g, b]);
            prop_assert!((-1e-3..=100.001).contains(&l));
            prop_assert!((-128.0..=128.0).contains(&a) && (-128.0..=128.0).contains(&bb));
        }
    }
}
