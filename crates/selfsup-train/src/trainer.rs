//! The one training loop every pretext method runs through: [`train`] drives a
//! [`PretextTask`] through its epochs (see the task module for the hook order), writes the run
//! folder and resumes exactly from its last checkpoint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use selfsup_data::pretext::sample_rng;
use selfsup_data::{ImageSource, InputSpec};
use selfsup_models::{PretextModel, StepOutput};

use crate::checkpoint::{self, CheckpointState, DataRecord, fnv1a};
use crate::config::RunConfig;
use crate::curve;
use crate::error::{Result, TrainError};
use crate::loader::EpochPlan;
use crate::metrics::{EpochRecord, Metrics, MetricsLog, Row, Tally};
use crate::optim::Optimizers;
use crate::schedule::SchedulePlan;
use crate::task::{PretextTask, Setup, StepInfo, TaskData};

/// Where a run writes, whether it continues an earlier one, and what its data is called.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The run folder (`runs/NAME`): config, metrics, curves, checkpoints.
    pub out_dir: PathBuf,
    /// Continue from `out_dir/checkpoints/last` instead of starting afresh (a fresh run refuses
    /// a folder that already holds checkpoints: [`TrainError::RunExists`]).
    pub resume: bool,
    /// Show a progress bar (it also hides itself when stderr is not a terminal).
    pub progress: bool,
    /// The data source as named on the command line, recorded in the checkpoints.
    pub data_spec: Option<String>,
    /// Resume on data other than the checkpoint's, on purpose.
    pub change_data: bool,
    /// Stop once this many epochs of the run are done, as if interrupted, to continue later
    /// with `resume` (the schedule still plans for `train.epochs`).
    pub stop_after: Option<usize>,
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

/// How the run conforms source images: the configured channels and side, or the first image's.
pub fn image_spec(config: &RunConfig, source: &dyn ImageSource) -> Result<InputSpec> {
    let [c, h, w] = source.shape(0)?;
    let channels = config.train.channels.unwrap_or(if c == 1 { 1 } else { 3 });
    Ok(InputSpec::plain(
        channels,
        config.train.image_size.unwrap_or(h.min(w)),
    )?)
}

/// What a task is built from for `config` on `source`.
///
/// Opening a source and building a method's task and network by hand (what [`train`] does
/// first):
///
/// ```
/// use selfsup_data::{FolderOptions, open_source};
/// use selfsup_train::task::PretextTask;
/// use selfsup_train::{BackendKind, Method, RotationTask, RunConfig, setup};
///
/// let source = open_source("sample:test", FolderOptions::default())?;
/// let config = RunConfig::for_method(Method::Rotation);
/// let settings = config.method.settings_of::<RotationTask>()?;
/// let task = RotationTask::new(&settings, &setup(&config, source.as_ref())?)?;
/// let model = task.model(&BackendKind::Flex.device()?);
/// assert_eq!(task.networks()[0].name, "backbone");
/// # let _ = model;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn setup(config: &RunConfig, source: &dyn ImageSource) -> Result<Setup> {
    Ok(Setup {
        backbone: config.backbone.clone(),
        images: image_spec(config, source)?,
        seed: config.train.seed,
        train: config.train.clone(),
    })
}

/// Trains `task`'s network on `source` as `config` says, writing the run folder; see
/// [`RunOptions`]. Returns when all epochs are done.
pub fn train<T: PretextTask>(
    task: T,
    config: &RunConfig,
    source: Arc<dyn ImageSource>,
    device: &Device,
    options: &RunOptions,
) -> Result<Trained<T::Model>> {
    Trainer::start(task, config, source, device, options)?.run()
}

/// One line about a finished epoch.
pub fn describe(r: &EpochRecord, epochs: usize) -> String {
    let values = |m: &Metrics| {
        let mut names: Vec<&String> = m.keys().collect();
        names.sort_by_key(|n| (n.as_str() != "loss", n.as_str()));
        names
            .into_iter()
            .map(|n| format_metric(n, m[n]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut line = format!("epoch {}/{epochs}: train {}", r.epoch, values(&r.train));
    if !r.val.is_empty() {
        line += &format!(", val {}", values(&r.val));
    }
    if !r.hook.is_empty() {
        line += &format!(", {}", values(&r.hook));
    }
    line + &format!(", {:.0} img/s, {:.1}s", r.images_per_second, r.seconds)
}

fn format_metric(name: &str, value: f64) -> String {
    if name.contains("accuracy") || name.ends_with("_acc") {
        format!("{name} {:.2}%", 100.0 * value)
    } else {
        format!("{name} {value:.4}")
    }
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

/// The settings a resumed run may change: its length and how it is run, not what it is.
const RESUMABLE: [&str; 3] = ["train.epochs", "train.workers", "train.checkpoint_every"];

/// The first key (dotted path) where two configuration tables differ, with both values.
fn first_difference(
    a: &toml::Table,
    b: &toml::Table,
    path: &str,
) -> Option<(String, String, String)> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if RESUMABLE.contains(&full.as_str()) {
            continue;
        }
        match (a.get(key), b.get(key)) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
                if let Some(d) = first_difference(x, y, &full) {
                    return Some(d);
                }
            }
            (x, y) if x != y => {
                let show = |v: Option<&toml::Value>| v.map_or("(unset)".into(), |v| v.to_string());
                return Some((full, show(x), show(y)));
            }
            _ => {}
        }
    }
    None
}

fn digest(split: &HoldOut) -> String {
    let bytes: Vec<u8> = split
        .train
        .iter()
        .chain(&split.val)
        .flat_map(|i| (*i as u64).to_le_bytes())
        .collect();
    format!("{:016x}", fnv1a(&bytes))
}

/// Reads a step's loss and metrics with one transfer from the device.
fn read_values(output: &StepOutput) -> Result<Vec<(&'static str, f64)>> {
    let mut tensors = vec![output.loss.clone().detach().reshape([1])];
    tensors.extend(output.metrics.iter().map(|(_, t)| t.clone().reshape([1])));
    let values = Tensor::cat(tensors, 0)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| TrainError::Loader(format!("reading step values: {e:?}")))?;
    Ok(std::iter::once("loss")
        .chain(output.metrics.iter().map(|(n, _)| *n))
        .zip(values.into_iter().map(f64::from))
        .collect())
}

/// A run in progress.
struct Trainer<'a, T: PretextTask> {
    task: T,
    config: &'a RunConfig,
    options: &'a RunOptions,
    source: Arc<dyn ImageSource>,
    images: InputSpec,
    split: HoldOut,
    data: DataRecord,
    ad: Device,
    /// The network; `None` only while a hook or step holds it.
    model: Option<T::Model>,
    optimizers: Optimizers,
    plan: SchedulePlan,
    generations: BTreeMap<String, u64>,
    history: Vec<EpochRecord>,
    step: usize,
    start_epoch: usize,
    log: MetricsLog,
    checkpoints: PathBuf,
}

impl<'a, T: PretextTask> Trainer<'a, T> {
    /// Checks the run, builds or restores every piece and opens the run folder.
    fn start(
        mut task: T,
        config: &'a RunConfig,
        source: Arc<dyn ImageSource>,
        device: &Device,
        options: &'a RunOptions,
    ) -> Result<Self> {
        config.validate()?;
        if config.method.name() != T::NAME {
            return Err(TrainError::InvalidConfig {
                what: "method".into(),
                reason: format!(
                    "the configuration is for '{}' but the task is '{}'",
                    config.method.name(),
                    T::NAME
                ),
            });
        }
        if source.is_empty() {
            return Err(TrainError::InvalidConfig {
                what: "data".into(),
                reason: format!("{} holds no images", source.describe()),
            });
        }
        let t = &config.train;
        let images = image_spec(config, source.as_ref())?;
        let split = split_indices(source.len(), t.seed, t.val_fraction, t.max_images);
        if split.train.is_empty() {
            return Err(TrainError::InvalidConfig {
                what: "data".into(),
                reason: format!(
                    "no training images: {} has {} images, of which train.max_images = {} and \
                     train.val_fraction = {} leave none to train on",
                    source.describe(),
                    source.len(),
                    t.max_images.map_or("(all)".into(), |m| m.to_string()),
                    t.val_fraction
                ),
            });
        }
        let data = DataRecord {
            spec: options.data_spec.clone(),
            description: source.describe(),
            images: source.len(),
            train: split.train.len(),
            val: split.val.len(),
            split_digest: digest(&split),
        };
        let out = &options.out_dir;
        let checkpoints = out.join("checkpoints");
        // A fresh run would overwrite the folder's checkpoints after its first epoch.
        if !options.resume && checkpoints.join("last").exists() {
            return Err(TrainError::RunExists { path: out.clone() });
        }

        let ad = device.clone().autodiff();
        ad.seed(t.seed);
        let fresh = task.model(&ad);
        let mut optimizers = Optimizers::new(task.optimizers(t))?;
        let steps_per_epoch = task.epoch_len(split.train.len()).div_ceil(t.batch_size);
        let mut plan = SchedulePlan::new(steps_per_epoch, t.epochs);
        let (model, generations, history, step, start_epoch) = if options.resume {
            let last = checkpoint::resolve(&checkpoints.join("last"))?;
            let state = checkpoint::load_state(&last)?;
            Self::check_resume(&state, config, &images, &data, options, &last)?;
            let model = checkpoint::stable_param_ids(fresh, T::NAME, &state.generations);
            let model = checkpoint::load_model(model, &last)?;
            optimizers.load(&last, &state.optimizers)?;
            task.restore(checkpoint::load_task_state(&last)?)?;
            plan = SchedulePlan {
                steps_per_epoch,
                segments: state.schedule.clone(),
            }
            .extended(state.step, t.epochs);
            (
                model,
                state.generations,
                state.history,
                state.step,
                state.epoch,
            )
        } else {
            task.prepare(&TaskData {
                source: source.as_ref(),
                train: &split.train,
                val: &split.val,
                images: &images,
                seed: t.seed,
                device: &ad,
                batch_size: t.batch_size.max(256),
            })?;
            let generations = BTreeMap::new();
            let model = checkpoint::stable_param_ids(fresh, T::NAME, &generations);
            (model, generations, Vec::new(), 0, 0)
        };

        std::fs::create_dir_all(&checkpoints).map_err(|e| TrainError::io(&checkpoints, e))?;
        std::fs::write(out.join("config.toml"), config.to_toml())
            .map_err(|e| TrainError::io(out.join("config.toml"), e))?;
        let mut metric_names = vec!["loss"];
        metric_names.extend(task.step_metrics());
        metric_names.extend(task.epoch_metrics());
        let optimizer_names: Vec<&str> = optimizers.rates().iter().map(|(n, _)| *n).collect();
        let log = MetricsLog::open(
            &out.join("metrics.csv"),
            &optimizer_names,
            &metric_names,
            step,
        )?;
        Ok(Self {
            task,
            config,
            options,
            source,
            images,
            split,
            data,
            ad,
            model: Some(model),
            optimizers,
            plan,
            generations,
            history,
            step,
            start_epoch,
            log,
            checkpoints,
        })
    }

    /// Refuses to resume a checkpoint that is not this run continued.
    fn check_resume(
        state: &CheckpointState,
        config: &RunConfig,
        images: &InputSpec,
        data: &DataRecord,
        options: &RunOptions,
        last: &Path,
    ) -> Result<()> {
        if state.method != T::NAME {
            return Err(TrainError::checkpoint(
                last,
                format!(
                    "was written by method '{}', not '{}'",
                    state.method,
                    T::NAME
                ),
            ));
        }
        if let Some((key, was, now)) =
            first_difference(&state.config.to_table(), &config.to_table(), "")
        {
            return Err(TrainError::ResumeMismatch { key, was, now });
        }
        if &state.images != images {
            return Err(TrainError::checkpoint(
                last,
                format!(
                    "the run's images are {}x{}x{} but this data gives {}x{}x{}",
                    state.images.image_channels,
                    state.images.side,
                    state.images.side,
                    images.image_channels,
                    images.side,
                    images.side
                ),
            ));
        }
        if config.train.epochs < state.epoch {
            return Err(TrainError::InvalidConfig {
                what: "train.epochs".into(),
                reason: format!(
                    "{} is fewer than the {} epochs the run has already trained",
                    config.train.epochs, state.epoch
                ),
            });
        }
        let same = |a: &DataRecord, b: &DataRecord| {
            (&a.description, a.images, a.train, a.val, &a.split_digest)
                == (&b.description, b.images, b.train, b.val, &b.split_digest)
        };
        if !options.change_data && !same(&state.data, data) {
            let name = |d: &DataRecord| {
                format!(
                    "{} ({} images{})",
                    d.spec.clone().unwrap_or_else(|| d.description.clone()),
                    d.images,
                    if d.spec.is_some() {
                        format!(", {}", d.description)
                    } else {
                        String::new()
                    }
                )
            };
            return Err(TrainError::DataChanged {
                was: name(&state.data),
                now: name(data),
            });
        }
        Ok(())
    }

    fn take_model(&mut self) -> T::Model {
        self.model
            .take()
            .expect("the network is back after every hook and step")
    }

    /// Runs the remaining epochs.
    fn run(mut self) -> Result<Trained<T::Model>> {
        let end = self
            .options
            .stop_after
            .map_or(self.config.train.epochs, |n| {
                n.min(self.config.train.epochs)
            });
        for epoch in self.start_epoch..end {
            let started = Instant::now();
            let hook = self.begin_epoch(epoch)?;
            let (train, images_per_second) = self.train_epoch(epoch)?;
            let val = self.validate()?;
            let mut record = EpochRecord {
                epoch: epoch + 1,
                train,
                val,
                hook,
                lr: self
                    .optimizers
                    .rates()
                    .into_iter()
                    .map(|(n, r)| (n.to_string(), r))
                    .collect(),
                images_per_second,
                seconds: started.elapsed().as_secs_f64(),
                notes: Vec::new(),
            };
            record.notes = self.task.epoch_notes(&self.history, &record);
            for note in &record.notes {
                eprintln!("note (epoch {}): {note}", record.epoch);
            }
            self.finish_epoch(record)?;
        }
        Ok(Trained {
            model: self.take_model(),
            history: self.history,
            last_checkpoint: self.checkpoints.join("last"),
        })
    }

    /// The task's epoch-start hook; parameters it re-initialised get fresh ids.
    fn begin_epoch(&mut self, epoch: usize) -> Result<Metrics> {
        // The device's random stream restarts from (seed, epoch): what the hook and the steps
        // draw from it (a re-initialised head, dropout) is then the same in a resumed run.
        self.ad
            .seed(sample_rng(self.config.train.seed, epoch as u64, u64::MAX).random::<u64>());
        let model = self.take_model();
        let data = TaskData {
            source: self.source.as_ref(),
            train: &self.split.train,
            val: &self.split.val,
            images: &self.images,
            seed: self.config.train.seed,
            device: &self.ad,
            batch_size: self.config.train.batch_size.max(256),
        };
        let start = self.task.on_epoch_start(model, epoch, &data)?;
        let mut model = start.model;
        if !start.reinitialized.is_empty() {
            for prefix in start.reinitialized {
                *self.generations.entry(prefix).or_default() += 1;
            }
            model = checkpoint::stable_param_ids(model, T::NAME, &self.generations);
        }
        self.model = Some(model);
        let values: Vec<(&str, f64)> = start.metrics.iter().map(|(n, v)| (*n, *v)).collect();
        self.check_names(&values, &self.task.epoch_metrics())?;
        if !values.is_empty() {
            self.log.row(Row {
                epoch: epoch + 1,
                step: self.step,
                split: "epoch",
                lr: &[],
                images_per_second: None,
                values: &values,
            })?;
        }
        Ok(start
            .metrics
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect())
    }

    /// Fails on a metric the task did not declare (it would have no column).
    fn check_names(&self, values: &[(&str, f64)], declared: &[&'static str]) -> Result<()> {
        match values
            .iter()
            .find(|(n, _)| *n != "loss" && !declared.contains(n))
        {
            Some((name, _)) => Err(TrainError::Task {
                method: T::NAME.into(),
                reason: format!("reported the metric '{name}', which it does not declare"),
            }),
            None => Ok(()),
        }
    }

    /// Trains one epoch; returns its mean metrics and throughput.
    fn train_epoch(&mut self, epoch: usize) -> Result<(Metrics, f64)> {
        let t = &self.config.train;
        let order = self.task.epoch_order(&self.split.train, t.seed, epoch);
        let expected = self.task.epoch_len(self.split.train.len());
        if order.len() != expected {
            return Err(TrainError::Task {
                method: T::NAME.into(),
                reason: format!(
                    "its epoch order holds {} images where the epoch has {expected}",
                    order.len()
                ),
            });
        }
        let planned = self.plan.steps_per_epoch;
        let batches = self
            .epoch_plan(epoch as u64, self.task.generator()?)?
            .spawn(order);
        let progress = bar(planned, epoch + 1, t.epochs, self.options.progress);
        let step_names = self.task.step_metrics();
        let mut tally = Tally::default();
        let (mut inputs, mut busy, mut done) = (0usize, 0.0f64, 0usize);
        for samples in batches {
            let tick = Instant::now();
            let samples = samples?;
            let count = samples.len();
            let batch = self.task.collate(samples, &self.ad);
            self.optimizers.set_step(&self.plan, self.step);
            let model = self.take_model();
            let info = StepInfo {
                step: self.step,
                epoch,
                steps_per_epoch: planned,
            };
            let (model, output) =
                self.task
                    .train_step(model, &batch, &mut self.optimizers, info)?;
            self.model = Some(model);
            let values = read_values(&output)?;
            self.check_names(&values, &step_names)?;
            self.step += 1;
            done += 1;
            if let Some((name, value)) = values.iter().find(|(_, v)| !v.is_finite()) {
                progress.abandon();
                return Err(TrainError::NonFinite {
                    step: self.step,
                    epoch: epoch + 1,
                    metric: (*name).to_string(),
                    value: *value,
                });
            }
            tally.add(&values, count);
            let n = count * self.task.inputs_per_sample();
            let seconds = tick.elapsed().as_secs_f64();
            busy += seconds;
            inputs += n;
            let rates = self.optimizers.rates();
            self.log.row(Row {
                epoch: epoch + 1,
                step: self.step,
                split: "train",
                lr: &rates,
                images_per_second: Some(n as f64 / seconds),
                values: &values,
            })?;
            progress.inc(1);
            let means = tally.means();
            progress.set_message(
                std::iter::once("loss")
                    .chain(step_names.iter().copied())
                    .filter_map(|n| means.get(n).map(|v| format_metric(n, *v)))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        progress.finish_and_clear();
        if done != planned {
            return Err(TrainError::Loader(format!(
                "the sample loader stopped after {done} of {planned} batches of epoch {}",
                epoch + 1
            )));
        }
        Ok((tally.means(), inputs as f64 / busy.max(f64::EPSILON)))
    }

    fn epoch_plan(&self, epoch: u64, generator: T::Generator) -> Result<EpochPlan<T::Generator>> {
        let t = &self.config.train;
        Ok(EpochPlan {
            generator,
            source: self.source.clone(),
            images: self.images.clone(),
            seed: t.seed,
            epoch,
            batch_size: t.batch_size,
            workers: t.workers,
        })
    }

    /// Loss and metrics of the network in inference mode on the held-out images, with the
    /// samples of one fixed epoch so that every epoch is judged on the same inputs; each batch
    /// weighs as many samples as it holds.
    fn validate(&mut self) -> Result<Metrics> {
        if self.split.val.is_empty() {
            return Ok(Metrics::new());
        }
        let model = self.model.as_ref().expect("the network is back").valid();
        let device = model.devices().into_iter().next().unwrap_or_default();
        let mut tally = Tally::default();
        let plan = self.epoch_plan(u64::MAX, self.task.val_generator()?)?;
        for samples in plan.spawn(self.split.val.clone()) {
            let samples = samples?;
            let count = samples.len();
            let batch = self.task.collate(samples, &device);
            tally.add(&read_values(&model.forward_step(&batch))?, count);
        }
        let means = tally.means();
        let values: Vec<(&str, f64)> = means.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        self.log.row(Row {
            epoch: self.history.len() + 1,
            step: self.step,
            split: "val",
            lr: &[],
            images_per_second: None,
            values: &values,
        })?;
        Ok(means)
    }

    /// Records the epoch, writes the checkpoints (`last`, `best`, every N) and the curves.
    fn finish_epoch(&mut self, record: EpochRecord) -> Result<()> {
        let t = &self.config.train;
        if self.options.progress {
            eprintln!("{}", describe(&record, t.epochs));
        }
        let best = self.task.best();
        let score = |r: &EpochRecord| {
            best.and_then(|b| {
                r.val_or_train(b.metric)
                    .map(|v| if b.higher_is_better { -v } else { v })
            })
        };
        let improved = score(&record).is_some_and(|now| {
            self.history
                .iter()
                .filter_map(score)
                .all(|before| now < before)
        });
        self.history.push(record);
        let state = CheckpointState {
            method: T::NAME.to_string(),
            config: self.config.clone(),
            epoch: self.history.len(),
            step: self.step,
            seed: t.seed,
            images: self.images.clone(),
            networks: self.task.networks(),
            data: self.data.clone(),
            optimizers: self.optimizers.entries(),
            schedule: self.plan.segments.clone(),
            generations: self.generations.clone(),
            history: self.history.clone(),
        };
        let task_state = self.task.state();
        let save = |name: String| {
            checkpoint::save(
                &self.checkpoints.join(name),
                self.model.as_ref().expect("the network is back"),
                &self.optimizers,
                &task_state,
                &state,
            )
        };
        save("last".into())?;
        if improved {
            save("best".into())?;
        }
        if t.checkpoint_every > 0 && state.epoch.is_multiple_of(t.checkpoint_every) {
            save(format!("epoch-{:04}", state.epoch))?;
        }
        curve::draw(&self.history, &self.options.out_dir.join("curves.png"))
    }
}

/// The `config.toml` saved in a run folder.
pub fn run_config(run: &Path) -> Result<RunConfig> {
    RunConfig::load(&run.join("config.toml"))
}
