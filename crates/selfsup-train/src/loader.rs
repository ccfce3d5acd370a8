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
use selfsup_data::{ImageSource, InputSpec};

use crate::error::{Result, TrainError};

/// Batches prepared ahead of the training step.
const PREFETCH: usize = 2;

/// Everything needed to generate one epoch's samples.
#[derive(Clone)]
pub struct EpochPlan<G> {
    /// The generator.
    pub generator: G,
    /// Where images come from.
    pub source: Arc<dyn ImageSource>,
    /// Brings images to the run's channels and size before the generator sees them.
    pub images: InputSpec,
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

/// The message a panic carried.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a worker panicked".into())
}

impl<G: PretextGenerator + Clone + 'static> EpochPlan<G> {
    fn sample(&self, index: usize) -> Result<G::Sample> {
        let image = self.images.conform(&self.source.get(index)?.image);
        Ok(self.generator.generate(
            &image,
            index,
            &mut sample_rng(self.seed, self.epoch, index as u64),
        )?)
    }

    /// Generates the samples of `indices` in order, spread over the plan's workers; a worker
    /// that panics becomes a [`TrainError::Worker`] with its message.
    pub fn samples(&self, indices: &[usize]) -> Result<Vec<G::Sample>> {
        let chunk = indices.len().div_ceil(self.workers.max(1)).max(1);
        std::thread::scope(|s| {
            let parts: Vec<_> = indices
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || part.iter().map(|&i| self.sample(i)).collect::<Vec<_>>())
                })
                .collect();
            let mut out = Vec::with_capacity(indices.len());
            for part in parts {
                let samples = part.join().map_err(|e| TrainError::Worker {
                    message: panic_message(e.as_ref()),
                })?;
                for sample in samples {
                    out.push(sample?);
                }
            }
            Ok(out)
        })
    }

    /// Starts generating the batches of `order` in the background.
    pub fn spawn(self, order: Vec<usize>) -> Receiver<Result<Vec<G::Sample>>> {
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

    #[derive(Clone)]
    struct Panicky;

    impl PretextGenerator for Panicky {
        type Sample = usize;

        fn generate(
            &self,
            _image: &selfsup_data::Image,
            index: usize,
            _rng: &mut StdRng,
        ) -> selfsup_data::Result<usize> {
            assert!(index != 5, "cannot make sample 5");
            Ok(index)
        }

        fn picture(&self, _sample: &usize) -> Vec<selfsup_data::Image> {
            Vec::new()
        }
    }

    #[test]
    fn a_panicking_worker_becomes_an_error_with_its_message() {
        let source: Arc<dyn ImageSource> = Arc::new(bundled_sample(Split::Test).unwrap());
        let plan = EpochPlan {
            generator: Panicky,
            source,
            images: InputSpec::plain(1, 28).unwrap(),
            seed: 0,
            epoch: 0,
            batch_size: 4,
            workers: 2,
        };
        let batches: Vec<_> = plan.spawn((0..12).collect()).iter().collect();
        assert_eq!(batches.len(), 2, "the loader stops at the failed batch");
        assert_eq!(batches[0].as_ref().unwrap(), &[0, 1, 2, 3]);
        let err = batches[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("cannot make sample 5"), "{err}");
    }

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
            images: InputSpec::plain(1, 28).unwrap(),
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
