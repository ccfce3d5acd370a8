//! Time spent in each kernel, summed over the process: what the benchmarks' per-operation table
//! reads (`docs/benchmarks.md`). One clock read per call, next to calls of milliseconds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A pass of one of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Convolution forward (a transposed convolution's too).
    ConvForward,
    /// Convolution input gradient.
    ConvInputGrad,
    /// Convolution weight gradient.
    ConvWeightGrad,
    /// BatchNorm (+ ReLU) forward in training mode.
    BatchNormForward,
    /// BatchNorm (+ ReLU) backward.
    BatchNormBackward,
}

impl Pass {
    /// Every pass, in the table's order.
    pub const ALL: [Pass; 5] = [
        Pass::ConvForward,
        Pass::ConvInputGrad,
        Pass::ConvWeightGrad,
        Pass::BatchNormForward,
        Pass::BatchNormBackward,
    ];

    /// The pass's name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Pass::ConvForward => "conv forward",
            Pass::ConvInputGrad => "conv backward, input",
            Pass::ConvWeightGrad => "conv backward, weight",
            Pass::BatchNormForward => "BatchNorm+ReLU forward",
            Pass::BatchNormBackward => "BatchNorm+ReLU backward",
        }
    }
}

static NANOS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

/// Runs `f`, adding its wall time to `pass`.
pub(crate) fn timed<T>(pass: Pass, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    NANOS[pass as usize].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    out
}

/// Seconds spent in `pass` since the process started or [`reset`] was called.
pub fn seconds(pass: Pass) -> f64 {
    NANOS[pass as usize].load(Ordering::Relaxed) as f64 * 1e-9
}

/// Sets every pass's time back to zero.
pub fn reset() {
    NANOS.iter().for_each(|n| n.store(0, Ordering::Relaxed));
}
