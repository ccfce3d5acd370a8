//! 2-D convolution on contiguous NCHW `f32` slices as im2col plus one gemm per image, for all
//! three passes: forward, input gradient and weight gradient.
//!
//! Burn 0.22's generic weight gradient turns the whole output-gradient map into a convolution
//! kernel (one gemm of `c_out x 9 x batch*h*w` per input channel), which streams the output
//! gradient from memory `c_in` times. Here the weight gradient is one accumulating gemm per
//! group of images, `dW[c_out, c_in*kh*kw] += dY[c_out, pixels] . col(x)^T`, reading each operand
//! once. A transposed convolution is the same three passes with their roles exchanged
//! ([`ConvGeometry::transposed`]), so one set of kernels serves both.

use rayon::prelude::*;

/// The geometry of a 2-D convolution with one group and no dilation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Zero padding on each side, along height and width.
    pub padding: [usize; 2],
    /// Output height and width.
    pub output: [usize; 2],
}

impl ConvGeometry {
    /// The geometry of a convolution of `[batch, c_in, h, w]` inputs by `[c_out, c_in, kh, kw]`
    /// weights, or `None` when the kernel does not fit the padded input.
    pub fn new(
        [batch, c_in, h, w]: [usize; 4],
        [c_out, kh, kw]: [usize; 3],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Option<Self> {
        let out = |size: usize, k: usize, s: usize, p: usize| {
            (size + 2 * p).checked_sub(k).map(|span| span / s + 1)
        };
        if stride.contains(&0) {
            return None;
        }
        Some(Self {
            batch,
            c_in,
            c_out,
            input: [h, w],
            kernel: [kh, kw],
            stride,
            padding,
            output: [
                out(h, kh, stride[0], padding[0])?,
                out(w, kw, stride[1], padding[1])?,
            ],
        })
    }

    /// The convolution whose input gradient is the transposed convolution of `[batch, c_in, h,
    /// w]` inputs by `[c_in, c_out, kh, kw]` weights (Burn's layout), with its output padding:
    /// the transposed convolution's forward pass is this geometry's [`conv2d_input_grad`], its
    /// input gradient this geometry's [`conv2d`] and its weight gradient this geometry's
    /// [`conv2d_weight_grad`] with input and output gradient exchanged.
    pub fn transposed(
        [batch, c_in, h, w]: [usize; 4],
        [c_out, kh, kw]: [usize; 3],
        stride: [usize; 2],
        padding: [usize; 2],
        padding_out: [usize; 2],
    ) -> Option<Self> {
        let side = |size: usize, k: usize, s: usize, p: usize, o: usize| {
            ((size.checked_sub(1)? * s + k + o).checked_sub(2 * p)).filter(|_| o < s)
        };
        let input = [
            side(h, kh, stride[0], padding[0], padding_out[0])?,
            side(w, kw, stride[1], padding[1], padding_out[1])?,
        ];
        let geometry = Self::new(
            [batch, c_out, input[0], input[1]],
            [c_in, kh, kw],
            stride,
            padding,
        )?;
        (geometry.output == [h, w]).then_some(geometry)
    }

    fn input_pixels(&self) -> usize {
        self.input[0] * self.input[1]
    }

    fn output_pixels(&self) -> usize {
        self.output[0] * self.output[1]
    }

    /// Rows of the im2col matrix: one per (input channel, kernel position).
    fn col_rows(&self) -> usize {
        self.c_in * self.kernel[0] * self.kernel[1]
    }

    /// A 1x1 convolution with stride 1 and no padding reads its input as the im2col matrix.
    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.padding == [0, 0]
    }

    /// The output pixels `o` along one axis whose input pixel `o * stride + k - padding` lies
    /// inside `0..size`.
    fn valid_range(size: usize, out: usize, k: usize, s: usize, p: usize) -> (usize, usize) {
        let lo = p.saturating_sub(k).div_ceil(s).min(out);
        let hi = if size + p > k {
            ((size + p - k - 1) / s + 1).min(out)
        } else {
            0
        };
        (lo, hi.max(lo))
    }
}

/// How to split a batch over the thread pool: images per chunk, and whether the gemms inside
/// a chunk should parallelise themselves (when there are fewer images than threads).
fn chunking(batch: usize) -> (usize, gemm::Parallelism) {
    let threads = rayon::current_num_threads().max(1);
    if batch >= threads {
        (batch.div_ceil(threads), gemm::Parallelism::None)
    } else {
        (1, gemm::Parallelism::Rayon(0))
    }
}

/// A gemm over fewer columns than this is dominated by packing its other operand, so small
/// maps are batched: several images side by side in one im2col matrix.
const MIN_COLUMNS: usize = 1024;

/// Images per gemm for maps of `pixels` pixels, at most `images`.
fn group(pixels: usize, images: usize) -> usize {
    MIN_COLUMNS.div_ceil(pixels.max(1)).clamp(1, images.max(1))
}

/// Writes image `x` (`[c_in, h, w]`) as the im2col matrix `[c_in*kh*kw, oh*ow]` into `col`,
/// whose rows are `ld` apart (several images side by side).
fn im2col(g: &ConvGeometry, x: &[f32], col: &mut [f32], ld: usize) {
    let [h, w] = g.input;
    let [oh, ow] = g.output;
    let [kh, kw] = g.kernel;
    let [sy, sx] = g.stride;
    let [py, px] = g.padding;
    let mut r = 0;
    for plane in x.chunks_exact(h * w) {
        for ki in 0..kh {
            let (y_lo, y_hi) = ConvGeometry::valid_range(h, oh, ki, sy, py);
            for kj in 0..kw {
                let (x_lo, x_hi) = ConvGeometry::valid_range(w, ow, kj, sx, px);
                let row = &mut col[r * ld..][..oh * ow];
                r += 1;
                row[..y_lo * ow].fill(0.0);
                row[y_hi * ow..].fill(0.0);
                for oy in y_lo..y_hi {
                    let src = &plane[(oy * sy + ki - py) * w..][..w];
                    let dst = &mut row[oy * ow..][..ow];
                    dst[..x_lo].fill(0.0);
                    dst[x_hi..].fill(0.0);
                    if sx == 1 {
                        dst[x_lo..x_hi].copy_from_slice(&src[x_lo + kj - px..x_hi + kj - px]);
                    } else {
                        for (ox, d) in dst.iter_mut().enumerate().take(x_hi).skip(x_lo) {
                            *d = src[ox * sx + kj - px];
                        }
                    }
                }
            }
        }
    }
}

/// The im2col matrix of the images in `x`, side by side (`[c_in*kh*kw, images*oh*ow]`),
/// written into `col`; `direct` (a pointwise convolution of one image) reads `x` as it is.
fn columns<'a>(g: &ConvGeometry, x: &'a [f32], col: &'a mut [f32], direct: bool) -> &'a [f32] {
    if direct {
        return x;
    }
    let (image_in, pixels) = (g.c_in * g.input_pixels(), g.output_pixels());
    let n = x.len() / image_in * pixels;
    for (i, x) in x.chunks_exact(image_in).enumerate() {
        im2col(g, x, &mut col[i * pixels..], n);
    }
    &col[..g.col_rows() * n]
}

/// Adds the im2col matrix `col` (`[c_in*kh*kw, oh*ow]`) back into image `dx` (`[c_in, h,
/// w]`): the adjoint of [`im2col`].
fn col2im_add(g: &ConvGeometry, col: &[f32], dx: &mut [f32]) {
    let [h, w] = g.input;
    let [oh, ow] = g.output;
    let [kh, kw] = g.kernel;
    let [sy, sx] = g.stride;
    let [py, px] = g.padding;
    let mut rows = col.chunks_exact(oh * ow);
    for plane in dx.chunks_exact_mut(h * w) {
        for ki in 0..kh {
            let (y_lo, y_hi) = ConvGeometry::valid_range(h, oh, ki, sy, py);
            for kj in 0..kw {
                let (x_lo, x_hi) = ConvGeometry::valid_range(w, ow, kj, sx, px);
                let row = rows.next().expect("col2im: col has c_in*kh*kw rows");
                for oy in y_lo..y_hi {
                    let dst = &mut plane[(oy * sy + ki - py) * w..][..w];
                    let src = &row[oy * ow..][..ow];
                    if sx == 1 {
                        let dst = &mut dst[x_lo + kj - px..x_hi + kj - px];
                        dst.iter_mut()
                            .zip(&src[x_lo..x_hi])
                            .for_each(|(d, s)| *d += s);
                    } else {
                        for ox in x_lo..x_hi {
                            dst[ox * sx + kj - px] += src[ox];
                        }
                    }
                }
            }
        }
    }
}

/// `dst[m, n] = lhs[m, k] . rhs[k, n]` (or `+=` with `accumulate`), `dst` row-major, the
/// operands as their strides say: `(column stride, row stride)`.
#[allow(clippy::too_many_arguments)]
fn matmul(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    accumulate: bool,
    lhs: &[f32],
    (lhs_cs, lhs_rs): (usize, usize),
    rhs: &[f32],
    (rhs_cs, rhs_rs): (usize, usize),
    parallelism: gemm::Parallelism,
) {
    assert!(dst.len() >= m * n);
    assert!(m == 0 || k == 0 || lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
    assert!(n == 0 || k == 0 || rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    // SAFETY: the asserts above keep every element the strides address inside the operands,
    // and `dst` is exclusively borrowed, so it overlaps neither read-only operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The convolution of `x` (`[batch, c_in, h, w]`) by `weight` (`[c_out, c_in, kh, kw]`), plus
/// `bias` (`[c_out]`) when given: `[batch, c_out, oh, ow]`.
pub fn conv2d(g: &ConvGeometry, x: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (rows, pixels) = (g.col_rows(), g.output_pixels());
    let image_in = g.c_in * g.input_pixels();
    let image_out = g.c_out * pixels;
    let mut out = vec![0.0; g.batch * image_out];
    let (per_chunk, parallelism) = chunking(g.batch);
    out.par_chunks_mut(per_chunk * image_out.max(1))
        .zip(x.par_chunks(per_chunk * image_in.max(1)))
        .for_each(|(out, x)| {
            let images = x.len() / image_in.max(1);
            let group = group(pixels, images);
            let direct = g.is_pointwise() && group == 1;
            let mut col = vec![0.0; if direct { 0 } else { rows * group * pixels }];
            let mut staged = vec![
                0.0;
                if group > 1 {
                    g.c_out * group * pixels
                } else {
                    0
                }
            ];
            for (out, x) in out
                .chunks_mut(group * image_out)
                .zip(x.chunks(group * image_in))
            {
                let n = x.len() / image_in * pixels;
                let col = columns(g, x, &mut col, direct);
                let shape = [g.c_out, n, rows];
                if n == pixels {
                    // The gemm accumulates onto the bias, which costs no extra pass.
                    if let Some(bias) = bias {
                        for (out, &b) in out.chunks_exact_mut(pixels).zip(bias) {
                            out.fill(b);
                        }
                    }
                    matmul(
                        shape,
                        out,
                        bias.is_some(),
                        weight,
                        (1, rows),
                        col,
                        (1, n),
                        parallelism,
                    );
                    continue;
                }
                matmul(
                    shape,
                    &mut staged,
                    false,
                    weight,
                    (1, rows),
                    col,
                    (1, n),
                    parallelism,
                );
                for (i, out) in out.chunks_exact_mut(image_out).enumerate() {
                    for (c, out) in out.chunks_exact_mut(pixels).enumerate() {
                        let staged = &staged[c * n + i * pixels..][..pixels];
                        match bias {
                            Some(bias) => out
                                .iter_mut()
                                .zip(staged)
                                .for_each(|(o, s)| *o = s + bias[c]),
                            None => out.copy_from_slice(staged),
                        }
                    }
                }
            }
        });
    out
}

/// The gradient of [`conv2d`] with respect to its input, from the output gradient `dy`
/// (`[batch, c_out, oh, ow]`): `[batch, c_in, h, w]`, plus `bias` (`[c_in]`) when given (the
/// transposed convolution's).
pub fn conv2d_input_grad(
    g: &ConvGeometry,
    weight: &[f32],
    dy: &[f32],
    bias: Option<&[f32]>,
) -> Vec<f32> {
    let [kh, kw] = g.kernel;
    let [py, px] = g.padding;
    if g.stride == [1, 1] && py < kh && px < kw {
        // With stride 1 the input gradient is itself a convolution: of `dy` by the kernel
        // flipped and transposed, padded to `k - 1 - p`, a better-shaped gemm than `W^T . dy`
        // followed by a scatter.
        let mut flipped = vec![0.0; weight.len()];
        for (co, filters) in weight.chunks_exact(g.col_rows()).enumerate() {
            for (ci, kernel) in filters.chunks_exact(kh * kw).enumerate() {
                let dst = &mut flipped[(ci * g.c_out + co) * kh * kw..][..kh * kw];
                dst.iter_mut()
                    .zip(kernel.iter().rev())
                    .for_each(|(d, s)| *d = *s);
            }
        }
        let back = ConvGeometry::new(
            [g.batch, g.c_out, g.output[0], g.output[1]],
            [g.c_in, kh, kw],
            [1, 1],
            [kh - 1 - py, kw - 1 - px],
        )
        .expect("the flipped convolution fits whenever the convolution does");
        debug_assert_eq!(back.output, g.input);
        return conv2d(&back, dy, &flipped, bias);
    }
    let (rows, pixels) = (g.col_rows(), g.output_pixels());
    let image_in = g.c_in * g.input_pixels();
    let image_out = g.c_out * pixels;
    let mut dx = vec![0.0; g.batch * image_in];
    if let Some(bias) = bias {
        for (plane, c) in dx
            .chunks_exact_mut(g.input_pixels())
            .zip(bias.iter().cycle())
        {
            plane.fill(*c);
        }
    }
    let (per_chunk, parallelism) = chunking(g.batch);
    dx.par_chunks_mut(per_chunk * image_in.max(1))
        .zip(dy.par_chunks(per_chunk * image_out.max(1)))
        .for_each(|(dx, dy)| {
            let mut col = vec![0.0; rows * pixels];
            for (dx, dy) in dx
                .chunks_exact_mut(image_in)
                .zip(dy.chunks_exact(image_out))
            {
                // col = W^T . dy: W is [c_out, rows] row-major, so W^T has unit row stride.
                let shape = [rows, pixels, g.c_out];
                matmul(
                    shape,
                    &mut col,
                    false,
                    weight,
                    (rows, 1),
                    dy,
                    (1, pixels),
                    parallelism,
                );
                col2im_add(g, &col, dx);
            }
        });
    dx
}

/// Writes `src` (`[rows, cols]`, row-major) transposed into `dst`, whose rows are `ld` apart:
/// `dst[j * ld + i] = src[i * cols + j]`, in square tiles so both sides stay in cache.
fn transpose_into(src: &[f32], [rows, cols]: [usize; 2], dst: &mut [f32], ld: usize) {
    const TILE: usize = 16;
    for i0 in (0..rows).step_by(TILE) {
        for j0 in (0..cols).step_by(TILE) {
            let j1 = (j0 + TILE).min(cols);
            for i in i0..(i0 + TILE).min(rows) {
                for (j, &v) in (j0..j1).zip(&src[i * cols + j0..i * cols + j1]) {
                    dst[j * ld + i] = v;
                }
            }
        }
    }
}

/// The gradient of [`conv2d`] with respect to its weight, from the input `x` and the output
/// gradient `dy`: `[c_out, c_in, kh, kw]`, summed over the batch.
pub fn conv2d_weight_grad(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (rows, pixels) = (g.col_rows(), g.output_pixels());
    let image_in = g.c_in * g.input_pixels();
    let image_out = g.c_out * pixels;
    let (per_chunk, parallelism) = chunking(g.batch);
    // dW^T += col . dy^T, with dy transposed to `[pixels, c_out]` first. Both `col` and `dy`
    // keep the pixels (gemm's inner dimension) contiguous, and gemm packs the operand it tiles
    // along its rows by gathering them: from `dy` as it is, that gather reads one element from
    // each of 16 or 32 rows a whole map apart per step, and stalled on the TLB (the pass took
    // twice the forward pass's time at the same arithmetic). Transposing `dy`, the smaller
    // operand, costs one pass over it.
    let partial = |(x, dy): (&[f32], &[f32])| {
        let images = x.len() / image_in.max(1);
        let group = group(pixels, images);
        let direct = g.is_pointwise() && group == 1;
        let mut dwt = vec![0.0; rows * g.c_out];
        let mut col = vec![0.0; if direct { 0 } else { rows * group * pixels }];
        let mut dyt = vec![0.0; group * image_out];
        for (x, dy) in x.chunks(group * image_in).zip(dy.chunks(group * image_out)) {
            let n = x.len() / image_in * pixels;
            let col = columns(g, x, &mut col, direct);
            for (i, dy) in dy.chunks_exact(image_out).enumerate() {
                transpose_into(dy, [g.c_out, pixels], &mut dyt[i * image_out..], g.c_out);
            }
            // col is [rows, n] and dy^T [n, c_out], both row-major.
            let shape = [rows, g.c_out, n];
            let dyt = &dyt[..n * g.c_out];
            matmul(
                shape,
                &mut dwt,
                true,
                col,
                (1, n),
                dyt,
                (1, g.c_out),
                parallelism,
            );
        }
        dwt
    };
    let partials: Vec<Vec<f32>> = x
        .par_chunks(per_chunk * image_in.max(1))
        .zip(dy.par_chunks(per_chunk * image_out.max(1)))
        .map(partial)
        .collect();
    let mut partials = partials.into_iter();
    let mut dwt = partials.next().unwrap_or_else(|| vec![0.0; rows * g.c_out]);
    for other in partials {
        dwt.iter_mut().zip(&other).for_each(|(a, b)| *a += b);
    }
    let mut dw = vec![0.0; g.c_out * rows];
    transpose_into(&dwt, [rows, g.c_out], &mut dw, rows);
    dw
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The convolution by its definition, in f64.
    fn naive(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f64> {
        let [h, wd] = g.input;
        let [oh, ow] = g.output;
        let [kh, kw] = g.kernel;
        let mut out = vec![0.0; g.batch * g.c_out * oh * ow];
        for b in 0..g.batch {
            for co in 0..g.c_out {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut sum = 0.0;
                        for ci in 0..g.c_in {
                            for ki in 0..kh {
                                for kj in 0..kw {
                                    let iy =
                                        (oy * g.stride[0] + ki) as isize - g.padding[0] as isize;
                                    let ix =
                                        (ox * g.stride[1] + kj) as isize - g.padding[1] as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    let xi =
                                        ((b * g.c_in + ci) * h + iy as usize) * wd + ix as usize;
                                    let wi = ((co * g.c_in + ci) * kh + ki) * kw + kj;
                                    sum += x[xi] as f64 * w[wi] as f64;
                                }
                            }
                        }
                        out[((b * g.c_out + co) * oh + oy) * ow + ox] = sum;
                    }
                }
            }
        }
        out
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5)
            .collect()
    }

    fn dot(a: &[f32], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(&a, &b)| a as f64 * b).sum()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
    }

    fn geometries() -> impl Strategy<Value = ConvGeometry> {
        (
            1usize..4,
            1usize..5,
            1usize..5,
            1usize..9,
            1usize..9,
            1usize..4,
            1usize..4,
            1usize..3,
            0usize..3,
        )
            .prop_filter_map("kernel fits", |(b, ci, co, h, w, kh, kw, s, p)| {
                ConvGeometry::new(
                    [b, ci, h, w],
                    [co, kh, kw],
                    [s, s],
                    [p.min(kh - 1), p.min(kw - 1)],
                )
            })
    }

    proptest! {
        /// The forward pass matches the definition, and both gradients match it through the
        /// adjoint identities <conv(x), u> = <x, dX(u)> = <W, dW(x, u)> for a probe `u`.
        #[test]
        fn passes_match_the_definition(g in geometries()) {
            let x = values(g.batch * g.c_in * g.input_pixels(), 1);
            let w = values(g.c_out * g.col_rows(), 2);
            let u = values(g.batch * g.c_out * g.output_pixels(), 3);
            let expected = naive(&g, &x, &w);
            let y = conv2d(&g, &x, &w, None);
            prop_assert_eq!(y.len(), expected.len());
            for (a, b) in y.iter().zip(&expected) {
                prop_assert!(close(*a as f64, *b), "{} vs {}", a, b);
            }
            let y_dot_u: f64 = expected.iter().zip(&u).map(|(a, &b)| a * b as f64).sum();
            let dx = conv2d_input_grad(&g, &w, &u, None);
            let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            prop_assert!(close(dot(&dx, &x64), y_dot_u));
            let dw = conv2d_weight_grad(&g, &x, &u);
            let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();
            prop_assert!(close(dot(&dw, &w64), y_dot_u));
        }
    }

    #[test]
    fn transposed_geometry_inverts_the_sizes() {
        // Burn's ConvTranspose2d of 4x4 kernels, stride 2, padding 1 doubles the side.
        let g = ConvGeometry::transposed([2, 8, 5, 7], [3, 4, 4], [2, 2], [1, 1], [0, 0]).unwrap();
        assert_eq!(
            (g.input, g.output, g.c_in, g.c_out),
            ([10, 14], [5, 7], 3, 8)
        );
        let g = ConvGeometry::transposed([1, 2, 4, 4], [2, 3, 3], [2, 2], [1, 1], [1, 1]).unwrap();
        assert_eq!(g.input, [8, 8]);
        assert!(
            ConvGeometry::transposed([1, 2, 4, 4], [2, 3, 3], [2, 2], [1, 1], [2, 0]).is_none()
        );
        assert!(ConvGeometry::new([1, 1, 2, 2], [1, 5, 5], [1, 1], [1, 1]).is_none());
    }
}
