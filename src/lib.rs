//! selfsup: classic self-supervised visual representation learning on Burn.
//!
//! This facade re-exports the workspace crates:
//! - [`data`]: images, colour spaces, transforms, image sources and pretext generators;
//! - [`models`]: Burn modules (backbones, task heads, losses);
//! - [`train`]: backend selection, batching, the trainer and evaluation.
//!
//! The `selfsup` binary is the command-line tool built on them.
#![warn(missing_docs)]

pub use selfsup_data as data;
pub use selfsup_models as models;
pub use selfsup_train as train;
