//! [`PretextModel`]: what the trainer needs from a pretext method's network.

use burn::prelude::*;

use crate::backbone::Backbone;

/// The outcome of one forward pass on a batch.
#[derive(Debug)]
pub struct StepOutput {
    /// The scalar training loss (`[1]`), still attached to the autodiff graph when training.
    pub loss: Tensor<1>,
    /// Correct pretext predictions and the number of predictions, for classification pretexts.
    pub correct: Option<(Tensor<1, Int>, usize)>,
}

/// A network trained on a pretext task: a backbone plus whatever head the task needs.
pub trait PretextModel: Module + 'static {
    /// The tensors one training step consumes.
    type Batch: Send;

    /// Forward pass and loss on one batch.
    fn forward_step(&self, batch: &Self::Batch) -> StepOutput;

    /// The backbone whose features are evaluated and exported.
    fn backbone(&self) -> &Backbone;
}

/// Counts argmax hits of `logits` (`[n, classes]`) against `targets` (`[n]`).
pub fn count_correct(logits: Tensor<2>, targets: Tensor<1, Int>) -> (Tensor<1, Int>, usize) {
    let n = targets.dims()[0];
    let predicted = logits.argmax(1).flatten::<1>(0, 1);
    (predicted.equal(targets).int().sum(), n)
}
