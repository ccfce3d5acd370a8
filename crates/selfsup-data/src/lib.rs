//! Images and pretext data for selfsup.
//!
//! - [`Image`]: an owned planar f32 image, decoded from any format the `image` crate reads.
//! - [`color`]: sRGB <-> CIE Lab (D65).
//! - [`transform`]: crops, resizing, flips, rotations, grey, colour jitter, normalisation, Sobel.
//! - [`source`]: image folders, IDX files (MNIST / Fashion-MNIST), crops of colour photos and the
//!   bundled samples, behind
//!   one [`ImageSource`] trait, opened from strings by [`open_source`].
//! - [`InputSpec`]: how a source image becomes a network input (size, channels, L channel,
//!   Sobel), saved with checkpoints.
//! - [`gallery`]: picture grids of generated samples.
//! - [`quality`]: image-to-image metrics (PSNR, SSIM, colour errors).
//! - [`pretext`]: the pretext generators, pure functions of (config, image, seeded RNG).
//! - [`render`]: a procedural renderer of room scenes with depth, normals and contours.
//!
//! ```
//! use selfsup_data::{ImageSource, Split, bundled_sample, transform};
//!
//! let sample = bundled_sample(Split::Test)?;
//! let item = sample.get(0)?;
//! assert_eq!(item.image.shape(), [1, 28, 28]);
//! let turned = transform::rot90(&item.image, 1);
//! assert_eq!(transform::rot90(&turned, 3), item.image);
//! # Ok::<(), selfsup_data::DataError>(())
//! ```
#![warn(missing_docs)]

pub mod color;
mod error;
pub mod gallery;
mod image;
mod input;
pub mod pretext;
pub mod quality;
pub mod render;
pub mod source;
pub mod transform;

pub use error::{DataError, Result};
pub use image::Image;
pub use input::{InputSpec, Preprocess, lightness};
pub use source::{CropOptions, PhotoCrops, photos_sample};
pub use source::{
    FolderOptions, IdxDataset, ImageFolder, ImageSource, LabeledImage, Split, Subset, Summary,
    bundled_sample, open_source, test_split_of,
};
