//! Sources through the trainer's ordered sample loader.

use std::sync::Arc;

use selfsup::data::pretext::{RotationConfig, RotationGenerator};
use selfsup::data::{FolderOptions, ImageFolder, ImageSource, InputSpec, Split, bundled_sample};
use selfsup::train::{BackendKind, EpochPlan, stack_images};

use crate::testutil::class_folder;

fn plan(
    source: Arc<dyn ImageSource>,
    images: InputSpec,
    batch_size: usize,
) -> EpochPlan<RotationGenerator> {
    EpochPlan {
        generator: RotationGenerator::new(RotationConfig::default()).unwrap(),
        source,
        images,
        seed: 7,
        epoch: 0,
        batch_size,
        workers: 2,
    }
}

#[test]
fn sample_batches_cover_every_image_once() {
    let source: Arc<dyn ImageSource> = Arc::new(bundled_sample(Split::Test).unwrap());
    let order: Vec<usize> = (0..source.len()).rev().collect();
    let mut seen = 0;
    for batch in plan(source, InputSpec::plain(1, 28).unwrap(), 128).spawn(order) {
        let batch = batch.unwrap();
        seen += batch.len();
        assert!(batch.iter().all(|s| s.rotations[0].shape() == [1, 28, 28]));
    }
    assert_eq!(seen, 1000);
}

#[test]
fn folder_images_of_mixed_size_batch_as_rgb() {
    let dir = tempfile::tempdir().unwrap();
    class_folder(dir.path());
    let folder = ImageFolder::open(dir.path(), FolderOptions::default()).unwrap();
    let batch = plan(Arc::new(folder), InputSpec::plain(3, 8).unwrap(), 5)
        .spawn((0..5).collect())
        .recv()
        .unwrap()
        .unwrap();
    let images: Vec<_> = batch.into_iter().map(|s| s.rotations[0].clone()).collect();
    let tensor = stack_images(&images, &BackendKind::Flex.device().unwrap());
    assert_eq!(tensor.dims(), [5, 3, 8, 8]);
    let max = tensor.max().into_scalar::<f32>();
    assert!(max <= 1.0 && max > 0.0);
}

#[test]
fn decode_errors_reach_the_trainer_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    crate::testutil::write_image(&dir.path().join("t.png"), 64, 64, 3);
    let bytes = std::fs::read(dir.path().join("t.png")).unwrap();
    std::fs::write(dir.path().join("t.png"), &bytes[..bytes.len() / 2]).unwrap();
    let folder = ImageFolder::open(dir.path(), FolderOptions::default()).unwrap();
    let err = plan(Arc::new(folder), InputSpec::plain(3, 8).unwrap(), 1)
        .spawn(vec![0])
        .recv()
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("t.png"), "{err}");
}
