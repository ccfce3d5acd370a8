//! Whether the data pipeline holds the training step back (docs/benchmarks.md): a method's
//! training steps fed by the trainer's own sample loader (images read and conformed, pretext
//! samples made on `train.workers` threads, batches collated), against as many steps on one
//! batch made beforehand and reused. The loader shares the cores with the step, so the
//! difference is everything generating samples costs the trainer, its start-up at each epoch
//! included.
//!
//! ```text
//! cargo bench --bench pipeline                              # RotNet on full Fashion-MNIST
//! cargo bench --bench pipeline -- --method jigsaw --steps 40
//! ```
//!
//! The rounds alternate (loader, fixed batch, loader, ...) and the medians are compared; each
//! loader round starts a new epoch, as the trainer does.

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use selfsup::data::{FolderOptions, ImageSource, open_source};
use selfsup::train::task::{BatchOf, PretextTask, StepInfo, TaskData};
use selfsup::train::{
    BackendKind, EpochPlan, Method, MethodVisitor, Optimizers, RunConfig, SchedulePlan, setup,
    split_indices,
};

#[derive(Parser, Debug)]
struct Args {
    /// The method whose default configuration trains.
    #[arg(long, default_value = "rotation")]
    method: Method,
    /// The images: full Fashion-MNIST by default, the bundled sample where it is not installed.
    #[arg(long)]
    data: Option<String>,
    /// Timed training steps per round.
    #[arg(long, default_value_t = 60)]
    steps: usize,
    /// Rounds of each kind.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Seconds of each round, loader rounds and fixed-batch rounds.
struct Timings {
    loader: Vec<f64>,
    fixed: Vec<f64>,
    batch_size: usize,
}

/// Runs the rounds for one method's task type.
struct Measure<'a> {
    args: &'a Args,
    source: Arc<dyn ImageSource>,
}

impl MethodVisitor for Measure<'_> {
    type Output = anyhow::Result<Timings>;

    fn visit<T: PretextTask>(self) -> anyhow::Result<Timings> {
        let args = self.args;
        let source = self.source;
        let config = RunConfig::for_method(args.method);
        let t = &config.train;
        let setup = setup(&config, source.as_ref())?;
        let mut task = T::new(&config.method.settings_of::<T>()?, &setup)?;
        let device = BackendKind::Flex.device()?.autodiff();
        device.seed(t.seed);
        let split = split_indices(source.len(), t.seed, t.val_fraction, t.max_images);
        task.prepare(&TaskData {
            source: source.as_ref(),
            train: &split.train,
            val: &split.val,
            images: &setup.images,
            seed: t.seed,
            device: &device,
            batch_size: t.batch_size.max(256),
        })?;
        let mut model = Some(task.model(&device));
        let mut optimizers = Optimizers::new(task.optimizers(t))?;
        let steps_per_epoch = task.epoch_len(split.train.len()).div_ceil(t.batch_size);
        let plan = SchedulePlan::new(steps_per_epoch, args.rounds + 1);
        let mut step = 0usize;
        let mut train = |batch: &BatchOf<T>, epoch: usize| -> anyhow::Result<()> {
            optimizers.set_step(&plan, step);
            let info = StepInfo {
                step,
                epoch,
                steps_per_epoch,
            };
            let (next, output) = task.train_step(
                model.take().expect("the model"),
                batch,
                &mut optimizers,
                info,
            )?;
            // Reading the loss back waits for the step, as the trainer does.
            let _: f32 = output.loss.into_scalar();
            model = Some(next);
            step += 1;
            Ok(())
        };

        let loader = |epoch: usize| -> anyhow::Result<_> {
            let order = task.epoch_order(&split.train, t.seed, epoch);
            Ok(EpochPlan {
                generator: task.generator()?,
                source: source.clone(),
                images: setup.images.clone(),
                seed: t.seed,
                epoch: epoch as u64,
                batch_size: t.batch_size,
                workers: t.workers,
            }
            .spawn(order))
        };
        // The fixed batch, and a few warm-up steps on it.
        let samples = loader(0)?.recv()??;
        let fixed = task.collate(samples, &device);
        for _ in 0..3 {
            train(&fixed, 0)?;
        }

        let mut timings = Timings {
            loader: Vec::new(),
            fixed: Vec::new(),
            batch_size: t.batch_size,
        };
        for round in 0..args.rounds {
            let start = Instant::now();
            let batches = loader(round + 1)?;
            for samples in batches.iter().take(args.steps) {
                train(&task.collate(samples?, &device), round + 1)?;
            }
            timings.loader.push(start.elapsed().as_secs_f64());
            // Dropping the channel stops the loader thread before the next round.
            drop(batches);

            let start = Instant::now();
            for _ in 0..args.steps {
                train(&fixed, round + 1)?;
            }
            timings.fixed.push(start.elapsed().as_secs_f64());
        }
        Ok(timings)
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    selfsup::models::kernels::retain_freed_memory();
    let args = Args::parse();
    anyhow::ensure!(
        args.steps > 0 && args.rounds > 0,
        "--steps and --rounds must be positive"
    );
    let spec = args.data.clone().unwrap_or_else(|| {
        let full = open_source("fashion-mnist:train", FolderOptions::default()).is_ok();
        if full {
            "fashion-mnist:train"
        } else {
            "sample:train"
        }
        .to_string()
    });
    let source: Arc<dyn ImageSource> = Arc::from(open_source(&spec, FolderOptions::default())?);
    println!(
        "{} on {spec} ({} images), {} steps a round, {} rounds of each",
        args.method.name(),
        source.len(),
        args.steps,
        args.rounds
    );
    let timings = args.method.visit(Measure {
        args: &args,
        source,
    })?;
    let rate = |seconds: f64| (args.steps * timings.batch_size) as f64 / seconds;
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (loader, fixed) = (median(&timings.loader), median(&timings.fixed));
    println!("loader rounds (s):      {}", fmt(&timings.loader));
    println!("fixed-batch rounds (s): {}", fmt(&timings.fixed));
    println!(
        "medians: loader {loader:.2} s ({:.1} samples/s), fixed batch {fixed:.2} s ({:.1} samples/s): \
         the loader costs {:+.1}%",
        rate(loader),
        rate(fixed),
        100.0 * (loader / fixed - 1.0)
    );
    Ok(())
}
