//! Image transforms: pure functions from [`Image`](crate::Image) to `Image`, random ones drawing
//! from a caller-supplied RNG so that every sample stays reproducible.

mod color_jitter;
mod crop;
mod geometry;
mod grayscale;
mod normalize;
mod resize;
mod sobel;

pub use color_jitter::ColorJitter;
pub use crop::{center_crop, crop, random_crop};
pub use geometry::{hflip, rot90};
pub use grayscale::{LUMA, grayscale};
pub use normalize::normalize_per_image;
pub use resize::{Filter, resize, resize_matrix};
pub use sobel::sobel;
