//! Sources through Burn's multi-worker DataLoader.

use std::sync::Arc;

use burn::data::dataloader::DataLoaderBuilder;
use selfsup::data::{FolderOptions, ImageFolder, Split, bundled_sample};
use selfsup::train::{BackendKind, ImageBatcher, SourceDataset};

use crate::testutil::class_folder;

#[test]
fn sample_batches_cover_every_image_once() {
    let device = BackendKind::Flex.device().unwrap();
    let dataset = SourceDataset::new(Arc::new(bundled_sample(Split::Test).unwrap()));
    let loader = DataLoaderBuilder::new(ImageBatcher::new(1, 28, 28).unwrap())
        .batch_size(128)
        .shuffle(7)
        .num_workers(2)
        .set_device(device)
        .build(dataset);
    let mut counts = [0usize; 10];
    let mut seen = 0;
    for batch in loader.iter() {
        let batch = batch.unwrap();
        let [n, c, h, w] = batch.images.dims();
        assert_eq!([c, h, w], [1, 28, 28]);
        seen += n;
        for l in batch
            .labels
            .unwrap()
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap()
        {
            counts[l as usize] += 1;
        }
    }
    assert_eq!(seen, 1000);
    assert_eq!(counts, [100; 10]);
}

#[test]
fn folder_images_of_mixed_size_batch_as_rgb() {
    let dir = tempfile::tempdir().unwrap();
    class_folder(dir.path());
    let folder = ImageFolder::open(dir.path(), FolderOptions::default()).unwrap();
    let loader = DataLoaderBuilder::new(ImageBatcher::new(3, 8, 8).unwrap())
        .batch_size(5)
        .num_workers(2)
        .set_device(BackendKind::Flex.device().unwrap())
        .build(SourceDataset::new(Arc::new(folder)));
    let batch = loader.iter().next().unwrap().unwrap();
    assert_eq!(batch.images.dims(), [5, 3, 8, 8]);
    // One image is unlabelled, so the batch carries no labels.
    assert!(batch.labels.is_none());
    let max = batch.images.max().into_scalar::<f32>();
    assert!(max <= 1.0 && max > 0.0);
}

#[test]
fn decode_errors_reach_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    crate::testutil::write_image(&dir.path().join("t.png"), 64, 64, 3);
    let bytes = std::fs::read(dir.path().join("t.png")).unwrap();
    std::fs::write(dir.path().join("t.png"), &bytes[..bytes.len() / 2]).unwrap();
    let folder = ImageFolder::open(dir.path(), FolderOptions::default()).unwrap();
    let loader = DataLoaderBuilder::new(ImageBatcher::new(3, 8, 8).unwrap())
        .batch_size(1)
        .set_device(BackendKind::Flex.device().unwrap())
        .build(SourceDataset::new(Arc::new(folder)));
    let err = loader.iter().next().unwrap().unwrap_err();
    assert!(err.to_string().contains("t.png"), "{err}");
}
