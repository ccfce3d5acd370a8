//! [`open_source`]: from a command-line string to an [`ImageSource`].

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};
use crate::source::idx::{looks_like_idx, sibling_labels};
use crate::source::{
    CropOptions, FASHION_MNIST_CLASSES, FolderOptions, IdxDataset, ImageFolder, ImageSource,
    PhotoCrops, Split, bundled_sample, photos_sample,
};

/// Where Debian's `dataset-fashion-mnist` package installs the full dataset.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Where Debian's `mate-backgrounds` package installs its nature photos (GPL-2+: read where
/// they are, never copied).
pub const PHOTOS_DIR: &str = "/usr/share/backgrounds/mate/nature";

fn split(spec: &str, rest: Option<&str>) -> Result<Split> {
    match rest {
        None | Some("train") => Ok(Split::Train),
        Some("test") => Ok(Split::Test),
        Some(other) => Err(DataError::Source {
            spec: spec.into(),
            reason: format!("split '{other}' is neither 'train' nor 'test'"),
        }),
    }
}

/// The image file of `split` in a folder laid out like MNIST's downloads
/// (`train-images-idx3-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`), if the folder is one.
fn idx_images_in(dir: &Path, split: Split) -> Option<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains("images-idx3-ubyte"))
        })
        .collect();
    files.sort();
    let wanted: &[&str] = match split {
        Split::Train => &["train"],
        Split::Test => &["t10k", "test"],
    };
    files.into_iter().find(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        wanted.iter().any(|w| name.starts_with(w))
    })
}

/// Whether `dir` holds MNIST-layout IDX image files.
fn is_idx_folder(dir: &Path) -> bool {
    idx_images_in(dir, Split::Train).is_some() || idx_images_in(dir, Split::Test).is_some()
}

fn open_idx_folder(spec: &str, dir: &Path, split: Split) -> Result<IdxDataset> {
    let images = idx_images_in(dir, split).ok_or_else(|| DataError::Source {
        spec: spec.into(),
        reason: format!(
            "{} holds IDX files but no {} images file ({})",
            dir.display(),
            if split == Split::Train {
                "training"
            } else {
                "test"
            },
            if split == Split::Train {
                "train-images-idx3-ubyte[.gz]"
            } else {
                "t10k-images-idx3-ubyte[.gz]"
            }
        ),
    })?;
    let labels = sibling_labels(&images).filter(|l| l.is_file());
    IdxDataset::open(&images, labels.as_deref())
}

/// Opens a data source named on the command line:
///
/// - `sample`, `sample:train`, `sample:test`: the bundled Fashion-MNIST sample;
/// - `fashion-mnist`, `fashion-mnist:test`: the full dataset from [`FASHION_MNIST_DIR`];
/// - a folder of MNIST-layout IDX files (`train-images-idx3-ubyte.gz`, `t10k-...`), as other
///   tools download them: `DIR` or `DIR:train` for the training images, `DIR:test` for the test
///   images, labels from the sibling label files;
/// - any other folder: an [`ImageFolder`] (class sub-folders give labels);
/// - an IDX image file (raw or gzipped): an [`IdxDataset`], with labels from the conventional
///   sibling file (`*-labels-idx1-ubyte*`) if it exists;
/// - `photos-sample[:train|test]`: crops of the bundled colour photos;
/// - `photos[:train|test]`: crops of the nature photos in [`PHOTOS_DIR`];
/// - `DIR[:train|test]?...`: crops of the photos in a folder (every fourth in name order is a
///   test photo).
///
/// Photo sources take [`CropOptions`] after a `?`: `photos:train?crop=96&crops=1000`.
pub fn open_source(spec: &str, options: FolderOptions) -> Result<Box<dyn ImageSource>> {
    let (base, query) = match spec.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (spec, None),
    };
    let (name, rest) = match base.rsplit_once(':') {
        Some((n, r)) => (n, Some(r)),
        None => (base, None),
    };
    let crops = || CropOptions::parse(spec, query.unwrap_or(""));
    match name {
        "photos-sample" => return Ok(Box::new(photos_sample(split(spec, rest)?, crops()?)?)),
        "photos" => {
            let dir = Path::new(PHOTOS_DIR);
            if !dir.is_dir() {
                return Err(DataError::Source {
                    spec: spec.into(),
                    reason: format!(
                        "{} is missing: install it with `apt-get install mate-backgrounds`, or \
                         give a folder of your own photos (DIR?crop=64)",
                        dir.display()
                    ),
                });
            }
            let split = split(spec, rest)?;
            return Ok(Box::new(PhotoCrops::open_folder(
                spec,
                dir,
                split,
                crops()?,
            )?));
        }
        _ if query.is_some() => {
            let dir = Path::new(match rest {
                Some("train" | "test") => name,
                _ => base,
            });
            if !dir.is_dir() {
                return Err(DataError::Source {
                    spec: spec.into(),
                    reason: "crop options (after '?') need a folder of photos, 'photos' or \
                             'photos-sample'"
                        .into(),
                });
            }
            let split = if dir == Path::new(base) {
                Split::Train
            } else {
                split(spec, rest)?
            };
            return Ok(Box::new(PhotoCrops::open_folder(
                spec,
                dir,
                split,
                crops()?,
            )?));
        }
        "sample" => return Ok(Box::new(bundled_sample(split(spec, rest)?)?)),
        "fashion-mnist" => {
            let split = split(spec, rest)?;
            let dir = Path::new(FASHION_MNIST_DIR);
            let prefix = match split {
                Split::Train => "train",
                Split::Test => "t10k",
            };
            let images = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
            if !images.exists() {
                return Err(DataError::Source {
                    spec: spec.into(),
                    reason: format!(
                        "{} is missing: install it with `apt-get install dataset-fashion-mnist`",
                        images.display()
                    ),
                });
            }
            let ds = open_idx_folder(spec, dir, split)?
                .with_class_names(&FASHION_MNIST_CLASSES)
                .with_name(format!("Fashion-MNIST {prefix} ({})", dir.display()));
            return Ok(Box::new(ds));
        }
        _ => {}
    }
    // `DIR:test` for a folder of IDX files; any other colon belongs to the path.
    if let Some(rest @ ("train" | "test")) = rest
        && Path::new(name).is_dir()
        && is_idx_folder(Path::new(name))
    {
        let split = split(spec, Some(rest))?;
        return Ok(Box::new(open_idx_folder(spec, Path::new(name), split)?));
    }
    let path = Path::new(spec);
    if path.is_dir() {
        if is_idx_folder(path) {
            return Ok(Box::new(open_idx_folder(spec, path, Split::Train)?));
        }
        Ok(Box::new(ImageFolder::open(path, options)?))
    } else if path.is_file() {
        if !looks_like_idx(path) {
            return Err(DataError::Source {
                spec: spec.into(),
                reason: "a single file must be an IDX image file (raw or gzipped); \
                         for image files, give their folder"
                    .into(),
            });
        }
        let labels = sibling_labels(path).filter(|l| l.is_file());
        Ok(Box::new(IdxDataset::open(path, labels.as_deref())?))
    } else {
        Err(DataError::Source {
            spec: spec.into(),
            reason: "no such file or folder, and not one of 'sample[:train|test]', \
                     'fashion-mnist[:train|test]', 'photos[:train|test]', \
                     'photos-sample[:train|test]'"
                .into(),
        })
    }
}

/// The test split that goes with the training source `spec`: `sample:test` for `sample`,
/// `fashion-mnist:test` for `fashion-mnist`, `DIR:test` for a folder of IDX files. Other
/// sources have no known test split, and a test split has none of its own (a probe would train
/// and test on the same images): both are errors asking for an explicit test source.
pub fn test_split_of(spec: &str) -> Result<String> {
    let (base, query) = match spec.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (spec, String::new()),
    };
    let (name, rest) = match base.rsplit_once(':') {
        Some((n, r @ ("train" | "test"))) => (n, Some(r)),
        _ => (base, None),
    };
    let photos = matches!(name, "photos" | "photos-sample")
        || (!query.is_empty() && Path::new(name).is_dir());
    let known = matches!(name, "sample" | "fashion-mnist")
        || (Path::new(name).is_dir() && is_idx_folder(Path::new(name)));
    let reason = if rest == Some("test") {
        format!("'{spec}' is a test split: the probe would train and test on the same images")
    } else if known || photos {
        return Ok(format!("{name}:test{query}"));
    } else {
        format!("'{spec}' has no known test split")
    };
    Err(DataError::Source {
        spec: spec.into(),
        reason: format!("{reason}; give the test images explicitly (--test SOURCE)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_splits_follow_their_training_source() {
        assert_eq!(test_split_of("sample").unwrap(), "sample:test");
        assert_eq!(test_split_of("sample:train").unwrap(), "sample:test");
        assert_eq!(
            test_split_of("fashion-mnist").unwrap(),
            "fashion-mnist:test"
        );
        let err = test_split_of("sample:test").unwrap_err().to_string();
        assert!(err.contains("same images"), "{err}");
        assert!(test_split_of("/some/photos").is_err());
        assert_eq!(
            test_split_of("photos?crop=32").unwrap(),
            "photos:test?crop=32"
        );
        assert_eq!(
            test_split_of("photos-sample:train").unwrap(),
            "photos-sample:test"
        );
    }

    #[test]
    fn photo_sources_split_by_photo_and_take_crop_options() {
        let train = open_source("photos-sample?crop=48&crops=3", FolderOptions::default()).unwrap();
        let test = open_source(
            "photos-sample:test?crop=48&crops=3",
            FolderOptions::default(),
        )
        .unwrap();
        assert_eq!((train.len(), test.len()), (4 * 3, 2 * 3));
        assert_eq!(train.get(0).unwrap().image.shape(), [3, 48, 48]);
        let err = open_source("sample?crop=3", FolderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("folder of photos"), "{err}");
        let err = open_source("photos-sample?crop=300", FolderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("300-pixel crop"), "{err}");
    }

    #[test]
    fn a_folder_of_photos_takes_every_fourth_as_a_test_photo() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            let image = crate::Image::filled(3, 20, 30, i as f32 / 5.0).unwrap();
            image.save(dir.path().join(format!("p{i}.png"))).unwrap();
        }
        let root = dir.path().to_str().unwrap();
        let train =
            open_source(&format!("{root}?crop=10&crops=2"), FolderOptions::default()).unwrap();
        let test = open_source(
            &format!("{root}:test?crop=10&crops=2"),
            FolderOptions::default(),
        )
        .unwrap();
        assert_eq!((train.len(), test.len()), (8, 2));
        // p3.png, a uniform 0.6 image, is the one test photo.
        assert!((test.get(0).unwrap().image.get(0, 0, 0) - 0.6).abs() < 1e-2);
    }

    #[test]
    fn a_folder_of_idx_files_reads_as_idx() {
        let dir = tempfile::tempdir().unwrap();
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample");
        for name in [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ] {
            std::fs::copy(sample.join(name), dir.path().join(name)).unwrap();
        }
        let root = dir.path().to_str().unwrap();
        let train = open_source(root, FolderOptions::default()).unwrap();
        assert_eq!(train.len(), 5000);
        assert_eq!(
            train.label(0),
            bundled_sample(Split::Train).unwrap().label(0)
        );
        let test = open_source(&format!("{root}:test"), FolderOptions::default()).unwrap();
        assert_eq!(test.len(), 1000);
        std::fs::remove_file(dir.path().join("t10k-images-idx3-ubyte.gz")).unwrap();
        let err = open_source(&format!("{root}:test"), FolderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("t10k-images-idx3-ubyte"), "{err}");
    }
}
