//! [`kmeans`]: Lloyd's k-means on Burn tensors, with DeepCluster's re-seeding of empty clusters.
//!
//! Caron et al. (2018), section 3.3: "When a cluster becomes empty, we randomly select a
//! non-empty cluster and use its centroid with a small random perturbation as the new centroid
//! for the empty cluster. We then reassign the points belonging to the non-empty cluster to the
//! two resulting clusters." As in faiss (`Clustering::train`, which DeepCluster runs), the
//! cluster to split is drawn with probability proportional to its size minus one, and the two
//! centroids move apart by a relative 1/1024 in alternating coordinates.

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// How the first centroids are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KMeansInit {
    /// k-means++ (Arthur & Vassilvitskii 2007): each next centroid drawn with probability
    /// proportional to the squared distance to the nearest one chosen.
    #[default]
    PlusPlus,
    /// k distinct points drawn uniformly (faiss's initialisation).
    Random,
}

/// k-means settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KMeansConfig {
    /// Number of clusters.
    pub k: usize,
    /// Lloyd iterations per run (faiss and DeepCluster: 20).
    pub iterations: usize,
    /// Independent runs; the one with the lowest objective wins.
    pub restarts: usize,
    /// Initialisation.
    pub init: KMeansInit,
}

impl Default for KMeansConfig {
    fn default() -> Self {
        Self {
            k: 100,
            iterations: 20,
            restarts: 1,
            init: KMeansInit::PlusPlus,
        }
    }
}

/// The result of [`kmeans`].
#[derive(Clone, Debug, PartialEq)]
pub struct Clustering {
    /// The cluster of each point.
    pub assignment: Vec<usize>,
    /// `[k, dim]` row-major.
    pub centroids: Vec<f32>,
    /// Sum of squared distances to the assigned centroids.
    pub objective: f64,
    /// Empty clusters re-seeded over the run's iterations (the best restart's).
    pub reseeded: usize,
}

impl Clustering {
    /// Points per cluster.
    pub fn sizes(&self, k: usize) -> Vec<usize> {
        let mut sizes = vec![0; k];
        for &c in &self.assignment {
            sizes[c] += 1;
        }
        sizes
    }
}

fn host(t: Tensor<2>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| TrainError::Loader(format!("{e:?}")))
}

fn squared(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// First centroids, on the host.
fn initial(
    points: &[f32],
    n: usize,
    dim: usize,
    k: usize,
    init: KMeansInit,
    rng: &mut StdRng,
) -> Vec<f32> {
    let row = |i: usize| &points[i * dim..(i + 1) * dim];
    let mut chosen: Vec<usize> = Vec::with_capacity(k);
    match init {
        KMeansInit::Random => {
            // A partial Fisher-Yates shuffle: k distinct points.
            let mut order: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = rng.random_range(i..n);
                order.swap(i, j);
                chosen.push(order[i]);
            }
        }
        KMeansInit::PlusPlus => {
            chosen.push(rng.random_range(0..n));
            let mut nearest: Vec<f32> = (0..n).map(|i| squared(row(i), row(chosen[0]))).collect();
            while chosen.len() < k {
                let total: f64 = nearest.iter().map(|&d| f64::from(d)).sum();
                let next = if total <= 0.0 {
                    // Every point sits on a chosen centroid: take any unchosen point.
                    (0..n).find(|i| !chosen.contains(i)).unwrap_or(0)
                } else {
                    let mut target = rng.random::<f64>() * total;
                    let mut pick = n - 1;
                    for (i, &d) in nearest.iter().enumerate() {
                        target -= f64::from(d);
                        if target <= 0.0 {
                            pick = i;
                            break;
                        }
                    }
                    pick
                };
                chosen.push(next);
                for (i, d) in nearest.iter_mut().enumerate() {
                    *d = d.min(squared(row(i), row(next)));
                }
            }
        }
    }
    chosen
        .iter()
        .flat_map(|&i| row(i).iter().copied())
        .collect()
}

/// Gives every empty cluster half of a non-empty one (see the module docs); returns how many
/// were re-seeded. `assignment` and `centroids` are updated in place.
fn reseed_empty(
    points: &[f32],
    dim: usize,
    k: usize,
    assignment: &mut [usize],
    centroids: &mut [f32],
    rng: &mut StdRng,
) -> usize {
    let mut reseeded = 0;
    loop {
        let mut sizes = vec![0usize; k];
        for &c in assignment.iter() {
            sizes[c] += 1;
        }
        let Some(empty) = sizes.iter().position(|&s| s == 0) else {
            return reseeded;
        };
        // A cluster of two or more points, drawn with probability proportional to size - 1.
        let weight: usize = sizes.iter().map(|&s| s.saturating_sub(1)).sum();
        if weight == 0 {
            return reseeded; // fewer points than clusters: checked by the caller
        }
        let mut target = rng.random_range(0..weight);
        let split = sizes
            .iter()
            .position(|&s| {
                let w = s.saturating_sub(1);
                if target < w {
                    true
                } else {
                    target -= w;
                    false
                }
            })
            .expect("the weights add up");
        const EPS: f32 = 1.0 / 1024.0;
        for j in 0..dim {
            let c = centroids[split * dim + j];
            let (up, down) = (c * (1.0 + EPS), c * (1.0 - EPS));
            let (to_empty, to_split) = if j % 2 == 0 { (up, down) } else { (down, up) };
            centroids[empty * dim + j] = to_empty;
            centroids[split * dim + j] = to_split;
        }
        // Split the points between the two: nearest centroid, or alternately where they tie.
        let members: Vec<usize> = (0..assignment.len())
            .filter(|&i| assignment[i] == split)
            .collect();
        let row = |c: usize| &centroids[c * dim..(c + 1) * dim];
        let mut moved = 0;
        for &i in &members {
            let p = &points[i * dim..(i + 1) * dim];
            if squared(p, row(empty)) < squared(p, row(split)) {
                assignment[i] = empty;
                moved += 1;
            }
        }
        if moved == 0 || moved == members.len() {
            for (t, &i) in members.iter().enumerate() {
                assignment[i] = if t % 2 == 0 { split } else { empty };
            }
        }
        reseeded += 1;
    }
}

/// One Lloyd run from `centroids`: assignment on the device, centroid update on the device,
/// empty clusters re-seeded on the host between the two.
fn lloyd(
    x: &Tensor<2>,
    x_sq: &Tensor<2>,
    points: &[f32],
    mut centroids: Vec<f32>,
    k: usize,
    iterations: usize,
    rng: &mut StdRng,
) -> Result<Clustering> {
    let device = x.device();
    let [n, dim] = x.dims();
    let assign = |centroids: &[f32]| -> Result<(Vec<usize>, f64)> {
        let c = Tensor::<2>::from_data(TensorData::new(centroids.to_vec(), [k, dim]), &device);
        let c_sq = c.clone().powf_scalar(2.0).sum_dim(1).transpose(); // [1, k]
        let distances = x_sq.clone() - x.clone().matmul(c.transpose()).mul_scalar(2.0) + c_sq; // [n, k]
        let (nearest, index) = distances.min_dim_with_indices(1);
        let index = index
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .map_err(|e| TrainError::Loader(format!("{e:?}")))?;
        let objective: f64 = host(nearest)?.iter().map(|&d| f64::from(d.max(0.0))).sum();
        Ok((index.into_iter().map(|i| i as usize).collect(), objective))
    };
    let mut reseeded = 0;
    let (mut assignment, _) = assign(&centroids)?;
    for _ in 0..iterations {
        reseeded += reseed_empty(points, dim, k, &mut assignment, &mut centroids, rng);
        // Centroids: per-cluster means through a one-hot matrix product.
        let labels: Vec<i64> = assignment.iter().map(|&c| c as i64).collect();
        let onehot: Tensor<2> = Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), &device)
            .one_hot(k)
            .float(); // [n, k]
        let counts = onehot.clone().sum_dim(0).transpose().clamp_min(1.0); // [k, 1]
        let sums = onehot.transpose().matmul(x.clone()); // [k, dim]
        centroids = host(sums / counts)?;
        assignment = assign(&centroids)?.0;
    }
    reseeded += reseed_empty(points, dim, k, &mut assignment, &mut centroids, rng);
    // The objective of the final assignment to the final centroids.
    let objective: f64 = assignment
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            f64::from(squared(
                &points[i * dim..(i + 1) * dim],
                &centroids[c * dim..(c + 1) * dim],
            ))
        })
        .sum();
    Ok(Clustering {
        assignment,
        centroids,
        objective,
        reseeded,
    })
}

/// Clusters the rows of `x` (`[n, dim]`, on any device) into `config.k` clusters, none left
/// empty; deterministic given `seed`.
pub fn kmeans(x: &Tensor<2>, config: &KMeansConfig, seed: u64) -> Result<Clustering> {
    let [n, dim] = x.dims();
    if config.k == 0 || config.k > n {
        return Err(TrainError::InvalidConfig {
            what: "k-means clusters".into(),
            reason: format!(
                "k = {} for {n} points: k must be between 1 and the number of points",
                config.k
            ),
        });
    }
    if config.restarts == 0 {
        return Err(TrainError::InvalidConfig {
            what: "k-means restarts".into(),
            reason: "at least one run is needed".into(),
        });
    }
    let points = host(x.clone())?;
    if let Some(i) = points.iter().position(|v| !v.is_finite()) {
        return Err(TrainError::InvalidConfig {
            what: "k-means input".into(),
            reason: format!("point {} holds a non-finite value", i / dim.max(1)),
        });
    }
    let x_sq = x.clone().powf_scalar(2.0).sum_dim(1); // [n, 1]
    let mut best: Option<Clustering> = None;
    for run in 0..config.restarts {
        let mut rng = StdRng::seed_from_u64(
            seed.wrapping_add(run as u64)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let start = initial(&points, n, dim, config.k, config.init, &mut rng);
        let result = lloyd(
            x,
            &x_sq,
            &points,
            start,
            config.k,
            config.iterations,
            &mut rng,
        )?;
        if best.as_ref().is_none_or(|b| result.objective < b.objective) {
            best = Some(result);
        }
    }
    Ok(best.expect("at least one restart"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::nmi;

    /// `per` points around each of `centres` (2-d), within 0.05.
    fn planted(centres: &[[f32; 2]], per: usize) -> (Vec<f32>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(7);
        let mut points = Vec::new();
        let mut truth = Vec::new();
        for (c, centre) in centres.iter().enumerate() {
            for _ in 0..per {
                points.push(centre[0] + rng.random_range(-0.05..0.05));
                points.push(centre[1] + rng.random_range(-0.05..0.05));
                truth.push(c);
            }
        }
        (points, truth)
    }

    #[test]
    fn planted_clusters_are_recovered() {
        let device = Device::flex();
        let centres = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [3.0, 2.0]];
        let (points, truth) = planted(&centres, 40);
        let x = Tensor::<2>::from_data(TensorData::new(points, [200, 2]), &device);
        for init in [KMeansInit::PlusPlus, KMeansInit::Random] {
            let config = KMeansConfig {
                k: 5,
                iterations: 20,
                restarts: 3,
                init,
            };
            let result = kmeans(&x, &config, 1).unwrap();
            assert!(nmi(&result.assignment, &truth) > 0.99, "{init:?}");
            assert_eq!(result.sizes(5), [40; 5]);
            assert_eq!(
                result,
                kmeans(&x, &config, 1).unwrap(),
                "deterministic by seed"
            );
        }
    }

    #[test]
    fn no_cluster_is_left_empty() {
        let device = Device::flex();
        // Two tight groups and k = 6: four clusters must be carved out of them.
        let (points, _) = planted(&[[0.0, 0.0], [5.0, 5.0]], 30);
        let x = Tensor::<2>::from_data(TensorData::new(points.clone(), [60, 2]), &device);
        let config = KMeansConfig {
            k: 6,
            iterations: 10,
            restarts: 1,
            init: KMeansInit::Random,
        };
        let result = kmeans(&x, &config, 3).unwrap();
        assert!(
            result.sizes(6).iter().all(|&s| s > 0),
            "{:?}",
            result.sizes(6)
        );
        // Identical points: the split falls back to alternating, still nothing empty.
        let same = Tensor::<2>::ones([10, 2], &device);
        let result = kmeans(
            &same,
            &KMeansConfig {
                k: 4,
                ..config.clone()
            },
            0,
        )
        .unwrap();
        assert!(
            result.sizes(4).iter().all(|&s| s > 0),
            "{:?}",
            result.sizes(4)
        );
        assert!(result.reseeded >= 3);
        // And the re-seeding itself: an empty cluster takes part of the largest.
        let mut assignment = vec![0usize; 60];
        let mut centroids = vec![0.0, 0.0, 9.0, 9.0];
        let mut rng = StdRng::seed_from_u64(0);
        assignment[30..].fill(0);
        let n = reseed_empty(&points, 2, 2, &mut assignment, &mut centroids, &mut rng);
        assert_eq!(n, 1);
        assert!(assignment.contains(&1) && assignment.contains(&0));
        let err = kmeans(&same, &KMeansConfig { k: 11, ..config }, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("k = 11 for 10 points"), "{err}");
    }
}
