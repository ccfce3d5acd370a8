//! Image-to-image checkpoints applied to images: predictions, their baselines, and scores of
//! both against the originals (PSNR, SSIM and each method's own), shared by `selfsup
//! colorize` and `selfsup eval image` and by every generative method.

use std::path::Path;

use burn::prelude::*;
use selfsup_data::Image;
use selfsup_data::quality::{psnr, ssim};
use selfsup_data::transform::crop;

use crate::checkpoint::{self, checkpoint_dir};
use crate::error::{Result, TrainError};
use crate::method::{Method, MethodVisitor};
use crate::task::{PretextTask, Setup, Translation};

/// One score of a prediction and of its baselines.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// `psnr`, `ssim`, `ab_error`...
    pub name: &'static str,
    /// The prediction's value.
    pub prediction: f64,
    /// Each baseline's name and value, in the translation's order.
    pub baselines: Vec<(&'static str, f64)>,
}

impl Score {
    /// The first baseline's value (the one the method must beat).
    pub fn baseline(&self) -> f64 {
        self.baselines.first().map_or(f64::NAN, |(_, v)| *v)
    }
}

/// A translated image with its scores against the original.
#[derive(Clone, Debug)]
pub struct Scored {
    /// The input, prediction and baseline.
    pub translation: Translation,
    /// PSNR, SSIM, then the method's scores.
    pub scores: Vec<Score>,
}

struct Translating<'a> {
    dir: &'a Path,
    overrides: &'a [String],
    images: &'a [Image],
    device: &'a Device,
}

impl MethodVisitor for Translating<'_> {
    type Output = Result<Vec<Scored>>;

    fn visit<T: PretextTask>(self) -> Self::Output {
        let (task, model) = load_task_with::<T>(self.dir, self.overrides, self.device)?;
        let translations = task.translate(&model, self.images, self.device)?;
        translations
            .into_iter()
            .zip(self.images)
            .map(|(translation, original)| {
                // Methods that need sides of a multiple of their scale predict a crop of it.
                let [c, h, w] = translation.prediction.shape();
                let truth = crop(&original.to_channels(c)?, 0, 0, h, w)?;
                // Every score of one image: PSNR, SSIM (where its 11x11 window fits), the
                // method's own.
                let scores_of = |image: &Image| -> Result<Vec<(&'static str, f64)>> {
                    let mut scores = vec![("psnr", psnr(image, &truth)?)];
                    if truth.height() > 10 && truth.width() > 10 {
                        scores.push(("ssim", ssim(image, &truth)?));
                    }
                    scores.extend(task.image_scores(image, &truth)?);
                    Ok(scores)
                };
                let baselines = translation
                    .baselines
                    .iter()
                    .map(|(name, image)| Ok((*name, scores_of(image)?)))
                    .collect::<Result<Vec<_>>>()?;
                let scores = scores_of(&translation.prediction)?
                    .into_iter()
                    .enumerate()
                    .map(|(k, (name, prediction))| Score {
                        name,
                        prediction,
                        baselines: baselines.iter().map(|(b, s)| (*b, s[k].1)).collect(),
                    })
                    .collect();
                Ok(Scored {
                    translation,
                    scores,
                })
            })
            .collect()
    }
}

/// Fails, naming the folder, unless checkpoint folder `dir` (a run or checkpoint folder) was
/// written by the method called `name`: for commands made for one method, such as `colorize`,
/// which must not apply another image-to-image method's network.
pub fn expect_method(dir: &Path, name: &str) -> Result<()> {
    let dir = checkpoint_dir(dir);
    same_method(&dir, &checkpoint::load_state(&dir)?.method, name)
}

fn same_method(dir: &Path, found: &str, wanted: &str) -> Result<()> {
    match found == wanted {
        true => Ok(()),
        false => Err(TrainError::checkpoint(
            dir,
            format!("is a '{found}' checkpoint, not '{wanted}'"),
        )),
    }
}

/// The task of method `T` and its trained networks from checkpoint folder `dir` (its task
/// state restored); fails, naming the folder, if the checkpoint is another method's.
pub fn load_task<T: PretextTask>(dir: &Path, device: &Device) -> Result<(T, T::Model)> {
    load_task_with(dir, &[], device)
}

/// [`load_task`] with `key=value` overrides of the run's configuration applied first (as
/// `--set` does for training), for the keys that change how a trained network is applied
/// ([`PretextTask::APPLIED_KEYS`]: `colorization.temperature`, `superres.tile`); any other
/// key is refused, since it would change the network or what its weights mean.
pub fn load_task_with<T: PretextTask>(
    dir: &Path,
    overrides: &[String],
    device: &Device,
) -> Result<(T, T::Model)> {
    let state = checkpoint::load_state(dir)?;
    same_method(dir, &state.method, T::NAME)?;
    for item in overrides {
        let key = item
            .split_once('=')
            .map_or(item.as_str(), |(k, _)| k)
            .trim();
        let applied = key
            .strip_prefix(T::NAME)
            .and_then(|k| k.strip_prefix('.'))
            .is_some_and(|k| T::APPLIED_KEYS.contains(&k));
        if !applied {
            let allowed: Vec<String> = T::APPLIED_KEYS
                .iter()
                .map(|k| format!("{}.{k}", T::NAME))
                .collect();
            return Err(TrainError::Config {
                origin: "--set".into(),
                reason: format!(
                    "'{key}' would change the trained network or what its weights mean; a '{}' \
                     checkpoint takes {}",
                    T::NAME,
                    if allowed.is_empty() {
                        "no overrides".into()
                    } else {
                        allowed.join(", ")
                    }
                ),
            });
        }
    }
    // The method's settings are checked when the task is built.
    let config = &state.config.clone().with_overrides(overrides)?;
    let setup = Setup {
        backbone: config.backbone.clone(),
        images: state.images.clone(),
        seed: state.seed,
        train: config.train.clone(),
    };
    let mut task = T::new(&config.method.settings_of::<T>()?, &setup)?;
    task.restore(checkpoint::load_task_state(dir)?)?;
    let model = checkpoint::load_model(task.model(device), dir)?;
    Ok((task, model))
}

/// Applies the image-to-image network of `checkpoint` (a run or checkpoint folder) to
/// `images` and scores each prediction and baseline against its original.
pub fn translate(checkpoint: &Path, images: &[Image], device: &Device) -> Result<Vec<Scored>> {
    translate_with(checkpoint, &[], images, device)
}

/// [`translate`] with `key=value` overrides of the run's configuration (see
/// [`load_task_with`]).
pub fn translate_with(
    checkpoint: &Path,
    overrides: &[String],
    images: &[Image],
    device: &Device,
) -> Result<Vec<Scored>> {
    let dir = checkpoint_dir(checkpoint);
    let state = checkpoint::load_state(&dir)?;
    let method = Method::from_name(&state.method).ok_or_else(|| TrainError::UnknownMethod {
        name: state.method.clone(),
        known: Method::names(),
    })?;
    method.visit(Translating {
        dir: &dir,
        overrides,
        images,
        device,
    })
}

/// The mean of each score over images (an infinite PSNR, of an exact prediction, counts as
/// 100 dB so that one perfect image does not make the mean infinite).
pub fn mean_scores(scored: &[Scored]) -> Vec<Score> {
    let Some(first) = scored.first() else {
        return Vec::new();
    };
    let n = scored.len() as f64;
    let finite = |v: f64| if v.is_infinite() { 100.0 } else { v };
    first
        .scores
        .iter()
        .enumerate()
        .map(|(k, s)| Score {
            name: s.name,
            prediction: scored
                .iter()
                .map(|x| finite(x.scores[k].prediction))
                .sum::<f64>()
                / n,
            baselines: s
                .baselines
                .iter()
                .enumerate()
                .map(|(b, (name, _))| {
                    let sum: f64 = scored
                        .iter()
                        .map(|x| finite(x.scores[k].baselines[b].1))
                        .sum();
                    (*name, sum / n)
                })
                .collect(),
        })
        .collect()
}

/// The first `rows` translations as gallery rows: input | prediction | baselines | original.
pub fn gallery_rows(scored: &[Scored], originals: &[Image], rows: usize) -> Vec<Vec<Image>> {
    scored
        .iter()
        .zip(originals)
        .take(rows)
        .map(|(s, original)| {
            let t = &s.translation;
            std::iter::once(t.input.clone())
                .chain(std::iter::once(t.prediction.clone()))
                .chain(t.baselines.iter().map(|(_, b)| b.clone()))
                .chain(std::iter::once(original.clone()))
                .collect()
        })
        .collect()
}
