//! The error type of `selfsup-train`.

/// Everything that can go wrong while setting up or running training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A backend name that selfsup does not know.
    #[error("unknown backend '{name}': expected one of flex, ndarray, wgpu, cuda")]
    UnknownBackend {
        /// The name given.
        name: String,
    },
    /// A known backend that this build does not include.
    #[error(
        "the {backend} backend is not compiled in: rebuild with `--features {feature}` \
         (compiled in: {compiled})"
    )]
    BackendNotCompiled {
        /// The backend asked for.
        backend: String,
        /// The cargo feature that enables it.
        feature: &'static str,
        /// The backends this build has.
        compiled: String,
    },
    /// An invalid batcher or loader setting.
    #[error("invalid {what}: {reason}")]
    InvalidConfig {
        /// The setting.
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// An error from the data layer.
    #[error(transparent)]
    Data(#[from] selfsup_data::DataError),
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file or override could not be understood.
    #[error("configuration error in {origin}: {reason}")]
    Config {
        /// The file, or `--set`.
        origin: String,
        /// What is wrong, with the key's path.
        reason: String,
    },
    /// The loss stopped being a finite number.
    #[error(
        "training diverged: the loss is {loss} at step {step} (epoch {epoch}); lower the learning rate"
    )]
    NonFinite {
        /// The global step.
        step: usize,
        /// The epoch.
        epoch: usize,
        /// The loss value.
        loss: f32,
    },
    /// A checkpoint is missing, truncated, or does not fit the model.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file or folder.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A new run was asked for in a folder that already holds one.
    #[error(
        "{path} already holds a run; continue it with --resume, or give another --out (delete the folder to start over)"
    )]
    RunExists {
        /// The run folder.
        path: std::path::PathBuf,
    },
    /// The data loader failed (a worker's decode error, for instance).
    #[error("data loading failed: {0}")]
    Loader(String),
}

impl TrainError {
    pub(crate) fn io(path: impl Into<std::path::PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn checkpoint(path: impl Into<std::path::PathBuf>, reason: impl ToString) -> Self {
        TrainError::Checkpoint {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

/// The result type of `selfsup-train`.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
