//! Sobel gradients, DeepCluster's input filter.

use crate::image::Image;
use crate::transform::grayscale;

/// Converts to grey and returns the two Sobel responses `[d/dx, d/dy]` as a 2-channel image of
/// the same size (zero padding at the borders), the fixed input layer of DeepCluster
/// (Caron et al. 2018, section 5: "a fixed linear transformation based on Sobel filters").
pub fn sobel(img: &Image) -> Image {
    let grey = grayscale(img);
    let (h, w) = (img.height(), img.width());
    let g = grey.data();
    let at = |y: isize, x: isize| -> f32 {
        if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
            0.0
        } else {
            g[y as usize * w + x as usize]
        }
    };
    let mut out = vec![0.0; 2 * h * w];
    let (gx, gy) = out.split_at_mut(h * w);
    for y in 0..h as isize {
        for x in 0..w as isize {
            let i = y as usize * w + x as usize;
            gx[i] = (at(y - 1, x + 1) + 2.0 * at(y, x + 1) + at(y + 1, x + 1))
                - (at(y - 1, x - 1) + 2.0 * at(y, x - 1) + at(y + 1, x - 1));
            gy[i] = (at(y + 1, x - 1) + 2.0 * at(y + 1, x) + at(y + 1, x + 1))
                - (at(y - 1, x - 1) + 2.0 * at(y - 1, x) + at(y - 1, x + 1));
        }
    }
    Image::new(2, h, w, out).expect("shape matches by construction")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertical_edge_has_only_x_gradient_inside() {
        // columns 0,1 dark, 2,3 bright
        let img = Image::new(1, 4, 4, [0.0, 0.0, 1.0, 1.0].repeat(4)).unwrap();
        let s = sobel(&img);
        assert_eq!(s.channels(), 2);
        assert_eq!(s.get(0, 1, 1), 4.0);
        assert_eq!(s.get(0, 1, 2), 4.0);
        assert_eq!(s.get(1, 1, 1), 0.0);
        assert_eq!(s.get(1, 2, 2), 0.0);
    }
}
