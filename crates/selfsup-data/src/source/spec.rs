//! [`open_source`]: from a command-line string to an [`ImageSource`].

use std::path::Path;

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

/// Opens a data source named on the command line:
///
/// - `sample`, `sample:train`, `sample:test`: the bundled Fashion-MNIST sample;
/// - `fashion-mnist`, `fashion-mnist:test`: the full dataset from [`FASHION_MNIST_DIR`];
/// - a folder: an [`ImageFolder`] (class sub-folders give labels);
/// - an IDX image file (raw or gzipped): an [`IdxDataset`], with labels from the conventional
///   sibling file (`*-labels-idx1-ubyte*`) if it exists.
pub fn open_source(spec: &str, options: FolderOptions) -> Result<Box<dyn ImageSource>> {
    let (name, rest) = match spec.split_once(':') {
        Some((n, r)) => (n, Some(r)),
        None => (spec, None),
    };
    match name {
        "sample" => return Ok(Box::new(bundled_sample(split(spec, rest)?)?)),
        "fashion-mnist" => {
            let prefix = match split(spec, rest)? {
                Split::Train => "train",
                Split::Test => "t10k",
            };
            let dir = Path::new(FASHION_MNIST_DIR);
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
            let labels = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
            let ds = IdxDataset::open(&images, Some(&labels))?
                .with_class_names(&FASHION_MNIST_CLASSES)
                .with_name(format!("Fashion-MNIST {prefix} ({})", dir.display()));
            return Ok(Box::new(ds));
        }
        _ => {}
    }
    let path = Path::new(spec);
    if path.is_dir() {
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
