//! Clustering on Burn tensors, for DeepCluster: PCA with whitening, k-means with empty-cluster
//! re-seeding, and normalised mutual information. The heavy arithmetic (covariance, distances,
//! centroid sums) runs on the tensors' device, the training device, GPU included; what is left
//! on the host is small (a `d x d` eigendecomposition, per-cluster bookkeeping).

mod kmeans;
mod nmi;
mod pca;

pub use kmeans::{Clustering, KMeansConfig, KMeansInit, kmeans};
pub use nmi::nmi;
pub use pca::{Pca, symmetric_eigen};
