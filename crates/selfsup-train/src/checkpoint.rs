//! Checkpoints: one folder each, swapped in atomically, holding
//! - `model.safetensors`: the weights with PyTorch names and layouts (BatchNorm `weight`/`bias`,
//!   PReLU `weight`, linear weights `[out, in]`, enum variant names left out), readable by any
//!   safetensors tool;
//! - `optimizer-NAME.bpk`: each optimiser's state (Burn's burnpack record);
//! - `task.safetensors`: what the method computed from the data, if anything;
//! - `state.json`: the sidecar (method, resolved config, epoch, step, seed, input, networks,
//!   data, optimisers, schedule plan, metric history).
//!
//! A new checkpoint is written to a temporary folder, then renamed over the old one; the old one
//! is renamed aside first and removed last, so a crash at any point leaves a complete checkpoint
//! under the final name or the `.old` name, which [`resolve`] falls back to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::prelude::*;
use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{
    BurnToPyTorchAdapter, ModuleAdapter, ModuleContext, ModuleSnapshot, PyTorchToBurnAdapter,
    SafetensorsStore,
};
use selfsup_data::InputSpec;
use selfsup_models::backbone::Backbone;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::error::{Result, TrainError};
use crate::metrics::EpochRecord;
use crate::optim::{OptimizerEntry, Optimizers};
use crate::schedule::PlanSegment;
use crate::task::{Network, TaskState};

/// The weights file in a checkpoint folder.
pub const MODEL_FILE: &str = "model.safetensors";
/// The task-state file in a checkpoint folder (absent when the method keeps none).
pub const TASK_FILE: &str = "task.safetensors";
/// The sidecar file in a checkpoint folder.
pub const STATE_FILE: &str = "state.json";

/// The data a run trains on, recorded so that a resume on other data is noticed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRecord {
    /// The source as given on the command line (`fashion-mnist`, a folder), if known.
    pub spec: Option<String>,
    /// The source's own description.
    pub description: String,
    /// Images in the source.
    pub images: usize,
    /// Training images after the split.
    pub train: usize,
    /// Held-out images.
    pub val: usize,
    /// A digest of the split's indices (FNV-1a, hex).
    pub split_digest: String,
}

/// The sidecar of a checkpoint: everything besides tensors that a resumed run, evaluation and
/// export need.
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
    /// How source images were conformed before the generator saw them.
    pub images: InputSpec,
    /// The networks evaluation can probe, the first being the default.
    pub networks: Vec<Network>,
    /// The data the run trains on.
    pub data: DataRecord,
    /// The optimisers, by name and kind.
    pub optimizers: Vec<OptimizerEntry>,
    /// The schedule plan: how the run's length changed along the way.
    pub schedule: Vec<PlanSegment>,
    /// How often each re-initialised parameter prefix was replaced (see [`stable_param_ids`]).
    pub generations: BTreeMap<String, u64>,
    /// Per-epoch metrics so far.
    pub history: Vec<EpochRecord>,
}

impl CheckpointState {
    /// The network called `name`, or the default (first) one.
    pub fn network(&self, name: Option<&str>) -> Result<&Network> {
        match name {
            None => self.networks.first(),
            Some(n) => self.networks.iter().find(|net| net.name == n),
        }
        .ok_or_else(|| TrainError::InvalidConfig {
            what: "network".into(),
            reason: format!(
                "the checkpoint has no network{}; it has: {}",
                name.map_or(String::new(), |n| format!(" called '{n}'")),
                self.networks
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

/// FNV-1a: a hash that is the same in every process and Rust version.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct IdsByPath<'a> {
    namespace: &'a str,
    generations: &'a BTreeMap<String, u64>,
    path: Vec<String>,
}

impl IdsByPath<'_> {
    fn id(&self) -> ParamId {
        let path = self.path.join(".");
        // The generation of the longest re-initialised prefix this parameter lies under.
        let generation = self
            .generations
            .iter()
            .filter(|(prefix, _)| path == **prefix || path.starts_with(&format!("{prefix}.")))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(0, |(_, g)| *g);
        ParamId::from(fnv1a(
            format!("{}/{path}#{generation}", self.namespace).as_bytes(),
        ))
    }
}

impl ModuleMapper for IdsByPath<'_> {
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
/// safetensors files carry none). `namespace` keeps two models of one process apart;
/// `generations` counts how often the parameters under a path prefix were re-initialised, so
/// that a replaced head gets ids no optimiser state belongs to.
pub fn stable_param_ids<M: Module>(
    model: M,
    namespace: &str,
    generations: &BTreeMap<String, u64>,
) -> M {
    model.map(&mut IdsByPath {
        namespace,
        generations,
        path: Vec::new(),
    })
}

fn sibling(dir: &Path, prefix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{prefix}{name}"))
}

/// PyTorch's `nn.PReLU` calls its slope `weight` where Burn's `PRelu` says `alpha`, and
/// burn-store's PyTorch adapters rename only normalisation parameters: this renames the slope
/// when saving and finds it under the PyTorch name when loading (SRGAN's generator).
#[derive(Clone, Copy, Debug)]
struct PReluSlope {
    saving: bool,
}

impl PReluSlope {
    const MODULE: &str = "Struct:PRelu";
}

impl ModuleAdapter for PReluSlope {
    fn adapt(&self, mut tensor: PackTensor, ctx: ModuleContext<'_>) -> PackTensor {
        // Loading hands adapters the Burn path, which must stay as it is.
        if self.saving
            && ctx.module_type() == Some(Self::MODULE)
            && let Some(stem) = tensor.name.strip_suffix("alpha")
            && (stem.is_empty() || stem.ends_with('.'))
        {
            tensor.name = format!("{stem}weight");
        }
        tensor
    }

    fn get_alternative_param_name(&self, param_name: &str, module_type: &str) -> Option<String> {
        (module_type == Self::MODULE && param_name == "alpha").then(|| "weight".to_string())
    }

    fn clone_box(&self) -> Box<dyn ModuleAdapter> {
        Box::new(*self)
    }
}

/// Writes `model` (weights only) as PyTorch-style safetensors.
pub fn save_weights<M: Module>(model: &M, path: &Path) -> Result<()> {
    // Burn keeps BatchNorm's last running-statistics update pending until the module is next
    // made `valid()` (`RunningState::sync`), and saving reads the value without it: sync first,
    // or the file holds statistics one step old and a resumed run drifts from a straight one.
    let _ = model.valid();
    let mut store = SafetensorsStore::from_file(path)
        .with_to_adapter(BurnToPyTorchAdapter.chain(PReluSlope { saving: true }))
        .skip_enum_variants(true)
        .metadata("format", "pt")
        .metadata("producer", "selfsup")
        .overwrite(true);
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

/// Fails on the first tensor of a safetensors file holding NaN or infinite values, naming it: a
/// diverged checkpoint would otherwise load silently and evaluate at chance.
fn check_finite(bytes: &[u8], path: &Path) -> Result<()> {
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| TrainError::checkpoint(path, format!("unreadable: {e}")))?;
    let mut names = file.names();
    names.sort();
    for name in names {
        let view = file
            .tensor(name)
            .map_err(|e| TrainError::checkpoint(path, format!("unreadable: {e}")))?;
        let finite = match view.dtype() {
            safetensors::Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .all(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite()),
            safetensors::Dtype::F64 => view
                .data()
                .chunks_exact(8)
                .all(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")).is_finite()),
            _ => true,
        };
        if !finite {
            return Err(TrainError::checkpoint(
                path,
                format!("tensor '{name}' holds NaN or infinite values (a diverged run?)"),
            ));
        }
    }
    Ok(())
}

/// Loads PyTorch-style safetensors weights into `model`, failing on any missing, surplus,
/// mis-shaped or non-finite tensor. With `prefix`, only the tensors under it are read, without
/// it (`backbone.blocks.0...` into a backbone's `blocks.0...`), and others are ignored.
pub fn load_weights<M: Module>(mut model: M, path: &Path, prefix: Option<&str>) -> Result<M> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TrainError::checkpoint(path, "file not found"));
        }
        Err(e) => return Err(TrainError::io(path, e)),
    };
    check_finite(&bytes, path)?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter.chain(PReluSlope { saving: false }))
        .skip_enum_variants(true)
        .allow_partial(true);
    if let Some(prefix) = prefix {
        store = store.with_key_remapping(format!("^{}\\.", regex_escape(prefix)), "");
    }
    let result = model.load_from(&mut store).map_err(|e| {
        // Validation fails when the file's tensors have other shapes than the model's.
        let what = match e {
            burn::store::SafetensorsStoreError::ValidationFailed(_) => "does not fit the model",
            _ => "unreadable",
        };
        TrainError::checkpoint(path, format!("{what}: {e}"))
    })?;
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
    let under = |name: &str| prefix.map_or(name.to_string(), |p| format!("{p}.{name}"));
    if !result.missing.is_empty() {
        let names: Vec<String> = result
            .missing
            .iter()
            .take(5)
            .map(|(n, _)| format!("'{}'", under(n)))
            .collect();
        return Err(TrainError::checkpoint(
            path,
            format!(
                "lacks tensor{} {} that the model needs (a checkpoint of another architecture?)",
                if result.missing.len() > 1 { "s" } else { "" },
                names.join(", ")
            ),
        ));
    }
    // Under a prefix, the file's other networks are expected leftovers.
    if prefix.is_none() && !result.unused.is_empty() {
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

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// Saves a checkpoint folder at `dir`, replacing any previous one atomically.
pub fn save<M: Module>(
    dir: &Path,
    model: &M,
    optimizers: &Optimizers,
    task: &TaskState,
    state: &CheckpointState,
) -> Result<()> {
    let tmp = sibling(dir, ".tmp-");
    let old = sibling(dir, ".old-");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    save_weights(model, &tmp.join(MODEL_FILE))?;
    optimizers.save(&tmp)?;
    if !task.is_empty() {
        task.save(&tmp.join(TASK_FILE))?;
    }
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

pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
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
    load_weights(model, &resolve(dir)?.join(MODEL_FILE), None)
}

/// Reads a checkpoint's task state (empty when the method keeps none).
pub fn load_task_state(dir: &Path) -> Result<TaskState> {
    let path = resolve(dir)?.join(TASK_FILE);
    if path.is_file() {
        TaskState::load(&path)
    } else {
        Ok(TaskState::default())
    }
}

/// The checkpoint folder of `path`: a run folder's `best` checkpoint, else its `last`, or
/// `path` itself (a checkpoint folder).
pub fn checkpoint_dir(path: &Path) -> PathBuf {
    for name in ["best", "last"] {
        let dir = path.join("checkpoints").join(name);
        if resolve(&dir).is_ok() {
            return dir;
        }
    }
    path.to_path_buf()
}

/// A network of a checkpoint with its weights (`random_init`: freshly initialised, seeded by
/// the run's seed, the baseline evaluation compares against), with its sidecar entry.
///
/// Loading a trained backbone and evaluating its features with k-NN:
///
/// ```
/// use std::sync::Arc;
/// use selfsup_data::{Split, bundled_sample};
/// use selfsup_train::eval::{Pooling, ProbeConfig, Protocol, View, extract_views};
/// use selfsup_train::{BackendKind, Method, RunConfig, RunOptions, checkpoint};
///
/// # let dir = tempfile::tempdir()?;
/// # let mut config = RunConfig::for_method(Method::Rotation);
/// # config.train.epochs = 1;
/// # config.train.max_images = Some(32);
/// # config.backbone = selfsup_models::backbone::BackboneConfig::ConvNet { widths: vec![4, 8] };
/// # let options = RunOptions { out_dir: dir.path().into(), ..RunOptions::default() };
/// let device = BackendKind::Flex.device()?;
/// # Method::Rotation.train(&config, Arc::new(bundled_sample(Split::Test)?), &device, &options)?;
/// // A run folder (its best checkpoint, else its last) or a checkpoint folder.
/// let (backbone, network, _state) = checkpoint::load_network(dir.path(), None, false, &device)?;
/// let view = View { block: network.block, pooling: Pooling::Global };
/// let (train, test) = (bundled_sample(Split::Train)?, bundled_sample(Split::Test)?);
/// let features = |source: &dyn selfsup_data::ImageSource| {
///     let all: Vec<usize> = (0..200).collect();
///     extract_views(&backbone, source, &all, &network.input, &[view], 100).map(|mut v| v.remove(0))
/// };
/// let knn = Protocol::Knn { k: 20, temperature: 0.07 };
/// let accuracy = knn.accuracy(&features(&train)?, &features(&test)?, &ProbeConfig::default(), &device)?;
/// assert!((0.0..=1.0).contains(&accuracy));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_network(
    checkpoint: &Path,
    name: Option<&str>,
    random_init: bool,
    device: &Device,
) -> Result<(Backbone, Network, CheckpointState)> {
    let dir = checkpoint_dir(checkpoint);
    let state = load_state(&dir)?;
    let network = state.network(name)?.clone();
    device.seed(state.seed);
    let backbone = network.init(device);
    let backbone = if random_init {
        backbone
    } else {
        load_weights(
            backbone,
            &resolve(&dir)?.join(MODEL_FILE),
            Some(&network.prefix),
        )?
    };
    Ok((backbone, network, state))
}

/// The JSON written beside an exported backbone: what to build and how to feed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportRecord {
    /// The method that trained it.
    pub method: String,
    /// The network's name in the checkpoint.
    pub network: String,
    /// Its architecture.
    pub backbone: selfsup_models::backbone::BackboneConfig,
    /// How a source image becomes its input (channels, side, preprocessing).
    pub input: InputSpec,
    /// The block (from 0) the method documents as its representation.
    pub block: usize,
    /// The checkpoint it came from.
    pub checkpoint: PathBuf,
}

/// Writes a checkpoint's network alone to `out` (safetensors, PyTorch names and layouts, the
/// network's prefix removed: `blocks.0.0.conv.weight`) and its [`ExportRecord`] beside it
/// (`out` with the extension `json`).
pub fn export_network(
    checkpoint: &Path,
    name: Option<&str>,
    out: &Path,
    device: &Device,
) -> Result<ExportRecord> {
    let (backbone, network, state) = load_network(checkpoint, name, false, device)?;
    let record = ExportRecord {
        method: state.method,
        network: network.name,
        backbone: network.backbone,
        input: network.input,
        block: network.block,
        checkpoint: checkpoint_dir(checkpoint),
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    }
    save_weights(&backbone, out)?;
    let json = serde_json::to_vec_pretty(&record).expect("the record serialises");
    write_synced(&out.with_extension("json"), &json)?;
    Ok(record)
}

/// Reads a backbone written by [`export_network`], with its record.
pub fn load_exported(path: &Path, device: &Device) -> Result<(Backbone, ExportRecord)> {
    let json_path = path.with_extension("json");
    let bytes = std::fs::read(&json_path).map_err(|e| TrainError::io(&json_path, e))?;
    let record: ExportRecord = serde_json::from_slice(&bytes).map_err(|e| {
        TrainError::checkpoint(&json_path, format!("unreadable export record: {e}"))
    })?;
    let backbone = record
        .backbone
        .init(record.input.network_channels(), device);
    Ok((load_weights(backbone, path, None)?, record))
}
