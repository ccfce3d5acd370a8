//! BatchNorm, optionally fused with the ReLU after it, on contiguous NCHW `f32` slices. In
//! training mode two passes forward (statistics, then normalise) and two backward (two sums per
//! channel, then the input gradient), where Burn's generic op takes about ten and thirteen
//! passes, four of them transposing copies, and ReLU two more; in inference mode one pass.

use rayon::prelude::*;

/// `[batch, channels, pixels]` of a BatchNorm input.
pub type Dims = [usize; 3];

/// Lanes of the partial sums: eight f32 accumulators let the compiler vectorise a plane's sum.
const LANES: usize = 8;

/// Per channel `c`, over the batch: the two sums of `per_channel(c)(x, g)` element by element
/// over `x` and, when given, `g` (`x` again when not). Accumulated in f32 per plane and in f64 across
/// planes (they are differenced for the variance).
pub(crate) fn channel_sums<F: Fn(f32, f32) -> (f32, f32)>(
    [batch, channels, pixels]: Dims,
    x: &[f32],
    g: Option<&[f32]>,
    per_channel: impl Fn(usize) -> F + Sync,
) -> Vec<(f64, f64)> {
    (0..channels)
        .into_par_iter()
        .map(|c| {
            let f = per_channel(c);
            let (mut a, mut b) = (0.0f64, 0.0f64);
            for n in 0..batch {
                let at = (n * channels + c) * pixels;
                let x = &x[at..][..pixels];
                let g = g.map_or(x, |g| &g[at..][..pixels]);
                let (mut sa, mut sb) = ([0.0f32; LANES], [0.0f32; LANES]);
                let (xs, gs) = (x.chunks_exact(LANES), g.chunks_exact(LANES));
                let (x_tail, g_tail) = (xs.remainder(), gs.remainder());
                for (x, g) in xs.zip(gs) {
                    for l in 0..LANES {
                        let (u, v) = f(x[l], g[l]);
                        sa[l] += u;
                        sb[l] += v;
                    }
                }
                for (&x, &g) in x_tail.iter().zip(g_tail) {
                    let (u, v) = f(x, g);
                    sa[0] += u;
                    sb[0] += v;
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

/// `x * scale + shift` per channel, then ReLU when `relu` is set: one pass.
fn normalise(
    [_, channels, pixels]: Dims,
    x: &[f32],
    affine: &[(f32, f32)],
    relu: bool,
) -> Vec<f32> {
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
    out
}

/// Inference-mode BatchNorm with the running statistics, then ReLU when `relu` is set: one
/// pass, where Burn's op takes four (subtract, divide, multiply, add) and ReLU a fifth.
#[allow(clippy::too_many_arguments)]
pub fn inference(
    dims: Dims,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    relu: bool,
) -> Vec<f32> {
    normalise(dims, x, &affine(gamma, beta, mean, var, epsilon), relu)
}

/// The training-mode forward pass, with the batch's statistics: `(output, mean, biased
/// variance)`, the output passed through ReLU when `relu` is set.
pub fn forward(
    dims: Dims,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    relu: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let [batch, _, pixels] = dims;
    let count = (batch * pixels).max(1) as f64;
    let (mean, var): (Vec<f32>, Vec<f32>) = channel_sums(dims, x, None, |_| |x, _| (x, x * x))
        .into_iter()
        .map(|(sum, squares)| {
            let mean = sum / count;
            (mean as f32, (squares / count - mean * mean).max(0.0) as f32)
        })
        .unzip();
    let out = normalise(dims, x, &affine(gamma, beta, &mean, &var, epsilon), relu);
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
    // ReLU's gradient is dy where the normalised input was positive; the mask is recomputed
    // from x in both passes rather than stored, as a multiplication: a branch on real
    // activations mispredicts about half the time and keeps the loops from vectorising.
    let g = |(scale, shift): (f32, f32), x: f32, dy: f32| {
        let open = !relu || x * scale + shift > 0.0;
        dy * f32::from(u8::from(open))
    };
    let sums = channel_sums(dims, x, Some(dy), |c| {
        let affine = affine[c];
        move |x, dy| {
            let g = g(affine, x, dy);
            (g, g * x)
        }
    });
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
        .zip(
            dy.par_chunks(pixels.max(1))
                .zip(x.par_chunks(pixels.max(1))),
        )
        .enumerate()
        .for_each(|(plane, (dx, (dy, x)))| {
            let c = plane % channels;
            let ((scale, a, b), affine) = (coefficients[c], affine[c]);
            for ((dx, &dy), &x) in dx.iter_mut().zip(dy).zip(x) {
                *dx = scale * g(affine, x, dy) + a * x + b;
            }
        });
    (dx, dgamma, dbeta)
}
