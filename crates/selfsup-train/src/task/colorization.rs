//! Colorization (Zhang, Isola & Efros 2016): the L channel in, a distribution over the 313
//! quantised ab bins at a quarter of the resolution out, trained with the class-rebalanced
//! multinomial loss; or the L2 regression of ab the paper compares against.

use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup_data::color::{AbBins, BINS, rebalancing_weights, srgb_to_lab};
use selfsup_data::pretext::{
    ColorizationConfig, ColorizationGenerator, ColorizationSample, lab_image, subsample_ab,
};
use selfsup_data::quality::colour_scores;
use selfsup_data::transform::{crop, grayscale};
use selfsup_data::{Image, InputSpec, Preprocess, lightness};
use selfsup_models::{
    AB_SCALE, ColorTarget, ColorizationBatch, Colorizer, ColorizerConfig, annealed_mean,
};
use serde::{Deserialize, Serialize};

use crate::batch::stack_images;
use crate::config::{TrainConfig, finite_at_least, invalid};
use crate::error::{Result, TrainError};
use crate::task::{
    MethodSettings, Network, PretextTask, Setup, TaskData, TaskState, Translation,
    penultimate_block,
};

/// What the network predicts and how it is scored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorLoss {
    /// A distribution over the ab bins, soft-encoded targets, class-rebalanced cross-entropy,
    /// decoded by the annealed mean (the paper's method).
    #[default]
    Classification,
    /// The a and b values, Euclidean loss (the paper's regression baseline).
    L2,
}

/// The `[colorization]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColorizationSettings {
    /// `classification` (the paper's) or `l2`.
    pub loss: ColorLoss,
    /// Mirror training images left-right with probability 1/2.
    pub flip: bool,
    /// Images with no target pixel beyond this |a| or |b| are grey and left out of the loss.
    pub grey_threshold: f32,
    /// Bins each target pixel is soft-encoded over (the paper: 5).
    pub neighbours: usize,
    /// Width of the soft encoding's Gaussian kernel, in ab units (the paper: 5).
    pub sigma: f32,
    /// Width of the Gaussian that smooths the colour prior (the paper: 5).
    pub prior_sigma: f32,
    /// Weight of the uniform distribution mixed into the prior before inverting it (the
    /// paper's lambda, 0.5; 1 turns rebalancing off).
    pub lambda: f64,
    /// Temperature of the annealed mean that decodes predictions (the paper: 0.38).
    pub temperature: f32,
    /// Training images the colour prior is estimated from (spread evenly over the split).
    pub prior_images: usize,
}

impl Default for ColorizationSettings {
    fn default() -> Self {
        Self {
            loss: ColorLoss::Classification,
            flip: true,
            grey_threshold: 5.0,
            neighbours: 5,
            sigma: 5.0,
            prior_sigma: 5.0,
            lambda: 0.5,
            temperature: 0.38,
            prior_images: 2000,
        }
    }
}

impl MethodSettings for ColorizationSettings {
    fn validate(&self) -> Result<()> {
        finite_at_least("colorization.sigma", f64::from(self.sigma), 0.0, true)?;
        finite_at_least(
            "colorization.prior_sigma",
            f64::from(self.prior_sigma),
            0.0,
            true,
        )?;
        finite_at_least(
            "colorization.temperature",
            f64::from(self.temperature),
            0.0,
            true,
        )?;
        finite_at_least(
            "colorization.grey_threshold",
            f64::from(self.grey_threshold),
            0.0,
            false,
        )?;
        if !(0.0..=1.0).contains(&self.lambda) {
            return Err(invalid(
                "colorization.lambda",
                format!("{} is not in [0, 1]", self.lambda),
            ));
        }
        if !(1..=BINS).contains(&self.neighbours) {
            return Err(invalid(
                "colorization.neighbours",
                format!("{} is not in 1..={BINS}", self.neighbours),
            ));
        }
        if self.prior_images == 0 {
            return Err(invalid("colorization.prior_images", "must be positive"));
        }
        Ok(())
    }
}

/// Colorization: the colour prior of the training images is its task state.
#[derive(Clone, Debug)]
pub struct ColorizationTask {
    settings: ColorizationSettings,
    setup: Setup,
    /// Input pixels per output pixel: 4, or the backbone's stride if smaller.
    stride: usize,
    model: ColorizerConfig,
    bins: Arc<AbBins>,
    /// The smoothed colour prior over the bins.
    prior: Option<Arc<Vec<f64>>>,
    /// Rebalancing weights from the prior.
    weights: Option<Arc<Vec<f32>>>,
}

/// The paper's output stride.
const OUTPUT_STRIDE: usize = 4;

impl ColorizationTask {
    fn error(reason: impl Into<String>) -> TrainError {
        TrainError::Task {
            method: Self::NAME.into(),
            reason: reason.into(),
        }
    }

    fn weights(&self) -> Result<&Arc<Vec<f32>>> {
        self.weights
            .as_ref()
            .ok_or_else(|| Self::error("no colour prior yet (prepare or restore the task first)"))
    }

    /// The colour prior the rebalanced scores use.
    pub fn prior(&self) -> Option<&[f64]> {
        self.prior.as_deref().map(Vec::as_slice)
    }

    fn set_prior(&mut self, prior: Vec<f64>) {
        self.weights = Some(Arc::new(rebalancing_weights(&prior, self.settings.lambda)));
        self.prior = Some(Arc::new(prior));
    }

    /// The ab planes the network predicts for one lightness image, at its output stride.
    fn predict_ab(&self, model: &Colorizer, l: &Image, device: &Device) -> Image {
        let input = stack_images(std::slice::from_ref(l), device);
        let out = model.forward(input);
        let ab = match self.settings.loss {
            ColorLoss::Classification => {
                let centres: Vec<f32> = self.bins.centres().iter().flatten().copied().collect();
                let centres = Tensor::<2>::from_data(TensorData::new(centres, [BINS, 2]), device);
                annealed_mean(out, centres, self.settings.temperature)
            }
            ColorLoss::L2 => out.mul_scalar(AB_SCALE),
        };
        let [_, _, h, w] = ab.dims();
        let data = ab
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32 predictions");
        Image::new(2, h, w, data).expect("2 planes of h x w")
    }
}

/// `image` extended to multiples of `m` on each side by repeating its last row and column.
fn pad_to_multiple(image: &Image, m: usize) -> Image {
    let (h, w) = (image.height(), image.width());
    let (ph, pw) = (h.div_ceil(m) * m, w.div_ceil(m) * m);
    if (ph, pw) == (h, w) {
        return image.clone();
    }
    let mut data = Vec::with_capacity(image.channels() * ph * pw);
    for c in 0..image.channels() {
        let plane = image.plane(c);
        for y in 0..ph {
            let row = &plane[y.min(h - 1) * w..][..w];
            data.extend((0..pw).map(|x| row[x.min(w - 1)]));
        }
    }
    Image::new(image.channels(), ph, pw, data).expect("padded planes")
}

impl PretextTask for ColorizationTask {
    const NAME: &'static str = "colorization";
    /// The annealed mean's temperature (the paper's figure 3 sweeps it).
    const APPLIED_KEYS: &'static [&'static str] = &["temperature"];
    type Config = ColorizationSettings;
    type Generator = ColorizationGenerator;
    type Model = Colorizer;

    /// Adam at lr 1e-3 (the paper: 3e-5 for its deeper network without our per-block batch
    /// normalisation), batches of 32, 64-pixel colour crops.
    fn default_train() -> TrainConfig {
        TrainConfig::adam_on_photos(1e-3, 0.9, 32, 64)
    }

    fn new(settings: &ColorizationSettings, setup: &Setup) -> Result<Self> {
        settings.validate()?;
        if setup.images.image_channels != 3 {
            return Err(invalid(
                "colorization input",
                "colorization learns colour from colour images, and these are conformed to \
                 grey (1 channel): give a colour source (photos, photos-sample, a folder of \
                 colour photos) and train.channels = 3",
            ));
        }
        let side = setup.images.side;
        let backbone_stride = setup.backbone.stride();
        setup
            .backbone
            .check_input(side)
            .map_err(|reason| invalid("colorization input", reason))?;
        if !side.is_multiple_of(backbone_stride) {
            return Err(invalid(
                "train.image_size",
                format!(
                    "{side}-pixel images are not a multiple of the backbone's stride \
                     {backbone_stride}: the prediction would not line up with the target"
                ),
            ));
        }
        let stride = backbone_stride.min(OUTPUT_STRIDE);
        let upsamplings = (backbone_stride / stride).trailing_zeros() as usize;
        let outputs = match settings.loss {
            ColorLoss::Classification => BINS,
            ColorLoss::L2 => 2,
        };
        Ok(Self {
            settings: settings.clone(),
            setup: setup.clone(),
            stride,
            model: ColorizerConfig {
                backbone: setup.backbone.clone(),
                outputs,
                upsamplings,
            },
            bins: Arc::new(AbBins::new()),
            prior: None,
            weights: None,
        })
    }

    fn model(&self, device: &Device) -> Colorizer {
        self.model.init(device)
    }

    /// The encoder, reading the L channel of any image (grey ones included).
    fn networks(&self) -> Vec<Network> {
        let input = InputSpec {
            preprocess: Preprocess::Lightness,
            ..self.setup.images.clone()
        };
        let backbone = &self.setup.backbone;
        vec![Network::backbone(
            backbone,
            input,
            penultimate_block(backbone),
        )]
    }

    /// Estimates the colour prior from up to `prior_images` training images, spread evenly:
    /// the ab of every target pixel of the colour images, over the bins, smoothed.
    fn prepare(&mut self, data: &TaskData<'_>) -> Result<()> {
        let take = self.settings.prior_images.min(data.train.len()).max(1);
        let step = data.train.len() as f64 / take as f64;
        let mut ab = Vec::new();
        for k in 0..take.min(data.train.len()) {
            let index = data.train[(k as f64 * step) as usize];
            let image = data.images.conform(&data.source.get(index)?.image);
            let lab = srgb_to_lab(&image)?;
            let target = subsample_ab(&lab, self.stride);
            let plane = target.height() * target.width();
            let (a, b) = target.data().split_at(plane);
            let threshold = self.settings.grey_threshold;
            if target.data().iter().any(|v| v.abs() > threshold) {
                ab.extend(a.iter().zip(b).map(|(a, b)| [*a, *b]));
            }
        }
        let prior = self
            .bins
            .prior(ab, self.settings.prior_sigma)
            .ok_or_else(|| {
                Self::error(format!(
                    "none of the {take} training images read for the colour prior has colour \
                 (|a| or |b| above {}): colorization needs colour photos",
                    self.settings.grey_threshold
                ))
            })?;
        // At the precision the checkpoint keeps it, so that a resumed run weighs as a straight
        // one does.
        self.set_prior(prior.into_iter().map(|p| f64::from(p as f32)).collect());
        Ok(())
    }

    fn generator(&self) -> Result<ColorizationGenerator> {
        let config = ColorizationConfig {
            flip: self.settings.flip,
            grey_threshold: self.settings.grey_threshold,
        };
        Ok(ColorizationGenerator::new(config, self.stride)?)
    }

    fn val_generator(&self) -> Result<ColorizationGenerator> {
        let config = ColorizationConfig {
            flip: false,
            grey_threshold: self.settings.grey_threshold,
        };
        Ok(ColorizationGenerator::new(config, self.stride)?)
    }

    fn collate(&self, samples: Vec<ColorizationSample>, device: &Device) -> ColorizationBatch {
        let n = samples.len();
        let [_, h, w] = samples.first().map_or([2, 0, 0], |s| s.ab.shape());
        let plane = h * w;
        let (lightness, samples): (Vec<Image>, Vec<(Image, bool)>) = samples
            .into_iter()
            .map(|s| (s.lightness, (s.ab, s.colourful)))
            .unzip();
        let lightness = stack_images(&lightness, device);
        let target = match self.settings.loss {
            ColorLoss::Classification => {
                let weights = self
                    .weights()
                    .expect("the trainer prepares or restores the task before collating");
                let mut target = vec![0.0f32; n * BINS * plane];
                let mut pixel_weights = vec![0.0f32; n * plane];
                let mut scratch = Vec::new();
                for (i, (ab, colourful)) in samples.iter().enumerate() {
                    let (a, b) = ab.data().split_at(plane);
                    let out = &mut target[i * BINS * plane..][..BINS * plane];
                    for p in 0..plane {
                        let q = self.bins.soft_encode(
                            a[p],
                            b[p],
                            self.settings.neighbours,
                            self.settings.sigma,
                            &mut scratch,
                            |q, v| out[q * plane + p] = v,
                        );
                        if *colourful {
                            pixel_weights[i * plane + p] = weights[q];
                        }
                    }
                }
                ColorTarget::Bins {
                    target: Tensor::from_data(TensorData::new(target, [n, BINS, h, w]), device),
                    weights: Tensor::from_data(TensorData::new(pixel_weights, [n, h, w]), device),
                }
            }
            ColorLoss::L2 => {
                let mut ab = Vec::with_capacity(n * 2 * plane);
                let mut mask = Vec::with_capacity(n * plane);
                for (planes, colourful) in &samples {
                    ab.extend(planes.data().iter().map(|v| v / AB_SCALE));
                    mask.extend(std::iter::repeat_n(f32::from(u8::from(*colourful)), plane));
                }
                ColorTarget::Ab {
                    ab: Tensor::from_data(TensorData::new(ab, [n, 2, h, w]), device),
                    mask: Tensor::from_data(TensorData::new(mask, [n, 1, h, w]), device),
                }
            }
        };
        ColorizationBatch { lightness, target }
    }

    fn state(&self) -> TaskState {
        let mut state = TaskState::default();
        if let Some(prior) = &self.prior {
            state.put_f32(
                "prior",
                vec![BINS],
                prior.iter().map(|p| *p as f32).collect(),
            );
        }
        state
    }

    fn restore(&mut self, state: TaskState) -> Result<()> {
        let (shape, prior) = state.f32("prior")?;
        if shape != [BINS] {
            return Err(Self::error(format!(
                "the checkpoint's colour prior has shape {shape:?}, not [{BINS}]"
            )));
        }
        self.set_prior(prior.iter().map(|p| f64::from(*p)).collect());
        Ok(())
    }

    /// Colourises whole images of any size: the input's own L at full resolution, the
    /// predicted ab upsampled bilinearly to it (the image is padded to the backbone's stride
    /// by repeating its edge, and the padding cropped off again).
    fn translate(
        &self,
        model: &Colorizer,
        images: &[Image],
        device: &Device,
    ) -> Result<Vec<Translation>> {
        let model = model.valid();
        let multiple = self.setup.backbone.stride();
        images
            .iter()
            .map(|image| {
                let rgb = match image.channels() {
                    3 => image.clone(),
                    _ => grayscale(image).to_channels(3)?,
                };
                let l = lightness(&rgb);
                let padded = pad_to_multiple(&l, multiple);
                self.setup
                    .backbone
                    .check_input(padded.height().min(padded.width()))
                    .map_err(|reason| invalid("colorize input", reason))?;
                let ab = self.predict_ab(&model, &padded, device);
                let lab = lab_image(&padded, &ab)?;
                let lab = crop(&lab, 0, 0, l.height(), l.width())?;
                let grey = Image::new(
                    3,
                    l.height(),
                    l.width(),
                    lab.plane(0)
                        .iter()
                        .copied()
                        .chain(std::iter::repeat_n(0.0, 2 * l.height() * l.width()))
                        .collect(),
                )?;
                Ok(Translation {
                    input: l,
                    prediction: selfsup_data::color::lab_to_srgb(&lab)?,
                    prediction_lab: Some(lab),
                    baselines: vec![("grey", selfsup_data::color::lab_to_srgb(&grey)?)],
                })
            })
            .collect()
    }

    /// ab error, raw and class-rebalanced AuC (Zhang et al. 2016, section 3.1), and
    /// colourfulness: HSV saturation and Lab chroma.
    fn image_scores(&self, prediction: &Image, truth: &Image) -> Result<Vec<(&'static str, f64)>> {
        let prior = self
            .prior()
            .ok_or_else(|| Self::error("no colour prior (restore the task first)"))?;
        let s = colour_scores(prediction, truth, &self.bins, prior)?;
        Ok(vec![
            ("ab_error", s.ab_error),
            ("auc", s.auc),
            ("auc_rebalanced", s.auc_rebalanced),
            ("saturation", s.saturation),
            ("chroma", s.chroma),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_repeats_the_edge() {
        let image = Image::new(1, 2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let padded = pad_to_multiple(&image, 4);
        assert_eq!(padded.shape(), [1, 4, 4]);
        assert_eq!(padded.plane(0)[..4], [1.0, 2.0, 3.0, 3.0]);
        assert_eq!(padded.plane(0)[12..], [4.0, 5.0, 6.0, 6.0]);
        assert_eq!(pad_to_multiple(&padded, 4), padded);
    }
}
