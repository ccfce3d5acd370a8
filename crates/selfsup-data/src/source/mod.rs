//! Image sources: where images (and optional class labels) come from.
//!
//! Every source implements [`ImageSource`]; [`open_source`] turns a command-line string such as
//! `sample`, `fashion-mnist:test`, a folder or an IDX file into one.

mod folder;
mod idx;
mod photos;
mod sample;
mod spec;
mod subset;
mod summary;

pub use folder::{FolderOptions, ImageFolder};
pub use idx::IdxDataset;
pub use photos::{CropOptions, PhotoCrops, is_test_photo};
pub use sample::{FASHION_MNIST_CLASSES, Split, bundled_sample, photos_sample};
pub use spec::{FASHION_MNIST_DIR, PHOTOS_DIR, open_source, test_split_of};
pub use subset::Subset;
pub use summary::Summary;

use crate::error::Result;
use crate::image::Image;

/// An image with its class label, if the source has labels.
#[derive(Clone, Debug, PartialEq)]
pub struct LabeledImage {
    /// The decoded image.
    pub image: Image,
    /// The class index into [`ImageSource::class_names`], or `None` for unlabelled images.
    pub label: Option<usize>,
}

/// A random-access collection of images, shared between data-loader workers.
pub trait ImageSource: Send + Sync + std::fmt::Debug {
    /// Number of images.
    fn len(&self) -> usize;

    /// Whether the source holds no image.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decodes image `index` with its label.
    fn get(&self, index: usize) -> Result<LabeledImage>;

    /// The label of image `index` without decoding it (`None` if unlabelled or out of range).
    fn label(&self, index: usize) -> Option<usize>;

    /// `[channels, height, width]` of image `index`, from headers alone where possible.
    fn shape(&self, index: usize) -> Result<[usize; 3]>;

    /// Class names, indexed by label; empty for unlabelled sources.
    fn class_names(&self) -> &[String];

    /// A short human-readable description (kind and location).
    fn describe(&self) -> String;

    /// Files left out as unreadable, with the reason (folders opened with `skip_bad`).
    fn skipped(&self) -> &[(std::path::PathBuf, String)] {
        &[]
    }
}
