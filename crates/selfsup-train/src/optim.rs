//! [`Optimizers`]: a task's named optimisers, each with its own settings and schedule, stepped by
//! name from the task's training step and saved per name with every checkpoint.

use std::path::Path;

use burn::module::Module;
use burn::optim::record::OptimizerRecord;
use burn::optim::{
    AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig, decay::WeightDecayConfig,
    momentum::MomentumConfig,
};
use serde::{Deserialize, Serialize};

use crate::config::{OptimizerConfig, OptimizerKind, ScheduleConfig, TrainConfig};
use crate::error::{Result, TrainError};
use crate::schedule::SchedulePlan;

/// One optimiser of a task: its name, settings and learning-rate schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerSpec {
    /// The name the task steps it by (`model`, `generator`, `discriminator`).
    pub name: &'static str,
    /// Kind, peak learning rate, momentum, weight decay.
    pub optimizer: OptimizerConfig,
    /// How its learning rate changes.
    pub schedule: ScheduleConfig,
}

impl OptimizerSpec {
    /// The single optimiser of the `[train]` section, named [`Optimizers::MODEL`].
    pub fn model(train: &TrainConfig) -> Self {
        Self {
            name: Optimizers::MODEL,
            optimizer: train.optimizer.clone(),
            schedule: train.schedule.clone(),
        }
    }
}

/// Builds the configured optimiser.
pub fn optimizer(config: &OptimizerConfig) -> ModuleOptimizer {
    let decay =
        (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32));
    match config.kind {
        OptimizerKind::Sgd => SgdConfig::new()
            .with_weight_decay(decay)
            .with_momentum((config.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(config.momentum)
                    .with_dampening(0.0)
                    .with_nesterov(config.nesterov)
            }))
            .init(),
        OptimizerKind::Adam => AdamConfig::new()
            .with_beta_1(config.momentum as f32)
            .with_epsilon(1e-8)
            .with_weight_decay(decay)
            .init(),
    }
}

/// What a checkpoint's sidecar records of each optimiser, to refuse a resume that would load one
/// kind's state into another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerEntry {
    /// The optimiser's name.
    pub name: String,
    /// Its kind.
    pub kind: OptimizerKind,
}

struct Slot {
    spec: OptimizerSpec,
    optim: ModuleOptimizer,
    lr: f64,
}

/// A task's optimisers by name, with the learning rate of the current step.
pub struct Optimizers {
    slots: Vec<Slot>,
}

impl std::fmt::Debug for Optimizers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.slots.iter().map(|s| (s.spec.name, s.lr)))
            .finish()
    }
}

impl Optimizers {
    /// The name of the default single optimiser.
    pub const MODEL: &'static str = "model";

    /// Fresh optimisers; names must be distinct and the settings valid.
    pub fn new(specs: Vec<OptimizerSpec>) -> Result<Self> {
        for (i, spec) in specs.iter().enumerate() {
            if specs[..i].iter().any(|s| s.name == spec.name) {
                return Err(TrainError::InvalidConfig {
                    what: "optimizers".into(),
                    reason: format!("two optimisers are named '{}'", spec.name),
                });
            }
        }
        if specs.is_empty() {
            return Err(TrainError::InvalidConfig {
                what: "optimizers".into(),
                reason: "a task needs at least one optimiser".into(),
            });
        }
        Ok(Self {
            slots: specs
                .into_iter()
                .map(|spec| Slot {
                    optim: optimizer(&spec.optimizer),
                    spec,
                    lr: 0.0,
                })
                .collect(),
        })
    }

    fn slot(&mut self, name: &str) -> Result<&mut Slot> {
        let known: Vec<&str> = self.slots.iter().map(|s| s.spec.name).collect();
        self.slots
            .iter_mut()
            .find(|s| s.spec.name == name)
            .ok_or_else(|| TrainError::InvalidConfig {
                what: "optimizers".into(),
                reason: format!("no optimiser named '{name}' (the task has {known:?})"),
            })
    }

    /// Updates `module` with `grads` through optimiser `name`, at its current learning rate.
    pub fn step<M: Module>(&mut self, name: &str, module: M, grads: GradientsParams) -> Result<M> {
        let slot = self.slot(name)?;
        Ok(slot.optim.step(slot.lr, module, grads))
    }

    /// The learning rate of optimiser `name` at the current step.
    pub fn lr(&self, name: &str) -> Option<f64> {
        self.slots
            .iter()
            .find(|s| s.spec.name == name)
            .map(|s| s.lr)
    }

    /// Every optimiser's name and current learning rate.
    pub fn rates(&self) -> Vec<(&'static str, f64)> {
        self.slots.iter().map(|s| (s.spec.name, s.lr)).collect()
    }

    /// Sets every optimiser's learning rate for `step` of `plan`.
    pub fn set_step(&mut self, plan: &SchedulePlan, step: usize) {
        for slot in &mut self.slots {
            slot.lr = plan.rate(&slot.spec.optimizer, &slot.spec.schedule, step);
        }
    }

    /// The names and kinds, for the sidecar.
    pub fn entries(&self) -> Vec<OptimizerEntry> {
        self.slots
            .iter()
            .map(|s| OptimizerEntry {
                name: s.spec.name.to_string(),
                kind: s.spec.optimizer.kind,
            })
            .collect()
    }

    fn file(name: &str) -> String {
        format!("optimizer-{name}.bpk")
    }

    /// Writes each optimiser's state to `dir/optimizer-NAME.bpk`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        for slot in &self.slots {
            let path = dir.join(Self::file(slot.spec.name));
            let bytes =
                slot.optim.to_record().into_bytes().map_err(|e| {
                    TrainError::checkpoint(&path, format!("optimiser state: {e:?}"))
                })?;
            crate::checkpoint::write_synced(&path, &bytes)?;
        }
        Ok(())
    }

    /// Restores each optimiser's state from `dir`, refusing a checkpoint whose optimisers have
    /// other names or kinds (`saved`, from its sidecar): their moments would be silently reset.
    pub fn load(&mut self, dir: &Path, saved: &[OptimizerEntry]) -> Result<()> {
        let current = self.entries();
        if current
            .iter()
            .map(|e| &e.name)
            .ne(saved.iter().map(|e| &e.name))
        {
            return Err(TrainError::checkpoint(
                dir,
                format!(
                    "holds optimisers {:?}, but this run has {:?}",
                    saved.iter().map(|e| &e.name).collect::<Vec<_>>(),
                    current.iter().map(|e| &e.name).collect::<Vec<_>>()
                ),
            ));
        }
        for (now, then) in current.iter().zip(saved) {
            if now.kind != then.kind {
                return Err(TrainError::checkpoint(
                    dir,
                    format!(
                        "optimiser '{}' was {:?} and is now {:?}: its state cannot carry over \
                         (start a new run to change optimisers)",
                        now.name, then.kind, now.kind
                    ),
                ));
            }
        }
        for slot in &mut self.slots {
            let path = dir.join(Self::file(slot.spec.name));
            let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
            let record = OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
                .map_err(|e| {
                    TrainError::checkpoint(&path, format!("unreadable optimiser state: {e:?}"))
                })?;
            slot.optim = optimizer(&slot.spec.optimizer).load_record(record);
        }
        Ok(())
    }
}
