//! Per-image standardisation.

use crate::image::Image;

/// Subtracts each channel's mean and divides by its standard deviation (plus `1e-5`, so flat
/// images do not blow up). Used per tile by the jigsaw task so that the network cannot match
/// tiles by their low-level statistics (Noroozi & Favaro 2016, section 3.3).
pub fn normalize_per_image(img: &Image) -> Image {
    let n = (img.height() * img.width()) as f32;
    img.map_planes(img.height(), img.width(), |src, dst| {
        let mean = src.iter().sum::<f32>() / n;
        let var = src.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let scale = 1.0 / (var.sqrt() + 1e-5);
        dst.iter_mut()
            .zip(src)
            .for_each(|(d, s)| *d = (s - mean) * scale);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_channel_gets_zero_mean_unit_variance() {
        let img = Image::new(2, 1, 4, vec![1.0, 2.0, 3.0, 4.0, 0.5, 0.5, 0.5, 0.5]).unwrap();
        let out = normalize_per_image(&img);
        let first = out.plane(0);
        assert!(first.iter().sum::<f32>().abs() < 1e-5);
        let var = first.iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!((var - 1.0).abs() < 1e-3);
        assert!(out.plane(1).iter().all(|v| v.abs() < 1e-6));
    }
}
