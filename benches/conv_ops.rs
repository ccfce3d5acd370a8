//! Every convolution and BatchNorm of the two reference networks (`docs/benchmarks.md`), each
//! pass timed on its own: Burn's flex ops against selfsup's kernels (`selfsup::models::kernels`),
//! same shapes, same thread pool, median of `--runs` after one untimed run.
//!
//! ```text
//! cargo bench --bench conv_ops                 # -- --runs 9
//! ```

use std::time::Instant;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions, ModuleOps};
use burn::tensor::TensorData;
use clap::Parser;
use selfsup::models::kernels::batch_norm;
use selfsup::models::kernels::im2col::{self, ConvGeometry};

#[derive(Parser, Debug)]
struct Args {
    /// Timed runs per pass (the median is printed).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One convolution of a reference network.
struct Layer {
    net: &'static str,
    batch: usize,
    c_in: usize,
    c_out: usize,
    side: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    transposed: bool,
}

const fn conv(
    net: &'static str,
    batch: usize,
    c_in: usize,
    c_out: usize,
    side: usize,
    stride: usize,
) -> Layer {
    Layer {
        net,
        batch,
        c_in,
        c_out,
        side,
        kernel: 3,
        stride,
        padding: 1,
        transposed: false,
    }
}

const fn up(c_in: usize, c_out: usize, side: usize) -> Layer {
    Layer {
        net: "colornet",
        batch: 32,
        c_in,
        c_out,
        side,
        kernel: 4,
        stride: 2,
        padding: 1,
        transposed: true,
    }
}

const LAYERS: [Layer; 13] = [
    conv("rotnet", 128, 3, 64, 32, 1),
    conv("rotnet", 128, 64, 64, 32, 1),
    conv("rotnet", 128, 64, 128, 16, 1),
    conv("rotnet", 128, 128, 128, 16, 1),
    conv("rotnet", 128, 128, 256, 8, 1),
    conv("rotnet", 128, 256, 256, 8, 1),
    conv("colornet", 32, 1, 32, 64, 1),
    conv("colornet", 32, 32, 64, 64, 2),
    conv("colornet", 32, 64, 128, 32, 2),
    conv("colornet", 32, 128, 128, 16, 1),
    up(128, 64, 16),
    up(64, 32, 32),
    conv("colornet", 32, 32, 2, 64, 1),
];

fn values(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

fn flex(values: &[f32], shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values.to_vec(), shape))
}

/// Median milliseconds of `runs` calls of `f`, after one untimed call.
fn median_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    std::hint::black_box(f());
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    let args = Args::parse();
    println!(
        "{:<9} {:<32} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "net", "layer", "fwd burn", "ours", "dx burn", "ours", "dW burn", "ours"
    );
    let mut totals = [0.0f64; 6];
    for l in &LAYERS {
        let (k, s, p) = (l.kernel, l.stride, l.padding);
        let input = [l.batch, l.c_in, l.side, l.side];
        let (g, times) = if l.transposed {
            let g =
                ConvGeometry::transposed(input, [l.c_out, k, k], [s, s], [p, p], [0, 0]).unwrap();
            let options = ConvTransposeOptions::new([s, s], [p, p], [0, 0], [1, 1], 1);
            let out = [l.batch, l.c_out, g.input[0], g.input[1]];
            let (x, w, dy) = (
                values(input.iter().product()),
                values(l.c_in * l.c_out * k * k),
                values(out.iter().product()),
            );
            let wshape = [l.c_in, l.c_out, k, k];
            let times = [
                median_ms(args.runs, || {
                    Flex::conv_transpose2d(flex(&x, input), flex(&w, wshape), None, options.clone())
                }),
                median_ms(args.runs, || im2col::conv2d_input_grad(&g, &w, &x, None)),
                median_ms(args.runs, || {
                    Flex::conv_transpose2d_x_backward(
                        flex(&w, wshape),
                        flex(&dy, out),
                        options.clone(),
                    )
                }),
                median_ms(args.runs, || im2col::conv2d(&g, &dy, &w, None)),
                median_ms(args.runs, || {
                    Flex::conv_transpose2d_weight_backward(
                        flex(&x, input),
                        flex(&w, wshape),
                        flex(&dy, out),
                        options.clone(),
                    )
                }),
                median_ms(args.runs, || im2col::conv2d_weight_grad(&g, &dy, &x)),
            ];
            (g, times)
        } else {
            let g = ConvGeometry::new(input, [l.c_out, k, k], [s, s], [p, p]).unwrap();
            let options = ConvOptions::new([s, s], [p, p], [1, 1], 1);
            let out = [l.batch, l.c_out, g.output[0], g.output[1]];
            let (x, w, dy) = (
                values(input.iter().product()),
                values(l.c_out * l.c_in * k * k),
                values(out.iter().product()),
            );
            let wshape = [l.c_out, l.c_in, k, k];
            let times = [
                median_ms(args.runs, || {
                    Flex::conv2d(flex(&x, input), flex(&w, wshape), None, options.clone())
                }),
                median_ms(args.runs, || im2col::conv2d(&g, &x, &w, None)),
                median_ms(args.runs, || {
                    Flex::conv2d_x_backward(
                        flex(&x, input),
                        flex(&w, wshape),
                        flex(&dy, out),
                        options.clone(),
                    )
                }),
                median_ms(args.runs, || im2col::conv2d_input_grad(&g, &w, &dy, None)),
                median_ms(args.runs, || {
                    Flex::conv2d_weight_backward(
                        flex(&x, input),
                        flex(&w, wshape),
                        flex(&dy, out),
                        options.clone(),
                    )
                }),
                median_ms(args.runs, || im2col::conv2d_weight_grad(&g, &x, &dy)),
            ];
            (g, times)
        };
        let _ = g;
        let name = format!(
            "{}{} {}->{} {}px s{}",
            if l.transposed { "convT" } else { "conv" },
            k,
            l.c_in,
            l.c_out,
            l.side,
            s
        );
        println!(
            "{:<9} {:<32} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            l.net, name, times[0], times[1], times[2], times[3], times[4], times[5]
        );
        totals.iter_mut().zip(times).for_each(|(t, v)| *t += v);
    }
    println!(
        "{:<9} {:<32} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        "all", "sum (ms)", totals[0], totals[1], totals[2], totals[3], totals[4], totals[5]
    );
    println!("(median ms per pass; tensors built inside Burn's timings are copies of the inputs)");

    // rotnet's BatchNorms (training mode), each followed by ReLU in the network: Burn's op
    // without the ReLU against selfsup's with it.
    println!(
        "\n{:<9} {:<32} {:>9} {:>9} {:>9} {:>9}",
        "net", "BatchNorm", "fwd burn", "ours", "bwd burn", "ours"
    );
    let mut totals = [0.0f64; 4];
    for (channels, side) in [(64, 32), (64, 32), (128, 16), (128, 16), (256, 8), (256, 8)] {
        let shape = [128, channels, side, side];
        let dims = [128, channels, side * side];
        let (x, dy) = (
            values(shape.iter().product()),
            values(shape.iter().product()),
        );
        let gamma: Vec<f32> = (0..channels).map(|c| 1.0 + c as f32 / 100.0).collect();
        let beta: Vec<f32> = (0..channels).map(|c| c as f32 / 200.0).collect();
        let vector = |v: &[f32]| FlexTensor::from_data(TensorData::new(v.to_vec(), [channels]));
        let (_, mean, var) = batch_norm::forward(dims, &x, &gamma, &beta, 1e-5, true);
        let times = [
            median_ms(args.runs, || {
                Flex::batch_norm_train(flex(&x, shape), vector(&gamma), vector(&beta), 1e-5)
            }),
            median_ms(args.runs, || {
                batch_norm::forward(dims, &x, &gamma, &beta, 1e-5, true)
            }),
            median_ms(args.runs, || {
                Flex::batch_norm_train_backward(
                    flex(&x, shape),
                    vector(&gamma),
                    vector(&mean),
                    vector(&var),
                    1e-5,
                    flex(&dy, shape),
                )
            }),
            median_ms(args.runs, || {
                batch_norm::backward(dims, &x, &dy, &gamma, &beta, &mean, &var, 1e-5, true)
            }),
        ];
        println!(
            "{:<9} {:<32} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            "rotnet",
            format!("{channels} channels {side}px"),
            times[0],
            times[1],
            times[2],
            times[3]
        );
        totals.iter_mut().zip(times).for_each(|(t, v)| *t += v);
    }
    println!(
        "{:<9} {:<32} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        "all", "sum (ms)", totals[0], totals[1], totals[2], totals[3]
    );
}
