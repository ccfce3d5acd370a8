//! Training-mode BatchNorm, optionally fused with the ReLU after it, on contiguous NCHW `f32`
//! slices: two passes forward (statistics, then normalise) and two backward (two sums per
//! channel, then the input gradient), where Burn's generic op takes about ten and thirteen
//! passes, four of them transposing copies, and ReLU two more.

use rayon::prelude::*;

/// `[batch, channels, pixels]` of a BatchNorm input.
pub type Dims = [usize; 3];

/// Per channel: `(sum, sum of squares)` of `x` (in f64: they are differenced for the
/// variance), or of `g` and `g * x` when `weights` is given.
fn channel_sums(
    [batch, channels, pixels]: Dims,
    x: &[f32],
    weights: Option<&[f32]>,
) -> Vec<(f64, f64)> {
    (0..channels)
        .into_par_iter()
        .map(|c| {
            let (mut a, mut b) = (0.0f64, 0.0f64);
            for n in 0..batch {
                let at = (n * channels + c) * pixels;
                let x = &x[at..][..pixels];
                // Eight partial sums per plane let the compiler vectorise the f32 sums.
                let (mut sa, mut sb) = ([0.0f32; 8], [0.0f32; 8]);
                match weights {
                    None => {
                        for (i, &v) in x.iter().enumerate() {
                            sa[i % 8] += v;
                            sb[i % 8] += v * v;
                        }
                    }
                    Some(g) => {
                        for (i, (&v, &g)) in x.iter().zip(&g[at..][..pixels]).enumerate() {
                            sa[i % 8] += g;
                            sb[i % 8] += g * v;
                        }
                    }
                }
                a += sa.iter().map(|&v| v as f64).sum::<f64>();
                b += sb.iter().map(|&v| v as f64).sum::<f64>();
            }
            (a, b)
        })
        .collect()
}

/// Per channel `(scale, shift)` such that BatchNorm's output is `x * scale + shift`.
fn affine(gamma: &[f32], beta: &[f32], mean: &[f32], var: &[f32], epsilon: f64) -> Vec<(f32, f32)> {
    (0..gamma.len())
        .map(|c| {
            let scale = gamma[c] as f64 / (var[c] as f64 + epsilon).sqrt();
            (
                scale as f32,
                (beta[c] as f64 - mean[c] as f64 * scale) as f32,
            )
        })
        .collect()
}

/// The forward pass: `(output, mean, biased variance)`, the output passed through ReLU when
/// `relu` is set.
pub fn forward(
    dims: Dims,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    relu: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let [batch, channels, pixels] = dims;
    let count = (batch * pixels).max(1) as f64;
    let (mean, var): (Vec<f32>, Vec<f32>) = channel_sums(dims, x, None)
        .into_iter()
        .map(|(sum, squares)| {
            let mean = sum / count;
            (mean as f32, (squares / count - mean * mean).max(0.0) as f32)
        })
        .unzip();
    let affine = affine(gamma, beta, &mean, &var, epsilon);
    let mut out = vec![0.0; x.len()];
    out.par_chunks_mut(pixels.max(1))
        .zip(x.par_chunks(pixels.max(1)))
        .enumerate()
        .for_each(|(plane, (out, x))| {
            let (scale, shift) = affine[plane % channels];
            match relu {
                true => out
                    .iter_mut()
                    .zip(x)
                    .for_each(|(o, &v)| *o = (v * scale + shift).max(0.0)),
                false => out
                    .iter_mut()
                    .zip(x)
                    .for_each(|(o, &v)| *o = v * scale + shift),
            }
        });
    (out, mean, var)
}

/// The backward pass from the output gradient `dy`: `(dx, dgamma, dbeta)`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    dims: Dims,
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    relu: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let [batch, channels, pixels] = dims;
    let count = (batch * pixels).max(1) as f64;
    let affine = affine(gamma, beta, mean, var, epsilon);
    // ReLU's gradient: dy where the normalised input was positive.
    let masked;
    let g = match relu {
        true => {
            let mut g = vec![0.0; dy.len()];
            g.par_chunks_mut(pixels.max(1))
                .zip(
                    dy.par_chunks(pixels.max(1))
                        .zip(x.par_chunks(pixels.max(1))),
                )
                .enumerate()
                .for_each(|(plane, (g, (dy, x)))| {
                    let (scale, shift) = affine[plane % channels];
                    for ((g, &dy), &x) in g.iter_mut().zip(dy).zip(x) {
                        *g = if x * scale + shift > 0.0 { dy } else { 0.0 };
                    }
                });
            masked = g;
            &masked
        }
        false => dy,
    };
    let sums = channel_sums(dims, x, Some(g));
    let mut dgamma = vec![0.0; channels];
    let mut dbeta = vec![0.0; channels];
    // dx = scale * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x - mean) / std, written as
    // dx = scale * g + a * x + b per channel.
    let coefficients: Vec<(f32, f32, f32)> = (0..channels)
        .map(|c| {
            let inv_std = 1.0 / (var[c] as f64 + epsilon).sqrt();
            let (sum_g, sum_gx) = sums[c];
            let sum_g_centred = sum_gx - mean[c] as f64 * sum_g; // sum of g * (x - mean)
            dbeta[c] = sum_g as f32;
            dgamma[c] = (sum_g_centred * inv_std) as f32;
            let scale = gamma[c] as f64 * inv_std;
            let a = -scale * inv_std * inv_std * sum_g_centred / count;
            let b = scale * (-sum_g / count) - a * mean[c] as f64;
            (scale as f32, a as f32, b as f32)
        })
        .collect();
    let mut dx = vec![0.0; x.len()];
    dx.par_chunks_mut(pixels.max(1))
        .zip(g.par_chunks(pixels.max(1)).zip(x.par_chunks(pixels.max(1))))
        .enumerate()
        .for_each(|(plane, (dx, (g, x)))| {
            let (scale, a, b) = coefficients[plane % channels];
            for ((dx, &g), &x) in dx.iter_mut().zip(g).zip(x) {
                *dx = scale * g + a * x + b;
            }
        });
    (dx, dgamma, dbeta)
}
