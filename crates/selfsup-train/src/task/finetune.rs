//! Fine-tuning: the backbone of a pretrained checkpoint (any method's) and a new linear head,
//! trained end to end on labelled images; the same recipe from random weights is the baseline.
//!
//! A supervised task through the same trainer, so a fine-tuning run has everything a pretext run
//! has: its configuration, metrics, curves, checkpoints with PyTorch names and exact resume. The
//! `best` checkpoint is picked by accuracy on images held out from the labelled training images
//! (`train.val_fraction`), never on test images. Training runs for a number of optimiser steps
//! (`finetune.steps`), spread over `train.epochs` evaluations, so 10 and 6,000 labels a class
//! train for the same number of steps.

use std::path::PathBuf;
use std::sync::Arc;

use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use selfsup_data::InputSpec;
use selfsup_data::pretext::{AugmentConfig, LabelledGenerator, LabelledSample};
use selfsup_models::{Classifier, ClassifierConfig, LabelledBatch, PretextModel, StepOutput};
use serde::{Deserialize, Serialize};

use crate::batch::{collate_labelled, stack_images};
use crate::checkpoint::{self, MODEL_FILE};
use crate::config::{TrainConfig, invalid};
use crate::error::{Result, TrainError};
use crate::optim::{OptimizerSpec, Optimizers};
use crate::task::{
    Best, EpochStart, MethodSettings, Network, PretextTask, Setup, StepInfo, TaskData, TaskState,
};

/// The `[finetune]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinetuneSettings {
    /// The pretrained run (its best checkpoint, else its last) or checkpoint folder; without
    /// one, the run's `[backbone]` starts from random weights.
    pub checkpoint: Option<PathBuf>,
    /// The checkpoint's network to fine-tune (default: its first).
    pub network: Option<String>,
    /// That network as the checkpoint declares it (architecture, input, representation block),
    /// recorded when the run starts (`selfsup finetune` fills it in), so that resuming,
    /// testing and predicting never read the pretrained checkpoint again: it may move or go.
    /// Without it, the checkpoint is read.
    pub pretrained: Option<Network>,
    /// Start from random weights of the checkpoint's architecture: the baseline every
    /// fine-tuning number is quoted against.
    pub random_init: bool,
    /// Classes of the labelled data.
    pub classes: usize,
    /// Their names, for predictions (filled from the data by `selfsup finetune`).
    pub class_names: Vec<String>,
    /// Train on this many labelled images per class only (a seeded subset of the data).
    pub labels_per_class: Option<usize>,
    /// Seeds that subset.
    pub subset_seed: u64,
    /// Optimiser steps in all, spread evenly over `train.epochs`.
    pub steps: usize,
    /// The backbone's learning rate is `train.optimizer.lr` times this; the head's is
    /// `train.optimizer.lr`.
    pub backbone_lr: f64,
    /// Leading backbone blocks kept frozen (inference mode, no updates).
    pub freeze_blocks: usize,
    /// Augmentation of training images (validation images are not augmented).
    pub images: AugmentConfig,
}

impl Default for FinetuneSettings {
    fn default() -> Self {
        Self {
            checkpoint: None,
            network: None,
            pretrained: None,
            random_init: false,
            classes: 10,
            class_names: Vec::new(),
            labels_per_class: None,
            subset_seed: 0,
            steps: 1000,
            backbone_lr: 1.0,
            freeze_blocks: 0,
            images: AugmentConfig {
                crop_scale: [0.8, 1.0],
                ..AugmentConfig::default()
            },
        }
    }
}

impl MethodSettings for FinetuneSettings {
    fn validate(&self) -> Result<()> {
        if self.classes < 2 {
            return Err(invalid(
                "finetune.classes",
                format!("{}: at least 2 are needed", self.classes),
            ));
        }
        if self.steps == 0 {
            return Err(invalid("finetune.steps", "must be at least 1"));
        }
        if !(self.backbone_lr.is_finite() && self.backbone_lr >= 0.0) {
            return Err(invalid(
                "finetune.backbone_lr",
                format!("{} is not a finite number >= 0", self.backbone_lr),
            ));
        }
        Ok(self.images.validate()?)
    }
}

/// Fine-tuning a pretrained backbone (or training it from scratch) on labelled images.
#[derive(Clone, Debug)]
pub struct FinetuneTask {
    settings: FinetuneSettings,
    setup: Setup,
    /// The network being tuned, as the pretrained checkpoint describes it.
    network: Network,
    /// The class of every image of the source, by index (-1 where unused).
    labels: Vec<i64>,
}

impl FinetuneTask {
    /// The network this task tunes.
    pub fn network(&self) -> &Network {
        &self.network
    }
}

impl PretextTask for FinetuneTask {
    const NAME: &'static str = "finetune";
    type Config = FinetuneSettings;
    type Generator = LabelledGenerator;
    type Model = Classifier;

    /// Adam at lr 1e-3 with cosine decay and a 10% warm-up, 64 images a step, 10 evaluations,
    /// 10% of the labelled images held out to pick `best`.
    fn default_train() -> TrainConfig {
        let mut train = TrainConfig::default();
        train.optimizer.kind = crate::config::OptimizerKind::Adam;
        train.optimizer.lr = 1e-3;
        train.optimizer.weight_decay = 0.0;
        train.schedule.warmup_epochs = 1.0;
        train
    }

    fn new(settings: &FinetuneSettings, setup: &Setup) -> Result<Self> {
        settings.validate()?;
        let network = match (&settings.pretrained, &settings.checkpoint) {
            (Some(network), _) => network.clone(),
            (None, Some(path)) => {
                let state = checkpoint::load_state(&checkpoint::checkpoint_dir(path))?;
                state.network(settings.network.as_deref())?.clone()
            }
            (None, None) => {
                let backbone = &setup.backbone;
                let block = crate::task::penultimate_block(backbone);
                Network::backbone(backbone, setup.images.clone(), block)
            }
        };
        if network.backbone != setup.backbone {
            return Err(invalid(
                "backbone",
                format!(
                    "the checkpoint's network is {:?} but [backbone] says {:?}",
                    network.backbone, setup.backbone
                ),
            ));
        }
        let images = &setup.images;
        if (images.image_channels, images.side)
            != (network.input.image_channels, network.input.side)
        {
            return Err(invalid(
                "train.image_size",
                format!(
                    "the network reads {}-channel {} px images, the run gives {}-channel {} px ones",
                    network.input.image_channels,
                    network.input.side,
                    images.image_channels,
                    images.side
                ),
            ));
        }
        let blocks = network.backbone.blocks();
        if settings.freeze_blocks > blocks {
            return Err(invalid(
                "finetune.freeze_blocks",
                format!(
                    "{} exceeds the backbone's {blocks} blocks",
                    settings.freeze_blocks
                ),
            ));
        }
        Ok(Self {
            settings: settings.clone(),
            setup: setup.clone(),
            network,
            labels: Vec::new(),
        })
    }

    /// The classifier, freshly initialised; the first epoch's hook loads the pretrained
    /// backbone into it.
    fn model(&self, device: &Device) -> Classifier {
        ClassifierConfig {
            backbone: self.network.backbone.clone(),
            classes: self.settings.classes,
            frozen_blocks: self.settings.freeze_blocks,
        }
        .init(self.network.input.network_channels(), device)
    }

    /// Before the first epoch of a fresh run: the pretrained weights into the backbone (a
    /// resumed run has its own in the checkpoint), the only time the pretrained checkpoint's
    /// weights are read.
    fn on_epoch_start(
        &mut self,
        mut model: Classifier,
        epoch: usize,
        _data: &TaskData<'_>,
    ) -> Result<EpochStart<Classifier>> {
        let s = &self.settings;
        if let (0, Some(path), false) = (epoch, &s.checkpoint, s.random_init) {
            let weights = checkpoint::resolve(&checkpoint::checkpoint_dir(path))?.join(MODEL_FILE);
            model.backbone =
                checkpoint::load_weights(model.backbone, &weights, Some(&self.network.prefix))?;
        }
        Ok(EpochStart::unchanged(model))
    }

    fn networks(&self) -> Vec<Network> {
        vec![Network {
            name: "backbone".into(),
            prefix: "backbone".into(),
            ..self.network.clone()
        }]
    }

    fn optimizers(&self, train: &TrainConfig) -> Vec<OptimizerSpec> {
        let mut backbone = train.optimizer.clone();
        backbone.lr *= self.settings.backbone_lr.max(f64::MIN_POSITIVE);
        vec![
            OptimizerSpec {
                name: "backbone",
                optimizer: backbone,
                schedule: train.schedule.clone(),
            },
            OptimizerSpec {
                name: "head",
                optimizer: train.optimizer.clone(),
                schedule: train.schedule.clone(),
            },
        ]
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        vec!["accuracy"]
    }

    fn best(&self) -> Option<Best> {
        Some(Best {
            metric: "accuracy",
            higher_is_better: true,
        })
    }

    /// Reads every training and held-out image's label; an unlabelled image, or a label beyond
    /// `finetune.classes`, is an error naming it.
    fn prepare(&mut self, data: &TaskData<'_>) -> Result<()> {
        let mut labels = vec![-1i64; data.source.len()];
        for &i in data.train.iter().chain(data.val) {
            let label = data.source.label(i).ok_or_else(|| TrainError::Task {
                method: Self::NAME.into(),
                reason: format!(
                    "image {i} of {} has no label: fine-tuning needs labelled images",
                    data.source.describe()
                ),
            })?;
            if label >= self.settings.classes {
                return Err(TrainError::Task {
                    method: Self::NAME.into(),
                    reason: format!(
                        "image {i} has class {label}, but finetune.classes is {}",
                        self.settings.classes
                    ),
                });
            }
            labels[i] = label as i64;
        }
        self.labels = labels;
        Ok(())
    }

    /// The labels read by `prepare`, so that a resumed run trains on the same ones.
    fn state(&self) -> TaskState {
        let mut state = TaskState::default();
        state.put_i64("labels", vec![self.labels.len()], self.labels.clone());
        state
    }

    fn restore(&mut self, state: TaskState) -> Result<()> {
        self.labels = state.i64("labels")?.1.to_vec();
        Ok(())
    }

    fn epoch_len(&self, _train: usize) -> usize {
        let t = &self.setup.train;
        self.settings.steps.div_ceil(t.epochs.max(1)) * t.batch_size
    }

    /// The training images shuffled, again and again, until the epoch's steps are filled.
    fn epoch_order(&self, train: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
        let len = self.epoch_len(train.len());
        let mut order = Vec::with_capacity(len + train.len());
        let mut rng =
            StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        while order.len() < len {
            let mut round = train.to_vec();
            round.shuffle(&mut rng);
            order.extend(round);
        }
        order.truncate(len);
        order
    }

    fn generator(&self) -> Result<LabelledGenerator> {
        Ok(LabelledGenerator::new(
            self.settings.images.clone(),
            Arc::new(self.labels.clone()),
            self.network.input.preprocess,
        )?)
    }

    fn val_generator(&self) -> Result<LabelledGenerator> {
        let plain = AugmentConfig {
            crop_scale: [1.0, 1.0],
            crop_ratio: [1.0, 1.0],
            flip: false,
        };
        Ok(LabelledGenerator::new(
            plain,
            Arc::new(self.labels.clone()),
            self.network.input.preprocess,
        )?)
    }

    fn collate(&self, samples: Vec<LabelledSample>, device: &Device) -> LabelledBatch {
        collate_labelled(samples, device)
    }

    /// One backward pass; the backbone and the head step through their own optimisers (the
    /// backbone's rate scaled by `finetune.backbone_lr`).
    fn train_step(
        &self,
        mut model: Classifier,
        batch: &LabelledBatch,
        optimizers: &mut Optimizers,
        _step: StepInfo,
    ) -> Result<(Classifier, StepOutput)> {
        let output = model.forward_step(batch);
        let mut grads = output.loss.backward();
        let backbone = GradientsParams::from_module(&mut grads, &model.backbone);
        let head = GradientsParams::from_module(&mut grads, &model.fc);
        model.backbone = optimizers.step("backbone", model.backbone, backbone)?;
        model.fc = optimizers.step("head", model.fc, head)?;
        Ok((model, output))
    }
}

/// The images a fine-tuning run trains on: `source`, or the seeded `labels_per_class` subset
/// of it that `settings` asks for; a source without labels is refused.
pub fn labelled_source(
    settings: &FinetuneSettings,
    source: Arc<dyn selfsup_data::ImageSource>,
) -> Result<Arc<dyn selfsup_data::ImageSource>> {
    if source.class_names().is_empty() {
        return Err(TrainError::Task {
            method: FinetuneTask::NAME.into(),
            reason: format!(
                "the training images ({}) have no labels: fine-tuning needs labelled images \
                 (class folders, or a labelled dataset such as fashion-mnist)",
                source.describe()
            ),
        });
    }
    Ok(match settings.labels_per_class {
        Some(n) => Arc::new(selfsup_data::Subset::per_class(
            source,
            n,
            settings.subset_seed,
        )?),
        None => source,
    })
}

/// Checks that `test` can score a model fine-tuned with `settings`, before any training: it is
/// labelled, with as many classes as the training images (and the same names, where both have
/// names).
pub fn check_test_source(
    settings: &FinetuneSettings,
    test: &dyn selfsup_data::ImageSource,
) -> Result<()> {
    let names = test.class_names();
    let reason = if names.is_empty() {
        Some(format!(
            "the test images ({}) have no labels: fine-tuning is tested on labelled images",
            test.describe()
        ))
    } else if names.len() != settings.classes {
        Some(format!(
            "the test images ({}) have {} classes, the training images {}",
            test.describe(),
            names.len(),
            settings.classes
        ))
    } else if !settings.class_names.is_empty() && settings.class_names != names {
        Some(format!(
            "the test images ({}) name their classes {names:?}, the training images {:?}",
            test.describe(),
            settings.class_names
        ))
    } else {
        None
    };
    reason.map_or(Ok(()), |reason| {
        Err(TrainError::Task {
            method: FinetuneTask::NAME.into(),
            reason,
        })
    })
}

/// Test accuracy of `model` on the images `indices` of `source`, each prepared as `input` says,
/// in inference mode.
pub fn classifier_accuracy(
    model: &Classifier,
    source: &dyn selfsup_data::ImageSource,
    input: &InputSpec,
    batch_size: usize,
) -> Result<f64> {
    let model = model.valid();
    let device = model.devices().into_iter().next().unwrap_or_default();
    let classes = model.fc.weight.dims()[1];
    let (mut correct, mut total) = (0usize, 0usize);
    let indices: Vec<usize> = (0..source.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let mut images = Vec::with_capacity(chunk.len());
        let mut labels = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let item = source.get(i)?;
            let label = item.label.ok_or_else(|| TrainError::Task {
                method: FinetuneTask::NAME.into(),
                reason: format!("test image {i} of {} has no label", source.describe()),
            })?;
            if label >= classes {
                return Err(TrainError::Task {
                    method: FinetuneTask::NAME.into(),
                    reason: format!(
                        "test image {i} of {} has class {label}, but the model has {classes}",
                        source.describe()
                    ),
                });
            }
            images.push(input.prepare(&item.image));
            labels.push(label as i64);
        }
        let logits = model.forward(stack_images(&images, &device));
        let predicted = logits
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .map_err(|e| TrainError::Loader(format!("{e:?}")))?;
        correct += predicted
            .iter()
            .zip(&labels)
            .filter(|(p, l)| p == l)
            .count();
        total += labels.len();
    }
    Ok(correct as f64 / total.max(1) as f64)
}
