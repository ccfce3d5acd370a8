//! Training machinery for selfsup.
//!
//! - [`BackendKind`]: the backend switch (`flex`, `ndarray`, `wgpu`, `cuda`) mapped to a Burn
//!   `Device`; the only code in selfsup that names a concrete backend.
//! - [`SourceDataset`] and [`ImageBatcher`]: image sources through Burn's multi-worker
//!   `DataLoader` as `[batch, channels, height, width]` tensors.
//! - [`train`]: the one training loop, driven by a [`PretextTask`] (per-method wiring) and a
//!   [`RunConfig`]; [`checkpoint`] files; [`eval`] (k-NN, linear probe, `.npy` export).
//!
//! ```
//! use std::sync::Arc;
//! use burn::data::dataloader::DataLoaderBuilder;
//! use selfsup_data::{Split, bundled_sample};
//! use selfsup_train::{BackendKind, ImageBatcher, SourceDataset};
//!
//! let device = BackendKind::Flex.device()?;
//! let dataset = SourceDataset::new(Arc::new(bundled_sample(Split::Test)?));
//! let loader = DataLoaderBuilder::new(ImageBatcher::new(1, 28, 28)?)
//!     .batch_size(100)
//!     .num_workers(2)
//!     .set_device(device)
//!     .build(dataset);
//! let batch = loader.iter().next().unwrap()?;
//! assert_eq!(batch.images.dims(), [100, 1, 28, 28]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod backend;
mod batch;
pub mod checkpoint;
mod config;
mod curve;
mod dataset;
mod error;
pub mod eval;
mod loader;
mod metrics;
mod schedule;
mod task;
mod trainer;

pub use backend::BackendKind;
pub use batch::{ImageBatch, ImageBatcher, stack_images};
pub use config::{
    OptimizerConfig, OptimizerKind, RunConfig, ScheduleConfig, ScheduleKind, TrainConfig,
};
pub use dataset::SourceDataset;
pub use error::{Result, TrainError};
pub use loader::{EpochPlan, epoch_order};
pub use metrics::{EpochRecord, Tally};
pub use schedule::learning_rate;
pub use task::{Method, PretextTask, RotationTask};
pub use trainer::{
    HoldOut, RunOptions, Trained, describe, optimizer, run_config, split_indices, train,
};
