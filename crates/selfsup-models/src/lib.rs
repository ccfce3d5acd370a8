//! Burn modules for selfsup.
//!
//! - [`backbone`]: the VGG-style [`ConvNet`](backbone::ConvNet) and Network-in-Network
//!   ([`Nin`](backbone::Nin)), both exposing per-block features.
//! - [`PretextModel`]: what the trainer needs from a method's network; implemented by
//!   [`Classifier`] (RotNet, DeepCluster), [`JigsawNet`] and [`ContextNet`].
//! - [`towers`]: patches of one image through one shared backbone.
//! - [`gan`]: the discriminator and losses adversarial methods share; [`Inpainter`] (the
//!   Context Encoder) and [`SrGan`] (SRResNet with SRGAN's discriminator).
#![warn(missing_docs)]

pub mod backbone;
mod classifier;
mod colorization;
mod content;
mod context_prediction;
pub mod gan;
mod inpainting;
mod jigsaw;
pub mod kernels;
mod pretext_model;
mod rotation;
mod superres;
mod synthetic;
mod towers;

pub use classifier::{Classifier, ClassifierConfig, LabelledBatch};
pub use colorization::{
    AB_SCALE, ColorTarget, ColorizationBatch, Colorizer, ColorizerConfig, annealed_mean,
    rebalanced_cross_entropy,
};
pub use content::{ContentNetwork, ContentNetworkConfig};
pub use context_prediction::{ContextBatch, ContextNet, ContextNetConfig};
pub use inpainting::{ContextEncoder, Inpainter, InpainterConfig, InpaintingBatch, UpBlock};
pub use jigsaw::{JigsawBatch, JigsawNet, JigsawNetConfig};
pub use pretext_model::{PretextModel, StepOutput, accuracy, classification_step};
pub use rotation::{RotNet, RotNetConfig, RotationBatch};
pub use superres::{
    PAPER_MSE_SCALE, SrGan, SrGanConfig, SrResNet, SubPixel, SuperResBatch, resample,
    upsampling_stages,
};
pub use synthetic::{
    DepthLoss, MultiTaskLoss, MultiTaskNet, Predictions, SyntheticBatch, SyntheticNet,
    SyntheticNetConfig, TaskWeights, balanced_bce,
};
pub use towers::towers;
