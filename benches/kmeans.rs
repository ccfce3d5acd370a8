//! k-means on 60,000 x 256 points, k = 100, 20 Lloyd iterations from k-means++: selfsup's
//! (on Burn tensors, flex backend) against linfa-clustering's `KMeans`, timed and compared by
//! objective and by NMI between the two clusterings (docs/benchmarks.md).
//!
//! ```text
//! cargo bench --bench kmeans                      # 60,000 x 256, k = 100
//! cargo bench --bench kmeans -- --points 10000    # quicker
//! ```

use std::time::Instant;

use burn::prelude::*;
use burn::tensor::TensorData;
use clap::Parser;
use linfa::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use selfsup::train::BackendKind;
use selfsup::train::cluster::{KMeansConfig, KMeansInit, kmeans, nmi};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = 60_000)]
    points: usize,
    #[arg(long, default_value_t = 256)]
    dims: usize,
    #[arg(long, default_value_t = 100)]
    k: usize,
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Points around `k` random centres on the unit sphere (like L2-normalised features).
fn mixture(n: usize, d: usize, k: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(0);
    let centres: Vec<f32> = (0..k * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut points = Vec::with_capacity(n * d);
    for _ in 0..n {
        let c = rng.random_range(0..k);
        let row: Vec<f32> = (0..d)
            .map(|j| centres[c * d + j] + 0.5 * rng.random_range(-1.0f32..1.0))
            .collect();
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        points.extend(row.iter().map(|v| v / norm));
    }
    points
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (n, d, k) = (args.points, args.dims, args.k);
    let points = mixture(n, d, k);
    println!(
        "{n} points x {d} dims, k = {k}, {} iterations, k-means++",
        args.iterations
    );

    let device = BackendKind::Flex.device()?;
    let x = Tensor::<2>::from_data(TensorData::new(points.clone(), [n, d]), &device);
    let config = KMeansConfig {
        k,
        iterations: args.iterations,
        restarts: 1,
        init: KMeansInit::PlusPlus,
    };
    let start = Instant::now();
    let ours = kmeans(&x, &config, 0)?;
    let ours_s = start.elapsed().as_secs_f64();

    let array = ndarray016::Array2::from_shape_vec((n, d), points)?;
    let dataset = linfa::DatasetBase::from(array.clone());
    let start = Instant::now();
    let model = linfa_clustering::KMeans::params(k)
        .max_n_iterations(args.iterations as u64)
        // linfa refuses 0; a tolerance no real update falls under keeps all 20 iterations, as
        // selfsup runs them.
        .tolerance(1e-12)
        .n_runs(1)
        .init_method(linfa_clustering::KMeansInit::KMeansPlusPlus)
        .fit(&dataset)?;
    let linfa_s = start.elapsed().as_secs_f64();
    let theirs: Vec<usize> = model.predict(&array).to_vec();

    println!(
        "{:<26} {:>9} {:>20}",
        "implementation", "seconds", "objective (sum)"
    );
    println!(
        "{:<26} {ours_s:>9.2} {:>20.1}",
        "selfsup (Burn, flex)", ours.objective
    );
    println!(
        "{:<26} {linfa_s:>9.2} {:>20.1}",
        "linfa-clustering 0.8.1",
        f64::from(model.inertia()) * n as f64
    );
    println!(
        "NMI between the two clusterings: {:.3}",
        nmi(&ours.assignment, &theirs)
    );
    Ok(())
}
