//! Burn modules for selfsup.
//!
//! - [`backbone`]: the VGG-style [`ConvNet`](backbone::ConvNet) and Network-in-Network
//!   ([`Nin`](backbone::Nin)), both exposing per-block features.
//! - [`PretextModel`]: what the trainer needs from a method's network; implemented by
//!   [`RotNet`].
//! - [`reference`]: the two small networks of the CPU benchmark that selfsup's training speed is
//!   measured with against PyTorch.
#![warn(missing_docs)]

pub mod backbone;
mod pretext_model;
pub mod reference;
mod rotation;

pub use pretext_model::{PretextModel, StepOutput, count_correct};
pub use rotation::{RotNet, RotNetConfig, RotationBatch};
