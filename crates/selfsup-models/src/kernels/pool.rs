//! Max pooling over 2x2 windows with stride 2, the ConvNet's, on contiguous NCHW `f32` slices.

use rayon::prelude::*;

/// The larger of two values, NaN winning as in Burn's and PyTorch's pooling.
fn max(a: f32, b: f32) -> f32 {
    if a > b || a.is_nan() { a } else { b }
}

/// Each `[h, w]` plane of `x` (`planes` of them) pooled to `[h / 2, w / 2]`, an odd last row or
/// column dropped (floor), in one pass where Burn's generic 3-D pooling walks each window
/// through bounds checks.
pub fn max_pool_2x2([planes, h, w]: [usize; 3], x: &[f32]) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    let mut out = vec![0.0; planes * oh * ow];
    if oh == 0 || ow == 0 {
        return out;
    }
    out.par_chunks_mut(oh * ow)
        .zip(x.par_chunks(h * w))
        .for_each(|(out, x)| {
            for (oy, out) in out.chunks_exact_mut(ow).enumerate() {
                let top = &x[2 * oy * w..][..2 * ow];
                let bottom = &x[(2 * oy + 1) * w..][..2 * ow];
                for ((o, t), b) in out
                    .iter_mut()
                    .zip(top.chunks_exact(2))
                    .zip(bottom.chunks_exact(2))
                {
                    *o = max(max(t[0], t[1]), max(b[0], b[1]));
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_each_window_drops_an_odd_edge_and_lets_nan_win() {
        // One 3x5 plane: windows (0..2, 0..2) and (0..2, 2..4); the last row and column drop.
        let x = [
            1.0,
            5.0,
            -1.0,
            -2.0,
            99.0, //
            3.0,
            2.0,
            -3.0,
            f32::NAN,
            99.0, //
            99.0,
            99.0,
            99.0,
            99.0,
            99.0,
        ];
        let out = max_pool_2x2([1, 3, 5], &x);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], 5.0);
        assert!(
            out[1].is_nan(),
            "NaN propagates, as in Burn's and PyTorch's pooling"
        );
    }
}
