//! Image-to-image checkpoints applied to images: predictions, their baselines, and scores of
//! both against the originals (PSNR, SSIM and each method's own), shared by `selfsup
//! colorize` and `selfsup eval image` and by every generative method.

use std::path::Path;

use burn::prelude::*;
use selfsup_data::Image;
use selfsup_data::quality::{psnr, ssim};

use crate::checkpoint::{self, checkpoint_dir};
use crate::error::{Result, TrainError};
use crate::method::{Method, MethodVisitor};
use crate::task::{PretextTask, Setup, Translation};

/// One score of a prediction and of its baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// `psnr`, `ssim`, `ab_error`...
    pub name: &'static str,
    /// The prediction's value.
    pub prediction: f64,
    /// The baseline's value.
    pub baseline: f64,
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
    images: &'a [Image],
    device: &'a Device,
}

impl MethodVisitor for Translating<'_> {
    type Output = Result<Vec<Scored>>;

    fn visit<T: PretextTask>(self) -> Self::Output {
        let state = checkpoint::load_state(self.dir)?;
        let config = &state.config;
        let setup = Setup {
            backbone: config.backbone.clone(),
            images: state.images.clone(),
            seed: state.seed,
            train: config.train.clone(),
        };
        let mut task = T::new(&config.method.settings_of::<T>()?, &setup)?;
        task.restore(checkpoint::load_task_state(self.dir)?)?;
        let model = checkpoint::load_model(task.model(self.device), self.dir)?;
        let translations = task.translate(&model, self.images, self.device)?;
        translations
            .into_iter()
            .zip(self.images)
            .map(|(translation, original)| {
                let truth = original.to_channels(translation.prediction.channels())?;
                let score = |name, f: &dyn Fn(&Image, &Image) -> selfsup_data::Result<f64>| {
                    Ok::<_, TrainError>(Score {
                        name,
                        prediction: f(&translation.prediction, &truth)?,
                        baseline: f(&translation.baseline, &truth)?,
                    })
                };
                let mut scores = vec![score("psnr", &psnr)?];
                // SSIM needs the 11x11 window to fit.
                if truth.height() > 10 && truth.width() > 10 {
                    scores.push(score("ssim", &ssim)?);
                }
                let own = task.image_scores(&translation.prediction, &truth)?;
                let own_baseline = task.image_scores(&translation.baseline, &truth)?;
                scores.extend(
                    own.into_iter()
                        .zip(own_baseline)
                        .map(|((name, p), (_, b))| Score {
                            name,
                            prediction: p,
                            baseline: b,
                        }),
                );
                Ok(Scored {
                    translation,
                    scores,
                })
            })
            .collect()
    }
}

/// Applies the image-to-image network of `checkpoint` (a run or checkpoint folder) to
/// `images` and scores each prediction and baseline against its original.
pub fn translate(checkpoint: &Path, images: &[Image], device: &Device) -> Result<Vec<Scored>> {
    let dir = checkpoint_dir(checkpoint);
    let state = checkpoint::load_state(&dir)?;
    let method = Method::from_name(&state.method).ok_or_else(|| TrainError::UnknownMethod {
        name: state.method.clone(),
        known: Method::names(),
    })?;
    method.visit(Translating {
        dir: &dir,
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
            baseline: scored
                .iter()
                .map(|x| finite(x.scores[k].baseline))
                .sum::<f64>()
                / n,
        })
        .collect()
}

/// The first `rows` translations as gallery rows: input | prediction | baseline | original.
pub fn gallery_rows(scored: &[Scored], originals: &[Image], rows: usize) -> Vec<Vec<Image>> {
    scored
        .iter()
        .zip(originals)
        .take(rows)
        .map(|(s, original)| {
            let t = &s.translation;
            vec![
                t.input.clone(),
                t.prediction.clone(),
                t.baseline.clone(),
                original.clone(),
            ]
        })
        .collect()
}
