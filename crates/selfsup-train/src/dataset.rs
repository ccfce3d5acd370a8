//! [`SourceDataset`]: any [`ImageSource`] as a Burn [`Dataset`].

use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};
use selfsup_data::{ImageSource, LabeledImage};

/// Wraps an [`ImageSource`] so that Burn's multi-worker `DataLoader` can read it; decode errors
/// reach the loader as [`DatasetError`]s with the failing path in their message.
#[derive(Clone, Debug)]
pub struct SourceDataset {
    source: Arc<dyn ImageSource>,
}

impl SourceDataset {
    /// Shares `source` with the loader.
    pub fn new(source: Arc<dyn ImageSource>) -> Self {
        Self { source }
    }

    /// The wrapped source.
    pub fn source(&self) -> &Arc<dyn ImageSource> {
        &self.source
    }
}

impl From<Box<dyn ImageSource>> for SourceDataset {
    fn from(source: Box<dyn ImageSource>) -> Self {
        Self::new(Arc::from(source))
    }
}

impl Dataset<LabeledImage> for SourceDataset {
    fn get(&self, index: usize) -> Result<LabeledImage, DatasetError> {
        self.source.get(index).map_err(DatasetError::new)
    }

    fn len(&self) -> usize {
        self.source.len()
    }
}
