//! Exact pixel rearrangements: horizontal flip and quarter-turn rotation.

use crate::image::Image;

/// Mirrors the image left to right.
pub fn hflip(img: &Image) -> Image {
    let w = img.width();
    img.map_planes(img.height(), w, |src, dst| {
        for (s, d) in src.chunks_exact(w).zip(dst.chunks_exact_mut(w)) {
            d.iter_mut().zip(s.iter().rev()).for_each(|(d, s)| *d = *s);
        }
    })
}

/// Rotates by `quarter_turns` x 90 degrees counter-clockwise (as `numpy.rot90`), moving pixels
/// exactly with no interpolation. Negative turns rotate clockwise.
pub fn rot90(img: &Image, quarter_turns: i32) -> Image {
    let (h, w) = (img.height(), img.width());
    match quarter_turns.rem_euclid(4) {
        0 => img.clone(),
        // out[y][x] = in[x][w-1-y], out is w x h
        1 => img.map_planes(w, h, |src, dst| {
            for y in 0..w {
                for x in 0..h {
                    dst[y * h + x] = src[x * w + (w - 1 - y)];
                }
            }
        }),
        2 => img.map_planes(h, w, |src, dst| {
            dst.iter_mut()
                .zip(src.iter().rev())
                .for_each(|(d, s)| *d = *s);
        }),
        // out[y][x] = in[h-1-x][y], out is w x h
        _ => img.map_planes(w, h, |src, dst| {
            for y in 0..w {
                for x in 0..h {
                    dst[y * h + x] = src[(h - 1 - x) * w + y];
                }
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn img(c: usize, h: usize, w: usize) -> Image {
        Image::new(c, h, w, (0..c * h * w).map(|v| v as f32).collect()).unwrap()
    }

    #[test]
    fn rot90_matches_numpy() {
        // np.rot90(np.arange(6).reshape(2, 3)) == [[2, 5], [1, 4], [0, 3]]
        assert_eq!(
            rot90(&img(1, 2, 3), 1).data(),
            &[2.0, 5.0, 1.0, 4.0, 0.0, 3.0]
        );
        // np.rot90(np.arange(6).reshape(2, 3), -1) == [[3, 0], [4, 1], [5, 2]]
        assert_eq!(
            rot90(&img(1, 2, 3), 3).data(),
            &[3.0, 0.0, 4.0, 1.0, 5.0, 2.0]
        );
        assert_eq!(rot90(&img(1, 2, 3), -1), rot90(&img(1, 2, 3), 3));
        assert_eq!(hflip(&img(1, 2, 3)).data(), &[2.0, 1.0, 0.0, 5.0, 4.0, 3.0]);
    }

    proptest! {
        #[test]
        fn four_quarter_turns_are_the_identity(c in 1usize..4, h in 1usize..9, w in 1usize..9) {
            let x = img(c, h, w);
            let mut y = x.clone();
            for _ in 0..4 {
                y = rot90(&y, 1);
            }
            prop_assert_eq!(&y, &x);
            prop_assert_eq!(rot90(&rot90(&x, 1), 2), rot90(&x, 3));
            prop_assert_eq!(hflip(&hflip(&x)), x);
        }
    }
}
