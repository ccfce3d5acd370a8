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
}

/// The result type of `selfsup-train`.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
