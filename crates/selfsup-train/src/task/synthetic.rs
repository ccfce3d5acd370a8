//! Synthetic imagery (Ren & Lee 2018): a trunk with dense heads learns the depth, surface
//! normals and instance contours of scenes the built-in renderer draws, while a domain
//! discriminator on the trunk's features, through the shared GAN step, pushes the features of
//! renderings towards those of the run's real images (its data source). The trunk is what
//! downstream tasks probe.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use selfsup_data::Image;
use selfsup_data::pretext::{
    DenseScores, HELD_OUT, SyntheticGenerator, SyntheticSample, depth_picture, mean_map_scores,
    normals_picture,
};
use selfsup_data::render::{Scene, SceneConfig, render};
use selfsup_models::gan::DiscriminatorConfig;
use selfsup_models::{
    DepthLoss, MultiTaskLoss, SyntheticBatch, SyntheticNet, SyntheticNetConfig, TaskWeights,
};
use serde::{Deserialize, Serialize};

use crate::batch::{stack_images, stack_parts, unstack_images};
use crate::config::{TrainConfig, invalid};
use crate::error::Result;
use crate::gan::{self, GanSettings};
use crate::metrics::EpochRecord;
use crate::optim::{OptimizerSpec, Optimizers};
use crate::task::{
    Best, EpochStart, MethodSettings, Network, PretextTask, Setup, StepInfo, TaskData, TaskState,
};

/// `synthetic.depth_loss`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepthLossKind {
    /// Mean squared difference of log depths.
    LogL2,
    /// Eigen et al. (2014)'s scale-invariant log error (lambda 0.5).
    ScaleInvariant,
}

/// `[synthetic.weights]`: each task's share of the loss.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeightSettings {
    /// Depth.
    pub depth: f64,
    /// Surface normals.
    pub normals: f64,
    /// Instance contours.
    pub contours: f64,
}

impl Default for WeightSettings {
    /// The authors' released configuration (jason718/game-feature-learning, `alexnet.yaml`).
    fn default() -> Self {
        Self {
            depth: 5.0,
            normals: 10.0,
            contours: 1.0,
        }
    }
}

/// The `[synthetic]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticSettings {
    /// How scenes are drawn.
    pub scene: SceneConfig,
    /// How depth is compared.
    pub depth_loss: DepthLossKind,
    /// The tasks' weights.
    pub weights: WeightSettings,
    /// Channels of the dense decoder.
    pub decoder_width: usize,
    /// Channels of the domain discriminator's convolutions.
    pub discriminator_width: usize,
    /// Width of its hidden dense layer.
    pub discriminator_hidden: usize,
    /// Training scenes whose mean maps are the baseline the heads must beat.
    pub baseline_scenes: usize,
    /// The domain adversary: its weight (0: no domain loss), warm-up and optimiser.
    pub gan: GanSettings,
}

impl Default for SyntheticSettings {
    fn default() -> Self {
        Self {
            scene: SceneConfig::default(),
            depth_loss: DepthLossKind::ScaleInvariant,
            weights: WeightSettings::default(),
            decoder_width: 32,
            discriminator_width: 64,
            discriminator_hidden: 256,
            baseline_scenes: 200,
            gan: GanSettings {
                weight: 0.05,
                ..GanSettings::default()
            },
        }
    }
}

impl MethodSettings for SyntheticSettings {
    fn validate(&self) -> Result<()> {
        self.scene.validate()?;
        let w = self.weights;
        for (key, value) in [
            ("synthetic.weights.depth", w.depth),
            ("synthetic.weights.normals", w.normals),
            ("synthetic.weights.contours", w.contours),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(invalid(key, format!("{value} is not a finite number >= 0")));
            }
        }
        for (key, value) in [
            ("synthetic.decoder_width", self.decoder_width),
            ("synthetic.discriminator_width", self.discriminator_width),
            ("synthetic.discriminator_hidden", self.discriminator_hidden),
            ("synthetic.baseline_scenes", self.baseline_scenes),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be positive"));
            }
        }
        self.gan.validate("synthetic.gan")
    }
}

/// Synthetic imagery with domain adaptation.
#[derive(Clone, Debug)]
pub struct SyntheticTask {
    settings: SyntheticSettings,
    setup: Setup,
    model: SyntheticNetConfig,
    /// The mean-map baseline on the held-out scenes, computed by `prepare`.
    baseline: Option<DenseScores>,
}

/// The baseline's scores, as `metrics.csv` names them.
const BASELINE: [&str; 3] = [
    "depth_rmse_mean_map",
    "normal_angle_mean_map",
    "contour_f_mean_map",
];

impl PretextTask for SyntheticTask {
    const NAME: &'static str = "synthetic";
    type Config = SyntheticSettings;
    type Generator = SyntheticGenerator;
    type Model = SyntheticNet;

    /// Adam at lr 1e-3, batches of 32, grey 32-pixel images: with one channel, colour cannot
    /// tell the domains apart.
    fn default_train() -> TrainConfig {
        TrainConfig {
            channels: Some(1),
            ..TrainConfig::adam_on_photos(1e-3, 0.9, 32, 32)
        }
    }

    fn new(settings: &SyntheticSettings, setup: &Setup) -> Result<Self> {
        settings.validate()?;
        let side = setup.images.side;
        let backbone = &setup.backbone;
        backbone
            .check_input(side)
            .map_err(|reason| invalid("synthetic input", reason))?;
        let stride = backbone.stride();
        let features = side / stride;
        let discriminator = DiscriminatorConfig::srgan(
            backbone.out_channels(),
            features,
            settings.discriminator_width,
            1,
            settings.discriminator_hidden,
        );
        discriminator
            .validate()
            .map_err(|reason| invalid("train.image_size", reason))?;
        Ok(Self {
            settings: settings.clone(),
            setup: setup.clone(),
            model: SyntheticNetConfig {
                backbone: backbone.clone(),
                channels: setup.images.network_channels(),
                decoder_width: settings.decoder_width,
                discriminator,
                loss: MultiTaskLoss {
                    depth: match settings.depth_loss {
                        DepthLossKind::LogL2 => DepthLoss::LogL2,
                        DepthLossKind::ScaleInvariant => DepthLoss::ScaleInvariant,
                    },
                    weights: TaskWeights {
                        depth: settings.weights.depth,
                        normals: settings.weights.normals,
                        contours: settings.weights.contours,
                    },
                },
            },
            baseline: None,
        })
    }

    fn model(&self, device: &Device) -> SyntheticNet {
        self.model.init(device)
    }

    /// The trunk.
    fn networks(&self) -> Vec<Network> {
        vec![Network::run_backbone(
            "trunk",
            "generator.trunk",
            &self.setup,
        )]
    }

    fn optimizers(&self, train: &TrainConfig) -> Vec<OptimizerSpec> {
        self.settings.gan.optimizers(train)
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        let own = [
            "depth_loss",
            "normal_loss",
            "contour_loss",
            "depth_rmse",
            "normal_angle",
            "contour_f",
        ];
        [&own[..], &gan::METRICS].concat()
    }

    fn epoch_metrics(&self) -> Vec<&'static str> {
        BASELINE.to_vec()
    }

    /// The lowest multi-task loss on the held-out scenes.
    fn best(&self) -> Option<Best> {
        Some(Best {
            metric: "loss",
            higher_is_better: false,
        })
    }

    /// The mean-map baseline: the mean maps of `synthetic.baseline_scenes` training scenes
    /// scored on the held-out scenes validation renders (one per held-out image).
    fn prepare(&mut self, data: &TaskData<'_>) -> Result<()> {
        let side = data.images.side;
        let scenes = |seeds: Vec<u64>| -> Result<Vec<_>> {
            seeds
                .into_iter()
                .map(|seed| {
                    Ok(render(
                        &Scene::random(&self.settings.scene, seed)?,
                        side,
                        side,
                    )?)
                })
                .collect()
        };
        let train = scenes((0..self.settings.baseline_scenes as u64).collect())?;
        let held_out = scenes(data.val.iter().map(|&i| HELD_OUT | i as u64).collect())?;
        self.baseline = Some(if held_out.is_empty() {
            DenseScores::default()
        } else {
            mean_map_scores(&train, &held_out)?
        });
        Ok(())
    }

    fn on_epoch_start(
        &mut self,
        model: SyntheticNet,
        _epoch: usize,
        _data: &TaskData<'_>,
    ) -> Result<EpochStart<SyntheticNet>> {
        let mut start = EpochStart::unchanged(model);
        if let Some(b) = self.baseline {
            start.metrics = BASELINE
                .into_iter()
                .zip([b.depth_rmse, b.normal_angle, b.contour_f])
                .collect();
        }
        Ok(start)
    }

    fn generator(&self) -> Result<SyntheticGenerator> {
        Ok(SyntheticGenerator::new(self.settings.scene.clone(), false)?)
    }

    fn val_generator(&self) -> Result<SyntheticGenerator> {
        Ok(SyntheticGenerator::new(self.settings.scene.clone(), true)?)
    }

    fn collate(&self, samples: Vec<SyntheticSample>, device: &Device) -> SyntheticBatch {
        let [synthetic, depth, normals, contours, real] = stack_parts(
            samples
                .into_iter()
                .map(|s| [s.synthetic, s.depth, s.normals, s.contours, s.real]),
            device,
        );
        SyntheticBatch {
            synthetic,
            depth,
            normals,
            contours,
            real,
        }
    }

    fn train_step(
        &self,
        model: SyntheticNet,
        batch: &SyntheticBatch,
        optimizers: &mut Optimizers,
        step: StepInfo,
    ) -> Result<(SyntheticNet, selfsup_models::StepOutput)> {
        gan::step(model, batch, optimizers, &self.settings.gan, step)
    }

    fn epoch_notes(&self, history: &[EpochRecord], latest: &EpochRecord) -> Vec<String> {
        gan::discriminator_notes(history, latest)
    }

    /// The predicted depth, normals and contours (their probability) of the rendering, then
    /// of the real image.
    fn predicted_pictures(
        &self,
        model: &SyntheticNet,
        sample: &SyntheticSample,
        device: &Device,
    ) -> Result<Vec<Image>> {
        let images = [sample.synthetic.clone(), sample.real.clone()];
        let p = model
            .valid()
            .generator
            .forward(stack_images(&images, device));
        let [depth, normals, contours] =
            [p.log_depth.exp(), p.normals, sigmoid(p.contours)].map(unstack_images);
        let (depth, normals, contours) = (depth?, normals?, contours?);
        Ok((0..images.len())
            .flat_map(|i| {
                [
                    depth_picture(&depth[i]),
                    normals_picture(&normals[i]),
                    contours[i].clone(),
                ]
            })
            .collect())
    }

    /// The baseline's scores, so that a resumed run reports the same ones.
    fn state(&self) -> TaskState {
        let mut state = TaskState::default();
        if let Some(b) = self.baseline {
            state.put_f32(
                "baseline",
                vec![3],
                vec![
                    b.depth_rmse as f32,
                    b.normal_angle as f32,
                    b.contour_f as f32,
                ],
            );
        }
        state
    }

    fn restore(&mut self, state: TaskState) -> Result<()> {
        let (_, b) = state.f32("baseline")?;
        self.baseline = Some(DenseScores {
            depth_rmse: f64::from(b[0]),
            normal_angle: f64::from(b[1]),
            contour_f: f64::from(b[2]),
        });
        Ok(())
    }
}
