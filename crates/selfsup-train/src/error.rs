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
    /// An invalid setting.
    #[error("invalid {what}: {reason}")]
    InvalidConfig {
        /// The setting (`train.optimizer.lr`, `--temperature`...).
        what: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A method name that is not built in.
    #[error("unknown method '{name}': expected one of {known}")]
    UnknownMethod {
        /// The name given.
        name: String,
        /// The built-in methods.
        known: String,
    },
    /// A method could not do its part (bad task state, data it cannot learn from...).
    #[error("{method}: {reason}")]
    Task {
        /// The method.
        method: String,
        /// What went wrong.
        reason: String,
    },
    /// A resumed run was given other data than it was trained on.
    #[error(
        "the run was trained on {was}, not {now}; resume it on the same data, or pass \
         --change-data to continue on this data on purpose"
    )]
    DataChanged {
        /// What the checkpoint records.
        was: String,
        /// What this run was given.
        now: String,
    },
    /// A resumed run was given settings that change what the run is.
    #[error(
        "cannot resume with {key} = {now} (the run has {was}): a resumed run may change only \
         train.epochs, train.workers and train.checkpoint_every; start a new run instead"
    )]
    ResumeMismatch {
        /// The key that differs.
        key: String,
        /// Its value in the checkpoint.
        was: String,
        /// The value given now.
        now: String,
    },
    /// A sample-generating worker panicked.
    #[error("a data worker failed: {message}")]
    Worker {
        /// The panic's message.
        message: String,
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
    /// The loss (or another step metric) stopped being a finite number.
    #[error(
        "training diverged: {metric} is {value} at step {step} (epoch {epoch}); lower the \
         learning rate (the last checkpoint is kept)"
    )]
    NonFinite {
        /// The global step.
        step: usize,
        /// The epoch.
        epoch: usize,
        /// The metric (`loss`, or a named step metric).
        metric: String,
        /// Its value.
        value: f64,
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
