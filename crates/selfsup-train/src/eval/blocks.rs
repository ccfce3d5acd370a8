//! [`probe_blocks`]: every block of a checkpoint's network, probed at once.

use std::path::Path;

use burn::prelude::*;
use selfsup_data::ImageSource;

use crate::checkpoint::load_network;
use crate::error::Result;
use crate::eval::{Pooling, ProbeConfig, View, extract_views, knn_accuracy, linear_probe};

/// One block's probe accuracies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockScores {
    /// The block, from 1.
    pub block: usize,
    /// Whether the method documents this block as its representation.
    pub representation: bool,
    /// k-NN accuracy (k = 20, temperature 0.07).
    pub knn: f64,
    /// Logistic-regression accuracy.
    pub linear: f64,
}

/// k-NN and linear-probe test accuracy of every block of the checkpoint's default network,
/// globally pooled, trained on `train` and tested on `test` (one pass over each); with
/// `random_init`, of the same architecture freshly initialised.
pub fn probe_blocks(
    checkpoint: &Path,
    random_init: bool,
    train: &dyn ImageSource,
    test: &dyn ImageSource,
    device: &Device,
) -> Result<Vec<BlockScores>> {
    let (backbone, network, _) = load_network(checkpoint, None, random_init, device)?;
    let views: Vec<View> = (0..backbone.block_channels().len())
        .map(|block| View {
            block,
            pooling: Pooling::Global,
        })
        .collect();
    let features = |source: &dyn ImageSource| {
        let all: Vec<usize> = (0..source.len()).collect();
        extract_views(&backbone, source, &all, &network.input, &views, 256)
    };
    let (train, test) = (features(train)?, features(test)?);
    train
        .iter()
        .zip(&test)
        .enumerate()
        .map(|(block, (train, test))| {
            Ok(BlockScores {
                block: block + 1,
                representation: block == network.block,
                knn: knn_accuracy(train, test, 20, 0.07, device)?,
                linear: linear_probe(train, test, &ProbeConfig::default(), device)?,
            })
        })
        .collect()
}
