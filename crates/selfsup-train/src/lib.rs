//! Training machinery for selfsup.
//!
//! - [`PretextTask`]: the contract between a pretext method and the one trainer: generator,
//!   networks, batches, and hooks with defaults (several optimisers and a step of its own,
//!   work before training and before each epoch, the epoch's image order, named metrics, task
//!   state saved with checkpoints). [`Method`] registers the built-in ones.
//! - [`train`]: the one training loop, driven by a task and a [`RunConfig`]; it writes
//!   [`checkpoint`] folders and resumes from them exactly.
//! - [`translate`]: image-to-image checkpoints applied to images and scored (PSNR, SSIM...).
//! - [`eval`]: frozen-feature probes (k-NN, converged logistic regression) and `.npy` export.
//! - [`BackendKind`]: the backend switch (`flex`, `ndarray`, `wgpu`, `cuda`) mapped to a Burn
//!   `Device`; the only code in selfsup that names a concrete backend.
//!
//! ```
//! use std::sync::Arc;
//! use selfsup_data::{Split, bundled_sample};
//! use selfsup_train::{BackendKind, Method, RunConfig, RunOptions};
//!
//! let mut config = RunConfig::for_method(Method::Rotation);
//! config.train.epochs = 1;
//! config.train.max_images = Some(32);
//! config.train.batch_size = 16;
//! config.backbone = selfsup_models::backbone::BackboneConfig::ConvNet { widths: vec![4, 8] };
//! let dir = tempfile::tempdir()?;
//! let options = RunOptions { out_dir: dir.path().into(), ..RunOptions::default() };
//! let source = Arc::new(bundled_sample(Split::Test)?);
//! let history = Method::Rotation.train(&config, source, &BackendKind::Flex.device()?, &options)?;
//! assert_eq!(history.len(), 1);
//! assert!(dir.path().join("checkpoints/last/model.safetensors").is_file());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod backend;
mod batch;
pub mod checkpoint;
pub mod cluster;
mod config;
mod curve;
mod error;
pub mod eval;
pub mod gan;
mod loader;
mod method;
mod metrics;
mod optim;
mod run;
mod schedule;
pub mod task;
mod trainer;
pub mod translate;

pub use backend::BackendKind;
pub use batch::stack_images;
pub use config::{
    OptimizerConfig, OptimizerKind, RunConfig, ScheduleConfig, ScheduleKind, TrainConfig,
};
pub use error::{Result, TrainError};
pub use loader::{EpochPlan, epoch_order};
pub use method::{Method, MethodConfig, MethodVisitor};
pub use metrics::{EpochRecord, Metrics, Tally};
pub use optim::{OptimizerEntry, OptimizerSpec, Optimizers, optimizer};
pub use run::{show, train_method};
pub use schedule::{PlanSegment, SchedulePlan, learning_rate};
pub use task::{
    ColorizationTask, ContextTask, DeepClusterTask, FinetuneTask, InpaintingTask, JigsawTask,
    PretextTask, RotationTask, Setup, SuperResTask, SyntheticTask,
};
pub use trainer::{
    HoldOut, RunOptions, Trained, describe, image_spec, run_config, setup, split_indices, train,
};
