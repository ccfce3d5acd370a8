//! Training metrics: running sums, the per-step CSV log and the per-epoch history.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// Loss and pretext accuracy summed over some steps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    loss_sum: f64,
    batches: usize,
    correct: usize,
    predictions: usize,
}

impl Tally {
    /// Adds one batch's mean loss and, for classification pretexts, its correct/total counts.
    pub fn add(&mut self, loss: f32, correct: Option<(usize, usize)>) {
        self.loss_sum += f64::from(loss);
        self.batches += 1;
        if let Some((c, n)) = correct {
            self.correct += c;
            self.predictions += n;
        }
    }

    /// Mean loss over the batches added.
    pub fn loss(&self) -> f64 {
        self.loss_sum / self.batches.max(1) as f64
    }

    /// Fraction of correct pretext predictions, if any were counted.
    pub fn accuracy(&self) -> Option<f64> {
        (self.predictions > 0).then(|| self.correct as f64 / self.predictions as f64)
    }
}

/// One epoch's summary, kept in the checkpoint sidecar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training pretext accuracy.
    pub train_accuracy: Option<f64>,
    /// Mean validation loss.
    pub val_loss: Option<f64>,
    /// Validation pretext accuracy.
    pub val_accuracy: Option<f64>,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Training throughput in images per second (as the network sees them).
    pub images_per_second: f64,
    /// Wall time of the epoch, validation included.
    pub seconds: f64,
}

/// One line of `metrics.csv`.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Optimiser steps taken so far.
    pub step: usize,
    /// `train` or `val`.
    pub split: &'a str,
    /// Loss of the step (train) or mean loss (val).
    pub loss: f64,
    /// Pretext accuracy, for classification pretexts.
    pub accuracy: Option<f64>,
    /// Learning rate.
    pub lr: f64,
    /// Throughput of the step (train only).
    pub images_per_second: Option<f64>,
}

/// The per-step CSV log, `metrics.csv`: `epoch,step,split,loss,accuracy,lr,images_per_second`.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

const HEADER: &str = "epoch,step,split,loss,accuracy,lr,images_per_second";

impl MetricsLog {
    /// Opens `path` for appending; rows past `keep_through_step` (left by an interrupted run
    /// that is now resumed) are dropped first.
    pub fn open(path: &Path, keep_through_step: usize) -> Result<Self> {
        let kept: Vec<String> = match std::fs::read_to_string(path) {
            Ok(text) => text
                .lines()
                .skip(1)
                .filter(|line| {
                    line.split(',')
                        .nth(1)
                        .and_then(|s| s.parse::<usize>().ok())
                        .is_some_and(|step| step <= keep_through_step)
                })
                .map(str::to_string)
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut file = std::fs::File::create(path).map_err(|e| TrainError::io(path, e))?;
        let mut text = format!("{HEADER}\n");
        kept.iter().for_each(|l| {
            text.push_str(l);
            text.push('\n');
        });
        file.write_all(text.as_bytes())
            .map_err(|e| TrainError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one row.
    pub fn row(&mut self, row: Row<'_>) -> Result<()> {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        writeln!(
            self.file,
            "{},{},{},{:.6},{},{:.6e},{}",
            row.epoch,
            row.step,
            row.split,
            row.loss,
            opt(row.accuracy),
            row.lr,
            opt(row.images_per_second)
        )
        .map_err(|e| TrainError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_means() {
        let mut t = Tally::default();
        t.add(1.0, Some((3, 4)));
        t.add(3.0, Some((1, 4)));
        assert_eq!(t.loss(), 2.0);
        assert_eq!(t.accuracy(), Some(0.5));
        assert_eq!(Tally::default().accuracy(), None);
    }

    #[test]
    fn reopening_drops_rows_after_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let mut log = MetricsLog::open(&path, 0).unwrap();
        for step in 1..=4 {
            log.row(Row {
                epoch: 1,
                step,
                split: "train",
                loss: 0.5,
                accuracy: None,
                lr: 0.1,
                images_per_second: Some(10.0),
            })
            .unwrap();
        }
        drop(log);
        MetricsLog::open(&path, 2).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.starts_with(HEADER));
    }
}
