//! DeepCluster: before each epoch the network's features of every training image are reduced by
//! PCA, whitened, L2-normalised and clustered by k-means; the cluster ids are the epoch's labels,
//! the classifier head is re-initialised, and images are drawn uniformly over clusters.

use std::sync::Arc;
use std::time::Instant;

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::SeedableRng;
use rand::rngs::StdRng;
use selfsup_data::pretext::{
    AugmentConfig, LabelledGenerator, LabelledSample, sample_rng, uniform_over_clusters,
};
use selfsup_data::{InputSpec, Preprocess};
use selfsup_models::{Classifier, ClassifierConfig, LabelledBatch};
use serde::{Deserialize, Serialize};

use crate::batch::collate_labelled;
use crate::cluster::{Clustering, KMeansConfig, Pca, kmeans, nmi};
use crate::config::{TrainConfig, invalid};
use crate::error::{Result, TrainError};
use crate::eval::{Features, Pooling, View};
use crate::task::{
    Best, EpochStart, MethodSettings, Network, PretextTask, Setup, TaskData, TaskState,
    penultimate_block,
};

/// The `[deep_cluster]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeepClusterSettings {
    /// PCA dimensions after whitening. The paper reduces AlexNet's 4096 to 256 (1/16); the
    /// default backbone's pooled last block has 128 values, and 64 keeps its leading half
    /// without whitening the near-empty directions into noise.
    pub pca_dims: usize,
    /// k-means: `k` (the paper over-segments ImageNet's 1,000 classes into 10,000 clusters;
    /// 100 does the same for Fashion-MNIST's 10), iterations, restarts, initialisation.
    pub kmeans: KMeansConfig,
    /// Sobel-filter the grey image (2 channels in), as the paper; `None` turns it on for colour
    /// images only (grey ones have no colour to remove).
    pub sobel: Option<bool>,
    /// Augmentation of training images.
    pub images: AugmentConfig,
}

impl Default for DeepClusterSettings {
    fn default() -> Self {
        Self {
            pca_dims: 64,
            kmeans: KMeansConfig::default(),
            sobel: None,
            images: AugmentConfig::default(),
        }
    }
}

impl MethodSettings for DeepClusterSettings {
    fn validate(&self) -> Result<()> {
        if self.pca_dims == 0 {
            return Err(invalid("deep_cluster.pca_dims", "must be at least 1"));
        }
        if self.kmeans.k < 2 {
            return Err(invalid(
                "deep_cluster.kmeans.k",
                format!("{} clusters: at least 2 are needed", self.kmeans.k),
            ));
        }
        if self.kmeans.iterations == 0 || self.kmeans.restarts == 0 {
            return Err(invalid(
                "deep_cluster.kmeans",
                "iterations and restarts must be at least 1",
            ));
        }
        Ok(self.images.validate()?)
    }
}

/// DeepCluster (Caron et al. 2018).
#[derive(Clone, Debug)]
pub struct DeepClusterTask {
    settings: DeepClusterSettings,
    setup: Setup,
    /// How images become the network's input (Sobel or not), for clustering and evaluation.
    input: InputSpec,
    /// The cluster of every image of the source (-1: not clustered).
    assignment: Vec<i64>,
    /// The last fitted PCA and centroids (in PCA space), for images clustered later.
    pca: Option<Pca>,
    centroids: Vec<f32>,
}

impl DeepClusterTask {
    fn k(&self) -> usize {
        self.settings.kmeans.k
    }

    /// The features k-means sees: PCA-reduced, whitened, L2-normalised, on `device`.
    fn reduce(&self, features: &Features, pca: &Pca, device: &Device) -> Tensor<2> {
        self.reduce_tensor(features_tensor(features, device), pca)
    }

    /// [`Self::reduce`] of features already on the device.
    fn reduce_tensor(&self, x: Tensor<2>, pca: &Pca) -> Tensor<2> {
        let y = pca.apply(x);
        let norm = y
            .clone()
            .powf_scalar(2.0)
            .sum_dim(1)
            .sqrt()
            .clamp_min(1e-12);
        y / norm
    }

    /// The nearest centroid of each row of `x` (`[n, dims]`).
    fn nearest(&self, x: Tensor<2>) -> Result<Vec<i64>> {
        let [_, dims] = x.dims();
        let c = Tensor::<2>::from_data(
            TensorData::new(self.centroids.clone(), [self.k(), dims]),
            &x.device(),
        );
        let c_sq = c.clone().powf_scalar(2.0).sum_dim(1).transpose();
        let distances = c_sq - x.matmul(c.transpose()).mul_scalar(2.0);
        distances
            .argmin(1)
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .map_err(|e| TrainError::Loader(format!("{e:?}")))
    }
}

/// Extracted features as a `[images, dim]` tensor on `device`.
fn features_tensor(features: &Features, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(features.data.clone(), [features.len(), features.dim]),
        device,
    )
}

/// Values of a cluster-size list: minimum, median, maximum.
fn size_summary(sizes: &[usize]) -> (f64, f64, f64) {
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2] as f64;
    (
        sorted[0] as f64,
        median,
        *sorted.last().expect("k >= 2") as f64,
    )
}

impl PretextTask for DeepClusterTask {
    const NAME: &'static str = "deep_cluster";
    type Config = DeepClusterSettings;
    type Generator = LabelledGenerator;
    type Model = Classifier;

    /// SGD with momentum 0.9 and weight decay 1e-5 (the paper's; its lr 0.05 too), 64 images a
    /// step, no held-out images (the labels change every epoch; none picks a `best`).
    fn default_train() -> TrainConfig {
        let mut train = TrainConfig::default();
        train.optimizer.lr = 0.05;
        train.optimizer.nesterov = false;
        train.optimizer.weight_decay = 1e-5;
        train.val_fraction = 0.0;
        train
    }

    fn new(settings: &DeepClusterSettings, setup: &Setup) -> Result<Self> {
        settings.validate()?;
        setup
            .backbone
            .check_input(setup.images.side)
            .map_err(|reason| invalid("deep_cluster input", reason))?;
        let sobel = settings.sobel.unwrap_or(setup.images.image_channels == 3);
        let input = InputSpec {
            preprocess: if sobel {
                Preprocess::Sobel
            } else {
                Preprocess::None
            },
            ..setup.images.clone()
        };
        Ok(Self {
            settings: settings.clone(),
            setup: setup.clone(),
            input,
            assignment: Vec::new(),
            pca: None,
            centroids: Vec::new(),
        })
    }

    fn model(&self, device: &Device) -> Classifier {
        ClassifierConfig {
            backbone: self.setup.backbone.clone(),
            classes: self.k(),
            frozen_blocks: 0,
        }
        .init(self.input.network_channels(), device)
    }

    fn networks(&self) -> Vec<Network> {
        let backbone = &self.setup.backbone;
        vec![Network::backbone(
            backbone,
            self.input.clone(),
            penultimate_block(backbone),
        )]
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        vec!["accuracy"]
    }

    fn epoch_metrics(&self) -> Vec<&'static str> {
        vec![
            "nmi_previous",
            "nmi_labels",
            "cluster_min",
            "cluster_median",
            "cluster_max",
            "reseeded",
            "kmeans_objective",
            "cluster_seconds",
            "extract_seconds",
        ]
    }

    /// The pseudo-labels change every epoch, so no epoch's loss is comparable to another's.
    fn best(&self) -> Option<Best> {
        None
    }

    /// Re-clusters the features of the network as it is now and replaces the head.
    fn on_epoch_start(
        &mut self,
        mut model: Classifier,
        epoch: usize,
        data: &TaskData<'_>,
    ) -> Result<EpochStart<Classifier>> {
        let k = self.k();
        if data.train.len() < k {
            return Err(TrainError::Task {
                method: Self::NAME.into(),
                reason: format!(
                    "deep_cluster.kmeans.k is {k} but there are only {} training images; use at most that many clusters",
                    data.train.len()
                ),
            });
        }
        let last = model.backbone.block_channels().len() - 1;
        let view = View {
            block: last,
            pooling: Pooling::Global,
        };
        // The classifier's input: the globally pooled last block, in inference mode.
        let extracting = Instant::now();
        let features = data
            .features(&model.backbone, &self.input, &[view])?
            .remove(0);
        let dims = self.settings.pca_dims;
        if dims > features.dim {
            return Err(invalid(
                "deep_cluster.pca_dims",
                format!(
                    "{dims} exceeds the {} feature dimensions (at most {} work)",
                    features.dim, features.dim
                ),
            ));
        }
        let extract_seconds = extracting.elapsed().as_secs_f64();
        let started = Instant::now();
        let device = data.device;
        let raw = features_tensor(&features, device);
        let pca = Pca::fit(&raw, dims, true)?;
        let x = self.reduce_tensor(raw, &pca);
        let seed = sample_rng(data.seed, epoch as u64, u64::MAX - 1).random_seed();
        let Clustering {
            assignment,
            centroids,
            objective,
            reseeded,
        } = kmeans(&x, &self.settings.kmeans, seed)?;
        let seconds = started.elapsed().as_secs_f64();

        let previous: Option<Vec<usize>> = (!self.assignment.is_empty()).then(|| {
            data.train
                .iter()
                .map(|&i| self.assignment[i].max(0) as usize)
                .collect()
        });
        let mut labels = vec![-1i64; data.source.len()];
        for (&i, &c) in data.train.iter().zip(&assignment) {
            labels[i] = c as i64;
        }
        self.assignment = labels;
        self.pca = Some(pca);
        self.centroids = centroids;
        // Held-out images join their nearest cluster, so that validation can be run.
        if !data.val.is_empty() {
            let held = data
                .features_of(data.val, &model.backbone, &self.input, &[view])?
                .remove(0);
            let pca = self.pca.as_ref().expect("just fitted");
            for (&i, c) in data
                .val
                .iter()
                .zip(self.nearest(self.reduce(&held, pca, device))?)
            {
                self.assignment[i] = c;
            }
        }

        let mut sizes = vec![0usize; k];
        for &c in &assignment {
            sizes[c] += 1;
        }
        let (min, median, max) = size_summary(&sizes);
        let mut metrics = vec![
            ("cluster_min", min),
            ("cluster_median", median),
            ("cluster_max", max),
            ("reseeded", reseeded as f64),
            ("kmeans_objective", objective),
            ("cluster_seconds", seconds),
            ("extract_seconds", extract_seconds),
        ];
        if let Some(previous) = previous {
            metrics.push(("nmi_previous", nmi(&previous, &assignment)));
        }
        let truth: Option<Vec<usize>> = features.labels.iter().copied().collect();
        if let Some(truth) = truth {
            metrics.push(("nmi_labels", nmi(&truth, &assignment)));
        }
        // The ids mean nothing from one clustering to the next: a new head.
        model.fc = model.new_head(k, device);
        Ok(EpochStart {
            model,
            reinitialized: vec!["fc".into()],
            metrics,
        })
    }

    fn epoch_order(&self, train: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
        let mut members = vec![Vec::new(); self.k()];
        for &i in train {
            if let Some(c) = self.assignment.get(i).filter(|&&c| c >= 0) {
                members[*c as usize].push(i);
            }
        }
        let mut rng =
            StdRng::seed_from_u64(sample_rng(seed, epoch as u64, u64::MAX - 2).random_seed());
        uniform_over_clusters(&members, train.len(), &mut rng)
    }

    fn generator(&self) -> Result<LabelledGenerator> {
        Ok(LabelledGenerator::new(
            self.settings.images.clone(),
            Arc::new(self.assignment.clone()),
            self.input.preprocess,
        )?)
    }

    fn collate(&self, samples: Vec<LabelledSample>, device: &Device) -> LabelledBatch {
        collate_labelled(samples, device)
    }

    fn state(&self) -> TaskState {
        let mut state = TaskState::default();
        if let Some(pca) = &self.pca {
            state.put_i64(
                "assignment",
                vec![self.assignment.len()],
                self.assignment.clone(),
            );
            state.put_f32("pca_mean", vec![pca.dim], pca.mean.clone());
            state.put_f32(
                "pca_projection",
                vec![pca.dim, pca.dims],
                pca.projection.clone(),
            );
            let eigen: Vec<f32> = pca.eigenvalues.iter().map(|&v| v as f32).collect();
            state.put_f32("pca_eigenvalues", vec![eigen.len()], eigen);
            state.put_f32(
                "centroids",
                vec![self.k(), pca.dims],
                self.centroids.clone(),
            );
        }
        state
    }

    fn restore(&mut self, state: TaskState) -> Result<()> {
        if state.is_empty() {
            return Ok(());
        }
        self.assignment = state.i64("assignment")?.1.to_vec();
        let (shape, projection) = state.f32("pca_projection")?;
        let (dim, dims) = (shape[0], shape[1]);
        self.pca = Some(Pca {
            mean: state.f32("pca_mean")?.1.to_vec(),
            projection: projection.to_vec(),
            dim,
            dims,
            eigenvalues: state
                .f32("pca_eigenvalues")?
                .1
                .iter()
                .map(|&v| f64::from(v))
                .collect(),
        });
        let (shape, centroids) = state.f32("centroids")?;
        if shape != [self.k(), dims] {
            return Err(TrainError::Task {
                method: Self::NAME.into(),
                reason: format!(
                    "the checkpoint holds {} centroids but deep_cluster.kmeans.k is {}",
                    shape[0],
                    self.k()
                ),
            });
        }
        self.centroids = centroids.to_vec();
        Ok(())
    }
}

/// A seed drawn from a sample RNG.
trait RandomSeed {
    fn random_seed(self) -> u64;
}

impl RandomSeed for StdRng {
    fn random_seed(mut self) -> u64 {
        use rand::RngExt;
        self.random()
    }
}
