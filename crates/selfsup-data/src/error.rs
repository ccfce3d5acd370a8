//! The error type of `selfsup-data`.

use std::path::PathBuf;

/// Everything that can go wrong while reading images and building samples.
///
/// Every variant names the file, value or shape that was wrong, so that the message alone says
/// what to fix.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file exists but holds no bytes.
    #[error("{path} is empty (0 bytes)")]
    EmptyFile {
        /// The empty file.
        path: PathBuf,
    },
    /// The `image` crate could not decode a file (not an image, unsupported format, truncated).
    #[error("cannot decode image {path}: {source}")]
    Decode {
        /// The file that failed to decode.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: image::ImageError,
    },
    /// An image could not be written.
    #[error("cannot write image {path}: {source}")]
    Encode {
        /// The file that could not be written.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: image::ImageError,
    },
    /// An IDX file (MNIST layout) is malformed.
    #[error("{path}: not a valid IDX file: {reason}")]
    Idx {
        /// The IDX file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An image file and its label file disagree.
    #[error("{images} holds {image_count} images but {labels} holds {label_count} labels")]
    LabelCount {
        /// The image file.
        images: PathBuf,
        /// The label file.
        labels: PathBuf,
        /// Number of images.
        image_count: usize,
        /// Number of labels.
        label_count: usize,
    },
    /// A path that should exist does not.
    #[error("{path} does not exist")]
    NotFound {
        /// The missing path.
        path: PathBuf,
    },
    /// A folder holds no readable image.
    #[error("no images found under {path}")]
    NoImages {
        /// The folder searched.
        path: PathBuf,
    },
    /// A data-source string could not be understood.
    #[error("unknown data source '{spec}': {reason}")]
    Source {
        /// The string given.
        spec: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An image index past the end of a source.
    #[error("index {index} is out of range for a source of {len} images")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of images in the source.
        len: usize,
    },
    /// Pixel data whose length does not match the stated shape.
    #[error("image data of length {len} does not fit shape [{channels}, {height}, {width}]")]
    Shape {
        /// Channels stated.
        channels: usize,
        /// Height stated.
        height: usize,
        /// Width stated.
        width: usize,
        /// Length of the data given.
        len: usize,
    },
    /// An operation got an argument it cannot work with (a crop larger than the image, a colour
    /// conversion of a grey image...).
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What was wrong.
        reason: String,
    },
}

/// The result type of `selfsup-data`.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::NotFound { path }
        } else {
            DataError::Io { path, source }
        }
    }

    pub(crate) fn invalid(op: &'static str, reason: impl Into<String>) -> Self {
        DataError::InvalidArgument {
            op,
            reason: reason.into(),
        }
    }
}
