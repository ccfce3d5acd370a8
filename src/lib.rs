//! selfsup: classic self-supervised visual representation learning on Burn.
//!
//! This facade re-exports the workspace crates:
//! - [`data`]: images, colour spaces, transforms, image sources and pretext generators;
//! - [`models`]: Burn modules (backbones, task heads);
//! - [`train`]: backends, the method contract and the built-in methods, the trainer,
//!   checkpoints and evaluation.
//!
//! The `selfsup` binary is the command-line tool built on them. The guide below is
//! `docs/library.md`; its examples compile as this crate's doctests.
//!
#![doc = include_str!("../docs/library.md")]
#![warn(missing_docs)]

pub use selfsup_data as data;
pub use selfsup_models as models;
pub use selfsup_train as train;
