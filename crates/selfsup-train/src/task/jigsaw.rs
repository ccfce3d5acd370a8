//! Jigsaw puzzles (CFN): nine shuffled tiles, the permutation's index as the class.

use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup_data::pretext::{JigsawConfig, JigsawGenerator, JigsawSample, PermutationSet};
use selfsup_data::{InputSpec, Preprocess};
use selfsup_models::{JigsawBatch, JigsawNet, JigsawNetConfig};
use serde::{Deserialize, Serialize};

use crate::batch::stack_images;
use crate::config::{TrainConfig, invalid};
use crate::error::{Result, TrainError};
use crate::task::{
    MethodSettings, Network, PretextTask, Setup, TaskData, TaskState, penultimate_block,
};

/// The `[jigsaw]` section: the puzzles (`[jigsaw.puzzle]`) and the network (`[jigsaw.network]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JigsawSettings {
    /// How puzzles are cut and shuffled.
    pub puzzle: JigsawConfig,
    /// The layers after the towers.
    pub network: JigsawNetConfig,
}

impl MethodSettings for JigsawSettings {
    fn validate(&self) -> Result<()> {
        self.puzzle.validate()?;
        if !(0.0..1.0).contains(&self.network.dropout) {
            return Err(invalid(
                "jigsaw.network.dropout",
                format!("{} is not in [0, 1)", self.network.dropout),
            ));
        }
        Ok(())
    }
}

/// Jigsaw puzzles (Noroozi & Favaro 2016).
#[derive(Clone, Debug)]
pub struct JigsawTask {
    settings: JigsawSettings,
    setup: Setup,
    permutations: Option<Arc<PermutationSet>>,
}

impl JigsawTask {
    fn permutations(&self) -> Result<&Arc<PermutationSet>> {
        self.permutations.as_ref().ok_or_else(|| TrainError::Task {
            method: Self::NAME.into(),
            reason: "no permutation set yet (prepare or restore the task first)".into(),
        })
    }
}

impl PretextTask for JigsawTask {
    const NAME: &'static str = "jigsaw";
    type Config = JigsawSettings;
    type Generator = JigsawGenerator;
    type Model = JigsawNet;

    /// SGD with Nesterov momentum at lr 0.05 (the paper's 0.01 is for batches of 256 AlexNet
    /// puzzles without batch normalisation), 64 puzzles a step.
    fn default_train() -> TrainConfig {
        let mut train = TrainConfig::default();
        train.optimizer.lr = 0.05;
        train
    }

    fn new(settings: &JigsawSettings, setup: &Setup) -> Result<Self> {
        settings.validate()?;
        setup
            .backbone
            .check_input(settings.puzzle.tile())
            .map_err(|reason| invalid("jigsaw.puzzle.tile", reason))?;
        Ok(Self {
            settings: settings.clone(),
            setup: setup.clone(),
            permutations: None,
        })
    }

    fn model(&self, device: &Device) -> JigsawNet {
        self.settings.network.init(
            &self.setup.backbone,
            self.setup.images.network_channels(),
            self.settings.puzzle.permutations,
            device,
        )
    }

    /// The backbone reads whole images at the puzzle's image size: the scale the tiles were
    /// cut at.
    fn networks(&self) -> Vec<Network> {
        // Evaluation reads whole images, standardised as the training patches were.
        let preprocess = if self.settings.puzzle.normalize_tiles {
            Preprocess::Standardize
        } else {
            Preprocess::None
        };
        let input = InputSpec {
            side: self.settings.puzzle.image_size,
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
        9
    }

    fn prepare(&mut self, _data: &TaskData<'_>) -> Result<()> {
        self.permutations = Some(Arc::new(
            self.settings.puzzle.permutation_set(self.setup.seed)?,
        ));
        Ok(())
    }

    fn generator(&self) -> Result<JigsawGenerator> {
        Ok(JigsawGenerator::new(
            self.settings.puzzle.clone(),
            self.permutations()?.clone(),
        )?)
    }

    fn collate(&self, samples: Vec<JigsawSample>, device: &Device) -> JigsawBatch {
        let n = samples.len();
        let labels: Vec<i64> = samples.iter().map(|s| s.label as i64).collect();
        let tiles: Vec<_> = samples.into_iter().flat_map(|s| s.tiles).collect();
        JigsawBatch {
            tiles: stack_images(&tiles, device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }

    fn state(&self) -> TaskState {
        let mut state = TaskState::default();
        if let Some(set) = &self.permutations {
            let data = set
                .permutations()
                .iter()
                .flat_map(|p| p.iter().map(|&t| i64::from(t)))
                .collect();
            state.put_i64("permutations", vec![set.len(), 9], data);
        }
        state
    }

    /// Restores the checkpoint's permutation set, refusing one that differs from the
    /// configured permutation file or count: a run never silently uses another set.
    fn restore(&mut self, state: TaskState) -> Result<()> {
        let (shape, data) = state.i64("permutations")?;
        let bad = |reason: String| TrainError::Task {
            method: Self::NAME.into(),
            reason,
        };
        let permutations = data
            .chunks_exact(9)
            .map(|c| {
                c.iter()
                    .map(|&t| t as u8)
                    .collect::<Vec<_>>()
                    .try_into()
                    .expect("9")
            })
            .collect();
        let set = PermutationSet::from_permutations(permutations)
            .map_err(|e| bad(format!("the checkpoint's permutation set is invalid: {e}")))?;
        if shape != [self.settings.puzzle.permutations, 9] {
            return Err(bad(format!(
                "the checkpoint holds {} permutations but jigsaw.puzzle.permutations is {}",
                set.len(),
                self.settings.puzzle.permutations
            )));
        }
        if self.settings.puzzle.permutation_file.is_some()
            && self.settings.puzzle.permutation_set(self.setup.seed)? != set
        {
            return Err(bad(
                "the permutation file does not match the checkpoint's permutation set".into(),
            ));
        }
        self.permutations = Some(Arc::new(set));
        Ok(())
    }
}
