//! Evaluation of frozen backbone features: k-NN, linear probes, and feature export.
//!
//! Features are read from any block of the backbone, either globally average-pooled (one value
//! per channel) or average-pooled to a small grid whose size keeps `channels x side x side`
//! under a budget (the "pooled to a few thousand dims" probes of Zhang et al. 2016 and Gidaris
//! et al. 2018).

use std::path::Path;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::module::adaptive_avg_pool2d;
use npyz::WriterBuilder;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use selfsup_data::ImageSource;
use selfsup_models::backbone::{Backbone, global_avg_pool};

use crate::batch::{ImageBatcher, stack_images};
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

    fn labels_required(&self) -> Result<Vec<i64>> {
        self.labels
            .iter()
            .map(|l| l.map(|l| l as i64))
            .collect::<Option<Vec<_>>>()
            .ok_or(TrainError::InvalidConfig {
                what: "evaluation data",
                reason: "every image needs a class label".into(),
            })
    }

    /// Labels of a non-empty labelled training set and test set, and the number of classes.
    fn labelled_pair(&self, test: &Features) -> Result<(Vec<i64>, Vec<i64>, usize)> {
        if self.is_empty() || test.is_empty() {
            return Err(TrainError::InvalidConfig {
                what: "evaluation data",
                reason: "no images".into(),
            });
        }
        let (train, test) = (self.labels_required()?, test.labels_required()?);
        let classes = train.iter().chain(&test).copied().max().unwrap_or(0) as usize + 1;
        Ok((train, test, classes))
    }

    fn tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), [self.len(), self.dim]),
            device,
        )
    }
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
    fn pool(&self, x: Tensor<4>) -> Tensor<2> {
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

/// Runs `backbone` (in inference mode) over `source` and pools block `block`'s output.
pub fn extract_features(
    backbone: &Backbone,
    source: &dyn ImageSource,
    conform: &ImageBatcher,
    block: usize,
    pooling: Pooling,
    batch_size: usize,
) -> Result<Features> {
    let view = View { block, pooling };
    extract_views(backbone, source, conform, &[view], batch_size).map(|mut v| v.remove(0))
}

/// Runs `backbone` (in inference mode) over `source` once and returns the features of every
/// view, in order: probing several blocks costs one forward pass, not one per block.
pub fn extract_views(
    backbone: &Backbone,
    source: &dyn ImageSource,
    conform: &ImageBatcher,
    views: &[View],
    batch_size: usize,
) -> Result<Vec<Features>> {
    let blocks = backbone.block_channels().len();
    if let Some(view) = views.iter().find(|v| v.block >= blocks) {
        return Err(TrainError::InvalidConfig {
            what: "block",
            reason: format!(
                "block {} does not exist: the backbone has blocks 1 to {blocks}",
                view.block + 1
            ),
        });
    }
    let backbone = backbone.valid();
    let device = backbone.devices().into_iter().next().unwrap_or_default();
    let mut data = vec![Vec::new(); views.len()];
    let mut dims = vec![0; views.len()];
    let mut labels = Vec::with_capacity(source.len());
    let indices: Vec<usize> = (0..source.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let mut images = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let item = source.get(i)?;
            images.push(conform.conform(&item.image));
            labels.push(item.label);
        }
        let outputs = backbone.forward_blocks(stack_images(&images, &device));
        for (v, view) in views.iter().enumerate() {
            let pooled = view.pool(outputs[view.block].clone());
            dims[v] = pooled.dims()[1];
            data[v].extend(
                pooled
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .map_err(|e| TrainError::Loader(format!("{e:?}")))?,
            );
        }
    }
    Ok(data
        .into_iter()
        .zip(dims)
        .map(|(data, dim)| Features {
            data,
            dim,
            labels: labels.clone(),
        })
        .collect())
}

fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    x / norm
}

/// Weighted k-NN accuracy on `test` with `train` as the memory bank: cosine similarity, the
/// `k` nearest neighbours vote with weight `exp(similarity / temperature)` (Wu et al. 2018, the
/// protocol of DINO and solo-learn).
pub fn knn_accuracy(
    train: &Features,
    test: &Features,
    k: usize,
    temperature: f64,
    device: &Device,
) -> Result<f64> {
    let (train_labels, test_labels, classes) = train.labelled_pair(test)?;
    let k = k.clamp(1, train.len());
    let bank = l2_normalize(train.tensor(device)).transpose(); // [dim, n_train]
    let mut correct = 0usize;
    let rows: Vec<usize> = (0..test.len()).collect();
    for chunk in rows.chunks(512) {
        let queries = l2_normalize(test.select(chunk).tensor(device));
        let (sims, idx) = queries.matmul(bank.clone()).topk_with_indices(k, 1);
        let sims = sims
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| TrainError::Loader(format!("{e:?}")))?;
        let idx = idx
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .map_err(|e| TrainError::Loader(format!("{e:?}")))?;
        for (q, &row) in chunk.iter().enumerate() {
            let mut votes = vec![0.0f64; classes];
            for j in 0..k {
                let neighbour = idx[q * k + j] as usize;
                votes[train_labels[neighbour] as usize] +=
                    (f64::from(sims[q * k + j]) / temperature).exp();
            }
            let predicted = votes
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(c, _)| c);
            correct += usize::from(predicted as i64 == test_labels[row]);
        }
    }
    Ok(correct as f64 / test.len() as f64)
}

/// Linear-probe settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeConfig {
    /// Passes over the training features.
    pub epochs: usize,
    /// Features per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seeds the initialisation and the order.
    pub seed: u64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 256,
            lr: 1e-3,
            seed: 0,
        }
    }
}

/// Trains a linear classifier on standardised `train` features and returns its accuracy on
/// `test`. Standardisation uses the training features' per-dimension mean and standard
/// deviation: BatchNorm without affine parameters, with its statistics fixed.
pub fn linear_probe(
    train: &Features,
    test: &Features,
    config: &ProbeConfig,
    device: &Device,
) -> Result<f64> {
    let (train_labels, test_labels, classes) = train.labelled_pair(test)?;
    let ad = device.clone().autodiff();
    ad.seed(config.seed);
    let x = train.tensor(&ad);
    let mean = x.clone().mean_dim(0);
    let std = x.clone().var(0).sqrt().add_scalar(1e-5);
    let standardize = |t: Tensor<2>| (t - mean.clone()) / std.clone();
    let x = standardize(x);
    let y = Tensor::<1, Int>::from_data(TensorData::new(train_labels, [train.len()]), &ad);
    let mut probe: Linear = LinearConfig::new(train.dim, classes).init(&ad);
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&ad);
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    for _ in 0..config.epochs {
        order.shuffle(&mut rng);
        for chunk in order.chunks(config.batch_size.max(1)) {
            let rows = Tensor::<1, Int>::from_data(
                TensorData::new(
                    chunk.iter().map(|&r| r as i64).collect::<Vec<_>>(),
                    [chunk.len()],
                ),
                &ad,
            );
            let logits = probe.forward(x.clone().select(0, rows.clone()));
            let loss = loss_fn.forward(logits, y.clone().select(0, rows));
            let grads = GradientsParams::from_grads(loss.backward(), &probe);
            probe = optim.step(config.lr, probe, grads);
        }
    }
    let probe = probe.valid();
    let test_x = (test.tensor(device) - mean.inner()) / std.inner();
    let predicted = probe.forward(test_x).argmax(1).flatten::<1>(0, 1);
    let truth = Tensor::<1, Int>::from_data(TensorData::new(test_labels, [test.len()]), device);
    let correct = predicted.equal(truth).int().sum().into_scalar::<i64>();
    Ok(correct as f64 / test.len() as f64)
}

fn write_npy_file(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).map_err(|e| TrainError::io(&path, e))?;
    write(&mut std::io::BufWriter::new(file)).map_err(|e| TrainError::io(&path, e))
}

/// Writes features as `features.npy` (`float32 [n, dim]`) and labels as `labels.npy`
/// (`int64 [n]`, -1 where unlabelled) in `dir`.
pub fn write_npy(features: &Features, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let n = features.len() as u64;
    write_npy_file(dir, "features.npy", |w| {
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[n, features.dim as u64])
            .writer(w)
            .begin_nd()?;
        writer.extend(features.data.iter().copied())?;
        writer.finish()
    })?;
    write_npy_file(dir, "labels.npy", |w| {
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[n])
            .writer(w)
            .begin_nd()?;
        writer.extend(
            features
                .labels
                .iter()
                .map(|l| l.map_or(-1i64, |l| l as i64)),
        )?;
        writer.finish()
    })
}
