//! [`linear_probe`]: multinomial logistic regression on standardised frozen features, fitted
//! to convergence by L-BFGS, the linear-evaluation protocol of scikit-learn's
//! `LogisticRegression(C=1)` on `StandardScaler` features.
//!
//! Training a linear layer by SGD for a fixed number of epochs stops at a point that depends on
//! the number of labels (10 labels per class get a few dozen steps) and reads several points
//! below the converged fit; the objective here is convex, so it is solved instead:
//! `mean cross-entropy + ||W||^2 / (2 C n)` (the bias unpenalised), scikit-learn's objective
//! divided by `n`, full batch, until the largest gradient entry is below `tolerance`.

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::log_softmax;

use crate::error::{Result, TrainError};
use crate::eval::Features;

/// Linear-probe settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeConfig {
    /// Inverse L2 strength, scikit-learn's `C`.
    pub c: f64,
    /// Converged when the largest entry of the mean objective's gradient is below this.
    pub tolerance: f64,
    /// L-BFGS iterations at most.
    pub max_iterations: usize,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            c: 1.0,
            tolerance: 1e-5,
            max_iterations: 1000,
        }
    }
}

impl ProbeConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, reason: String| TrainError::InvalidConfig {
            what: what.into(),
            reason,
        };
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(bad(
                "probe C",
                format!("{} is not a positive number", self.c),
            ));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(bad(
                "probe tolerance",
                format!("{} is not a positive number", self.tolerance),
            ));
        }
        if self.max_iterations == 0 {
            return Err(bad("probe iterations", "must be at least 1".into()));
        }
        Ok(())
    }
}

/// Per-dimension mean and scale of the training features (population standard deviation; a
/// dimension that is constant in training keeps scale 1, as scikit-learn's `StandardScaler`
/// does, instead of being blown up at test time).
fn standardiser(x: &Tensor<2>) -> (Tensor<2>, Tensor<2>) {
    let n = x.dims()[0] as f32;
    let mean = x.clone().mean_dim(0);
    let var = (x.clone() - mean.clone())
        .powf_scalar(2.0)
        .sum_dim(0)
        .div_scalar(n);
    let std = var.sqrt();
    let tiny = std
        .clone()
        .lower_equal(mean.clone().abs().add_scalar(1.0).mul_scalar(1e-6));
    (mean, std.mask_fill(tiny, 1.0))
}

/// The logistic-regression objective and its gradient at `params` (`W` `[dim, classes]` then
/// `b` `[classes]`, row-major).
struct Objective {
    x: Tensor<2>,
    onehot: Tensor<2>,
    n: usize,
    dim: usize,
    classes: usize,
    lambda: f64,
}

impl Objective {
    fn eval(&self, params: &[f64]) -> Result<(f64, Vec<f64>)> {
        let device = self.x.device();
        let (d, k) = (self.dim, self.classes);
        let values: Vec<f32> = params.iter().map(|&v| v as f32).collect();
        let w = Tensor::<2>::from_data(TensorData::new(values[..d * k].to_vec(), [d, k]), &device);
        let b = Tensor::<2>::from_data(TensorData::new(values[d * k..].to_vec(), [1, k]), &device);
        let logp = log_softmax(self.x.clone().matmul(w.clone()) + b, 1);
        let n = self.n as f32;
        let nll = -(self.onehot.clone() * logp.clone()).sum().div_scalar(n);
        let g = (logp.exp() - self.onehot.clone()).div_scalar(n); // [n, k]
        let grad_w =
            self.x.clone().transpose().matmul(g.clone()) + w.clone().mul_scalar(self.lambda as f32);
        let grad_b = g.sum_dim(0);
        let penalty = w
            .powf_scalar(2.0)
            .sum()
            .mul_scalar(0.5 * self.lambda as f32);
        let all = Tensor::cat(
            vec![
                (nll + penalty).reshape([1]),
                grad_w.reshape([d * k]),
                grad_b.reshape([k]),
            ],
            0,
        );
        let out = all
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| TrainError::Loader(format!("{e:?}")))?;
        Ok((
            f64::from(out[0]),
            out[1..].iter().map(|&v| f64::from(v)).collect(),
        ))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises the objective with L-BFGS (memory 10) and a backtracking Armijo line search.
fn lbfgs(objective: &Objective, mut x: Vec<f64>, config: &ProbeConfig) -> Result<Vec<f64>> {
    const MEMORY: usize = 10;
    let (mut f, mut g) = objective.eval(&x)?;
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new(); // (s, y, 1 / y.s)
    for _ in 0..config.max_iterations {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < config.tolerance {
            break;
        }
        // Two-loop recursion: direction = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let Some((s, y, _)) = history.last() {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|qi| *qi *= gamma);
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            q.iter_mut()
                .zip(s)
                .for_each(|(qi, si)| *qi += (a - beta) * si);
        }
        let mut direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &direction);
        if slope >= 0.0 {
            // Not a descent direction (float noise): fall back to steepest descent.
            direction = g.iter().map(|v| -v).collect();
            slope = -dot(&g, &g);
            history.clear();
        }
        let mut step = if history.is_empty() {
            1.0 / g.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0)
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..40 {
            let candidate: Vec<f64> = x
                .iter()
                .zip(&direction)
                .map(|(a, d)| a + step * d)
                .collect();
            let (fc, gc) = objective.eval(&candidate)?;
            if fc <= f + 1e-4 * step * slope {
                accepted = Some((candidate, fc, gc));
                break;
            }
            step *= 0.5;
        }
        // No decrease left to find in f32 arithmetic: converged as far as it can be measured.
        let Some((next, fn_, gn)) = accepted else {
            break;
        };
        let s: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if history.len() == MEMORY {
                history.remove(0);
            }
            history.push((s, y, 1.0 / sy));
        }
        let improvement = f - fn_;
        (x, f, g) = (next, fn_, gn);
        if improvement.abs() <= 1e-12 * f.abs().max(1.0) {
            break;
        }
    }
    Ok(x)
}

/// Fits a multinomial logistic regression on standardised `train` features and returns its
/// accuracy on `test`. Standardisation uses the training features' per-dimension mean and
/// standard deviation.
pub fn linear_probe(
    train: &Features,
    test: &Features,
    config: &ProbeConfig,
    device: &Device,
) -> Result<f64> {
    config.validate()?;
    let (train_labels, test_labels, classes) = train.labelled_pair(test)?;
    let x = train.tensor(device);
    let (mean, scale) = standardiser(&x);
    let x = (x - mean.clone()) / scale.clone();
    let n = train.len();
    let onehot: Vec<f32> = train_labels
        .iter()
        .flat_map(|&l| (0..classes).map(move |c| if c as i64 == l { 1.0 } else { 0.0 }))
        .collect();
    let objective = Objective {
        x,
        onehot: Tensor::from_data(TensorData::new(onehot, [n, classes]), device),
        n,
        dim: train.dim,
        classes,
        lambda: 1.0 / (config.c * n as f64),
    };
    let params = lbfgs(&objective, vec![0.0; train.dim * classes + classes], config)?;
    let values: Vec<f32> = params.iter().map(|&v| v as f32).collect();
    let d = train.dim;
    let w = Tensor::<2>::from_data(
        TensorData::new(values[..d * classes].to_vec(), [d, classes]),
        device,
    );
    let b = Tensor::<2>::from_data(
        TensorData::new(values[d * classes..].to_vec(), [1, classes]),
        device,
    );
    let test_x = (test.tensor(device) - mean) / scale;
    let predicted = (test_x.matmul(w) + b).argmax(1).flatten::<1>(0, 1);
    let truth = Tensor::<1, Int>::from_data(TensorData::new(test_labels, [test.len()]), device);
    let correct = predicted.equal(truth).int().sum().into_scalar::<i64>();
    Ok(correct as f64 / test.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(rows: &[[f32; 2]], labels: &[usize]) -> Features {
        Features {
            data: rows.iter().flatten().copied().collect(),
            dim: 2,
            labels: labels.iter().map(|&l| Some(l)).collect(),
        }
    }

    #[test]
    fn the_fit_converges_to_a_stationary_point() {
        let device = Device::flex();
        // Overlapping classes, so the optimum is finite and not separable.
        let rows: Vec<[f32; 2]> = (0..60)
            .map(|i| {
                let t = i as f32 * 0.37;
                [
                    t.sin() + (i % 3) as f32 * 0.8,
                    t.cos() - (i % 3) as f32 * 0.5,
                ]
            })
            .collect();
        let labels: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let train = features(&rows, &labels);
        let x = train.tensor(&device);
        let (mean, scale) = standardiser(&x);
        let onehot: Vec<f32> = labels
            .iter()
            .flat_map(|&l| (0..3).map(move |c| f32::from(u8::from(c == l))))
            .collect();
        let objective = Objective {
            x: (x - mean) / scale,
            onehot: Tensor::from_data(TensorData::new(onehot, [60, 3]), &device),
            n: 60,
            dim: 2,
            classes: 3,
            lambda: 1.0 / 60.0,
        };
        let config = ProbeConfig::default();
        let fitted = lbfgs(&objective, vec![0.0; 9], &config).unwrap();
        let (_, grad) = objective.eval(&fitted).unwrap();
        let largest = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(largest < 1e-4, "gradient {grad:?}");
        // A constant training dimension keeps scale 1 instead of dividing by ~0.
        let constant = features(&[[1.0, 0.0], [1.0, 1.0]], &[0, 1]);
        let (_, scale) = standardiser(&constant.tensor(&device));
        assert_eq!(scale.into_data().try_into_vec::<f32>().unwrap()[0], 1.0);
        let single = features(&[[3.0, 4.0]], &[0]);
        let acc = linear_probe(&single, &single, &config, &device).unwrap();
        assert_eq!(acc, 1.0);
    }
}
