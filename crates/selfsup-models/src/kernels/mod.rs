//! Faster kernels for Burn's CPU backend, flex, behind Burn's backend-extension mechanism.
//!
//! Models call [`conv2d`], [`conv_transpose2d`] and [`batch_norm()`] with Burn's own modules, so
//! parameters, checkpoints and every other backend stay as they are: on a flex device (with or
//! without autodiff) and f32 data they run selfsup's kernels (`im2col`, `batch_norm`) with
//! backward passes of their own, anywhere else the module's own `forward`.
//! `docs/benchmarks.md` measures what this gains.

mod allocator;
#[cfg(feature = "flex")]
pub mod batch_norm;
#[cfg(feature = "flex")]
mod flex;
#[cfg(feature = "flex")]
pub mod im2col;
#[cfg(feature = "flex")]
pub mod pool;
#[cfg(feature = "flex")]
pub mod timing;

use std::sync::atomic::{AtomicBool, Ordering};

use burn::nn::BatchNorm;
#[cfg(feature = "flex")]
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::pool::MaxPool2d;
use burn::prelude::*;

pub use allocator::retain_freed_memory;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the kernels on (the default) or off for the whole process; off, every convolution runs
/// through Burn's own op, which is how the benchmarks compare the two.
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether the kernels are on ([`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// `conv.forward(x)`, by the im2col kernels where they apply.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if let Some(g) = plain_geometry(conv, &x) {
        return im2col_conv(
            x,
            conv.weight.val(),
            conv.bias.as_ref().map(|b| b.val()),
            g,
            false,
        );
    }
    conv.forward(x)
}

/// `conv.forward(x)`, by the im2col kernels where they apply.
pub fn conv_transpose2d(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if let Some(g) = transposed_geometry(conv, &x) {
        return im2col_conv(
            x,
            conv.weight.val(),
            conv.bias.as_ref().map(|b| b.val()),
            g,
            true,
        );
    }
    conv.forward(x)
}

/// The extension op; a convolution without bias gets zeros, a constant autodiff leaves alone.
#[cfg(feature = "flex")]
fn im2col_conv(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    g: im2col::ConvGeometry,
    transposed: bool,
) -> Tensor<4> {
    let channels = if transposed { g.c_in } else { g.c_out };
    let bias = bias.unwrap_or_else(|| Tensor::zeros([channels], &x.device()));
    Tensor::<4>::from_dispatch(
        <burn::backend::Dispatch as flex::FlexKernels>::im2col_conv2d(
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
            g,
            transposed,
        ),
    )
}

/// `bn.forward(x)`, then ReLU when `relu` is set, by one fused kernel on flex: in training mode
/// with its backward pass, and in inference (no autodiff) in one pass.
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>, relu: bool) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fuses(bn, &x) {
        // What `BatchNorm::forward_train` does, with the fused op in place of Burn's.
        let device = x.device();
        let (out, mean, var) =
            <burn::backend::Dispatch as flex::FlexKernels>::batch_norm_relu_train(
                x.into_dispatch(),
                bn.gamma.val().into_dispatch(),
                bn.beta.val().into_dispatch(),
                bn.epsilon,
                relu,
            );
        let (mean, var) = (
            Tensor::<1>::from_dispatch(mean),
            Tensor::<1>::from_dispatch(var),
        );
        let update = |running: &burn::module::RunningState<Tensor<1>>, batch: Tensor<1>| {
            let value = running.value_sync().to_device(&device);
            let value = value
                .mul_scalar(1.0 - bn.momentum)
                .add(batch.detach().mul_scalar(bn.momentum));
            running.update(value.detach());
        };
        update(&bn.running_mean, mean);
        update(&bn.running_var, var);
        return Tensor::from_dispatch(out);
    }
    #[cfg(feature = "flex")]
    if on_flex(&x) && !x.device().is_autodiff() {
        // Inference, Burn's path without autodiff: one pass with the running statistics.
        let device = x.device();
        let running = |state: &burn::module::RunningState<Tensor<1>>| {
            state.value().to_device(&device).into_dispatch()
        };
        return Tensor::from_dispatch(
            <burn::backend::Dispatch as flex::FlexKernels>::batch_norm_relu_eval(
                x.into_dispatch(),
                bn.gamma.val().into_dispatch(),
                bn.beta.val().into_dispatch(),
                running(&bn.running_mean),
                running(&bn.running_var),
                bn.epsilon,
                relu,
            ),
        );
    }
    let out = bn.forward(x);
    if relu {
        burn::tensor::activation::relu(out)
    } else {
        out
    }
}

/// `pool.forward(x)`, by one pass over each plane in inference on flex for 2x2 windows with
/// stride 2 (the ConvNet's); anything else, and training, through Burn's op.
pub fn max_pool2d(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if on_flex(&x)
        && !x.device().is_autodiff()
        && pool.kernel_size == [2, 2]
        && pool.stride == [2, 2]
        && pool.dilation == [1, 1]
        && matches!(pool.padding, PaddingConfig2d::Valid)
        && !pool.ceil_mode
    {
        return Tensor::from_dispatch(
            <burn::backend::Dispatch as flex::FlexKernels>::max_pool_2x2(x.into_dispatch()),
        );
    }
    pool.forward(x)
}

/// Whether the kernels can run `x` here: f32 on a flex device.
#[cfg(feature = "flex")]
fn on_flex(x: &Tensor<4>) -> bool {
    use burn::backend::DispatchDevice;
    enabled()
        && x.dtype() == burn::tensor::DType::F32
        && matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_))
}

/// Whether [`batch_norm()`] runs the fused kernel: training mode, f32 on flex.
#[cfg(feature = "flex")]
fn fuses(bn: &BatchNorm, x: &Tensor<4>) -> bool {
    on_flex(x) && x.device().is_autodiff() && bn.training.is_enabled()
}

#[cfg(feature = "flex")]
fn plain_geometry(conv: &Conv2d, x: &Tensor<4>) -> Option<im2col::ConvGeometry> {
    if !on_flex(x) || conv.groups != 1 || conv.dilation != [1, 1] {
        return None;
    }
    let dims = x.dims();
    let [c_out, c_in, kh, kw] = conv.weight.dims();
    // The kernels pad symmetrically; `Same` (asymmetric for even kernels) stays with Burn.
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        _ => return None,
    };
    if c_in != dims[1] {
        return None;
    }
    im2col::ConvGeometry::new(dims, [c_out, kh, kw], conv.stride, padding)
}

#[cfg(feature = "flex")]
fn transposed_geometry(conv: &ConvTranspose2d, x: &Tensor<4>) -> Option<im2col::ConvGeometry> {
    if !on_flex(x) || conv.groups != 1 || conv.dilation != [1, 1] {
        return None;
    }
    let dims = x.dims();
    let [c_in, c_out, kh, kw] = conv.weight.dims();
    if c_in != dims[1] {
        return None;
    }
    im2col::ConvGeometry::transposed(
        dims,
        [c_out, kh, kw],
        conv.stride,
        conv.padding,
        conv.padding_out,
    )
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
    use burn::tensor::Distribution;

    /// Largest difference relative to the reference's largest magnitude.
    fn relative_error<const D: usize>(ours: Tensor<D>, reference: Tensor<D>) -> f32 {
        let scale = reference
            .clone()
            .abs()
            .max()
            .into_scalar::<f32>()
            .max(1e-12);
        (ours - reference).abs().max().into_scalar::<f32>() / scale
    }

    /// Output, input gradient and the gradients of `weights` and `vectors` under `<y, u>`.
    type Passes = (Tensor<4>, Tensor<4>, Vec<Tensor<4>>, Vec<Tensor<1>>);

    fn passes(
        forward: impl Fn(Tensor<4>) -> Tensor<4>,
        x: &Tensor<4>,
        weights: &[Tensor<4>],
        vectors: &[Tensor<1>],
    ) -> Passes {
        let x = x.clone().detach().require_grad();
        let y = forward(x.clone());
        // A fixed probe, not the device's random stream, which tests running beside share.
        let n = y.shape().num_elements() as i64;
        let u = Tensor::<1, Int>::arange(0..n, &y.device())
            .float()
            .mul_scalar(0.37)
            .sin()
            .reshape(y.dims());
        let grads = (y.clone() * u).sum().backward();
        (
            y,
            x.grad(&grads).unwrap(),
            weights.iter().map(|p| p.grad(&grads).unwrap()).collect(),
            vectors.iter().map(|p| p.grad(&grads).unwrap()).collect(),
        )
    }

    fn assert_close(ours: Passes, reference: Passes) {
        assert!(relative_error(ours.0, reference.0) < 1e-4, "output");
        assert!(relative_error(ours.1, reference.1) < 1e-4, "input gradient");
        for (a, b) in ours.2.into_iter().zip(reference.2) {
            assert!(relative_error(a, b) < 1e-4, "weight gradient");
        }
        for (a, b) in ours.3.into_iter().zip(reference.3) {
            assert!(relative_error(a, b) < 1e-4, "bias, gamma or beta gradient");
        }
    }

    #[test]
    fn convolutions_match_burns_forward_and_backward() {
        let device = Device::flex().autodiff();
        device.seed(7);
        // (c_in, c_out, kernel, stride, padding, side)
        for (c_in, c_out, k, s, p, side) in [
            (3, 8, 3, 1, 1, 9),
            (2, 3, 3, 1, 1, 40),
            (4, 6, 3, 2, 1, 10),
            (5, 7, 1, 1, 0, 6),
            (2, 3, 5, 2, 0, 11),
        ] {
            let conv = Conv2dConfig::new([c_in, c_out], [k, k])
                .with_stride([s, s])
                .with_padding(match p {
                    0 => PaddingConfig2d::Valid,
                    p => PaddingConfig2d::Explicit(p, p, p, p),
                })
                .with_bias(c_in != 2) // two of the shapes without bias, as before BatchNorm
                .init(&device);
            let x = Tensor::<4>::random(
                [3, c_in, side, side],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            assert!(
                plain_geometry(&conv, &x).is_some(),
                "the kernels take this shape"
            );
            let weight = conv.weight.val();
            let bias: Vec<_> = conv.bias.iter().map(|b| b.val()).collect();
            let ours = passes(
                |x| conv2d(&conv, x),
                &x,
                std::slice::from_ref(&weight),
                &bias,
            );
            let reference = passes(|x| conv.forward(x), &x, &[weight], &bias);
            assert_close(ours, reference);
        }
    }

    #[test]
    fn transposed_convolutions_match_burns_forward_and_backward() {
        let device = Device::flex().autodiff();
        device.seed(8);
        // (c_in, c_out, kernel, stride, padding, output padding, side)
        for (c_in, c_out, k, s, p, o, side) in [
            (6, 4, 4, 2, 1, 0, 5),
            (3, 5, 3, 2, 1, 1, 4),
            (4, 2, 3, 1, 1, 0, 6),
        ] {
            let conv = ConvTranspose2dConfig::new([c_in, c_out], [k, k])
                .with_stride([s, s])
                .with_padding([p, p])
                .with_padding_out([o, o])
                .init(&device);
            let x = Tensor::<4>::random(
                [2, c_in, side, side],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            assert!(
                transposed_geometry(&conv, &x).is_some(),
                "the kernels take this shape"
            );
            let weight = conv.weight.val();
            let bias = conv.bias.as_ref().unwrap().val();
            let ours = passes(
                |x| conv_transpose2d(&conv, x),
                &x,
                std::slice::from_ref(&weight),
                std::slice::from_ref(&bias),
            );
            let reference = passes(|x| conv.forward(x), &x, &[weight], &[bias]);
            assert_close(ours, reference);
        }
    }

    #[test]
    fn inference_max_pooling_matches_burns() {
        use burn::nn::pool::MaxPool2dConfig;
        let device = Device::flex();
        device.seed(11);
        let pool = MaxPool2dConfig::new([2, 2]).init();
        for [h, w] in [[8, 8], [7, 5], [2, 3], [1, 4]] {
            let x = Tensor::<4>::random([2, 3, h, w], Distribution::Normal(0.0, 1.0), &device);
            let ours = max_pool2d(&pool, x.clone());
            let reference = pool.forward(x);
            assert_eq!(ours.dims(), reference.dims(), "{h}x{w}");
            if ours.shape().num_elements() > 0 {
                assert_eq!(relative_error(ours, reference), 0.0, "{h}x{w}");
            }
        }
    }

    #[test]
    fn inference_batch_norm_matches_burns() {
        use burn::module::{Param, RunningState};
        use burn::nn::BatchNormConfig;
        let device = Device::flex();
        device.seed(10);
        let channel = |low: f64, high: f64| {
            Tensor::<1>::random([5], Distribution::Uniform(low, high), &device)
        };
        let mut bn = BatchNormConfig::new(5).init(&device);
        // Statistics and an affine map far from the identity, as after training.
        bn.gamma = Param::from_tensor(channel(0.5, 2.0));
        bn.beta = Param::from_tensor(channel(-1.0, 1.0));
        bn.running_mean = RunningState::new(channel(-2.0, 2.0));
        bn.running_var = RunningState::new(channel(0.1, 4.0));
        let x = Tensor::<4>::random([3, 5, 6, 7], Distribution::Normal(0.0, 2.0), &device);
        assert!(
            on_flex(&x) && !x.device().is_autodiff(),
            "the kernel runs here"
        );
        for relu in [false, true] {
            let ours = batch_norm(&bn, x.clone(), relu);
            let reference = bn.forward(x.clone());
            let reference = match relu {
                true => burn::tensor::activation::relu(reference),
                false => reference,
            };
            assert!(relative_error(ours, reference) < 1e-5, "relu {relu}");
        }
    }

    #[test]
    fn batch_norm_matches_burns_forward_backward_and_running_statistics() {
        use burn::nn::BatchNormConfig;
        let device = Device::flex().autodiff();
        device.seed(9);
        for relu in [false, true] {
            let bn = BatchNormConfig::new(5).init(&device);
            // Non-zero means and spreads per channel, as after a convolution.
            let x = Tensor::<4>::random([4, 5, 6, 7], Distribution::Normal(0.0, 1.0), &device)
                * 3.0
                + 0.5;
            assert!(fuses(&bn, &x), "the fused kernel runs here");
            let ours = passes(
                |x| batch_norm(&bn, x, relu),
                &x,
                &[],
                &[bn.gamma.val(), bn.beta.val()],
            );
            let ours_stats = (bn.running_mean.value(), bn.running_var.value());
            let reference_bn = BatchNormConfig::new(5).init(&device);
            let reference = passes(
                |x| {
                    let y = reference_bn.forward(x);
                    if relu {
                        burn::tensor::activation::relu(y)
                    } else {
                        y
                    }
                },
                &x,
                &[],
                &[reference_bn.gamma.val(), reference_bn.beta.val()],
            );
            assert!(relative_error(ours_stats.0, reference_bn.running_mean.value()) < 1e-5);
            assert!(relative_error(ours_stats.1, reference_bn.running_var.value()) < 1e-5);
            assert_close(ours, reference);
        }
    }
}
