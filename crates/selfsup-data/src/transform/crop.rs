//! Cropping: a given window, the centre, or a uniformly random window.

use rand::{Rng, RngExt};

use crate::error::{DataError, Result};
use crate::image::Image;

/// Cuts the `height` x `width` window whose top-left corner is (`top`, `left`).
pub fn crop(img: &Image, top: usize, left: usize, height: usize, width: usize) -> Result<Image> {
    if height == 0 || width == 0 || top + height > img.height() || left + width > img.width() {
        return Err(DataError::invalid(
            "crop",
            format!(
                "window {height}x{width} at ({top}, {left}) does not fit a {}x{} image",
                img.height(),
                img.width()
            ),
        ));
    }
    Ok(img.map_planes(height, width, |src, dst| {
        for (y, row) in dst.chunks_exact_mut(width).enumerate() {
            let start = (top + y) * img.width() + left;
            row.copy_from_slice(&src[start..start + width]);
        }
    }))
}

/// Cuts the centred `height` x `width` window (rounding the offset down, as torchvision does).
pub fn center_crop(img: &Image, height: usize, width: usize) -> Result<Image> {
    let top = img.height().saturating_sub(height) / 2;
    let left = img.width().saturating_sub(width) / 2;
    crop(img, top, left, height, width)
}

/// Cuts a `height` x `width` window at a uniformly random position.
pub fn random_crop(img: &Image, height: usize, width: usize, rng: &mut impl Rng) -> Result<Image> {
    if height > img.height() || width > img.width() {
        return crop(img, 0, 0, height, width);
    }
    let top = rng.random_range(0..=img.height() - height);
    let left = rng.random_range(0..=img.width() - width);
    crop(img, top, left, height, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ramp(h: usize, w: usize) -> Image {
        Image::new(1, h, w, (0..h * w).map(|v| v as f32).collect()).unwrap()
    }

    #[test]
    fn crop_takes_the_window() {
        let c = crop(&ramp(4, 5), 1, 2, 2, 3).unwrap();
        assert_eq!(c.data(), &[7.0, 8.0, 9.0, 12.0, 13.0, 14.0]);
        assert!(crop(&ramp(4, 5), 3, 0, 2, 2).is_err());
    }

    #[test]
    fn center_and_random_crops_stay_inside() {
        let img = ramp(6, 6);
        assert_eq!(
            center_crop(&img, 2, 2).unwrap().data(),
            &[14.0, 15.0, 20.0, 21.0]
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let c = random_crop(&img, 3, 4, &mut rng).unwrap();
            assert_eq!(c.shape(), [1, 3, 4]);
        }
        assert!(random_crop(&img, 7, 1, &mut rng).is_err());
    }
}
