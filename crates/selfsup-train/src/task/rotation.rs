//! Rotation prediction (RotNet): each image in its four quarter turns, labelled 0..3.

use burn::prelude::*;
use selfsup_data::InputSpec;
use selfsup_data::pretext::{RotationConfig, RotationGenerator, RotationSample};
use selfsup_models::backbone::BackboneConfig;
use selfsup_models::{RotNet, RotNetConfig, RotationBatch};

use crate::batch::labelled_batch;
use crate::config::invalid;
use crate::error::Result;
use crate::task::{MethodSettings, Network, PretextTask, Setup, penultimate_block};

impl MethodSettings for RotationConfig {
    fn validate(&self) -> Result<()> {
        if self.crop == Some(0) {
            return Err(invalid("rotation.crop", "must be positive"));
        }
        Ok(())
    }
}

/// Rotation prediction (RotNet).
#[derive(Clone, Debug)]
pub struct RotationTask {
    generator: RotationGenerator,
    model: RotNetConfig,
    images: InputSpec,
}

/// RotNet's representation: block 2 of a NIN ("ConvB2", Gidaris et al. 2018, Table 1: the best
/// block of the 3-, 4- and 5-block RotNets), the block before the last of other backbones.
fn representation_block(backbone: &BackboneConfig) -> usize {
    match backbone {
        BackboneConfig::Nin { .. } => 1,
        _ => penultimate_block(backbone),
    }
}

impl PretextTask for RotationTask {
    const NAME: &'static str = "rotation";
    type Config = RotationConfig;
    type Generator = RotationGenerator;
    type Model = RotNet;

    fn new(config: &RotationConfig, setup: &Setup) -> Result<Self> {
        let side = config.crop.unwrap_or(setup.images.side);
        setup
            .backbone
            .check_input(side)
            .map_err(|reason| invalid("rotation input", reason))?;
        if side > setup.images.side {
            return Err(invalid(
                "rotation.crop",
                format!(
                    "a {side}-pixel crop does not fit {}-pixel images",
                    setup.images.side
                ),
            ));
        }
        Ok(Self {
            generator: RotationGenerator::new(config.clone())?,
            model: RotNetConfig {
                backbone: setup.backbone.clone(),
            },
            images: setup.images.clone(),
        })
    }

    fn model(&self, device: &Device) -> RotNet {
        self.model.init(self.images.network_channels(), device)
    }

    fn networks(&self) -> Vec<Network> {
        let backbone = &self.model.backbone;
        vec![Network::backbone(
            backbone,
            self.images.clone(),
            representation_block(backbone),
        )]
    }

    fn step_metrics(&self) -> Vec<&'static str> {
        vec!["accuracy"]
    }

    fn inputs_per_sample(&self) -> usize {
        4
    }

    fn generator(&self) -> Result<RotationGenerator> {
        Ok(self.generator.clone())
    }

    fn collate(&self, samples: Vec<RotationSample>, device: &Device) -> RotationBatch {
        let n = samples.len();
        let images: Vec<_> = samples.into_iter().flat_map(|s| s.rotations).collect();
        let labels: Vec<i64> = (0..n)
            .flat_map(|_| RotationSample::LABELS.map(|l| l as i64))
            .collect();
        labelled_batch(&images, labels, device)
    }
}
