//! [`Pca`]: principal components, optionally whitened, fitted on Burn tensors.

use burn::prelude::*;
use burn::tensor::TensorData;

use crate::error::{Result, TrainError};

/// Eigenvalues (descending) and eigenvectors (columns of a row-major `n x n` matrix) of the
/// symmetric `n x n` matrix `a`, by cyclic Jacobi rotations: exact to rounding for the small
/// covariance matrices PCA needs here (Burn has no eigendecomposition).
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        let scale: f64 = (0..n)
            .map(|i| m[i * n + i] * m[i * n + i])
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        if off <= 1e-24 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| m[b * n + b].total_cmp(&m[a * n + a]));
    let values = order.iter().map(|&i| m[i * n + i]).collect();
    let mut vectors = vec![0.0; n * n];
    for (new, &old) in order.iter().enumerate() {
        for row in 0..n {
            vectors[row * n + new] = v[row * n + old];
        }
    }
    (values, vectors)
}

/// A fitted projection: `(x - mean) @ projection`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Feature means, `[dim]`.
    pub mean: Vec<f32>,
    /// `[dim, dims]` row-major: the leading eigenvectors, each divided by the square root of
    /// its eigenvalue when whitening.
    pub projection: Vec<f32>,
    /// Input dimension.
    pub dim: usize,
    /// Output dimension.
    pub dims: usize,
    /// Every eigenvalue of the covariance, descending.
    pub eigenvalues: Vec<f64>,
}

impl Pca {
    /// Fits the `dims` leading components of the rows of `x` (`[n, dim]`); with `whiten`, the
    /// projected features get unit variance (DeepCluster: "PCA-reduced to 256 dimensions,
    /// whitened"; faiss `PCAMatrix(eigen_power = -0.5)`). Eigenvalues below 1e-6 of the largest
    /// are floored there, so that flat directions are not blown up.
    pub fn fit(x: &Tensor<2>, dims: usize, whiten: bool) -> Result<Self> {
        let [n, dim] = x.dims();
        if dims == 0 || dims > dim {
            return Err(TrainError::InvalidConfig {
                what: "pca dimensions".into(),
                reason: format!(
                    "{dims} components asked of {dim}-dimensional features (1 to {dim} work)"
                ),
            });
        }
        if n < 2 {
            return Err(TrainError::InvalidConfig {
                what: "pca".into(),
                reason: format!("{n} feature vector(s): a covariance needs at least 2"),
            });
        }
        let mean = x.clone().mean_dim(0); // [1, dim]
        let centered = x.clone() - mean.clone();
        let covariance = centered
            .clone()
            .transpose()
            .matmul(centered)
            .div_scalar(n as f32); // [dim, dim]
        let host = |t: Tensor<2>| -> Result<Vec<f32>> {
            t.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| TrainError::Loader(format!("{e:?}")))
        };
        let cov: Vec<f64> = host(covariance)?.into_iter().map(f64::from).collect();
        let (values, vectors) = symmetric_eigen(&cov, dim);
        let floor = values.first().copied().unwrap_or(0.0).max(0.0) * 1e-6;
        let mut projection = vec![0.0f32; dim * dims];
        for c in 0..dims {
            let scale = if whiten {
                1.0 / values[c].max(floor).max(f64::MIN_POSITIVE).sqrt()
            } else {
                1.0
            };
            for row in 0..dim {
                projection[row * dims + c] = (vectors[row * dim + c] * scale) as f32;
            }
        }
        Ok(Self {
            mean: host(mean)?,
            projection,
            dim,
            dims,
            eigenvalues: values,
        })
    }

    /// Projects the rows of `x` (`[n, dim]` -> `[n, dims]`) on `x`'s device.
    pub fn apply(&self, x: Tensor<2>) -> Tensor<2> {
        let device = x.device();
        let mean =
            Tensor::<2>::from_data(TensorData::new(self.mean.clone(), [1, self.dim]), &device);
        let projection = Tensor::<2>::from_data(
            TensorData::new(self.projection.clone(), [self.dim, self.dims]),
            &device,
        );
        (x - mean).matmul(projection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises_a_symmetric_matrix() {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1) / sqrt 2 and (1, -1) / sqrt 2.
        let (values, vectors) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((values[0] - 3.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vectors[0].abs() - h).abs() < 1e-12 && (vectors[2].abs() - h).abs() < 1e-12);
        assert!(
            (vectors[0] * vectors[2]) > 0.0,
            "first component along (1, 1)"
        );
        // A random symmetric 6 x 6: V diag(values) V' rebuilds it and V is orthonormal.
        let n = 6;
        let b: Vec<f64> = (0..n * n)
            .map(|i| ((i * 7919) % 97) as f64 / 97.0 - 0.5)
            .collect();
        let a: Vec<f64> = (0..n * n)
            .map(|i| {
                let (r, c) = (i / n, i % n);
                (0..n).map(|k| b[r * n + k] * b[c * n + k]).sum()
            })
            .collect();
        let (values, v) = symmetric_eigen(&a, n);
        for r in 0..n {
            for c in 0..n {
                let rebuilt: f64 = (0..n)
                    .map(|k| v[r * n + k] * values[k] * v[c * n + k])
                    .sum();
                assert!((rebuilt - a[r * n + c]).abs() < 1e-9);
                let dot: f64 = (0..n).map(|k| v[k * n + r] * v[k * n + c]).sum();
                assert!((dot - if r == c { 1.0 } else { 0.0 }).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn whitened_features_have_identity_covariance() {
        let device = Device::flex();
        let n = 400;
        // Correlated 3-d data: x = A z for uniform z.
        let data: Vec<f32> = (0..n)
            .flat_map(|i| {
                let z = [
                    ((i * 37) % 101) as f32 / 101.0,
                    ((i * 53) % 89) as f32 / 89.0,
                    ((i * 71) % 83) as f32 / 83.0,
                ];
                [3.0 * z[0] + z[1], z[1] - 2.0 * z[2], 0.5 * z[0] + z[2]]
            })
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(data, [n, 3]), &device);
        let pca = Pca::fit(&x, 3, true).unwrap();
        let y = pca.apply(x);
        let cov = y.clone().transpose().matmul(y).div_scalar(n as f32);
        let cov = cov.into_data().try_to_vec::<f32>().unwrap();
        for r in 0..3 {
            for c in 0..3 {
                let expected = if r == c { 1.0 } else { 0.0 };
                assert!((cov[r * 3 + c] - expected).abs() < 1e-3, "{cov:?}");
            }
        }
        // The first component alone keeps the most variance: as an SVD of the centred data says.
        let pca1 = Pca::fit(
            &Tensor::<2>::from_data(
                TensorData::new(vec![0.0f32, 0.0, 2.0, 1.0, 4.0, 2.0, 6.0, 3.0], [4, 2]),
                &device,
            ),
            1,
            false,
        )
        .unwrap();
        // Points on the line y = x / 2: the direction (2, 1) / sqrt 5, variance 5 x 1.25 = 6.25.
        let (a, b) = (pca1.projection[0], pca1.projection[1]);
        assert!(
            (a.abs() - 2.0 / 5f32.sqrt()).abs() < 1e-5
                && (b.abs() - 1.0 / 5f32.sqrt()).abs() < 1e-5
        );
        assert!(
            (pca1.eigenvalues[0] - 6.25).abs() < 1e-4,
            "{:?}",
            pca1.eigenvalues
        );
        assert!(Pca::fit(&Tensor::<2>::zeros([4, 2], &device), 3, true).is_err());
    }
}
