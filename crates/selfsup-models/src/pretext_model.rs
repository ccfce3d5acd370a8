//! [`PretextModel`]: what the trainer needs from a pretext method's network.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;

use crate::backbone::Backbone;

/// The outcome of one forward pass on a batch: the loss and any named scalars.
#[derive(Debug)]
pub struct StepOutput {
    /// The scalar training loss (`[1]`), still attached to the autodiff graph when training.
    pub loss: Tensor<1>,
    /// Named scalars (`[1]` each), averaged over an epoch weighted by batch size: pretext
    /// accuracy, loss terms, a discriminator's accuracy on real and fake images...
    pub metrics: Vec<(&'static str, Tensor<1>)>,
}

impl StepOutput {
    /// An output with a loss and no metrics yet.
    pub fn new(loss: Tensor<1>) -> Self {
        Self {
            loss,
            metrics: Vec::new(),
        }
    }

    /// Adds the metric `name` (detached from the autodiff graph).
    pub fn with(mut self, name: &'static str, value: Tensor<1>) -> Self {
        self.metrics.push((name, value.detach()));
        self
    }

    /// Adds every metric of `other` (a GAN step's two half-steps report into one output).
    pub fn extend(mut self, other: StepOutput) -> Self {
        self.metrics.extend(other.metrics);
        self
    }
}

/// A network trained on a pretext task: a backbone plus whatever head the task needs.
pub trait PretextModel: Module + 'static {
    /// The tensors one training step consumes.
    type Batch: Send;

    /// Forward pass and loss on one batch (validation always, training unless the method owns
    /// its step).
    fn forward_step(&self, batch: &Self::Batch) -> StepOutput;

    /// The backbone whose features are evaluated and exported.
    fn backbone(&self) -> &Backbone;
}

/// The cross-entropy loss of `logits` (`[n, classes]`) against `targets` (`[n]`), with the
/// `accuracy` metric: the step of every classification pretext.
pub fn classification_step(logits: Tensor<2>, targets: Tensor<1, Int>) -> StepOutput {
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), targets.clone());
    StepOutput::new(loss).with("accuracy", accuracy(logits, targets))
}

/// The fraction of argmax hits of `logits` (`[n, classes]`) against `targets` (`[n]`), as a
/// float `[1]`.
pub fn accuracy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let n = targets.dims()[0].max(1);
    let predicted = logits.argmax(1).flatten::<1>(0, 1);
    predicted.equal(targets).float().sum().div_scalar(n as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_argmax_hits() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], &device);
        let targets = Tensor::<1, Int>::from_ints([1, 1, 1], &device);
        let acc = accuracy(logits, targets).into_scalar::<f32>();
        assert!((acc - 2.0 / 3.0).abs() < 1e-6);
    }
}
