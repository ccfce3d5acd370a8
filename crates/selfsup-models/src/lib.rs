//! Burn modules for selfsup.
//!
//! - [`backbone`]: the VGG-style [`ConvNet`](backbone::ConvNet) and Network-in-Network
//!   ([`Nin`](backbone::Nin)), both exposing per-block features.
//! - [`PretextModel`]: what the trainer needs from a method's network; implemented by
//!   [`RotNet`].
#![warn(missing_docs)]

pub mod backbone;
mod pretext_model;
mod rotation;

pub use pretext_model::{PretextModel, StepOutput, accuracy};
pub use rotation::{RotNet, RotNetConfig, RotationBatch};
