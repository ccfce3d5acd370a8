//! The deterministic sample loader: a background thread generates each batch's samples on
//! `workers` threads and hands batches over in order.
//!
//! Burn's multi-threaded `DataLoader` returns batches in whatever order its workers finish, so
//! a run could not be repeated or resumed exactly; here every sample is a pure function of
//! (seed, epoch, image index) and batches arrive in a fixed order.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use selfsup_data::pretext::{PretextGenerator, sample_rng};
use selfsup_data::{DataError, ImageSource};

use crate::batch::ImageBatcher;

/// Batches prepared ahead of the training step.
const PREFETCH: usize = 2;

/// Everything needed to generate one epoch's samples.
#[derive(Clone)]
pub struct EpochPlan<G> {
    /// The generator.
    pub generator: G,
    /// Where images come from.
    pub source: Arc<dyn ImageSource>,
    /// Brings images to the model's channels and size before the generator sees them.
    pub conform: ImageBatcher,
    /// Run seed.
    pub seed: u64,
    /// Epoch whose samples to make (selects the random streams).
    pub epoch: u64,
    /// Source images per batch.
    pub batch_size: usize,
    /// Threads generating samples.
    pub workers: usize,
}

/// `indices` in the order of `epoch`: a seeded shuffle, the same for the same seed and epoch.
pub fn epoch_order(indices: &[usize], seed: u64, epoch: u64) -> Vec<usize> {
    let mut order = indices.to_vec();
    order.shuffle(&mut StdRng::seed_from_u64(
        seed ^ epoch.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    ));
    order
}

impl<G: PretextGenerator + Clone + 'static> EpochPlan<G> {
    fn sample(&self, index: usize) -> Result<G::Sample, DataError> {
        let image = self.conform.conform(&self.source.get(index)?.image);
        self.generator
            .generate(&image, &mut sample_rng(self.seed, self.epoch, index as u64))
    }

    /// Generates the samples of `indices` in order, spread over the plan's workers.
    pub fn samples(&self, indices: &[usize]) -> Result<Vec<G::Sample>, DataError> {
        let chunk = indices.len().div_ceil(self.workers.max(1)).max(1);
        std::thread::scope(|s| {
            let parts: Vec<_> = indices
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || part.iter().map(|&i| self.sample(i)).collect::<Vec<_>>())
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    }

    /// Starts generating the batches of `order` in the background.
    pub fn spawn(self, order: Vec<usize>) -> Receiver<Result<Vec<G::Sample>, DataError>> {
        let (tx, rx) = sync_channel(PREFETCH);
        std::thread::spawn(move || {
            for batch in order.chunks(self.batch_size) {
                let result = self.samples(batch);
                let failed = result.is_err();
                // A closed channel means the trainer stopped: nothing left to do.
                if tx.send(result).is_err() || failed {
                    break;
                }
            }
        });
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use selfsup_data::pretext::{RotationConfig, RotationGenerator};
    use selfsup_data::{Split, bundled_sample};

    #[test]
    fn batches_are_the_same_whatever_the_worker_count() {
        let source: Arc<dyn ImageSource> = Arc::new(bundled_sample(Split::Test).unwrap());
        let plan = |workers| EpochPlan {
            generator: RotationGenerator::new(RotationConfig {
                crop: Some(24),
                flip: true,
            })
            .unwrap(),
            source: source.clone(),
            conform: ImageBatcher::new(1, 28, 28).unwrap(),
            seed: 3,
            epoch: 1,
            batch_size: 7,
            workers,
        };
        let order = epoch_order(&(0..30).collect::<Vec<_>>(), 3, 1);
        let one: Vec<_> = plan(1)
            .spawn(order.clone())
            .iter()
            .map(|b| b.unwrap())
            .collect();
        let three: Vec<_> = plan(3).spawn(order).iter().map(|b| b.unwrap()).collect();
        assert_eq!(one.len(), 5);
        assert_eq!(one, three);
        assert_ne!(
            epoch_order(&[0, 1, 2, 3, 4, 5, 6, 7], 3, 1),
            epoch_order(&[0, 1, 2, 3, 4, 5, 6, 7], 3, 2)
        );
    }
}
