//! Evaluation of frozen backbone features: k-NN, linear probes, and feature export.
//!
//! Features are read from any block of the backbone, either globally average-pooled (one value
//! per channel) or average-pooled to a small grid whose size keeps `channels x side x side`
//! under a budget (the "pooled to a few thousand dims" probes of Zhang et al. 2016 and Gidaris
//! et al. 2018).

//!
//! - [`extract_views`]: one pass of a backbone over images, pooled per [`View`];
//! - [`knn_accuracy`]: weighted k-nearest-neighbours;
//! - [`linear_probe`]: multinomial logistic regression fitted to convergence;
//! - [`write_npy`]: features and labels as `.npy` files.

mod blocks;
mod features;
mod knn;
mod linear;
mod npy;

pub use blocks::{BlockScores, probe_blocks};
pub use features::extract_views;
pub use knn::knn_accuracy;
pub use linear::{ProbeConfig, linear_probe};
pub use npy::write_npy;

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::module::adaptive_avg_pool2d;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use selfsup_models::backbone::global_avg_pool;

use crate::error::{Result, TrainError};

/// How block outputs become feature vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// Global average pooling: one value per channel.
    Global,
    /// Average pooling to the largest `s x s` grid with `channels x s x s <= max_dims`.
    Grid {
        /// The dimension budget.
        max_dims: usize,
    },
}

/// Feature vectors (row-major `[len, dim]`) with their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// `len x dim` values.
    pub data: Vec<f32>,
    /// Length of each vector.
    pub dim: usize,
    /// The image labels (`None` where the source has none).
    pub labels: Vec<Option<usize>>,
}

impl Features {
    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no vector.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The rows at `rows`.
    pub fn select(&self, rows: &[usize]) -> Features {
        Features {
            data: rows
                .iter()
                .flat_map(|&r| self.data[r * self.dim..(r + 1) * self.dim].iter().copied())
                .collect(),
            dim: self.dim,
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
        }
    }

    /// A seeded subset with at most `per_class` vectors of each label (the few-label setting).
    pub fn per_class(&self, per_class: usize, seed: u64) -> Features {
        let mut rows: Vec<usize> = (0..self.len()).collect();
        rows.shuffle(&mut StdRng::seed_from_u64(seed));
        let mut counts = std::collections::HashMap::new();
        let mut kept: Vec<usize> = rows
            .into_iter()
            .filter(|&r| {
                let c = counts.entry(self.labels[r]).or_insert(0);
                *c += 1;
                *c <= per_class
            })
            .collect();
        kept.sort_unstable();
        self.select(&kept)
    }

    pub(crate) fn labels_required(&self) -> Result<Vec<i64>> {
        self.labels
            .iter()
            .map(|l| l.map(|l| l as i64))
            .collect::<Option<Vec<_>>>()
            .ok_or(TrainError::InvalidConfig {
                what: "evaluation data".into(),
                reason: "every image needs a class label".into(),
            })
    }

    /// Labels of a non-empty labelled training set and test set, and the number of classes.
    pub(crate) fn labelled_pair(&self, test: &Features) -> Result<(Vec<i64>, Vec<i64>, usize)> {
        if self.is_empty() || test.is_empty() {
            return Err(TrainError::InvalidConfig {
                what: "evaluation data".into(),
                reason: "no images".into(),
            });
        }
        let (train, test) = (self.labels_required()?, test.labels_required()?);
        let classes = train.iter().chain(&test).copied().max().unwrap_or(0) as usize + 1;
        Ok((train, test, classes))
    }

    pub(crate) fn tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), [self.len(), self.dim]),
            device,
        )
    }
}

/// A frozen-feature evaluation protocol.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Protocol {
    /// Weighted k-nearest neighbours ([`knn_accuracy`]).
    Knn {
        /// Neighbours that vote.
        k: usize,
        /// Temperature of the vote weights.
        temperature: f64,
    },
    /// Logistic regression on all training features ([`linear_probe`]).
    Linear,
    /// Logistic regression on a seeded subset of `per_class` training features per class.
    Few {
        /// Labels per class.
        per_class: usize,
    },
    /// DeepCluster's clustering pipeline on the test features (PCA to `pca_dims`, whitening,
    /// L2 normalisation, k-means with `clusters`), scored by NMI against the labels.
    Nmi {
        /// k-means clusters.
        clusters: usize,
        /// PCA dimensions (at most the feature dimension).
        pca_dims: usize,
    },
}

impl Protocol {
    /// The protocol's name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Protocol::Knn { .. } => "k-NN",
            Protocol::Linear | Protocol::Few { .. } => "linear-probe",
            Protocol::Nmi { .. } => "clustering NMI",
        }
    }

    /// The training features the protocol uses (a subset for [`Protocol::Few`]).
    pub fn training_set(&self, train: &Features, seed: u64) -> Result<Features> {
        match self {
            Protocol::Few { per_class } => {
                if *per_class == 0 {
                    return Err(TrainError::InvalidConfig {
                        what: "labels per class".into(),
                        reason: "must be at least 1".into(),
                    });
                }
                Ok(train.per_class(*per_class, seed))
            }
            _ => Ok(train.clone()),
        }
    }

    /// Test accuracy with `train` (already [`training_set`](Self::training_set)) as the
    /// training data; for [`Protocol::Nmi`], the NMI of the test features' clustering.
    pub fn accuracy(
        &self,
        train: &Features,
        test: &Features,
        probe: &ProbeConfig,
        device: &Device,
    ) -> Result<f64> {
        match self {
            Protocol::Knn { k, temperature } => knn_accuracy(train, test, *k, *temperature, device),
            Protocol::Linear | Protocol::Few { .. } => linear_probe(train, test, probe, device),
            Protocol::Nmi { clusters, pca_dims } => {
                // Seeded alike for every checkpoint, so that runs compare.
                clustering_nmi(test, *clusters, *pca_dims, 0, device)
            }
        }
    }
}

/// NMI between the labels of `features` and their clustering by DeepCluster's pipeline.
pub fn clustering_nmi(
    features: &Features,
    clusters: usize,
    pca_dims: usize,
    seed: u64,
    device: &Device,
) -> Result<f64> {
    let truth: Vec<usize> = features
        .labels_required()?
        .into_iter()
        .map(|l| l as usize)
        .collect();
    let x = features.tensor(device);
    let pca = crate::cluster::Pca::fit(&x, pca_dims.min(features.dim), true)?;
    let y = pca.apply(x);
    let y = y.clone() / y.powf_scalar(2.0).sum_dim(1).sqrt().clamp_min(1e-12);
    let config = crate::cluster::KMeansConfig {
        k: clusters,
        ..crate::cluster::KMeansConfig::default()
    };
    let clustering = crate::cluster::kmeans(&y, &config, seed)?;
    Ok(crate::cluster::nmi(&truth, &clustering.assignment))
}

/// Which block's output to read and how to pool it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    /// The block, from 0.
    pub block: usize,
    /// How its output becomes a vector.
    pub pooling: Pooling,
}

impl View {
    /// Pools a block output `[n, c, h, w]` into `[n, dim]`.
    pub(crate) fn pool(&self, x: Tensor<4>) -> Tensor<2> {
        let [n, c, h, w] = x.dims();
        match self.pooling {
            Pooling::Global => global_avg_pool(x),
            Pooling::Grid { max_dims } => {
                let side = (((max_dims / c.max(1)) as f64).sqrt() as usize).clamp(1, h.min(w));
                adaptive_avg_pool2d(x, [side, side]).reshape([n, c * side * side])
            }
        }
    }
}
