//! Training-step benchmark of the two reference networks on each compiled CPU backend, with the
//! protocol of `torch_bench.py` (see `docs/benchmarks.md`): one fixed batch of U[0, 1) inputs,
//! Adam(lr 1e-3), `warmup` untimed steps then `steps` timed ones, the loss read back every step;
//! inference = forward only in eval mode. Each (backend, model) runs in its own process so that
//! its peak RSS is its own.
//!
//! ```text
//! cargo bench --bench backends                              # flex, both models
//! cargo bench --bench backends -- --backend ndarray --steps 2 --warmup 1
//! ```

use std::process::Command;
use std::time::Instant;

use burn::nn::loss::{CrossEntropyLossConfig, MseLoss, Reduction};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};
use clap::Parser;
use selfsup::models::kernels;
use selfsup::train::BackendKind;

mod reference;

use reference::{ColorNetReference, RotNetReference};

#[derive(Parser, Debug, Clone)]
struct Args {
    /// Backend to measure, several separated by commas, or `all` for every compiled CPU backend.
    #[arg(long, default_value = "flex")]
    backend: String,
    /// Images per batch instead of the spec's (rotnet 128, colornet 32): `benches/gpu.sh
    /// --smoke` uses a tiny one.
    #[arg(long)]
    batch: Option<usize>,
    /// `rotnet`, `colornet` or `all`.
    #[arg(long, default_value = "all")]
    model: String,
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    #[arg(long, default_value_t = 10)]
    steps: usize,
    #[arg(long, default_value_t = 10)]
    infer_batches: usize,
    /// Convolution kernels: `burn` (Burn's own ops), `selfsup` (`selfsup::models::kernels`,
    /// flex only) or `both`, one after the other for each model.
    #[arg(long, default_value = "both")]
    kernels: String,
    /// Leave glibc's allocator as it is instead of `kernels::retain_freed_memory()` (which the
    /// `selfsup` binary calls), to measure what that gains.
    #[arg(long)]
    default_allocator: bool,
    /// Run one (backend, model) in this process and print a JSON line (used internally).
    #[arg(long, hide = true)]
    child: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Forward GFLOP of one batch of `batch` images, from the spec (2 x multiply-adds of
/// conv/linear layers; the spec's batches are 128 and 32 images).
fn forward_gflop(model: &str, batch: usize) -> f64 {
    match model {
        "rotnet" => 117.3 / 3.0 * batch as f64 / 128.0,
        _ => 28.1 / 3.0 * batch as f64 / 32.0,
    }
}

/// The CPU model and whether it has AVX-512 (the gemm kernels differ), from /proc/cpuinfo.
fn cpu_line() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split(':').nth(1))
            .map(str::trim)
            .unwrap_or("unknown")
            .to_string()
    };
    let avx512 = field("flags").split_whitespace().any(|f| f == "avx512f");
    format!(
        "cpu: {} ({} logical cores here; avx512f: {})",
        field("model name"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if avx512 { "yes" } else { "no" }
    )
}

/// Busy CPU seconds of the whole machine, from /proc/stat.
fn machine_busy_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<f64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0.0);
    Some((v.iter().take(8).sum::<f64>() - idle) / 100.0)
}

/// CPU seconds used by this process, from /proc/self/stat.
fn own_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Times `f` over `n` runs; returns (total seconds, median ms, cores used by other processes,
/// the values `f` returned).
fn timed(n: usize, mut f: impl FnMut() -> f32) -> (f64, f64, f64, Vec<f32>) {
    let (busy0, cpu0) = (machine_busy_s(), own_cpu_s());
    let start = Instant::now();
    let mut times = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        values.push(f());
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let total = start.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    let other = match (busy0, machine_busy_s(), cpu0, own_cpu_s()) {
        (Some(b0), Some(b1), Some(c0), Some(c1)) => ((b1 - b0) - (c1 - c0)).max(0.0) / total,
        _ => f64::NAN,
    };
    (total, times[n / 2], other, values)
}

/// A reference network with its loss, as the benchmark drives it.
trait SpecNet: Module + 'static {
    /// What the loss compares the output with.
    type Target: Clone;

    fn loss(&self, x: Tensor<4>, target: &Self::Target) -> Tensor<1>;

    /// One output value, read back to the host so that the forward pass really completes.
    fn probe(&self, x: Tensor<4>) -> f32;
}

impl SpecNet for RotNetReference {
    type Target = Tensor<1, Int>;

    fn loss(&self, x: Tensor<4>, target: &Self::Target) -> Tensor<1> {
        let device = x.device();
        CrossEntropyLossConfig::new()
            .init(&device)
            .forward(self.forward(x), target.clone())
    }

    fn probe(&self, x: Tensor<4>) -> f32 {
        self.forward(x).slice([0..1, 0..1]).into_scalar::<f32>()
    }
}

impl SpecNet for ColorNetReference {
    type Target = Tensor<4>;

    fn loss(&self, x: Tensor<4>, target: &Self::Target) -> Tensor<1> {
        MseLoss::new().forward(self.forward(x), target.clone(), Reduction::Mean)
    }

    fn probe(&self, x: Tensor<4>) -> f32 {
        self.forward(x)
            .slice([0..1, 0..1, 0..1, 0..1])
            .into_scalar::<f32>()
    }
}

/// Trains `model` on one fixed batch, then times inference; returns the result fields.
fn measure<M: SpecNet>(
    model: M,
    x: Tensor<4>,
    target: M::Target,
    x_infer: Tensor<4>,
    args: &Args,
) -> serde_json::Value {
    let mut optim = AdamConfig::new().init();
    let mut slot = Some(model);
    let mut step = || {
        let model = slot.take().expect("the model is put back after every step");
        let loss = model.loss(x.clone(), &target);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        slot = Some(optim.step(1e-3, model, grads));
        loss.into_scalar::<f32>()
    };
    (0..args.warmup).for_each(|_| {
        step();
    });
    kernels::timing::reset();
    let (train_s, step_ms, train_other, losses) = timed(args.steps, &mut step);
    // Mean milliseconds per step in each pass of selfsup's kernels (zero with Burn's).
    let per_pass: serde_json::Map<String, serde_json::Value> = kernels::timing::Pass::ALL
        .iter()
        .map(|&pass| {
            let ms = kernels::timing::seconds(pass) * 1e3 / args.steps as f64;
            (pass.name().to_string(), ms.into())
        })
        .collect();
    let model = slot.take().expect("trained model").valid();
    (0..args.warmup).for_each(|_| {
        model.probe(x_infer.clone());
    });
    let (infer_s, _, infer_other, _) = timed(args.infer_batches, || model.probe(x_infer.clone()));
    let batch = x_infer.dims()[0];
    let gflop = forward_gflop(&args.model, batch);
    serde_json::json!({
        "backend": args.backend,
        "model": args.model,
        "kernels": args.kernels,
        "batch": batch,
        "steps": args.steps,
        "train_img_s": (args.steps * batch) as f64 / train_s,
        "train_step_ms_median": step_ms,
        "train_gflops": 3.0 * gflop * args.steps as f64 / train_s,
        "train_other_cores": train_other,
        "infer_img_s": (args.infer_batches * batch) as f64 / infer_s,
        "infer_gflops": gflop * args.infer_batches as f64 / infer_s,
        "infer_other_cores": infer_other,
        "loss_first": losses.first(),
        "loss_last": losses.last(),
        "peak_rss_mb": peak_rss_mb(),
        "train_step_ms_mean": train_s * 1e3 / args.steps as f64,
        "kernel_ms_per_step": per_pass,
    })
}

fn run_child(args: &Args) -> anyhow::Result<()> {
    kernels::set_enabled(args.kernels == "selfsup");
    if !args.default_allocator {
        kernels::retain_freed_memory();
    }
    let backend: BackendKind = args.backend.parse()?;
    let device = backend.device()?;
    let ad = device.clone().autodiff();
    ad.seed(0);
    device.seed(0);
    let result = match args.model.as_str() {
        "rotnet" => {
            let n = args.batch.unwrap_or(128);
            let labels: Vec<i64> = (0..n as i64).map(|i| (i * 7 + 3) % 4).collect();
            measure(
                RotNetReference::new(&ad),
                Tensor::random([n, 3, 32, 32], Distribution::Default, &ad),
                Tensor::from_data(TensorData::new(labels, [n]), &ad),
                Tensor::random([n, 3, 32, 32], Distribution::Default, &device),
                args,
            )
        }
        "colornet" => {
            let n = args.batch.unwrap_or(32);
            measure(
                ColorNetReference::new(&ad),
                Tensor::random([n, 1, 64, 64], Distribution::Default, &ad),
                Tensor::random([n, 2, 64, 64], Distribution::Default, &ad),
                Tensor::random([n, 1, 64, 64], Distribution::Default, &device),
                args,
            )
        }
        other => anyhow::bail!("unknown model '{other}': expected rotnet or colornet"),
    };
    println!("JSON {result}");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.child {
        return run_child(&args);
    }
    reference::check_spec(&BackendKind::Flex.device()?).map_err(anyhow::Error::msg)?;
    let backends: Vec<BackendKind> = if args.backend == "all" {
        BackendKind::compiled()
            .into_iter()
            .filter(|b| b.is_cpu())
            .collect()
    } else {
        args.backend
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()?
    };
    let models: Vec<&str> = match args.model.as_str() {
        "all" => vec!["rotnet", "colornet"],
        m => vec![m],
    };
    let kernels: Vec<&str> = match args.kernels.as_str() {
        "both" => vec!["burn", "selfsup"],
        k => vec![k],
    };
    println!("{}", cpu_line());
    println!(
        "{:<8} {:<8} {:<9} {:>11} {:>9} {:>11} {:>9} {:>10} {:>12} {:>16}",
        "backend",
        "kernels",
        "model",
        "train img/s",
        "GFLOP/s",
        "infer img/s",
        "GFLOP/s",
        "peak RSS",
        "step median",
        "other cores busy"
    );
    let mut per_pass_rows = Vec::new();
    for backend in backends {
        for (model, kernels) in models
            .iter()
            .flat_map(|m| kernels.iter().map(move |k| (m, k)))
        {
            let out = Command::new(std::env::current_exe()?)
                .args(["--child", "--backend", backend.name(), "--model", model])
                .args(["--kernels", kernels])
                .args(["--warmup", &args.warmup.to_string()])
                .args(["--steps", &args.steps.to_string()])
                .args(["--infer-batches", &args.infer_batches.to_string()])
                .args(args.batch.map(|n| format!("--batch={n}")))
                .args(args.default_allocator.then_some("--default-allocator"))
                .output()?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("JSON ")) else {
                anyhow::bail!(
                    "{backend}/{model} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            let r: serde_json::Value = serde_json::from_str(line)?;
            let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:<8} {:<8} {:<9} {:>11.1} {:>9.1} {:>11.1} {:>9.1} {:>7.0} MB {:>9.1} ms {:>7.2}/{:<8.2}",
                backend.name(),
                kernels,
                model,
                f("train_img_s"),
                f("train_gflops"),
                f("infer_img_s"),
                f("infer_gflops"),
                f("peak_rss_mb"),
                f("train_step_ms_median"),
                f("train_other_cores"),
                f("infer_other_cores"),
            );
            if *kernels == "selfsup" {
                per_pass_rows.push((model.to_string(), r.clone()));
            }
        }
    }
    println!(
        "(train step = forward + backward + Adam; GFLOP/s from the spec's FLOP counts; \
         other cores busy = cores used by other processes during timed train/infer)"
    );
    for (model, r) in per_pass_rows {
        let step = r["train_step_ms_mean"].as_f64().unwrap_or(f64::NAN);
        println!("\n{model}, selfsup's kernels: {step:.0} ms per training step (mean)");
        let mut kernels_ms = 0.0;
        for pass in kernels::timing::Pass::ALL {
            let ms = r["kernel_ms_per_step"][pass.name()]
                .as_f64()
                .unwrap_or(f64::NAN);
            kernels_ms += ms;
            println!(
                "  {:<26} {ms:8.1} ms {:5.1}%",
                pass.name(),
                100.0 * ms / step
            );
        }
        let rest = step - kernels_ms;
        println!(
            "  {:<26} {rest:8.1} ms {:5.1}%",
            "everything else (Burn)",
            100.0 * rest / step
        );
    }
    Ok(())
}
