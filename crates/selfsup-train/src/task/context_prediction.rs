//! Context prediction: a patch and one of its eight neighbours, the neighbour's position as the
//! class.

use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup_data::pretext::{ContextConfig, ContextGenerator, ContextSample};
use selfsup_data::{InputSpec, Preprocess};
use selfsup_models::{ContextBatch, ContextNet, ContextNetConfig};
use serde::{Deserialize, Serialize};

use crate::batch::stack_images;
use crate::config::{TrainConfig, invalid};
use crate::error::Result;
use crate::task::{MethodSettings, Network, PretextTask, Setup, penultimate_block};

/// The `[context_prediction]` section: the patch pairs (`[context_prediction.patches]`) and the
/// network (`[context_prediction.network]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextSettings {
    /// How patch pairs are sampled.
    pub patches: ContextConfig,
    /// The layers after the towers.
    pub network: ContextNetConfig,
}

impl MethodSettings for ContextSettings {
    fn validate(&self) -> Result<()> {
        Ok(self.patches.validate()?)
    }
}

/// Context prediction (Doersch, Gupta & Efros 2015).
#[derive(Clone, Debug)]
pub struct ContextTask {
    settings: ContextSettings,
    setup: Setup,
}

impl PretextTask for ContextTask {
    const NAME: &'static str = "context_prediction";
    type Config = ContextSettings;
    type Generator = ContextGenerator;
    type Model = ContextNet;

    /// SGD with Nesterov momentum at lr 0.05, 128 pairs a step (the paper: plain SGD at 1e-5
    /// with batch normalisation and summed losses over large batches, which does not carry over).
    fn default_train() -> TrainConfig {
        let mut train = TrainConfig::default();
        train.optimizer.lr = 0.05;
        train.batch_size = 128;
        train
    }

    fn new(settings: &ContextSettings, setup: &Setup) -> Result<Self> {
        settings.validate()?;
        setup
            .backbone
            .check_input(settings.patches.patch())
            .map_err(|reason| invalid("context_prediction.patches.patch", reason))?;
        Ok(Self {
            settings: settings.clone(),
            setup: setup.clone(),
        })
    }

    fn model(&self, device: &Device) -> ContextNet {
        self.settings.network.init(
            &self.setup.backbone,
            self.setup.images.network_channels(),
            device,
        )
    }

    /// The backbone reads whole images at the size patches were cut at.
    fn networks(&self) -> Vec<Network> {
        // Evaluation reads whole images, standardised as the training patches were.
        let preprocess = if self.settings.patches.normalize_patches {
            Preprocess::Standardize
        } else {
            Preprocess::None
        };
        let input = InputSpec {
            side: self.settings.patches.image_size,
            preprocess,
            ..self.setup.images.clone()
        };
        let backbone = &self.setup.backbone;
        vec![Network::backbone(
            backbone,
            input,
            penultimate_block(backbone),
        )]
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        vec!["accuracy"]
    }

    fn inputs_per_sample(&self) -> usize {
        2
    }

    fn generator(&self) -> Result<ContextGenerator> {
        Ok(ContextGenerator::new(self.settings.patches.clone())?)
    }

    fn collate(&self, samples: Vec<ContextSample>, device: &Device) -> ContextBatch {
        let n = samples.len();
        let labels: Vec<i64> = samples.iter().map(|s| s.label as i64).collect();
        let patches: Vec<_> = samples
            .into_iter()
            .flat_map(|s| [s.first, s.second])
            .collect();
        ContextBatch {
            patches: stack_images(&patches, device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}
