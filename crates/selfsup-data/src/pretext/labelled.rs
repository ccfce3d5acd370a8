//! [`LabelledGenerator`]: an augmented image and a label looked up by the image's index: the
//! samples of DeepCluster (the cluster the image's features fell in at the last re-clustering)
//! and of fine-tuning (the image's class).
//!
//! DeepCluster (Caron, Bojanowski, Joulin & Douze, ECCV 2018, section 5.1): "We cluster the
//! central cropped images features and perform data augmentation (random horizontal flips and
//! crops of random sizes and aspect ratios) when training the network"; "We apply a fixed linear
//! transformation based on Sobel filters to remove color and increase local contrast" (the
//! generator's [`Preprocess`]). Crops keep 50 to 100% of the image's area by default (the paper's
//! random-resized crops keep 8 to 100% of a 224 px ImageNet photo; a 28 px garment cut to 8% is
//! a few pixels).

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::input::Preprocess;
use crate::pretext::PretextGenerator;
use crate::transform::{Filter, crop, hflip, resize};

/// Random resized crops and flips (`[deep_cluster.images]`, `[finetune.images]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Fraction of the image's area a random crop keeps, low and high.
    pub crop_scale: [f64; 2],
    /// Aspect ratio of the crop, low and high (drawn log-uniformly).
    pub crop_ratio: [f64; 2],
    /// Mirror left-right with probability 1/2.
    pub flip: bool,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            crop_scale: [0.5, 1.0],
            crop_ratio: [3.0 / 4.0, 4.0 / 3.0],
            flip: true,
        }
    }
}

impl AugmentConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        let [lo, hi] = self.crop_scale;
        if !(lo > 0.0 && lo <= hi && hi <= 1.0) {
            return Err(DataError::invalid(
                "augmentation",
                format!(
                    "crop_scale {:?} is not 0 < low <= high <= 1",
                    self.crop_scale
                ),
            ));
        }
        let [lo, hi] = self.crop_ratio;
        if !(lo > 0.0 && lo <= hi && hi.is_finite()) {
            return Err(DataError::invalid(
                "augmentation",
                format!("crop_ratio {:?} is not 0 < low <= high", self.crop_ratio),
            ));
        }
        Ok(())
    }
}

/// An augmented, preprocessed image and its label.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledSample {
    /// The network input.
    pub image: Image,
    /// The image's label.
    pub label: usize,
}

/// Makes [`LabelledSample`]s: the label of image `index` is `labels[index]`.
#[derive(Clone, Debug)]
pub struct LabelledGenerator {
    config: AugmentConfig,
    /// Label of each image of the source, by index; negative for images without one.
    labels: Arc<Vec<i64>>,
    preprocess: Preprocess,
}

impl LabelledGenerator {
    /// A generator over `labels` (indexed like the source), augmenting as `config` says and
    /// preprocessing as the network's input does.
    pub fn new(
        config: AugmentConfig,
        labels: Arc<Vec<i64>>,
        preprocess: Preprocess,
    ) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            labels,
            preprocess,
        })
    }

    /// A random crop of `scale` of the area and log-uniform aspect `ratio`, resized back.
    fn random_resized_crop(&self, image: &Image, rng: &mut StdRng) -> Result<Image> {
        let (h, w) = (image.height(), image.width());
        let area = (h * w) as f64;
        let [slo, shi] = self.config.crop_scale;
        let [rlo, rhi] = self.config.crop_ratio;
        let scale = if shi > slo {
            rng.random_range(slo..=shi)
        } else {
            slo
        };
        let ratio = if rhi > rlo {
            rng.random_range(rlo.ln()..=rhi.ln()).exp()
        } else {
            rlo
        };
        let cw = ((area * scale * ratio).sqrt().round() as usize).clamp(1, w);
        let ch = ((area * scale / ratio).sqrt().round() as usize).clamp(1, h);
        let top = rng.random_range(0..=h - ch);
        let left = rng.random_range(0..=w - cw);
        resize(&crop(image, top, left, ch, cw)?, h, w, Filter::Bilinear)
    }
}

impl PretextGenerator for LabelledGenerator {
    type Sample = LabelledSample;

    fn generate(&self, image: &Image, index: usize, rng: &mut StdRng) -> Result<LabelledSample> {
        let label = self.labels.get(index).copied().unwrap_or(-1);
        if label < 0 {
            return Err(DataError::invalid(
                "labels",
                format!("image {index} has no label (for DeepCluster: it was not clustered)"),
            ));
        }
        let mut x = self.random_resized_crop(image, rng)?;
        if self.config.flip && rng.random_bool(0.5) {
            x = hflip(&x);
        }
        Ok(LabelledSample {
            image: self.preprocess.apply(&x),
            label: label as usize,
        })
    }

    fn picture(&self, sample: &LabelledSample) -> Vec<Image> {
        match self.preprocess {
            // The two Sobel gradients side by side.
            Preprocess::Sobel => (0..2)
                .map(|c| {
                    let plane = sample.image.plane(c).to_vec();
                    crate::pretext::stretch(
                        &Image::new(1, sample.image.height(), sample.image.width(), plane)
                            .expect("one plane of the image"),
                    )
                })
                .collect(),
            Preprocess::Standardize => vec![crate::pretext::stretch(&sample.image)],
            Preprocess::None | Preprocess::Lightness => vec![sample.image.clone()],
        }
    }
}

/// `len` draws from `members` of each cluster so that every non-empty cluster gets the same
/// number of places (Caron et al.: "sample images based on a uniform distribution over the
/// classes, or pseudo-labels"): `len / clusters` each, and one more for `len % clusters` of
/// them drawn at random; a cluster with fewer images than places repeats them, one with more
/// gives a random subset. Shuffled.
pub fn uniform_over_clusters(members: &[Vec<usize>], len: usize, rng: &mut impl Rng) -> Vec<usize> {
    let non_empty: Vec<&Vec<usize>> = members.iter().filter(|m| !m.is_empty()).collect();
    if non_empty.is_empty() {
        return Vec::new();
    }
    let k = non_empty.len();
    let mut extra: Vec<usize> = (0..k).collect();
    extra.shuffle(rng);
    let lucky = &extra[..len % k];
    let mut order = Vec::with_capacity(len);
    for (c, cluster) in non_empty.iter().enumerate() {
        let quota = len / k + usize::from(lucky.contains(&c));
        let mut pool: Vec<usize> = (*cluster).clone();
        pool.shuffle(rng);
        order.extend((0..quota).map(|j| pool[j % pool.len()]));
    }
    order.shuffle(rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretext::sample_rng;

    #[test]
    fn every_non_empty_cluster_gets_the_same_number_of_places() {
        // Clusters of 50, 7 and 3 images (and an empty one), 60 places: 20 each.
        let members = vec![
            (0..50).collect(),
            (50..57).collect(),
            vec![],
            (57..60).collect(),
        ];
        let order = uniform_over_clusters(&members, 60, &mut sample_rng(0, 0, 0));
        assert_eq!(order.len(), 60);
        let count =
            |range: std::ops::Range<usize>| order.iter().filter(|i| range.contains(i)).count();
        assert_eq!([count(0..50), count(50..57), count(57..60)], [20, 20, 20]);
        // 61 places: one cluster gets one more.
        let order = uniform_over_clusters(&members, 61, &mut sample_rng(0, 0, 1));
        let mut counts = [
            count_in(&order, 0..50),
            count_in(&order, 50..57),
            count_in(&order, 57..60),
        ];
        counts.sort();
        assert_eq!(counts, [20, 20, 21]);
    }

    fn count_in(order: &[usize], range: std::ops::Range<usize>) -> usize {
        order.iter().filter(|i| range.contains(i)).count()
    }

    #[test]
    fn samples_carry_their_label_and_the_input_preprocessing() {
        let labels = Arc::new(vec![3, -1, 7]);
        let image = Image::new(
            3,
            12,
            12,
            (0..432).map(|i| (i % 17) as f32 / 17.0).collect(),
        )
        .unwrap();
        let config = AugmentConfig::default();
        let g = LabelledGenerator::new(config.clone(), labels, Preprocess::Sobel).unwrap();
        let s = g.generate(&image, 2, &mut sample_rng(0, 0, 2)).unwrap();
        assert_eq!(s.label, 7);
        assert_eq!(s.image.shape(), [2, 12, 12]);
        let err = g
            .generate(&image, 1, &mut sample_rng(0, 0, 1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("image 1 has no label"), "{err}");
        assert!(
            AugmentConfig {
                crop_scale: [0.9, 0.5],
                ..config
            }
            .validate()
            .is_err()
        );
    }
}
