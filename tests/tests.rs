//! Integration tests, built as one binary so that Burn links once.

mod backends;
mod cli;
mod colorization;
mod contract;
mod finetune;
mod inpainting;
mod loader;
pub(crate) mod methods;
#[cfg(feature = "wgpu")]
mod parity;
mod pytorch;
mod regression;
mod rotation;
mod sources;
mod superres;
mod synthetic;
mod testutil;
