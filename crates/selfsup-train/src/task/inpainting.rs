//! Inpainting with Context Encoders (Pathak, Krahenbuhl, Donahue, Darrell & Efros 2016): the
//! image with a hole in, the hole out, trained with a weighted L2 loss plus an adversarial loss
//! through the shared GAN step. The encoder is what downstream tasks reuse.

use burn::prelude::*;
use selfsup_data::Image;
use selfsup_data::pretext::{
    InpaintingConfig, InpaintingGenerator, InpaintingSample, MaskKind, centre_mask, centre_square,
    composite, coverage, diffusion_fill, fill_hole, min_side,
};
use selfsup_data::quality::psnr_within;
use selfsup_data::transform::{Filter, resize};
use selfsup_models::gan::DiscriminatorConfig;
use selfsup_models::{Inpainter, InpainterConfig, InpaintingBatch};
use serde::{Deserialize, Serialize};

use crate::batch::{stack_images, stack_parts, unstack_images};
use crate::config::{TrainConfig, finite_at_least, invalid};
use crate::error::{Result, TrainError};
use crate::gan::{self, GanSettings};
use crate::metrics::EpochRecord;
use crate::optim::{OptimizerSpec, Optimizers};
use crate::task::{
    Best, MethodSettings, Network, PretextTask, Setup, StepInfo, TaskData, TaskState, Translation,
};

/// The `[inpainting]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InpaintingSettings {
    /// The hole: `centre` (a quarter of the image), `blocks` or `regions`.
    pub mask: MaskKind,
    /// Width of the heavier-weighted border around the hole, in pixels; by default the
    /// authors' 4 pixels at 128 scaled to the image size.
    pub overlap: Option<usize>,
    /// How much heavier the border weighs than the hole (the authors: 10).
    pub overlap_weight: f32,
    /// Mirror training images left-right with probability 1/2.
    pub flip: bool,
    /// Channels of the discriminator's first layer (doubling per layer; DCGAN: 64).
    pub discriminator_width: usize,
    /// Training images the fill colour (the dataset mean) is estimated from.
    pub mean_images: usize,
    /// The adversarial part: the weight of the adversarial loss (the paper: 0.001 against
    /// 0.999 for L2; 0 trains the reconstruction alone), the discriminator's optimiser.
    pub gan: GanSettings,
}

impl Default for InpaintingSettings {
    fn default() -> Self {
        Self {
            mask: MaskKind::Centre,
            overlap: None,
            overlap_weight: 10.0,
            flip: true,
            discriminator_width: 32,
            mean_images: 2000,
            gan: GanSettings {
                // 0.001 x adversarial + 0.999 x L2, scaled so that L2 weighs 1.
                weight: 0.001 / 0.999,
                ..GanSettings::default()
            },
        }
    }
}

impl MethodSettings for InpaintingSettings {
    fn validate(&self) -> Result<()> {
        finite_at_least(
            "inpainting.overlap_weight",
            f64::from(self.overlap_weight),
            0.0,
            false,
        )?;
        if self.discriminator_width == 0 {
            return Err(invalid(
                "inpainting.discriminator_width",
                "must be positive",
            ));
        }
        if self.mean_images == 0 {
            return Err(invalid("inpainting.mean_images", "must be positive"));
        }
        self.gan.validate("inpainting.gan")
    }
}

/// Context Encoder inpainting; the dataset mean that fills holes is its task state.
#[derive(Clone, Debug)]
pub struct InpaintingTask {
    settings: InpaintingSettings,
    setup: Setup,
    model: InpainterConfig,
    overlap: usize,
    /// The square the discriminator judges (central holes), else the whole image.
    judged: Option<[usize; 3]>,
    /// The mean of each channel over the training images.
    mean: Option<Vec<f32>>,
}

impl InpaintingTask {
    fn error(reason: impl Into<String>) -> TrainError {
        TrainError::Task {
            method: Self::NAME.into(),
            reason: reason.into(),
        }
    }

    /// The fill colour (the training images' mean), once prepared or restored.
    pub fn mean(&self) -> Result<&[f32]> {
        self.mean
            .as_deref()
            .ok_or_else(|| Self::error("no dataset mean yet (prepare or restore the task first)"))
    }

    /// The side of the images the network takes.
    pub fn side(&self) -> usize {
        self.setup.images.side
    }

    /// Fills the hole `mask` (`[1, h, w]`, 1 in the hole) of `image`, of any size: the image
    /// is resized to the network's side, the prediction resized back, and only the hole takes
    /// it; every other pixel is the input's.
    pub fn inpaint(
        &self,
        model: &Inpainter,
        image: &Image,
        mask: &Image,
        device: &Device,
    ) -> Result<Image> {
        let channels = self.setup.images.image_channels;
        let image = image.to_channels(channels)?;
        let (h, w) = (image.height(), image.width());
        if h < 2 || w < 2 {
            // Named here, before a centre mask of such an image reads as "covers 0%".
            return Err(Self::error(format!(
                "a {w}x{h} image is too small to inpaint: it needs at least 2x2 pixels, a hole \
                 and pixels around it to fill it from"
            )));
        }
        let hole = coverage(mask);
        if hole == 0.0 || hole == 1.0 {
            return Err(Self::error(format!(
                "the mask covers {:.0}% of the image: a hole must leave something to fill \
                 and something to fill it from",
                100.0 * hole
            )));
        }
        let side = self.side();
        let small = resize(&image, side, side, Filter::Bicubic)?;
        let small_mask = resize(mask, side, side, Filter::Nearest)?;
        let masked = fill_hole(&small, &small_mask, self.mean()?)?;
        let predicted = model
            .generator
            .forward(stack_images(std::slice::from_ref(&masked), device));
        let predicted = unstack_images(predicted)?.remove(0);
        let full = resize(&predicted, h, w, Filter::Bicubic)?;
        Ok(composite(&image, &full, mask)?)
    }
}

impl PretextTask for InpaintingTask {
    const NAME: &'static str = "inpainting";
    type Config = InpaintingSettings;
    type Generator = InpaintingGenerator;
    type Model = Inpainter;

    /// Adam at lr 1e-3 with beta1 0.5 (the paper: 2e-4 for 100k+ iterations; our budget is a
    /// few thousand), batches of 32, 64-pixel colour crops.
    fn default_train() -> TrainConfig {
        TrainConfig::adam_on_photos(1e-3, 0.5, 32, 64)
    }

    fn new(settings: &InpaintingSettings, setup: &Setup) -> Result<Self> {
        settings.validate()?;
        let side = setup.images.side;
        let stride = setup.backbone.stride();
        setup
            .backbone
            .check_input(side)
            .map_err(|reason| invalid("inpainting input", reason))?;
        if !side.is_multiple_of(stride) || side < min_side(settings.mask) {
            return Err(invalid(
                "train.image_size",
                format!(
                    "{side}-pixel images: inpainting needs a multiple of the backbone's stride \
                     {stride} (the decoder mirrors the encoder) and at least {} pixels for {:?} \
                     masks",
                    min_side(settings.mask),
                    settings.mask
                ),
            ));
        }
        let channels = setup.images.image_channels;
        let judged = (settings.mask == MaskKind::Centre).then(|| {
            let hole = centre_square(side);
            [hole.0, hole.1, hole.2]
        });
        let discriminator = DiscriminatorConfig::dcgan(
            channels,
            judged.map_or(side, |[_, _, s]| s),
            settings.discriminator_width,
        );
        discriminator
            .validate()
            .map_err(|reason| invalid("inpainting.discriminator_width", reason))?;
        Ok(Self {
            overlap: settings.overlap.unwrap_or((4 * side).div_ceil(128)),
            settings: settings.clone(),
            setup: setup.clone(),
            model: InpainterConfig {
                backbone: setup.backbone.clone(),
                channels,
                side,
                discriminator,
            },
            judged,
            mean: None,
        })
    }

    fn model(&self, device: &Device) -> Inpainter {
        self.model.init(device)
    }

    /// The generator's encoder.
    fn networks(&self) -> Vec<Network> {
        vec![Network::run_backbone(
            "encoder",
            "generator.encoder",
            &self.setup,
        )]
    }

    fn optimizers(&self, train: &TrainConfig) -> Vec<OptimizerSpec> {
        self.settings.gan.optimizers(train)
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        [&["l2"][..], &gan::METRICS].concat()
    }

    /// The lowest L2 loss on the held-out images.
    fn best(&self) -> Option<Best> {
        Some(Best {
            metric: "l2",
            higher_is_better: false,
        })
    }

    /// The mean of each channel over up to `mean_images` training images, spread evenly.
    fn prepare(&mut self, data: &TaskData<'_>) -> Result<()> {
        let take = self.settings.mean_images.min(data.train.len()).max(1);
        let step = data.train.len() as f64 / take as f64;
        let channels = data.images.image_channels;
        let mut sums = vec![0.0f64; channels];
        let mut count = 0usize;
        for k in 0..take.min(data.train.len()) {
            let image = data.images.conform(
                &data
                    .source
                    .get(data.train[(k as f64 * step) as usize])?
                    .image,
            );
            for (c, sum) in sums.iter_mut().enumerate() {
                *sum += image.plane(c).iter().map(|v| f64::from(*v)).sum::<f64>();
            }
            count += image.height() * image.width();
        }
        self.mean = Some(
            sums.iter()
                .map(|s| (s / count.max(1) as f64) as f32)
                .collect(),
        );
        Ok(())
    }

    fn generator(&self) -> Result<InpaintingGenerator> {
        Ok(InpaintingGenerator::new(InpaintingConfig {
            mask: self.settings.mask,
            overlap: self.overlap,
            overlap_weight: self.settings.overlap_weight,
            fill: self.mean()?.to_vec(),
            flip: self.settings.flip,
        })?)
    }

    fn val_generator(&self) -> Result<InpaintingGenerator> {
        let mut generator = self.generator()?.config().clone();
        generator.flip = false;
        Ok(InpaintingGenerator::new(generator)?)
    }

    fn collate(&self, samples: Vec<InpaintingSample>, device: &Device) -> InpaintingBatch {
        let [masked, original, mask, weights] = stack_parts(
            samples
                .into_iter()
                .map(|s| [s.masked, s.original, s.mask, s.weights]),
            device,
        );
        InpaintingBatch {
            masked,
            original,
            mask,
            weights,
            judged: self.judged,
        }
    }

    fn train_step(
        &self,
        model: Inpainter,
        batch: &InpaintingBatch,
        optimizers: &mut Optimizers,
        step: StepInfo,
    ) -> Result<(Inpainter, selfsup_models::StepOutput)> {
        gan::step(model, batch, optimizers, &self.settings.gan, step)
    }

    fn epoch_notes(&self, history: &[EpochRecord], latest: &EpochRecord) -> Vec<String> {
        gan::discriminator_notes(history, latest)
    }

    fn state(&self) -> TaskState {
        let mut state = TaskState::default();
        if let Some(mean) = &self.mean {
            state.put_f32("mean", vec![mean.len()], mean.clone());
        }
        state
    }

    fn restore(&mut self, state: TaskState) -> Result<()> {
        let (shape, mean) = state.f32("mean")?;
        if shape != [self.setup.images.image_channels] {
            return Err(Self::error(format!(
                "the checkpoint's dataset mean has shape {shape:?}, not [{}]",
                self.setup.images.image_channels
            )));
        }
        self.mean = Some(mean.to_vec());
        Ok(())
    }

    /// Fills the central quarter of each image (the paper's evaluation); the baselines fill it
    /// with the dataset mean and by diffusion from its border.
    fn translate(
        &self,
        model: &Inpainter,
        images: &[Image],
        device: &Device,
    ) -> Result<Vec<Translation>> {
        let model = model.valid();
        let channels = self.setup.images.image_channels;
        images
            .iter()
            .map(|image| {
                let image = image.to_channels(channels)?;
                let mask = centre_mask(image.height(), image.width());
                let masked = fill_hole(&image, &mask, self.mean()?)?;
                Ok(Translation {
                    prediction: self.inpaint(&model, &image, &mask, device)?,
                    baselines: vec![
                        ("mean", masked.clone()),
                        ("diffusion", diffusion_fill(&masked, &mask)?),
                    ],
                    input: masked,
                    prediction_lab: None,
                })
            })
            .collect()
    }

    /// PSNR over the hole alone (the central quarter), where the fills differ.
    fn image_scores(&self, prediction: &Image, truth: &Image) -> Result<Vec<(&'static str, f64)>> {
        let mask = centre_mask(truth.height(), truth.width());
        Ok(vec![("psnr_hole", psnr_within(prediction, truth, &mask)?)])
    }
}
