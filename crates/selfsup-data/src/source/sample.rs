//! The Fashion-MNIST sample bundled in the crate: the default dataset, so that everything runs on
//! a fresh clone with no download.

use std::path::Path;

use std::path::PathBuf;

use crate::error::Result;
use crate::image::Image;
use crate::source::{CropOptions, IdxDataset, PhotoCrops};

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

/// The bundled colour photos by split: (file name, JPEG bytes). Public domain and CC0 photos
/// from scikit-image (licences in `data/photos-sample/README.md`).
const PHOTOS: [(Split, &str, &[u8]); 6] = [
    (
        Split::Train,
        "astronaut.jpg",
        include_bytes!("../../data/photos-sample/train/astronaut.jpg"),
    ),
    (
        Split::Train,
        "coffee.jpg",
        include_bytes!("../../data/photos-sample/train/coffee.jpg"),
    ),
    (
        Split::Train,
        "hubble_deep_field.jpg",
        include_bytes!("../../data/photos-sample/train/hubble_deep_field.jpg"),
    ),
    (
        Split::Train,
        "retina.jpg",
        include_bytes!("../../data/photos-sample/train/retina.jpg"),
    ),
    (
        Split::Test,
        "chelsea.jpg",
        include_bytes!("../../data/photos-sample/test/chelsea.jpg"),
    ),
    (
        Split::Test,
        "rocket.jpg",
        include_bytes!("../../data/photos-sample/test/rocket.jpg"),
    ),
];

/// Crops of the bundled colour photos of `split` (four training photos, two test photos, each
/// 256 pixels on its short side), compiled into the library.
pub fn photos_sample(split: Split, options: CropOptions) -> Result<PhotoCrops> {
    let name = match split {
        Split::Train => "photos-sample:train",
        Split::Test => "photos-sample:test",
    };
    let photos = PHOTOS
        .iter()
        .filter(|(s, _, _)| *s == split)
        .map(|(_, file, bytes)| {
            let path = PathBuf::from(format!("{name}/{file}"));
            Ok((path.clone(), Image::decode(bytes, &path)?))
        })
        .collect::<Result<Vec<_>>>()?;
    PhotoCrops::new(format!("bundled colour photos ({name})"), photos, options)
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
