//! Training machinery for selfsup.
//!
//! - [`BackendKind`]: the backend switch (`flex`, `ndarray`, `wgpu`, `cuda`) mapped to a Burn
//!   `Device`; the only code in selfsup that names a concrete backend.
//! - [`SourceDataset`] and [`ImageBatcher`]: image sources through Burn's multi-worker
//!   `DataLoader` as `[batch, channels, height, width]` tensors.
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
mod dataset;
mod error;

pub use backend::BackendKind;
pub use batch::{ImageBatch, ImageBatcher, stack_images};
pub use dataset::SourceDataset;
pub use error::{Result, TrainError};
