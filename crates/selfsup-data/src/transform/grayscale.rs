//! Conversion to one luminance channel.

use crate::image::Image;

/// ITU-R BT.601 luma weights, the ones PIL's `convert("L")` and torchvision use.
pub const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// Converts to one channel: RGB gives BT.601 luma, other channel counts give the mean.
pub fn grayscale(img: &Image) -> Image {
    let n = img.height() * img.width();
    let c = img.channels();
    let mut out = vec![0.0; n];
    let weights = if c == 3 {
        LUMA.to_vec()
    } else {
        vec![1.0 / c as f32; c]
    };
    for (ch, weight) in weights.into_iter().enumerate() {
        for (o, v) in out.iter_mut().zip(img.plane(ch)) {
            *o += weight * v;
        }
    }
    Image::new(1, img.height(), img.width(), out).expect("shape matches by construction")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_stays_white_and_weights_follow_bt601() {
        let white = Image::filled(3, 2, 2, 1.0).unwrap();
        assert!(
            grayscale(&white)
                .data()
                .iter()
                .all(|v| (v - 1.0).abs() < 1e-6)
        );
        let green = Image::new(3, 1, 1, vec![0.0, 1.0, 0.0]).unwrap();
        assert!((grayscale(&green).data()[0] - 0.587).abs() < 1e-6);
    }
}
