//! Checkpoints: one folder each, swapped in atomically, holding
//! - `model.safetensors`: the weights with PyTorch names and layouts (BatchNorm `weight`/`bias`,
//!   linear weights `[out, in]`, enum variant names left out), readable by any safetensors tool;
//! - `optimizer.bpk`: the optimiser state (Burn's burnpack record);
//! - `state.json`: the sidecar (method, resolved config, epoch, step, seed, metric history).
//!
//! A new checkpoint is written to a temporary folder, then renamed over the old one; the old one
//! is renamed aside first and removed last, so a crash at any point leaves a complete checkpoint
//! under the final name or the `.old` name, which [`resolve`] falls back to.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::ModuleOptimizer;
use burn::optim::record::OptimizerRecord;
use burn::prelude::*;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::error::{Result, TrainError};
use crate::metrics::EpochRecord;

/// The weights file in a checkpoint folder.
pub const MODEL_FILE: &str = "model.safetensors";
/// The optimiser-state file in a checkpoint folder.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// The sidecar file in a checkpoint folder.
pub const STATE_FILE: &str = "state.json";

/// The sidecar of a checkpoint: everything besides tensors that a resumed run needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// The pretext method (`rotation`, ...).
    pub method: String,
    /// The resolved configuration of the run.
    pub config: RunConfig,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimiser steps taken.
    pub step: usize,
    /// The run's seed.
    pub seed: u64,
    /// Channels of the images the model takes.
    pub in_channels: usize,
    /// Side of the (square) images the model takes.
    pub image_size: usize,
    /// Per-epoch metrics so far.
    pub history: Vec<EpochRecord>,
}

/// FNV-1a: a hash that is the same in every process and Rust version.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct IdsByPath {
    namespace: String,
    path: Vec<String>,
}

impl IdsByPath {
    fn id(&self) -> ParamId {
        ParamId::from(fnv1a(
            format!("{}/{}", self.namespace, self.path.join(".")).as_bytes(),
        ))
    }
}

impl ModuleMapper for IdsByPath {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.id = self.id();
        param
    }

    fn map_int<const D: usize>(
        &mut self,
        mut param: Param<Tensor<D, Int>>,
    ) -> Param<Tensor<D, Int>> {
        param.id = self.id();
        param
    }
}

/// Gives every parameter an id derived from its path, so that a freshly built model and the one
/// that wrote an optimiser record agree on ids (Burn keys optimiser state by parameter id, and
/// safetensors files carry none). `namespace` keeps two models of one process apart.
pub fn stable_param_ids<M: Module>(model: M, namespace: &str) -> M {
    model.map(&mut IdsByPath {
        namespace: namespace.to_string(),
        path: Vec::new(),
    })
}

fn sibling(dir: &Path, prefix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{prefix}{name}"))
}

/// Writes `model` (weights only) as PyTorch-style safetensors.
pub fn save_weights<M: Module>(model: &M, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_file(path)
        .with_to_adapter(BurnToPyTorchAdapter)
        .skip_enum_variants(true)
        .metadata("format", "pt")
        .metadata("producer", "selfsup");
    model
        .save_into(&mut store)
        .map_err(|e| TrainError::checkpoint(path, e))?;
    readable_by_others(path)
}

/// burn-store publishes the file from a private temporary (mode 0600); give it the mode a plain
/// `File::create` would, so that other users and tools on the machine can read the weights.
/// The folder's mode stands in for the umask: `create_dir_all` made it `0777 & !umask`.
#[cfg(unix)]
fn readable_by_others(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let umasked = std::fs::metadata(dir)
        .map_err(|e| TrainError::io(dir, e))?
        .permissions()
        .mode()
        & 0o666;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(umasked))
        .map_err(|e| TrainError::io(path, e))
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> Result<()> {
    Ok(())
}

/// Loads PyTorch-style safetensors weights into `model`, failing on any missing, surplus or
/// mis-shaped tensor.
pub fn load_weights<M: Module>(mut model: M, path: &Path) -> Result<M> {
    if !path.is_file() {
        return Err(TrainError::checkpoint(path, "file not found"));
    }
    let mut store = SafetensorsStore::from_file(path)
        .with_from_adapter(PyTorchToBurnAdapter)
        .skip_enum_variants(true);
    let result = model
        .load_from(&mut store)
        .map_err(|e| TrainError::checkpoint(path, format!("unreadable: {e}")))?;
    if !result.errors.is_empty() {
        let first: Vec<String> = result
            .errors
            .iter()
            .take(3)
            .map(|e| e.to_string())
            .collect();
        return Err(TrainError::checkpoint(
            path,
            format!("does not fit the model: {}", first.join("; ")),
        ));
    }
    if !result.missing.is_empty() {
        let names: Vec<&str> = result
            .missing
            .iter()
            .take(5)
            .map(|(n, _)| n.as_str())
            .collect();
        return Err(TrainError::checkpoint(
            path,
            format!("lacks tensors the model needs: {}", names.join(", ")),
        ));
    }
    if !result.unused.is_empty() {
        let names: Vec<&str> = result.unused.iter().take(5).map(String::as_str).collect();
        return Err(TrainError::checkpoint(
            path,
            format!(
                "holds tensors the model does not have: {}",
                names.join(", ")
            ),
        ));
    }
    Ok(model)
}

/// Saves a checkpoint folder at `dir`, replacing any previous one atomically.
pub fn save<M: Module>(
    dir: &Path,
    model: &M,
    optimizer: &ModuleOptimizer,
    state: &CheckpointState,
) -> Result<()> {
    let tmp = sibling(dir, ".tmp-");
    let old = sibling(dir, ".old-");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    save_weights(model, &tmp.join(MODEL_FILE))?;
    let bytes = optimizer
        .to_record()
        .into_bytes()
        .map_err(|e| TrainError::checkpoint(&tmp, format!("optimiser state: {e:?}")))?;
    write_synced(&tmp.join(OPTIMIZER_FILE), &bytes)?;
    let json = serde_json::to_vec_pretty(state).expect("the sidecar always serialises");
    write_synced(&tmp.join(STATE_FILE), &json)?;

    if dir.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
        }
        std::fs::rename(dir, &old).map_err(|e| TrainError::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| TrainError::io(dir, e))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path).map_err(|e| TrainError::io(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| TrainError::io(path, e))
}

/// The checkpoint folder to read for `dir`: `dir` itself, or the `.old-` copy a save left behind
/// if it was interrupted between its two renames.
pub fn resolve(dir: &Path) -> Result<PathBuf> {
    if dir.join(STATE_FILE).is_file() {
        return Ok(dir.to_path_buf());
    }
    let old = sibling(dir, ".old-");
    if old.join(STATE_FILE).is_file() {
        return Ok(old);
    }
    Err(TrainError::checkpoint(
        dir,
        "no checkpoint here (state.json missing)",
    ))
}

/// Reads a checkpoint's sidecar.
pub fn load_state(dir: &Path) -> Result<CheckpointState> {
    let path = resolve(dir)?.join(STATE_FILE);
    let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| TrainError::checkpoint(&path, format!("unreadable sidecar: {e}")))
}

/// Loads a checkpoint's weights into `model`.
pub fn load_model<M: Module>(model: M, dir: &Path) -> Result<M> {
    load_weights(model, &resolve(dir)?.join(MODEL_FILE))
}

/// Restores a checkpoint's optimiser state into `optimizer`; the model must carry
/// [`stable_param_ids`].
pub fn load_optimizer(optimizer: ModuleOptimizer, dir: &Path) -> Result<ModuleOptimizer> {
    let path = resolve(dir)?.join(OPTIMIZER_FILE);
    let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
    let record = OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
        .map_err(|e| TrainError::checkpoint(&path, format!("unreadable optimiser state: {e:?}")))?;
    Ok(optimizer.load_record(record))
}
