//! [`PretextTask`]: the contract between a pretext method and the one trainer.
//!
//! A method supplies its generator, its network, how samples become a batch and, through hooks
//! with defaults, whatever else it needs: several networks with their own optimisers and a step
//! of its own (GANs), work before training and before each epoch that may replace parts of the
//! network (DeepCluster's re-clustering), the epoch's image order (sampling uniformly over
//! clusters), named metrics, and state computed from the data that is saved with every
//! checkpoint. One epoch runs, in order:
//!
//! 1. [`on_epoch_start`](PretextTask::on_epoch_start) with the network (after
//!    [`prepare`](PretextTask::prepare) before the first epoch of a fresh run);
//! 2. [`epoch_order`](PretextTask::epoch_order), then [`generator`](PretextTask::generator),
//!    whose samples are made on worker threads from (seed, epoch, image index);
//! 3. per batch: [`collate`](PretextTask::collate), then
//!    [`train_step`](PretextTask::train_step);
//! 4. validation on the held-out images with the network in inference mode;
//! 5. a checkpoint holding the networks, every optimiser's state, the task's
//!    [`state`](PretextTask::state) and the sidecar.

pub(crate) mod colorization;
pub(crate) mod context_prediction;
pub(crate) mod deep_cluster;
pub(crate) mod finetune;
pub(crate) mod inpainting;
pub(crate) mod jigsaw;
pub(crate) mod rotation;
mod state;
pub(crate) mod superres;
pub(crate) mod synthetic;

use burn::optim::GradientsParams;
use burn::prelude::*;
use selfsup_data::pretext::PretextGenerator;
use selfsup_data::{Image, ImageSource, InputSpec};
use selfsup_models::backbone::{Backbone, BackboneConfig};
use selfsup_models::{PretextModel, StepOutput};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::{Result, TrainError};
use crate::eval::{Features, View, extract_views};
use crate::loader::epoch_order;
use crate::metrics::EpochRecord;
use crate::optim::{OptimizerSpec, Optimizers};

pub use colorization::{ColorLoss, ColorizationSettings, ColorizationTask};
pub use context_prediction::{ContextSettings, ContextTask};
pub use deep_cluster::{DeepClusterSettings, DeepClusterTask};
pub use finetune::{
    FinetuneSettings, FinetuneTask, check_test_source, classifier_accuracy, labelled_source,
};
pub use inpainting::{InpaintingSettings, InpaintingTask};
pub use jigsaw::{JigsawSettings, JigsawTask};
pub use rotation::RotationTask;
pub use state::{StateArray, TaskState};
pub use superres::{SuperResSettings, SuperResTask};
pub use synthetic::{DepthLossKind, SyntheticSettings, SyntheticTask, WeightSettings};

/// The samples a task's generator makes.
pub type SampleOf<T> = <<T as PretextTask>::Generator as PretextGenerator>::Sample;
/// The batch a task's model consumes.
pub type BatchOf<T> = <<T as PretextTask>::Model as PretextModel>::Batch;

/// A method's own configuration section (`[rotation]`, ...).
pub trait MethodSettings:
    Serialize
    + serde::de::DeserializeOwned
    + Default
    + Clone
    + PartialEq
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// Checks the settings, naming the key at fault (`rotation.crop`).
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// What every task is built from besides its own section.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// The backbone the run trains.
    pub backbone: BackboneConfig,
    /// Source images are conformed to this before the generator sees them.
    pub images: InputSpec,
    /// The run's seed.
    pub seed: u64,
    /// The run's loop settings (epochs, batch size...).
    pub train: TrainConfig,
}

/// A network of a checkpoint whose features can be probed and exported: a [`Backbone`] stored
/// under `prefix` in `model.safetensors`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// The name evaluation selects it by (`backbone`, `discriminator`...).
    pub name: String,
    /// The path of its tensors in the weights file (`backbone`, `generator.trunk`).
    pub prefix: String,
    /// Its architecture.
    pub backbone: BackboneConfig,
    /// How a source image becomes its input.
    pub input: InputSpec,
    /// The block (from 0) that is the method's representation: what `eval` and `embed` read
    /// unless told otherwise.
    pub block: usize,
}

impl Network {
    /// The network called `backbone`, stored under `backbone`.
    pub fn backbone(backbone: &BackboneConfig, input: InputSpec, block: usize) -> Self {
        Self {
            name: "backbone".into(),
            prefix: "backbone".into(),
            backbone: backbone.clone(),
            input,
            block,
        }
    }

    /// The run's `[backbone]` on the run's input, called `name` and stored under `prefix`, its
    /// block before the last the representation: a generator's trunk or encoder.
    pub fn run_backbone(name: &str, prefix: &str, setup: &Setup) -> Self {
        Self {
            name: name.into(),
            prefix: prefix.into(),
            backbone: setup.backbone.clone(),
            input: setup.images.clone(),
            block: penultimate_block(&setup.backbone),
        }
    }

    /// A freshly initialised network of this architecture (evaluation's baseline).
    pub fn init(&self, device: &Device) -> Backbone {
        self.backbone.init(self.input.network_channels(), device)
    }
}

/// The block most methods read their representation from: the one before the last, which
/// the pretext head specialises (Gidaris et al. 2018, Table 1; docs/results.md), or the only
/// block.
pub fn penultimate_block(backbone: &BackboneConfig) -> usize {
    backbone.blocks().saturating_sub(2)
}

/// Which metric picks the `best` checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Best {
    /// A step metric name, or `loss`; read from validation when the run holds images out, else
    /// from training.
    pub metric: &'static str,
    /// Whether larger is better.
    pub higher_is_better: bool,
}

impl Best {
    /// The lowest loss.
    pub const LOSS: Best = Best {
        metric: "loss",
        higher_is_better: false,
    };
}

/// Where a step stands in the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepInfo {
    /// Steps taken before this one.
    pub step: usize,
    /// The epoch, from 0.
    pub epoch: usize,
    /// Steps per epoch.
    pub steps_per_epoch: usize,
}

/// The training images, as the hooks see them.
#[derive(Clone, Copy)]
pub struct TaskData<'a> {
    /// Where images come from.
    pub source: &'a dyn ImageSource,
    /// The indices of the training images in `source` (held-out images excluded).
    pub train: &'a [usize],
    /// The indices of the held-out (validation) images.
    pub val: &'a [usize],
    /// How images are conformed before the generator sees them.
    pub images: &'a InputSpec,
    /// The run's seed.
    pub seed: u64,
    /// The device the networks train on (autodiff).
    pub device: &'a Device,
    /// Images per forward pass for feature extraction.
    pub batch_size: usize,
}

impl TaskData<'_> {
    /// Features of every training image, in `train` order: `backbone` in inference mode on the
    /// images prepared as `input` says, pooled as each view says.
    pub fn features(
        &self,
        backbone: &Backbone,
        input: &InputSpec,
        views: &[View],
    ) -> Result<Vec<Features>> {
        self.features_of(self.train, backbone, input, views)
    }

    /// The same for the images `indices` of the source.
    pub fn features_of(
        &self,
        indices: &[usize],
        backbone: &Backbone,
        input: &InputSpec,
        views: &[View],
    ) -> Result<Vec<Features>> {
        extract_views(
            backbone,
            self.source,
            indices,
            input,
            views,
            self.batch_size,
        )
    }
}

/// What [`PretextTask::on_epoch_start`] hands back.
#[derive(Debug)]
pub struct EpochStart<M> {
    /// The network to train this epoch.
    pub model: M,
    /// Parameter path prefixes (`fc`, `head.out`) the hook re-initialised: their parameters get
    /// fresh ids, so that no optimiser state of the replaced ones carries over.
    pub reinitialized: Vec<String>,
    /// Named per-epoch values (NMI, cluster sizes...), logged in `metrics.csv` and the curves.
    pub metrics: Vec<(&'static str, f64)>,
}

impl<M> EpochStart<M> {
    /// The network unchanged, no metrics.
    pub fn unchanged(model: M) -> Self {
        Self {
            model,
            reinitialized: Vec::new(),
            metrics: Vec::new(),
        }
    }
}

/// What an image-to-image method makes of one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Translation {
    /// What the network saw, as a picture (the L channel, a low-resolution image...).
    pub input: Image,
    /// The network's output as an sRGB (or grey) image of the input's size.
    pub prediction: Image,
    /// The prediction in Lab before conversion to sRGB, for colour methods.
    pub prediction_lab: Option<Image>,
    /// What the input alone gives without a network, each named (`grey` for colorization,
    /// `bicubic` for super-resolution, `mean` and `diffusion` fills for inpainting); the first
    /// is the baseline the prediction must beat.
    pub baselines: Vec<(&'static str, Image)>,
}

/// What differs between pretext methods, for the trainer. See the module docs for the order in
/// which the trainer calls each part.
pub trait PretextTask: Sized + Send + 'static {
    /// The method's name in configs, checkpoints and the CLI.
    const NAME: &'static str;
    /// Keys of the method's section that change how a trained network is applied, not what it
    /// computes: the ones `eval image` and `colorize` may override (`--set`). None by default.
    const APPLIED_KEYS: &'static [&'static str] = &[];
    /// The method's configuration section.
    type Config: MethodSettings;
    /// Makes samples from images.
    type Generator: PretextGenerator + Clone + 'static;
    /// The networks (several for GANs), one Burn module.
    type Model: PretextModel;

    /// The `[train]` settings the method starts from where a configuration gives none
    /// (its learning rate and batch size, say); the default is [`TrainConfig::default`].
    fn default_train() -> TrainConfig {
        TrainConfig::default()
    }

    /// Builds the task; checks what the section and the setup allow (image and crop sizes
    /// against the backbone's pooling, for instance).
    fn new(config: &Self::Config, setup: &Setup) -> Result<Self>;

    /// A freshly initialised network on `device`.
    fn model(&self, device: &Device) -> Self::Model;

    /// The networks whose features evaluation probes, the first being the default.
    fn networks(&self) -> Vec<Network>;

    /// The optimisers, each with its own settings; the default is one, named
    /// [`Optimizers::MODEL`], from the `[train]` section.
    fn optimizers(&self, train: &TrainConfig) -> Vec<OptimizerSpec> {
        vec![OptimizerSpec::model(train)]
    }

    /// Names of the metrics a step reports besides the loss, in display order.
    fn step_metrics(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Names of the metrics [`on_epoch_start`](Self::on_epoch_start) reports.
    fn epoch_metrics(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// The metric that picks the `best` checkpoint, or `None` for no `best` (when the task
    /// changes every epoch, as DeepCluster's pseudo-labels do).
    fn best(&self) -> Option<Best> {
        Some(Best::LOSS)
    }

    /// Network inputs per sample (for throughput figures).
    fn inputs_per_sample(&self) -> usize {
        1
    }

    /// Runs once before the first epoch of a fresh run, over the training images (a colour
    /// prior, a permutation set). What it computes belongs in [`state`](Self::state).
    fn prepare(&mut self, _data: &TaskData<'_>) -> Result<()> {
        Ok(())
    }

    /// Runs before each epoch (from 0) with the current network, which it may change.
    fn on_epoch_start(
        &mut self,
        model: Self::Model,
        _epoch: usize,
        _data: &TaskData<'_>,
    ) -> Result<EpochStart<Self::Model>> {
        Ok(EpochStart::unchanged(model))
    }

    /// Samples an epoch holds, given `train` training images: `train` by default; a step
    /// budget spread over the run's epochs may ask for more (fine-tuning on 10 labels a class).
    fn epoch_len(&self, train: usize) -> usize {
        train
    }

    /// The training images of `epoch` in the order (and with the repeats) the epoch visits
    /// them; it must hold [`epoch_len`](Self::epoch_len) entries. The default is a seeded
    /// shuffle.
    fn epoch_order(&self, train: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
        epoch_order(train, seed, epoch as u64)
    }

    /// The generator for the coming epoch (called after the epoch-start hook).
    fn generator(&self) -> Result<Self::Generator>;

    /// The generator of validation samples; the default is [`generator`](Self::generator)
    /// (a method may leave augmentation out).
    fn val_generator(&self) -> Result<Self::Generator> {
        self.generator()
    }

    /// Turns samples into one batch on `device`.
    fn collate(&self, samples: Vec<SampleOf<Self>>, device: &Device) -> BatchOf<Self>;

    /// One training step. The default takes [`PretextModel::forward_step`]'s loss and steps
    /// the one optimiser; GANs step several networks in turn.
    fn train_step(
        &self,
        model: Self::Model,
        batch: &BatchOf<Self>,
        optimizers: &mut Optimizers,
        _step: StepInfo,
    ) -> Result<(Self::Model, StepOutput)> {
        let output = model.forward_step(batch);
        let grads = GradientsParams::from_grads(output.loss.backward(), &model);
        let model = optimizers.step(Optimizers::MODEL, model, grads)?;
        Ok((model, output))
    }

    /// Notes on a finished epoch (`latest`, after the epochs of `history`) for the log and the
    /// checkpoint's history: what a user should know about the run (a GAN whose discriminator
    /// has won). None by default.
    fn epoch_notes(&self, _history: &[EpochRecord], _latest: &EpochRecord) -> Vec<String> {
        Vec::new()
    }

    /// Image-to-image methods (colorization, super-resolution, inpainting): the trained
    /// network applied to whole images of any size, in inference mode. Other methods say they
    /// are not one.
    fn translate(
        &self,
        _model: &Self::Model,
        _images: &[Image],
        _device: &Device,
    ) -> Result<Vec<Translation>> {
        Err(TrainError::Task {
            method: Self::NAME.into(),
            reason: "not an image-to-image method: its network does not output images".into(),
        })
    }

    /// Scores of an image-to-image method besides PSNR and SSIM (colour errors...), of a
    /// prediction (or baseline) against the original.
    fn image_scores(
        &self,
        _prediction: &Image,
        _truth: &Image,
    ) -> Result<Vec<(&'static str, f64)>> {
        Ok(Vec::new())
    }

    /// What the trained network predicts for `sample`, as pictures that `selfsup show
    /// --checkpoint` appends to the sample's row (dense methods' maps beside their targets);
    /// none by default.
    fn predicted_pictures(
        &self,
        _model: &Self::Model,
        _sample: &SampleOf<Self>,
        _device: &Device,
    ) -> Result<Vec<Image>> {
        Ok(Vec::new())
    }

    /// What the task computed from the data, saved with every checkpoint.
    fn state(&self) -> TaskState {
        TaskState::default()
    }

    /// Restores [`state`](Self::state) from a checkpoint (resume, evaluation, `show`).
    fn restore(&mut self, state: TaskState) -> Result<()> {
        if state.is_empty() {
            Ok(())
        } else {
            Err(TrainError::Task {
                method: Self::NAME.into(),
                reason: format!(
                    "the checkpoint holds task state ({}) this method does not read",
                    state.names().join(", ")
                ),
            })
        }
    }
}
