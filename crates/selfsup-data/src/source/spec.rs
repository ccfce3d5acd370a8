//! [`open_source`]: from a command-line string to an [`ImageSource`].

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};
use crate::source::idx::{looks_like_idx, sibling_labels};
use crate::source::{
    FASHION_MNIST_CLASSES, FolderOptions, IdxDataset, ImageFolder, ImageSource, Split,
    bundled_sample,
};

/// Where Debian's `dataset-fashion-mnist` package installs the full dataset.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

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
///   sibling file (`*-labels-idx1-ubyte*`) if it exists.
pub fn open_source(spec: &str, options: FolderOptions) -> Result<Box<dyn ImageSource>> {
    let (name, rest) = match spec.rsplit_once(':') {
        Some((n, r)) => (n, Some(r)),
        None => (spec, None),
    };
    match name {
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
                     'fashion-mnist[:train|test]'"
                .into(),
        })
    }
}

/// The test split that goes with the training source `spec`: `sample:test` for `sample`,
/// `fashion-mnist:test` for `fashion-mnist`, `DIR:test` for a folder of IDX files. Other
/// sources have no known test split, and a test split has none of its own (a probe would train
/// and test on the same images): both are errors asking for an explicit test source.
pub fn test_split_of(spec: &str) -> Result<String> {
    let (name, rest) = match spec.rsplit_once(':') {
        Some((n, r @ ("train" | "test"))) => (n, Some(r)),
        _ => (spec, None),
    };
    let known = matches!(name, "sample" | "fashion-mnist")
        || (Path::new(name).is_dir() && is_idx_folder(Path::new(name)));
    let reason = if rest == Some("test") {
        format!("'{spec}' is a test split: the probe would train and test on the same images")
    } else if known {
        return Ok(format!("{name}:test"));
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
