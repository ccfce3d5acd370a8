//! The one training loop every pretext method runs through.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{
    AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig, decay::WeightDecayConfig,
    momentum::MomentumConfig,
};
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use selfsup_data::ImageSource;
use selfsup_models::PretextModel;

use crate::batch::ImageBatcher;
use crate::checkpoint::{self, CheckpointState};
use crate::config::{OptimizerConfig, OptimizerKind, RunConfig};
use crate::curve;
use crate::error::{Result, TrainError};
use crate::loader::{EpochPlan, epoch_order};
use crate::metrics::{EpochRecord, MetricsLog, Row, Tally};
use crate::schedule::learning_rate;
use crate::task::PretextTask;

/// Where a run writes and whether it continues an earlier one.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The run folder (`runs/NAME`): config, metrics, curve, checkpoints.
    pub out_dir: PathBuf,
    /// Continue from `out_dir/checkpoints/last` instead of starting afresh (a fresh run refuses
    /// a folder that already holds checkpoints: [`TrainError::RunExists`]).
    pub resume: bool,
    /// Show a progress bar (it also hides itself when stderr is not a terminal).
    pub progress: bool,
}

/// What a finished run returns.
#[derive(Debug)]
pub struct Trained<M> {
    /// The trained network, on the autodiff device.
    pub model: M,
    /// Per-epoch metrics of the whole run.
    pub history: Vec<EpochRecord>,
    /// The folder of the last checkpoint.
    pub last_checkpoint: PathBuf,
}

/// The split of a source into training and validation images.
#[derive(Clone, Debug, PartialEq)]
pub struct HoldOut {
    /// Training image indices.
    pub train: Vec<usize>,
    /// Validation image indices.
    pub val: Vec<usize>,
}

/// Seeded split: shuffles all indices, keeps `max_images` of them, holds out `val_fraction`.
pub fn split_indices(
    len: usize,
    seed: u64,
    val_fraction: f64,
    max_images: Option<usize>,
) -> HoldOut {
    let mut all: Vec<usize> = (0..len).collect();
    // A stream of its own, so the split does not follow the epoch orders.
    all.shuffle(&mut StdRng::seed_from_u64(
        seed.wrapping_add(0x0005_eed0_f5b1),
    ));
    all.truncate(max_images.unwrap_or(len).min(len));
    let n_val = ((all.len() as f64) * val_fraction).round() as usize;
    let val = all.split_off(all.len() - n_val);
    HoldOut { train: all, val }
}

/// Builds the configured optimiser.
pub fn optimizer(config: &OptimizerConfig) -> ModuleOptimizer {
    let decay =
        (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32));
    match config.kind {
        OptimizerKind::Sgd => SgdConfig::new()
            .with_weight_decay(decay)
            .with_momentum((config.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(config.momentum)
                    .with_dampening(0.0)
                    .with_nesterov(config.nesterov)
            }))
            .init(),
        OptimizerKind::Adam => AdamConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(decay)
            .init(),
    }
}

/// The channels and side the model takes: configured, or from the first image.
fn input_shape(config: &RunConfig, source: &dyn ImageSource) -> Result<(usize, usize)> {
    let [c, h, w] = source.shape(0)?;
    let channels = config.train.channels.unwrap_or(if c == 1 { 1 } else { 3 });
    Ok((channels, config.train.image_size.unwrap_or(h.min(w))))
}

fn bar(len: usize, epoch: usize, epochs: usize, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} steps, {per_sec}, eta {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}

/// Trains `T`'s network on `source` as `config` says, writing the run folder; see
/// [`RunOptions`]. Returns when all epochs are done.
pub fn train<T: PretextTask>(
    task: &mut T,
    config: &RunConfig,
    source: Arc<dyn ImageSource>,
    device: &Device,
    options: &RunOptions,
) -> Result<Trained<T::Model>> {
    config.validate()?;
    if source.is_empty() {
        return Err(TrainError::InvalidConfig {
            what: "data",
            reason: format!("{} holds no images", source.describe()),
        });
    }
    let t = &config.train;
    let (channels, side) = input_shape(config, source.as_ref())?;
    let conform = ImageBatcher::new(channels, side, side)?;
    let split = split_indices(source.len(), t.seed, t.val_fraction, t.max_images);
    let steps_per_epoch = split.train.len().div_ceil(t.batch_size);
    let out = &options.out_dir;
    let checkpoints = out.join("checkpoints");
    // A fresh run would overwrite the folder's checkpoints after its first epoch.
    if !options.resume && checkpoints.join("last").exists() {
        return Err(TrainError::RunExists { path: out.clone() });
    }
    std::fs::create_dir_all(&checkpoints).map_err(|e| TrainError::io(&checkpoints, e))?;

    let ad = device.clone().autodiff();
    ad.seed(t.seed);
    let mut model = checkpoint::stable_param_ids(task.model(channels, &ad), T::NAME);
    let mut optim = optimizer(&t.optimizer);
    let (mut history, mut step, start_epoch) = if options.resume {
        let last = checkpoints.join("last");
        let state = checkpoint::load_state(&last)?;
        if state.method != T::NAME {
            return Err(TrainError::checkpoint(
                &last,
                format!(
                    "was written by method '{}', not '{}'",
                    state.method,
                    T::NAME
                ),
            ));
        }
        if (state.in_channels, state.image_size) != (channels, side) {
            return Err(TrainError::checkpoint(
                &last,
                format!(
                    "model takes {}x{}x{} images but this run's data gives {channels}x{side}x{side}",
                    state.in_channels, state.image_size, state.image_size
                ),
            ));
        }
        model = checkpoint::load_model(model, &last)?;
        optim = checkpoint::load_optimizer(optim, &last)?;
        (state.history, state.step, state.epoch)
    } else {
        (Vec::new(), 0, 0)
    };
    std::fs::write(out.join("config.toml"), config.to_toml())
        .map_err(|e| TrainError::io(out.join("config.toml"), e))?;
    let mut log = MetricsLog::open(&out.join("metrics.csv"), step)?;
    let mut best = history
        .iter()
        .map(|r| r.val_loss.unwrap_or(r.train_loss))
        .fold(f64::INFINITY, f64::min);

    for epoch in start_epoch..t.epochs {
        let started = Instant::now();
        task.on_epoch_start(&model, epoch)?;
        let plan = EpochPlan {
            generator: task.generator()?,
            source: source.clone(),
            conform: conform.clone(),
            seed: t.seed,
            epoch: epoch as u64,
            batch_size: t.batch_size,
            workers: t.workers,
        };
        let batches = plan
            .clone()
            .spawn(epoch_order(&split.train, t.seed, epoch as u64));
        let progress = bar(steps_per_epoch, epoch + 1, t.epochs, options.progress);
        let mut tally = Tally::default();
        let mut lr = 0.0;
        let mut inputs = 0usize;
        let mut busy = 0.0f64;
        for samples in batches {
            let tick = Instant::now();
            let samples = samples?;
            let n = samples.len() * task.inputs_per_sample();
            let batch = task.collate(samples, &ad);
            lr = learning_rate(&t.optimizer, &t.schedule, step, steps_per_epoch, t.epochs);
            let output = model.forward_step(&batch);
            let loss = output.loss.clone().into_scalar::<f32>();
            if !loss.is_finite() {
                progress.abandon();
                return Err(TrainError::NonFinite {
                    step: step + 1,
                    epoch: epoch + 1,
                    loss,
                });
            }
            let grads = GradientsParams::from_grads(output.loss.backward(), &model);
            model = optim.step(lr, model, grads);
            let correct = output
                .correct
                .map(|(hits, total)| (hits.into_scalar::<i64>() as usize, total));
            step += 1;
            tally.add(loss, correct);
            let seconds = tick.elapsed().as_secs_f64();
            busy += seconds;
            inputs += n;
            let rate = n as f64 / seconds;
            log.row(Row {
                epoch: epoch + 1,
                step,
                split: "train",
                loss: f64::from(loss),
                accuracy: correct.map(|(c, n)| c as f64 / n as f64),
                lr,
                images_per_second: Some(rate),
            })?;
            progress.inc(1);
            progress.set_message(format!(
                "loss {:.4}{} lr {lr:.2e}",
                tally.loss(),
                tally
                    .accuracy()
                    .map_or(String::new(), |a| format!(" acc {:.1}%", 100.0 * a))
            ));
        }
        progress.finish_and_clear();

        let val = (!split.val.is_empty())
            .then(|| validate(task, &model, &plan, &split.val))
            .transpose()?;
        if let Some(v) = &val {
            log.row(Row {
                epoch: epoch + 1,
                step,
                split: "val",
                loss: v.loss(),
                accuracy: v.accuracy(),
                lr,
                images_per_second: None,
            })?;
        }
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss: tally.loss(),
            train_accuracy: tally.accuracy(),
            val_loss: val.map(|v| v.loss()),
            val_accuracy: val.and_then(|v| v.accuracy()),
            lr,
            images_per_second: inputs as f64 / busy.max(f64::EPSILON),
            seconds: started.elapsed().as_secs_f64(),
        };
        if options.progress {
            eprintln!("{}", describe(&record, t.epochs));
        }
        history.push(record.clone());
        let state = CheckpointState {
            method: T::NAME.to_string(),
            config: config.clone(),
            epoch: epoch + 1,
            step,
            seed: t.seed,
            in_channels: channels,
            image_size: side,
            history: history.clone(),
        };
        checkpoint::save(&checkpoints.join("last"), &model, &optim, &state)?;
        let score = record.val_loss.unwrap_or(record.train_loss);
        if score < best {
            best = score;
            checkpoint::save(&checkpoints.join("best"), &model, &optim, &state)?;
        }
        if t.checkpoint_every > 0 && (epoch + 1) % t.checkpoint_every == 0 {
            checkpoint::save(
                &checkpoints.join(format!("epoch-{:04}", epoch + 1)),
                &model,
                &optim,
                &state,
            )?;
        }
        curve::draw(&history, &out.join("curves.png"))?;
    }
    Ok(Trained {
        model,
        history,
        last_checkpoint: checkpoints.join("last"),
    })
}

/// One line about a finished epoch.
pub fn describe(r: &EpochRecord, epochs: usize) -> String {
    let pct = |a: Option<f64>| a.map_or("-".to_string(), |a| format!("{:.2}%", 100.0 * a));
    format!(
        "epoch {}/{epochs}: train loss {:.4} acc {}, val loss {} acc {}, {:.0} img/s, {:.1}s",
        r.epoch,
        r.train_loss,
        pct(r.train_accuracy),
        r.val_loss.map_or("-".to_string(), |l| format!("{l:.4}")),
        pct(r.val_accuracy),
        r.images_per_second,
        r.seconds
    )
}

/// Loss and accuracy of the network in inference mode on the validation images, with the
/// samples of epoch 0 so that every epoch is judged on the same inputs.
fn validate<T: PretextTask>(
    task: &T,
    model: &T::Model,
    plan: &EpochPlan<T::Generator>,
    val: &[usize],
) -> Result<Tally> {
    let model = model.valid();
    let device = model.devices().into_iter().next().unwrap_or_default();
    let plan = EpochPlan {
        epoch: u64::MAX,
        ..plan.clone()
    };
    let mut tally = Tally::default();
    for samples in plan.spawn(val.to_vec()) {
        let batch = task.collate(samples?, &device);
        let output = model.forward_step(&batch);
        let correct = output
            .correct
            .map(|(hits, total)| (hits.into_scalar::<i64>() as usize, total));
        tally.add(output.loss.into_scalar::<f32>(), correct);
    }
    Ok(tally)
}

/// The `config.toml` saved in a run folder.
pub fn run_config(run: &Path) -> Result<RunConfig> {
    RunConfig::load(&run.join("config.toml"))
}
