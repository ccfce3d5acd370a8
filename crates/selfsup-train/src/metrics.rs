//! Training metrics: weighted running means, the per-step CSV log and the per-epoch history.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// Named values.
pub type Metrics = BTreeMap<String, f64>;

/// Named values averaged over batches, each batch weighted by its number of samples, so that a
/// short last batch counts for what it holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    sums: Metrics,
    weight: f64,
}

impl Tally {
    /// Adds one batch's values, weighted by `samples`.
    pub fn add(&mut self, values: &[(&str, f64)], samples: usize) {
        let w = samples as f64;
        for (name, value) in values {
            *self.sums.entry((*name).to_string()).or_default() += w * value;
        }
        self.weight += w;
    }

    /// The weighted mean of every value added.
    pub fn means(&self) -> Metrics {
        self.sums
            .iter()
            .map(|(k, v)| (k.clone(), v / self.weight.max(f64::MIN_POSITIVE)))
            .collect()
    }

    /// The weighted mean of `name`.
    pub fn mean(&self, name: &str) -> Option<f64> {
        self.sums
            .get(name)
            .map(|v| v / self.weight.max(f64::MIN_POSITIVE))
    }
}

/// One epoch's summary, kept in the checkpoint sidecar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Means over the epoch's training steps: `loss` and the task's step metrics.
    pub train: Metrics,
    /// The same on the held-out images (empty when none are held out).
    pub val: Metrics,
    /// What the task's epoch-start hook reported (NMI, cluster sizes...).
    pub hook: Metrics,
    /// Each optimiser's learning rate at the epoch's last step.
    pub lr: Metrics,
    /// Training throughput in network inputs per second.
    pub images_per_second: f64,
    /// Wall time of the epoch, hook and validation included.
    pub seconds: f64,
    /// What the task found worth saying about the epoch (a discriminator that has won...),
    /// also printed to the log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl EpochRecord {
    /// The training loss.
    pub fn train_loss(&self) -> f64 {
        self.train.get("loss").copied().unwrap_or(f64::NAN)
    }

    /// A validation value, else the training one.
    pub fn val_or_train(&self, name: &str) -> Option<f64> {
        self.val.get(name).or_else(|| self.train.get(name)).copied()
    }
}

/// One line of `metrics.csv`.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Optimiser steps taken so far.
    pub step: usize,
    /// `train` (per step), `val` or `epoch` (the hook's values; once per epoch).
    pub split: &'a str,
    /// Learning rates by optimiser.
    pub lr: &'a [(&'a str, f64)],
    /// Throughput of the step (train only).
    pub images_per_second: Option<f64>,
    /// Named values; columns without one stay empty.
    pub values: &'a [(&'a str, f64)],
}

/// The per-step CSV log, `metrics.csv`: `epoch,step,split`, one learning-rate column per
/// optimiser (`lr` when there is one, `lr_NAME` when there are several),
/// `images_per_second`, then one column per metric.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
    optimizers: Vec<String>,
    metrics: Vec<String>,
}

/// The learning-rate column of optimiser `name` among `count` optimisers.
fn lr_column(name: &str, count: usize) -> String {
    if count == 1 {
        "lr".into()
    } else {
        format!("lr_{name}")
    }
}

impl MetricsLog {
    /// Opens `path` for appending with these columns; rows past `keep_through_step` (left by an
    /// interrupted run that is now resumed) are dropped first.
    pub fn open(
        path: &Path,
        optimizers: &[&str],
        metrics: &[&str],
        keep_through_step: usize,
    ) -> Result<Self> {
        let mut header = vec!["epoch".to_string(), "step".into(), "split".into()];
        header.extend(optimizers.iter().map(|o| lr_column(o, optimizers.len())));
        header.push("images_per_second".into());
        header.extend(metrics.iter().map(|m| (*m).to_string()));
        let header = header.join(",");
        let kept: Vec<String> = match std::fs::read_to_string(path) {
            Ok(text) if text.lines().next() == Some(header.as_str()) => text
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
            _ => Vec::new(),
        };
        let mut file = std::fs::File::create(path).map_err(|e| TrainError::io(path, e))?;
        let mut text = format!("{header}\n");
        for line in &kept {
            text.push_str(line);
            text.push('\n');
        }
        file.write_all(text.as_bytes())
            .map_err(|e| TrainError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            optimizers: optimizers.iter().map(|o| (*o).to_string()).collect(),
            metrics: metrics.iter().map(|m| (*m).to_string()).collect(),
        })
    }

    /// Appends one row.
    pub fn row(&mut self, row: Row<'_>) -> Result<()> {
        let mut cells = vec![
            row.epoch.to_string(),
            row.step.to_string(),
            row.split.into(),
        ];
        for name in &self.optimizers {
            let lr = row.lr.iter().find(|(n, _)| n == name);
            cells.push(lr.map_or(String::new(), |(_, v)| format!("{v:.6e}")));
        }
        cells.push(
            row.images_per_second
                .map_or(String::new(), |v| format!("{v:.6}")),
        );
        for name in &self.metrics {
            let value = row.values.iter().find(|(n, _)| n == name);
            cells.push(value.map_or(String::new(), |(_, v)| format!("{v:.6}")));
        }
        writeln!(self.file, "{}", cells.join(",")).map_err(|e| TrainError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_weights_batches_by_size() {
        let mut t = Tally::default();
        t.add(&[("loss", 1.0), ("accuracy", 0.75)], 4);
        t.add(&[("loss", 4.0), ("accuracy", 0.0)], 1);
        // (4 x 1 + 1 x 4) / 5, not the mean of the two batch means (2.5).
        assert_eq!(t.mean("loss"), Some(1.6));
        assert_eq!(t.mean("accuracy"), Some(0.6));
        assert_eq!(Tally::default().mean("accuracy"), None);
    }

    #[test]
    fn reopening_drops_rows_after_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let mut log = MetricsLog::open(&path, &["model"], &["loss", "accuracy"], 0).unwrap();
        for step in 1..=4 {
            log.row(Row {
                epoch: 1,
                step,
                split: "train",
                lr: &[("model", 0.1)],
                images_per_second: Some(10.0),
                values: &[("loss", 0.5)],
            })
            .unwrap();
        }
        drop(log);
        MetricsLog::open(&path, &["model"], &["loss", "accuracy"], 2).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.starts_with("epoch,step,split,lr,images_per_second,loss,accuracy\n"));
        assert!(
            text.contains("\n1,2,train,1.000000e-1,10.000000,0.500000,\n"),
            "{text}"
        );
    }
}
