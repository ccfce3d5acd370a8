//! Super-resolution with SRGAN (Ledig et al. 2017): bicubic-downsampled crops in, the originals
//! out; SRResNet trained on MSE for `gan.warmup_epochs`, then with the adversarial loss through
//! the shared GAN step, its content loss the MSE or, as the paper's VGG loss, the distance
//! between a frozen network's features (`[superres.content]`: a selfsup checkpoint in VGG19's
//! place). The generator's trunk and the discriminator's convolutions are what downstream tasks
//! probe.

use std::path::PathBuf;

use burn::prelude::*;
use selfsup_data::pretext::{SuperResGenerator, SuperResSample, downsample};
use selfsup_data::transform::{Filter, crop, resize};
use selfsup_data::{Image, InputSpec};
use selfsup_models::backbone::BackboneConfig;
use selfsup_models::gan::DiscriminatorConfig;
use selfsup_models::{
    ContentNetworkConfig, SrGan, SrGanConfig, SrResNet, SuperResBatch, upsampling_stages,
};
use serde::{Deserialize, Serialize};

use crate::batch::{stack_images, stack_parts, unstack_images};
use crate::checkpoint::{self, MODEL_FILE};
use crate::config::{TrainConfig, invalid};
use crate::error::Result;
use crate::gan::{self, GanSettings};
use crate::metrics::EpochRecord;
use crate::optim::{OptimizerSpec, Optimizers};
use crate::task::{
    Best, EpochStart, MethodSettings, Network, PretextTask, Setup, StepInfo, TaskData, Translation,
    penultimate_block,
};

/// The `[superres]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SuperResSettings {
    /// The upsampling factor: 2, 3, 4 (the paper's) or 8.
    pub scale: usize,
    /// Channels of the generator's trunk (the paper: 64).
    pub channels: usize,
    /// Residual blocks of the trunk (the paper: 16).
    pub blocks: usize,
    /// Channels of the discriminator's first pair of convolutions (the paper: 64).
    pub discriminator_width: usize,
    /// Pairs of convolutions in the discriminator, doubling the channels (the paper: 4).
    pub discriminator_pairs: usize,
    /// Width of the discriminator's hidden dense layer (the paper: 1024).
    pub discriminator_hidden: usize,
    /// Mirror training crops left-right with probability 1/2.
    pub flip: bool,
    /// The generator learns the residual over the bicubic upsampling of its input (VDSR's
    /// skip), where the paper's SRResNet learns the whole upsampling (`false`); see the method's
    /// doc for why this is the default.
    pub bicubic_skip: bool,
    /// High-resolution pixels per tile when a whole image is upsampled (memory bound).
    pub tile: usize,
    /// The adversarial part: its weight (the paper: 1e-3), the SRResNet warm-up in epochs, the
    /// discriminator's optimiser.
    pub gan: GanSettings,
    /// The feature content loss of the adversarial phase (default: none, the MSE).
    pub content: ContentSettings,
}

/// The `[superres.content]` section: SRGAN's VGG loss with a selfsup network in VGG19's place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentSettings {
    /// A selfsup run (its best checkpoint, else its last) or checkpoint folder whose network's
    /// features make the content loss from the adversarial phase on; without one the content
    /// loss is the MSE throughout.
    pub checkpoint: Option<PathBuf>,
    /// The checkpoint's network (default: its first).
    pub network: Option<String>,
    /// The block whose activations are compared, from 1 (default: the network's
    /// representation block; the paper: VGG19's last convolutional block, `phi_5,4`).
    pub block: Option<usize>,
    /// The loss's weight against the adversarial loss (the paper scales VGG features by
    /// 1/12.75, which is a weight of about 0.006 on their squared distance).
    pub weight: f64,
}

impl Default for ContentSettings {
    fn default() -> Self {
        Self {
            checkpoint: None,
            network: None,
            block: None,
            weight: 1.0,
        }
    }
}

/// The content network a run uses: its architecture and where its weights are.
#[derive(Clone, Debug)]
struct ContentSource {
    config: ContentNetworkConfig,
    weights: PathBuf,
    prefix: String,
}

impl Default for SuperResSettings {
    fn default() -> Self {
        Self {
            scale: 4,
            channels: 64,
            blocks: 8,
            discriminator_width: 32,
            discriminator_pairs: 4,
            discriminator_hidden: 1024,
            flip: true,
            bicubic_skip: true,
            tile: 256,
            gan: GanSettings {
                weight: 1e-3,
                warmup_epochs: 2,
                optimizer: crate::config::OptimizerConfig {
                    lr: 1e-4,
                    momentum: 0.9,
                    ..GanSettings::default().optimizer
                },
                ..GanSettings::default()
            },
            content: ContentSettings::default(),
        }
    }
}

impl MethodSettings for SuperResSettings {
    fn validate(&self) -> Result<()> {
        if upsampling_stages(self.scale).is_none() {
            return Err(invalid(
                "superres.scale",
                format!("{} is not 2, 3, 4 or 8", self.scale),
            ));
        }
        for (key, value) in [
            ("superres.channels", self.channels),
            ("superres.discriminator_width", self.discriminator_width),
            ("superres.discriminator_pairs", self.discriminator_pairs),
            ("superres.discriminator_hidden", self.discriminator_hidden),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be positive"));
            }
        }
        if !(self.content.weight.is_finite() && self.content.weight > 0.0) {
            return Err(invalid(
                "superres.content.weight",
                format!("{} is not a finite number > 0", self.content.weight),
            ));
        }
        if self.tile < 4 * self.scale {
            return Err(invalid(
                "superres.tile",
                format!("{} pixels is less than 4 x the scale", self.tile),
            ));
        }
        self.gan.validate("superres.gan")
    }
}

/// SRGAN super-resolution.
#[derive(Clone, Debug)]
pub struct SuperResTask {
    settings: SuperResSettings,
    setup: Setup,
    model: SrGanConfig,
    /// The feature content loss's network, if the run has one.
    content: Option<ContentSource>,
}

impl SuperResTask {
    /// The network `settings` names for the feature content loss, read from its checkpoint.
    fn content_source(settings: &ContentSettings) -> Result<Option<ContentSource>> {
        let Some(path) = &settings.checkpoint else {
            return Ok(None);
        };
        let dir = checkpoint::checkpoint_dir(path);
        let state = checkpoint::load_state(&dir)?;
        let network = state.network(settings.network.as_deref())?;
        let blocks = network.backbone.blocks();
        let block = match settings.block {
            None => network.block,
            Some(b) if (1..=blocks).contains(&b) => b - 1,
            Some(b) => {
                return Err(invalid(
                    "superres.content.block",
                    format!("{b}: the network has blocks 1 to {blocks}"),
                ));
            }
        };
        Ok(Some(ContentSource {
            config: ContentNetworkConfig {
                backbone: network.backbone.clone(),
                channels: network.input.image_channels,
                preprocess: network.input.preprocess,
                block,
            },
            weights: checkpoint::resolve(&dir)?.join(MODEL_FILE),
            prefix: network.prefix.clone(),
        }))
    }

    /// The upsampling factor.
    pub fn scale(&self) -> usize {
        self.settings.scale
    }

    /// Low-resolution pixels around a tile that reach its centre through the generator, rounded
    /// up: the first 9x9 convolution (4), two 3x3 per residual block, the 3x3 after them, each
    /// sub-pixel stage's 3x3 at its own resolution, and the last 9x9 at the high resolution (4
    /// high-resolution pixels); the bicubic skip reaches 2, less than all of that.
    fn margin(&self) -> usize {
        let mut reach = 4.0 + 2.0 * self.settings.blocks as f64 + 1.0;
        let mut upsampled = 1.0;
        for factor in upsampling_stages(self.scale()).unwrap_or_default() {
            reach += 1.0 / upsampled;
            upsampled *= factor as f64;
        }
        (reach + 4.0 / upsampled).ceil() as usize
    }

    /// `image` (any size, at least one pixel) upsampled by the scale with the generator, in
    /// tiles of `tile` high-resolution pixels overlapping by the generator's reach, so that the
    /// result equals one pass over the whole image while memory stays bounded; values clamped
    /// to `[0, 1]`.
    pub fn upscale(&self, generator: &SrResNet, image: &Image, device: &Device) -> Result<Image> {
        let channels = self.setup.images.image_channels;
        let image = image.to_channels(channels)?;
        let (h, w, s) = (image.height(), image.width(), self.scale());
        let step = (self.settings.tile / s).max(1);
        let margin = self.margin();
        let mut out = Image::filled(channels, h * s, w * s, 0.0)?;
        for top in (0..h).step_by(step) {
            for left in (0..w).step_by(step) {
                let (y0, x0) = (top.saturating_sub(margin), left.saturating_sub(margin));
                let (y1, x1) = ((top + step + margin).min(h), (left + step + margin).min(w));
                let patch = crop(&image, y0, x0, y1 - y0, x1 - x0)?;
                let predicted =
                    unstack_images(generator.forward(stack_images(&[patch], device)))?.remove(0);
                let pw = predicted.width();
                let (th, tw) = ((step).min(h - top) * s, (step).min(w - left) * s);
                let (oy, ox) = ((top - y0) * s, (left - x0) * s);
                for c in 0..channels {
                    let plane = predicted.plane(c);
                    let target = out.plane_mut(c);
                    for y in 0..th {
                        let row = &plane[(oy + y) * pw + ox..][..tw];
                        target[(top * s + y) * w * s + left * s..][..tw].copy_from_slice(row);
                    }
                }
            }
        }
        Ok(out.clamped())
    }
}

impl PretextTask for SuperResTask {
    const NAME: &'static str = "superres";
    /// The tile size of whole-image upsampling (memory against speed, the same result).
    const APPLIED_KEYS: &'static [&'static str] = &["tile"];
    type Config = SuperResSettings;
    type Generator = SuperResGenerator;
    type Model = SrGan;

    /// Adam at lr 1e-3 (the paper: 1e-4 for 10^6 SRResNet iterations, then 10^5 + 10^5 SRGAN
    /// ones), batches of 16 (the paper's), 48-pixel colour crops (the paper: 96), three epochs:
    /// two of SRResNet, one adversarial (the paper gives SRResNet five times SRGAN's steps).
    fn default_train() -> TrainConfig {
        TrainConfig {
            epochs: 3,
            ..TrainConfig::adam_on_photos(1e-3, 0.9, 16, 48)
        }
    }

    fn new(settings: &SuperResSettings, setup: &Setup) -> Result<Self> {
        settings.validate()?;
        let side = setup.images.side;
        let scale = settings.scale;
        if !side.is_multiple_of(scale) || side < 2 * scale {
            return Err(invalid(
                "train.image_size",
                format!(
                    "{side}-pixel crops cannot be downsampled by {scale}: the side must be a \
                     multiple of the scale, at least twice it"
                ),
            ));
        }
        let channels = setup.images.image_channels;
        let discriminator = DiscriminatorConfig::srgan(
            channels,
            side,
            settings.discriminator_width,
            settings.discriminator_pairs,
            settings.discriminator_hidden,
        );
        discriminator
            .validate()
            .map_err(|reason| invalid("superres.discriminator_pairs", reason))?;
        let content = Self::content_source(&settings.content)?;
        Ok(Self {
            settings: settings.clone(),
            setup: setup.clone(),
            content: content.clone(),
            model: SrGanConfig {
                channels,
                trunk: BackboneConfig::Residual {
                    channels: settings.channels,
                    blocks: settings.blocks,
                },
                scale,
                discriminator,
                content: content.map(|c| (c.config, settings.content.weight)),
                bicubic_skip: settings.bicubic_skip,
            },
        })
    }

    fn model(&self, device: &Device) -> SrGan {
        self.model
            .init(device)
            .expect("the scale was checked when the task was built")
    }

    /// The generator's trunk (its last residual block by default), reading images at the low
    /// resolution it was trained on (the crop's side over the scale), and the discriminator's
    /// convolutions, reading them at the crop's side.
    fn networks(&self) -> Vec<Network> {
        let discriminator = self.model.discriminator.features();
        vec![
            Network {
                name: "trunk".into(),
                prefix: "generator.trunk".into(),
                block: self.settings.blocks,
                backbone: self.model.trunk.clone(),
                input: InputSpec {
                    side: self.setup.images.side / self.scale(),
                    ..self.setup.images.clone()
                },
            },
            Network {
                name: "discriminator".into(),
                prefix: "discriminator.features".into(),
                block: penultimate_block(&discriminator),
                backbone: discriminator,
                input: self.setup.images.clone(),
            },
        ]
    }

    fn optimizers(&self, train: &TrainConfig) -> Vec<OptimizerSpec> {
        self.settings.gan.optimizers(train)
    }

    /// Before the first epoch of a fresh run: the content network's pretrained weights (a
    /// resumed run has them in its checkpoint).
    fn on_epoch_start(
        &mut self,
        mut model: SrGan,
        epoch: usize,
        _data: &TaskData<'_>,
    ) -> Result<EpochStart<SrGan>> {
        if let (0, Some(source)) = (epoch, &self.content)
            && let Some(network) = model.content.take()
        {
            let backbone =
                checkpoint::load_weights(network.backbone, &source.weights, Some(&source.prefix))?;
            model.content = Some(selfsup_models::ContentNetwork {
                backbone,
                ..network
            });
        }
        Ok(EpochStart::unchanged(model))
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        let features: &[&str] = if self.content.is_some() {
            &["features"]
        } else {
            &[]
        };
        [&["mse"][..], features, &gan::METRICS].concat()
    }

    /// No `best`: the lowest held-out MSE is by design the end of the SRResNet phase, before
    /// the adversarial one, whose discriminator would then be read untrained. The run's
    /// product is its last checkpoint; the SRResNet phase's is `checkpoints/epoch-N` of its
    /// last warm-up epoch.
    fn best(&self) -> Option<Best> {
        None
    }

    fn generator(&self) -> Result<SuperResGenerator> {
        Ok(SuperResGenerator::new(self.scale(), self.settings.flip)?)
    }

    fn val_generator(&self) -> Result<SuperResGenerator> {
        Ok(SuperResGenerator::new(self.scale(), false)?)
    }

    fn collate(&self, samples: Vec<SuperResSample>, device: &Device) -> SuperResBatch {
        let [low, high] = stack_parts(samples.into_iter().map(|s| [s.low, s.high]), device);
        SuperResBatch { low, high }
    }

    fn train_step(
        &self,
        model: SrGan,
        batch: &SuperResBatch,
        optimizers: &mut Optimizers,
        step: StepInfo,
    ) -> Result<(SrGan, selfsup_models::StepOutput)> {
        // SRResNet's warm-up trains on the MSE; the feature loss starts with the adversarial
        // phase, as SRGAN starts from the MSE-trained SRResNet.
        let mut model = model;
        let warming_up = step.epoch < self.settings.gan.warmup_epochs;
        let content = if warming_up {
            model.content.take()
        } else {
            None
        };
        let (mut model, output) = gan::step(model, batch, optimizers, &self.settings.gan, step)?;
        if content.is_some() {
            model.content = content;
        }
        Ok((model, output))
    }

    fn epoch_notes(&self, history: &[EpochRecord], latest: &EpochRecord) -> Vec<String> {
        gan::discriminator_notes(history, latest)
    }

    /// Each image cropped to a multiple of the scale, downsampled (bicubic) and upsampled back
    /// by the generator; the baseline upsamples it with bicubic interpolation. Both clamped to
    /// `[0, 1]`, as 8-bit images would be.
    fn translate(
        &self,
        model: &SrGan,
        images: &[Image],
        device: &Device,
    ) -> Result<Vec<Translation>> {
        let model = model.valid();
        let (channels, s) = (self.setup.images.image_channels, self.scale());
        images
            .iter()
            .map(|image| {
                let image = image.to_channels(channels)?;
                let (h, w) = (image.height() / s * s, image.width() / s * s);
                let image = crop(&image, 0, 0, h.max(1), w.max(1))?;
                let low = downsample(&image, s)?;
                Ok(Translation {
                    prediction: self.upscale(&model.generator, &low, device)?,
                    baselines: vec![("bicubic", resize(&low, h, w, Filter::Bicubic)?.clamped())],
                    input: resize(&low, h, w, Filter::Nearest)?,
                    prediction_lab: None,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use selfsup_data::Preprocess;

    /// A fresh generator's tiled upsampling equals one pass over the image at every scale: the
    /// margin covers the architecture's reach, whatever the weights.
    #[test]
    fn tiles_give_the_one_pass_result_at_every_scale() {
        let device = Device::flex();
        let (h, w) = (13, 11);
        let data = (0..3 * h * w)
            .map(|i| (i * 29 % 97) as f32 / 97.0)
            .collect();
        let image = Image::new(3, h, w, data).unwrap();
        for scale in [2, 3, 4, 8] {
            let settings = SuperResSettings {
                scale,
                channels: 4,
                blocks: 1,
                discriminator_width: 4,
                discriminator_pairs: 2,
                discriminator_hidden: 8,
                tile: 4 * scale,
                ..SuperResSettings::default()
            };
            let setup = Setup {
                backbone: BackboneConfig::default(),
                images: InputSpec::new(3, 24, Preprocess::default()).unwrap(),
                seed: 0,
                train: SuperResTask::default_train(),
            };
            let task = SuperResTask::new(&settings, &setup).unwrap();
            let generator = task.model(&device).generator;
            let tiled = task.upscale(&generator, &image, &device).unwrap();
            let whole = unstack_images(
                generator.forward(stack_images(std::slice::from_ref(&image), &device)),
            )
            .unwrap()
            .remove(0)
            .clamped();
            assert_eq!(tiled.shape(), [3, h * scale, w * scale]);
            let worst = tiled
                .data()
                .iter()
                .zip(whole.data())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                worst < 1e-4,
                "x{scale}: tiles differ from one pass by {worst}"
            );
        }
    }
}
