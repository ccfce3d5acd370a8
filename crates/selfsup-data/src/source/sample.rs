//! The Fashion-MNIST sample bundled in the crate: the default dataset, so that everything runs on
//! a fresh clone with no download.

use std::path::Path;

use crate::error::Result;
use crate::source::IdxDataset;

/// Fashion-MNIST's class names, by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// A train or test split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The training split.
    Train,
    /// The test split.
    Test,
}

const TRAIN_IMAGES: &[u8] =
    include_bytes!("../../data/fashion-mnist-sample/train-images-idx3-ubyte.gz");
const TRAIN_LABELS: &[u8] =
    include_bytes!("../../data/fashion-mnist-sample/train-labels-idx1-ubyte.gz");
const TEST_IMAGES: &[u8] =
    include_bytes!("../../data/fashion-mnist-sample/t10k-images-idx3-ubyte.gz");
const TEST_LABELS: &[u8] =
    include_bytes!("../../data/fashion-mnist-sample/t10k-labels-idx1-ubyte.gz");

/// The bundled sample: 5,000 training or 1,000 test Fashion-MNIST images (28x28 grey), 500 or 100
/// per class, compiled into the library (MIT licence; see `data/fashion-mnist-sample/README.md`).
pub fn bundled_sample(split: Split) -> Result<IdxDataset> {
    let (images, labels, name) = match split {
        Split::Train => (TRAIN_IMAGES, TRAIN_LABELS, "train"),
        Split::Test => (TEST_IMAGES, TEST_LABELS, "test"),
    };
    Ok(IdxDataset::from_bytes(
        images,
        Some(labels),
        Path::new(&format!("sample:{name}")),
        Path::new(&format!("sample:{name} labels")),
    )?
    .with_class_names(&FASHION_MNIST_CLASSES)
    .with_name(format!("bundled Fashion-MNIST sample ({name} split)")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ImageSource;

    #[test]
    fn sample_is_class_balanced() {
        for (split, per_class) in [(Split::Train, 500), (Split::Test, 100)] {
            let ds = bundled_sample(split).unwrap();
            assert_eq!(ds.len(), 10 * per_class);
            let mut counts = [0; 10];
            (0..ds.len()).for_each(|i| counts[ds.label(i).unwrap()] += 1);
            assert_eq!(counts, [per_class; 10]);
            assert_eq!(ds.class_names()[9], "Ankle boot");
        }
    }
}
