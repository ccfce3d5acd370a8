//! Burn modules for selfsup.
//!
//! - [`backbone`]: the VGG-style [`ConvNet`](backbone::ConvNet) and Network-in-Network
//!   ([`Nin`](backbone::Nin)), both exposing per-block features.
//! - [`reference`]: the two small networks of the CPU benchmark that selfsup's training speed is
//!   measured with against PyTorch.
#![warn(missing_docs)]

pub mod backbone;
pub mod reference;
