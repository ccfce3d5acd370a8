//! The trainer contract (issue 7), exercised through the real trainer by two test-only tasks
//! written here, outside selfsup's crates, with the public API alone:
//!
//! - `Adversarial`: two networks with their own optimisers (Adam and SGD) stepping in turn, a
//!   dense (per-pixel) target, and a second image source for the discriminator's real images;
//! - `Shifting`: pseudo-labels reassigned from the network's features before every epoch, a
//!   head re-initialised with fresh parameter ids, an epoch order uniform over labels, a
//!   `prepare` pass, epoch metrics, task state in the checkpoint, and no `best` checkpoint.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::softplus;
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use selfsup::data::pretext::PretextGenerator;
use selfsup::data::{Image, ImageSource, InputSpec, Split, bundled_sample};
use selfsup::models::backbone::{Backbone, BackboneConfig, global_avg_pool};
use selfsup::models::{PretextModel, StepOutput, accuracy};
use selfsup::train::checkpoint::{self, MODEL_FILE, TASK_FILE, load_network};
use selfsup::train::eval::{Pooling, View};
use selfsup::train::task::{
    Best, EpochStart, MethodSettings, Network, PretextTask, Setup, StepInfo, TaskData, TaskState,
};
use selfsup::train::{
    MethodConfig, OptimizerConfig, OptimizerKind, OptimizerSpec, Optimizers, RunConfig, RunOptions,
    ScheduleConfig, ScheduleKind, SchedulePlan, TrainError, setup, train,
};
use serde::{Deserialize, Serialize};

use crate::rotation::{flex, options};
use crate::testutil::{in_own_process, single_threaded, tensors};

/// The one-block backbone both test tasks share.
pub(crate) fn small_backbone() -> BackboneConfig {
    BackboneConfig::ConvNet { widths: vec![4, 8] }
}

pub(crate) fn run_config(method: MethodConfig, epochs: usize, val_fraction: f64) -> RunConfig {
    let mut config = RunConfig {
        method,
        backbone: small_backbone(),
        ..RunConfig::default()
    };
    config.train.epochs = epochs;
    config.train.batch_size = 8;
    config.train.max_images = Some(48);
    config.train.val_fraction = val_fraction;
    config.train.image_size = Some(12);
    config.train.optimizer.kind = OptimizerKind::Adam;
    config.train.optimizer.lr = 3e-3;
    config.train.schedule.kind = ScheduleKind::Constant;
    config
}

pub(crate) fn data() -> Arc<dyn ImageSource> {
    Arc::new(bundled_sample(Split::Test).unwrap())
}

fn bce_with_logits(logits: Tensor<2>, real: bool) -> Tensor<1> {
    let signed = if real { logits.neg() } else { logits };
    softplus(signed, 1.0).mean()
}

// ---- Adversarial: two networks, two optimisers, a dense target, a second source -----------

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AdversarialConfig {
    /// Weight of the adversarial term in the generator's loss.
    adversarial_weight: f64,
}

impl MethodSettings for AdversarialConfig {}

#[derive(Module, Debug)]
pub(crate) struct Denoiser {
    pub(crate) backbone: Backbone,
    pub(crate) out: Conv2d,
}

impl Denoiser {
    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.out.forward(self.backbone.forward_blocks(x).remove(0))
    }
}

#[derive(Module, Debug)]
pub(crate) struct Critic {
    pub(crate) backbone: Backbone,
    pub(crate) fc: Linear,
}

impl Critic {
    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.fc.forward(global_avg_pool(self.backbone.forward(x)))
    }
}

#[derive(Module, Debug)]
pub(crate) struct AdversarialNet {
    pub(crate) generator: Denoiser,
    pub(crate) discriminator: Critic,
}

#[derive(Clone, Debug)]
pub(crate) struct PairBatch {
    pub(crate) input: Tensor<4>,
    pub(crate) target: Tensor<4>,
    pub(crate) real: Tensor<4>,
}

impl PretextModel for AdversarialNet {
    type Batch = PairBatch;

    fn forward_step(&self, batch: &PairBatch) -> StepOutput {
        let l2 = (self.generator.forward(batch.input.clone()) - batch.target.clone())
            .powf_scalar(2.0)
            .mean();
        StepOutput::new(l2.clone()).with("l2", l2)
    }

    fn backbone(&self) -> &Backbone {
        &self.generator.backbone
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PairSample {
    input: Image,
    target: Image,
    real: Image,
}

/// Darkened image -> image, plus a random image of the second source as a real example.
#[derive(Clone, Debug)]
pub(crate) struct PairGenerator {
    real: Arc<dyn ImageSource>,
    images: InputSpec,
}

impl PretextGenerator for PairGenerator {
    type Sample = PairSample;

    fn generate(
        &self,
        image: &Image,
        _index: usize,
        rng: &mut StdRng,
    ) -> selfsup::data::Result<PairSample> {
        let dark = image.data().iter().map(|v| v * 0.5).collect();
        let pick = rng.random_range(0..self.real.len());
        Ok(PairSample {
            input: Image::new(image.channels(), image.height(), image.width(), dark)?,
            target: image.clone(),
            real: self.images.conform(&self.real.get(pick)?.image),
        })
    }

    fn picture(&self, sample: &PairSample) -> Vec<Image> {
        vec![
            sample.input.clone(),
            sample.target.clone(),
            sample.real.clone(),
        ]
    }
}

pub(crate) struct Adversarial {
    config: AdversarialConfig,
    setup: Setup,
    real: Arc<dyn ImageSource>,
}

impl PretextTask for Adversarial {
    const NAME: &'static str = "adversarial";
    type Config = AdversarialConfig;
    type Generator = PairGenerator;
    type Model = AdversarialNet;

    fn new(config: &AdversarialConfig, setup: &Setup) -> selfsup::train::Result<Self> {
        Ok(Self {
            config: config.clone(),
            setup: setup.clone(),
            // The second source: the sample's training split, while training reads its test split.
            real: Arc::new(bundled_sample(Split::Train)?),
        })
    }

    fn model(&self, device: &Device) -> AdversarialNet {
        let channels = self.setup.images.network_channels();
        AdversarialNet {
            generator: Denoiser {
                backbone: small_backbone().init(channels, device),
                out: Conv2dConfig::new([4, channels], [1, 1]).init(device),
            },
            discriminator: Critic {
                backbone: small_backbone().init(channels, device),
                fc: LinearConfig::new(8, 1).init(device),
            },
        }
    }

    fn networks(&self) -> Vec<Network> {
        let images = self.setup.images.clone();
        vec![
            Network {
                prefix: "generator.backbone".into(),
                ..Network::backbone(&small_backbone(), images.clone(), 0)
            },
            Network {
                name: "discriminator".into(),
                prefix: "discriminator.backbone".into(),
                backbone: small_backbone(),
                input: images,
                block: 1,
            },
        ]
    }

    fn optimizers(&self, train: &selfsup::train::TrainConfig) -> Vec<OptimizerSpec> {
        vec![
            OptimizerSpec {
                name: "generator",
                optimizer: train.optimizer.clone(),
                schedule: train.schedule.clone(),
            },
            OptimizerSpec {
                name: "discriminator",
                optimizer: OptimizerConfig {
                    kind: OptimizerKind::Sgd,
                    lr: 0.05,
                    momentum: 0.9,
                    nesterov: false,
                    weight_decay: 0.0,
                },
                schedule: ScheduleConfig {
                    kind: ScheduleKind::Cosine,
                    ..ScheduleConfig::default()
                },
            },
        ]
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        vec!["l2", "d_loss", "d_real_acc", "d_fake_acc"]
    }

    fn generator(&self) -> selfsup::train::Result<PairGenerator> {
        Ok(PairGenerator {
            real: self.real.clone(),
            images: self.setup.images.clone(),
        })
    }

    fn collate(&self, samples: Vec<PairSample>, device: &Device) -> PairBatch {
        let stack = |pick: fn(&PairSample) -> &Image| {
            let images: Vec<Image> = samples.iter().map(|s| pick(s).clone()).collect();
            selfsup::train::stack_images(&images, device)
        };
        PairBatch {
            input: stack(|s| &s.input),
            target: stack(|s| &s.target),
            real: stack(|s| &s.real),
        }
    }

    fn train_step(
        &self,
        mut model: AdversarialNet,
        batch: &PairBatch,
        optimizers: &mut Optimizers,
        _step: StepInfo,
    ) -> selfsup::train::Result<(AdversarialNet, StepOutput)> {
        // Discriminator: real images against the generator's detached outputs.
        let fake = model.generator.forward(batch.input.clone()).detach();
        let real_logits = model.discriminator.forward(batch.real.clone());
        let fake_logits = model.discriminator.forward(fake);
        let real_acc = real_logits.clone().greater_elem(0.0).float().mean();
        let fake_acc = fake_logits.clone().lower_elem(0.0).float().mean();
        let d_loss = bce_with_logits(real_logits, true) + bce_with_logits(fake_logits, false);
        let grads = GradientsParams::from_grads(d_loss.backward(), &model.discriminator);
        model.discriminator = optimizers.step("discriminator", model.discriminator, grads)?;
        // Generator: the dense target plus fooling the updated discriminator.
        let output = model.generator.forward(batch.input.clone());
        let l2 = (output.clone() - batch.target.clone())
            .powf_scalar(2.0)
            .mean();
        let adversarial = bce_with_logits(model.discriminator.forward(output), true);
        let loss = l2.clone() + adversarial.mul_scalar(self.config.adversarial_weight as f32);
        let grads = GradientsParams::from_grads(loss.backward(), &model.generator);
        model.generator = optimizers.step("generator", model.generator, grads)?;
        let out = StepOutput::new(loss)
            .with("l2", l2)
            .with("d_loss", d_loss)
            .with("d_real_acc", real_acc)
            .with("d_fake_acc", fake_acc);
        Ok((model, out))
    }
}

pub(crate) fn adversarial_config(epochs: usize) -> RunConfig {
    run_config(
        MethodConfig::custom::<Adversarial>(&AdversarialConfig {
            adversarial_weight: 0.01,
        }),
        epochs,
        0.25,
    )
}

fn train_adversarial(
    config: &RunConfig,
    dir: &Path,
    resume: bool,
) -> Vec<selfsup::train::EpochRecord> {
    train_adversarial_until(config, dir, resume, None)
}

fn train_adversarial_until(
    config: &RunConfig,
    dir: &Path,
    resume: bool,
    stop_after: Option<usize>,
) -> Vec<selfsup::train::EpochRecord> {
    let settings = config.method.settings_of::<Adversarial>().unwrap();
    let task = Adversarial::new(&settings, &setup(config, data().as_ref()).unwrap()).unwrap();
    let options = RunOptions {
        stop_after,
        ..options(dir, resume)
    };
    train(task, config, data(), &flex(), &options)
        .unwrap()
        .history
}

// ---- Shifting: labels from the network's own features, changed every epoch ----------------

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ShiftingConfig {
    classes: usize,
    /// Make the generator panic on this image (a broken worker).
    panic_at: Option<usize>,
}

impl Default for ShiftingConfig {
    fn default() -> Self {
        Self {
            classes: 3,
            panic_at: None,
        }
    }
}

impl MethodSettings for ShiftingConfig {}

#[derive(Module, Debug)]
pub(crate) struct Classifier {
    backbone: Backbone,
    head: Linear,
}

#[derive(Clone, Debug)]
pub(crate) struct LabelBatch {
    images: Tensor<4>,
    labels: Tensor<1, Int>,
}

impl PretextModel for Classifier {
    type Batch = LabelBatch;

    fn forward_step(&self, batch: &LabelBatch) -> StepOutput {
        let logits = self
            .head
            .forward(global_avg_pool(self.backbone.forward(batch.images.clone())));
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.labels.clone());
        StepOutput::new(loss).with("accuracy", accuracy(logits, batch.labels.clone()))
    }

    fn backbone(&self) -> &Backbone {
        &self.backbone
    }
}

/// Looks the sample's label up by its image index.
#[derive(Clone, Debug)]
pub(crate) struct LookupGenerator {
    labels: Arc<Vec<i64>>,
    panic_at: Option<usize>,
}

impl PretextGenerator for LookupGenerator {
    type Sample = (Image, i64);

    fn generate(
        &self,
        image: &Image,
        index: usize,
        _rng: &mut StdRng,
    ) -> selfsup::data::Result<(Image, i64)> {
        assert!(
            self.panic_at != Some(index),
            "generator broke on image {index}"
        );
        Ok((image.clone(), self.labels[index]))
    }

    fn picture(&self, sample: &(Image, i64)) -> Vec<Image> {
        vec![sample.0.clone()]
    }
}

pub(crate) struct Shifting {
    config: ShiftingConfig,
    setup: Setup,
    labels: Vec<i64>,
    prior: f32,
    /// What the trainer called, in order.
    calls: Arc<Mutex<Vec<String>>>,
}

impl Shifting {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

/// Each label gets `len / classes` places of the order, the first `len % classes` labels of a
/// seeded permutation one more; labels with fewer images than places repeat them.
fn uniform_order(labels: &[i64], train: &[usize], classes: usize, rng: &mut StdRng) -> Vec<usize> {
    let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for &i in train {
        by_label[labels[i] as usize].push(i);
    }
    let mut extra: Vec<usize> = (0..classes).collect();
    extra.shuffle(rng);
    let mut order = Vec::with_capacity(train.len());
    for (c, members) in by_label.iter().enumerate() {
        let quota =
            train.len() / classes + usize::from(extra[..train.len() % classes].contains(&c));
        order.extend((0..quota).map(|j| members[j % members.len()]));
    }
    order.shuffle(rng);
    order
}

impl PretextTask for Shifting {
    const NAME: &'static str = "shifting";
    type Config = ShiftingConfig;
    type Generator = LookupGenerator;
    type Model = Classifier;

    fn new(config: &ShiftingConfig, setup: &Setup) -> selfsup::train::Result<Self> {
        Ok(Self {
            config: config.clone(),
            setup: setup.clone(),
            labels: Vec::new(),
            prior: f32::NAN,
            calls: Arc::default(),
        })
    }

    fn model(&self, device: &Device) -> Classifier {
        Classifier {
            backbone: small_backbone().init(self.setup.images.network_channels(), device),
            head: LinearConfig::new(8, self.config.classes).init(device),
        }
    }

    fn networks(&self) -> Vec<Network> {
        vec![Network::backbone(
            &small_backbone(),
            self.setup.images.clone(),
            0,
        )]
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        vec!["accuracy"]
    }

    fn epoch_metrics(&self) -> Vec<&'static str> {
        vec!["changed", "prior"]
    }

    fn best(&self) -> Option<Best> {
        None
    }

    fn prepare(&mut self, data: &TaskData<'_>) -> selfsup::train::Result<()> {
        self.log("prepare".into());
        let mut sum = 0.0;
        for &i in data.train {
            let image = data.images.conform(&data.source.get(i)?.image);
            sum += image.data().iter().sum::<f32>() / image.data().len() as f32;
        }
        self.prior = sum / data.train.len() as f32;
        Ok(())
    }

    fn on_epoch_start(
        &mut self,
        mut model: Classifier,
        epoch: usize,
        data: &TaskData<'_>,
    ) -> selfsup::train::Result<EpochStart<Classifier>> {
        self.log(format!("epoch_start {epoch}"));
        let view = View {
            block: 1,
            pooling: Pooling::Global,
        };
        let features = data
            .features(&model.backbone, &self.setup.images, &[view])?
            .remove(0);
        // Terciles of the first feature, shifted by the epoch.
        let mut ranked: Vec<usize> = (0..features.len()).collect();
        ranked.sort_by(|&a, &b| {
            features.data[a * features.dim].total_cmp(&features.data[b * features.dim])
        });
        let mut labels = vec![-1i64; data.source.len()];
        for (rank, &row) in ranked.iter().enumerate() {
            let tercile = rank * self.config.classes / ranked.len();
            labels[data.train[row]] = ((tercile + epoch) % self.config.classes) as i64;
        }
        let changed = if self.labels.is_empty() {
            1.0
        } else {
            let moved = data
                .train
                .iter()
                .filter(|&&i| labels[i] != self.labels[i])
                .count();
            moved as f64 / data.train.len() as f64
        };
        self.labels = labels;
        model.head = LinearConfig::new(8, self.config.classes).init(data.device);
        Ok(EpochStart {
            model,
            reinitialized: vec!["head".into()],
            metrics: vec![("changed", changed), ("prior", f64::from(self.prior))],
        })
    }

    fn epoch_order(&self, train: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
        self.log(format!("order {epoch}"));
        let mut rng = StdRng::seed_from_u64(seed ^ (epoch as u64 + 1));
        uniform_order(&self.labels, train, self.config.classes, &mut rng)
    }

    fn generator(&self) -> selfsup::train::Result<LookupGenerator> {
        self.log("generator".into());
        Ok(LookupGenerator {
            labels: Arc::new(self.labels.clone()),
            panic_at: self.config.panic_at,
        })
    }

    fn collate(&self, samples: Vec<(Image, i64)>, device: &Device) -> LabelBatch {
        let n = samples.len();
        let (images, labels): (Vec<Image>, Vec<i64>) = samples.into_iter().unzip();
        LabelBatch {
            images: selfsup::train::stack_images(&images, device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }

    fn state(&self) -> TaskState {
        let mut state = TaskState::default();
        state.put_i64("labels", vec![self.labels.len()], self.labels.clone());
        state.put_f32("prior", vec![1], vec![self.prior]);
        state
    }

    fn restore(&mut self, state: TaskState) -> selfsup::train::Result<()> {
        self.log("restore".into());
        self.labels = state.i64("labels")?.1.to_vec();
        self.prior = state.f32("prior")?.1[0];
        Ok(())
    }
}

pub(crate) fn shifting_config(epochs: usize) -> RunConfig {
    // No held-out images: they would need labels of their own.
    run_config(
        MethodConfig::custom::<Shifting>(&ShiftingConfig::default()),
        epochs,
        0.0,
    )
}

/// Trains `Shifting` and returns the trainer's calls.
fn train_shifting(config: &RunConfig, dir: &Path, resume: bool) -> Vec<String> {
    train_shifting_until(config, dir, resume, None)
}

fn train_shifting_until(
    config: &RunConfig,
    dir: &Path,
    resume: bool,
    stop_after: Option<usize>,
) -> Vec<String> {
    let settings = config.method.settings_of::<Shifting>().unwrap();
    let task = Shifting::new(&settings, &setup(config, data().as_ref()).unwrap()).unwrap();
    let calls = task.calls.clone();
    let options = RunOptions {
        stop_after,
        ..options(dir, resume)
    };
    train(task, config, data(), &flex(), &options).unwrap();
    calls.lock().unwrap().clone()
}

fn csv(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("metrics.csv")).unwrap()
}

// ---- the tests ------------------------------------------------------------------------------

#[test]
fn two_networks_step_in_turn_with_their_own_optimisers() {
    let dir = tempfile::tempdir().unwrap();
    let history = train_adversarial(&adversarial_config(2), dir.path(), false);
    let last = &history[1];
    for metric in ["loss", "l2", "d_loss", "d_real_acc", "d_fake_acc"] {
        assert!(last.train.contains_key(metric), "{metric}: {last:?}");
    }
    // Validation reports the forward step's metrics, weighted by batch size.
    assert!(last.val.contains_key("l2"));
    // Each optimiser follows its own schedule: Adam constant, SGD cosine towards 0.
    assert_eq!(last.lr["generator"], 3e-3);
    assert!(last.lr["discriminator"] < 0.05 * 0.1, "{:?}", last.lr);
    let text = csv(dir.path());
    assert!(
        text.starts_with("epoch,step,split,lr_generator,lr_discriminator,images_per_second,loss,l2,d_loss,d_real_acc,d_fake_acc\n"),
        "{text}"
    );
    let ckpt = dir.path().join("checkpoints/last");
    for file in [
        "optimizer-generator.bpk",
        "optimizer-discriminator.bpk",
        MODEL_FILE,
    ] {
        assert!(ckpt.join(file).is_file(), "{file}");
    }
    let state = checkpoint::load_state(&ckpt).unwrap();
    let kinds: Vec<_> = state
        .optimizers
        .iter()
        .map(|o| (o.name.as_str(), o.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("generator", OptimizerKind::Adam),
            ("discriminator", OptimizerKind::Sgd)
        ]
    );
    // Both networks are probe-able by name, each from its own tensors.
    let (gen_net, _, _) = load_network(&ckpt, None, false, &flex()).unwrap();
    let (disc, network, _) = load_network(&ckpt, Some("discriminator"), false, &flex()).unwrap();
    assert_eq!(network.prefix, "discriminator.backbone");
    let weights = |b: &Backbone| {
        let Backbone::ConvNet(net) = b else { panic!() };
        net.blocks[0][0].conv.weight.val().into_data()
    };
    assert_ne!(weights(&gen_net), weights(&disc));
    let err = load_network(&ckpt, Some("critic"), false, &flex()).unwrap_err();
    assert!(err.to_string().contains("backbone, discriminator"), "{err}");
}

#[test]
fn both_half_steps_change_their_network() {
    let config = adversarial_config(1);
    let settings = config.method.settings_of::<Adversarial>().unwrap();
    let task = Adversarial::new(&settings, &setup(&config, data().as_ref()).unwrap()).unwrap();
    let device = flex().autodiff();
    let model = task.model(&device);
    let generator = task.generator().unwrap();
    let source = data();
    let samples = (0..4)
        .map(|i| {
            let image = InputSpec::plain(1, 12)
                .unwrap()
                .conform(&source.get(i).unwrap().image);
            generator
                .generate(
                    &image,
                    i,
                    &mut selfsup::data::pretext::sample_rng(0, 0, i as u64),
                )
                .unwrap()
        })
        .collect();
    let batch = task.collate(samples, &device);
    let mut optimizers = Optimizers::new(task.optimizers(&config.train)).unwrap();
    optimizers.set_step(&SchedulePlan::new(10, 1), 0);
    let before = (
        model.generator.out.weight.val().into_data(),
        model.discriminator.fc.weight.val().into_data(),
    );
    let step = StepInfo {
        step: 0,
        epoch: 0,
        steps_per_epoch: 10,
    };
    let (model, _) = task
        .train_step(model, &batch, &mut optimizers, step)
        .unwrap();
    assert_ne!(model.generator.out.weight.val().into_data(), before.0);
    assert_ne!(model.discriminator.fc.weight.val().into_data(), before.1);
    assert!(
        optimizers
            .step("critic", model, GradientsParams::new())
            .is_err()
    );
}

#[test]
fn an_optimiser_of_another_kind_refuses_the_saved_state() {
    let dir = tempfile::tempdir().unwrap();
    train_adversarial(&adversarial_config(1), dir.path(), false);
    let ckpt = dir.path().join("checkpoints/last");
    let saved = checkpoint::load_state(&ckpt).unwrap().optimizers;
    let config = adversarial_config(1);
    let task = Adversarial::new(
        &AdversarialConfig::default(),
        &setup(&config, data().as_ref()).unwrap(),
    )
    .unwrap();
    let mut specs = task.optimizers(&config.train);
    specs[0].optimizer.kind = OptimizerKind::Sgd;
    let err = Optimizers::new(specs)
        .unwrap()
        .load(&ckpt, &saved)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("'generator' was Adam and is now Sgd"),
        "{err}"
    );
    // Through the trainer, a changed optimiser is a changed run.
    let mut other = adversarial_config(2);
    other.train.optimizer.kind = OptimizerKind::Sgd;
    let settings = other.method.settings_of::<Adversarial>().unwrap();
    let task = Adversarial::new(&settings, &setup(&other, data().as_ref()).unwrap()).unwrap();
    let err = train(task, &other, data(), &flex(), &options(dir.path(), true)).unwrap_err();
    assert!(matches!(err, TrainError::ResumeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("train.optimizer.kind"), "{err}");
}

#[test]
fn hooks_run_in_order_and_relabel_every_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let calls = train_shifting(&shifting_config(2), dir.path(), false);
    assert_eq!(
        calls,
        [
            "prepare",
            "epoch_start 0",
            "order 0",
            "generator",
            "epoch_start 1",
            "order 1",
            "generator"
        ]
    );
    let ckpt = dir.path().join("checkpoints/last");
    let state = checkpoint::load_state(&ckpt).unwrap();
    // The head was replaced twice: its parameters live in their third generation of ids.
    assert_eq!(state.generations, BTreeMap::from([("head".to_string(), 2)]));
    assert!(
        !dir.path().join("checkpoints/best").exists(),
        "no best without a metric"
    );
    let history = &state.history;
    assert_eq!(history[0].hook["changed"], 1.0);
    assert!(history[1].hook["changed"] > 0.5, "{:?}", history[1].hook);
    assert!(history[1].hook["prior"] > 0.0);
    let text = csv(dir.path());
    assert_eq!(
        text.lines().filter(|l| l.contains(",epoch,")).count(),
        2,
        "{text}"
    );
    let task_state = TaskState::load(&ckpt.join(TASK_FILE)).unwrap();
    let (shape, labels) = task_state.i64("labels").unwrap();
    assert_eq!(shape, [1000]);
    assert_eq!(labels.iter().filter(|&&l| l >= 0).count(), 48);

    // Resuming restores the task state instead of preparing again, and goes on from epoch 2.
    let calls = train_shifting(&shifting_config(3), dir.path(), true);
    assert_eq!(calls, ["restore", "epoch_start 2", "order 2", "generator"]);
    let state = checkpoint::load_state(&ckpt).unwrap();
    assert_eq!(state.generations["head"], 3);
}

#[test]
fn the_uniform_sampler_draws_every_label_equally() {
    // 12 images in labels of 7, 4 and 1 images: 4 draws from each.
    let labels: Vec<i64> = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2].to_vec();
    let train: Vec<usize> = (0..12).collect();
    let order = uniform_order(&labels, &train, 3, &mut StdRng::seed_from_u64(1));
    assert_eq!(order.len(), 12);
    let counts = (0..3).map(|c| order.iter().filter(|&&i| labels[i] == c).count());
    assert_eq!(counts.collect::<Vec<_>>(), [4, 4, 4]);
}

#[test]
fn replaced_parameters_get_fresh_ids_and_kept_ones_keep_theirs() {
    let config = shifting_config(1);
    let task = Shifting::new(
        &ShiftingConfig::default(),
        &setup(&config, data().as_ref()).unwrap(),
    )
    .unwrap();
    let ids = |generations: &BTreeMap<String, u64>| {
        let model = checkpoint::stable_param_ids(task.model(&flex()), "shifting", generations);
        let mut collect = Ids::default();
        model.visit(&mut collect);
        collect.0
    };
    let first = ids(&BTreeMap::new());
    let second = ids(&BTreeMap::from([("head".to_string(), 1)]));
    let trainable = |ids: BTreeMap<String, ParamId>| {
        ids.into_iter()
            .filter(|(p, _)| !p.contains("running_"))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        trainable(first.clone()),
        trainable(ids(&BTreeMap::new())),
        "ids follow paths, not chance"
    );
    // BatchNorm's running statistics are no optimiser's business (no gradients), and Burn
    // gives them ids of their own.
    for (path, id) in first.iter().filter(|(p, _)| !p.contains("running_")) {
        assert_eq!(
            second[path] == *id,
            !path.starts_with("head."),
            "{path}: the head's ids change, the backbone's stay"
        );
    }
}

#[derive(Default)]
struct Ids(BTreeMap<String, ParamId>, Vec<String>);

impl ModuleVisitor for Ids {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.1.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.1.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(self.1.join("."), param.id);
    }
}

#[test]
fn resumed_runs_with_task_state_and_two_optimisers_end_where_straight_runs_do() {
    in_own_process("contract::resume_with_task_state_and_two_optimisers");
}

#[test]
#[ignore = "bitwise: run alone in its own process by resumed_runs_with_task_state_and_two_optimisers_end_where_straight_runs_do"]
fn resume_with_task_state_and_two_optimisers() {
    single_threaded(|| {
        for shifting in [false, true] {
            let (straight, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            // The split run stops after its first of three epochs, as an interrupted one would.
            let run = |dir: &Path, resume: bool, stop_after: Option<usize>| {
                if shifting {
                    train_shifting_until(&shifting_config(3), dir, resume, stop_after);
                } else {
                    train_adversarial_until(&adversarial_config(3), dir, resume, stop_after);
                }
            };
            run(straight.path(), false, None);
            run(split.path(), false, Some(1));
            run(split.path(), true, None);
            let last = |d: &Path, f: &str| d.join("checkpoints/last").join(f);
            assert_eq!(
                tensors(&last(straight.path(), MODEL_FILE)),
                tensors(&last(split.path(), MODEL_FILE)),
                "weights differ after resuming (shifting: {shifting})"
            );
            if shifting {
                assert_eq!(
                    tensors(&last(straight.path(), TASK_FILE)),
                    tensors(&last(split.path(), TASK_FILE))
                );
            }
            let history = |d: &Path| {
                checkpoint::load_state(&d.join("checkpoints/last"))
                    .unwrap()
                    .history
            };
            let (a, b) = (history(straight.path()), history(split.path()));
            assert_eq!(a.len(), 3);
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(
                    (&x.train, &x.val, &x.hook, &x.lr),
                    (&y.train, &y.val, &y.hook, &y.lr)
                );
            }
        }
    });
}

/// Regression (issue 7): a panic in a sample-generating worker ended the epoch early and a
/// checkpoint was saved anyway.
#[test]
fn a_panicking_worker_fails_the_run_with_its_message_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = shifting_config(1);
    let mut settings = config.method.settings_of::<Shifting>().unwrap();
    let train_images = selfsup::train::split_indices(1000, 0, 0.0, Some(48)).train;
    settings.panic_at = Some(train_images[20]);
    let config = RunConfig {
        method: MethodConfig::custom::<Shifting>(&settings),
        ..config
    };
    let task = Shifting::new(&settings, &setup(&config, data().as_ref()).unwrap()).unwrap();
    let err = train(task, &config, data(), &flex(), &options(dir.path(), false)).unwrap_err();
    assert!(matches!(err, TrainError::Worker { .. }), "{err}");
    assert!(
        err.to_string().contains("generator broke on image"),
        "{err}"
    );
    assert!(!dir.path().join("checkpoints/last").exists());
}
