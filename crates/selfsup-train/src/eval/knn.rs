//! [`knn_accuracy`]: the weighted k-nearest-neighbour protocol.

use burn::prelude::*;

use crate::error::{Result, TrainError};
use crate::eval::Features;

fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    x / norm
}

/// Weighted k-NN accuracy on `test` with `train` as the memory bank: cosine similarity, the
/// `k` nearest neighbours vote with weight `exp(similarity / temperature)` (Wu et al. 2018, the
/// protocol of DINO and solo-learn).
pub fn knn_accuracy(
    train: &Features,
    test: &Features,
    k: usize,
    temperature: f64,
    device: &Device,
) -> Result<f64> {
    if k == 0 {
        return Err(TrainError::InvalidConfig {
            what: "k".into(),
            reason: "k-NN needs at least one neighbour".into(),
        });
    }
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(TrainError::InvalidConfig {
            what: "temperature".into(),
            reason: format!("{temperature} is not a positive number"),
        });
    }
    let (train_labels, test_labels, classes) = train.labelled_pair(test)?;
    let k = k.min(train.len());
    let bank = l2_normalize(train.tensor(device)).transpose(); // [dim, n_train]
    let mut correct = 0usize;
    let rows: Vec<usize> = (0..test.len()).collect();
    for chunk in rows.chunks(512) {
        let queries = l2_normalize(test.select(chunk).tensor(device));
        let (sims, idx) = queries.matmul(bank.clone()).topk_with_indices(k, 1);
        let sims = sims
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| TrainError::Loader(format!("{e:?}")))?;
        let idx = idx
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .map_err(|e| TrainError::Loader(format!("{e:?}")))?;
        for (q, &row) in chunk.iter().enumerate() {
            let mut votes = vec![0.0f64; classes];
            for j in 0..k {
                let neighbour = idx[q * k + j] as usize;
                votes[train_labels[neighbour] as usize] +=
                    (f64::from(sims[q * k + j]) / temperature).exp();
            }
            let predicted = votes
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(c, _)| c);
            correct += usize::from(predicted as i64 == test_labels[row]);
        }
    }
    Ok(correct as f64 / test.len() as f64)
}
