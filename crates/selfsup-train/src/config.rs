//! Run configuration: serde structs read from TOML and overridden from the command line.
//!
//! Every struct uses `#[serde(default, deny_unknown_fields)]`, so a file may give any subset of
//! keys and a misspelt key is an error naming it. A run's file names its method and holds that
//! method's section only:
//!
//! ```toml
//! method = "rotation"
//! [train]
//! epochs = 2
//! [backbone]
//! kind = "conv_net"
//! widths = [32, 64, 128, 128]
//! [rotation]
//! flip = true
//! ```

use std::path::Path;

use selfsup_models::backbone::BackboneConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::method::{Method, MethodConfig};

/// Which optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent with optional (Nesterov) momentum.
    Sgd,
    /// Adam.
    Adam,
}

/// Optimiser settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// `sgd` or `adam`.
    pub kind: OptimizerKind,
    /// Peak learning rate.
    pub lr: f64,
    /// SGD momentum (0 turns it off), or Adam's beta1 (its first moment's decay).
    pub momentum: f64,
    /// Nesterov momentum for SGD.
    pub nesterov: bool,
    /// L2 weight decay.
    pub weight_decay: f64,
}

impl Default for OptimizerConfig {
    /// RotNet's settings: "SGD with batch size 128, momentum 0.9, weight decay 5e-4 and lr of
    /// 0.1" (Gidaris et al. 2018, section 3.1); Nesterov as in their released code.
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Sgd,
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 5e-4,
        }
    }
}

impl OptimizerConfig {
    /// Checks the settings; `prefix` names the section in errors (`train.optimizer`).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        finite_at_least(&format!("{prefix}.lr"), self.lr, 0.0, true)?;
        finite_at_least(
            &format!("{prefix}.weight_decay"),
            self.weight_decay,
            0.0,
            false,
        )?;
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(invalid(
                format!("{prefix}.momentum"),
                format!("{} is not in [0, 1)", self.momentum),
            ));
        }
        Ok(())
    }
}

/// How the learning rate changes over training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// The peak rate throughout.
    Constant,
    /// Multiplied by `gamma` at each milestone epoch.
    Step,
    /// Cosine decay from the peak to `min_lr` over the run.
    Cosine,
}

/// Learning-rate schedule settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// `constant`, `step` or `cosine`.
    pub kind: ScheduleKind,
    /// Linear warm-up from 0 over this many epochs (fractions allowed).
    pub warmup_epochs: f64,
    /// Epochs at which a step schedule multiplies the rate by `gamma`.
    pub milestones: Vec<usize>,
    /// Step factor.
    pub gamma: f64,
    /// Final rate of the cosine schedule.
    pub min_lr: f64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Cosine,
            warmup_epochs: 0.0,
            milestones: Vec::new(),
            gamma: 0.2,
            min_lr: 0.0,
        }
    }
}

impl ScheduleConfig {
    /// Checks the settings; `prefix` names the section in errors (`train.schedule`).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        finite_at_least(
            &format!("{prefix}.warmup_epochs"),
            self.warmup_epochs,
            0.0,
            false,
        )?;
        finite_at_least(&format!("{prefix}.gamma"), self.gamma, 0.0, true)?;
        finite_at_least(&format!("{prefix}.min_lr"), self.min_lr, 0.0, false)
    }
}

/// The training loop's settings, shared by every method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Seeds initialisation, the data split, data order and every generated sample.
    pub seed: u64,
    /// Passes over the training split.
    pub epochs: usize,
    /// Source images per step (a rotation batch holds four times as many tensors).
    pub batch_size: usize,
    /// Images are brought to `image_size` x `image_size` before the generator sees them;
    /// `None` keeps the first image's size.
    pub image_size: Option<usize>,
    /// Images are brought to this many channels (1 or 3); `None` keeps the first image's.
    pub channels: Option<usize>,
    /// Fraction of images held out for validation.
    pub val_fraction: f64,
    /// Use at most this many images of the source (a seeded random subset).
    pub max_images: Option<usize>,
    /// Also keep a checkpoint every this many epochs (0: only last and best).
    pub checkpoint_every: usize,
    /// Threads that generate samples.
    pub workers: usize,
    /// Optimiser settings.
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule.
    pub schedule: ScheduleConfig,
}

impl TrainConfig {
    /// Adam (`beta1`, no weight decay) at `lr` with batches of `batch_size` on `side`-pixel colour
    /// images: where the image-to-image methods start.
    pub fn adam_on_photos(lr: f64, beta1: f64, batch_size: usize, side: usize) -> Self {
        TrainConfig {
            optimizer: OptimizerConfig {
                kind: OptimizerKind::Adam,
                lr,
                momentum: beta1,
                nesterov: false,
                weight_decay: 0.0,
            },
            batch_size,
            image_size: Some(side),
            channels: Some(3),
            ..TrainConfig::default()
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            epochs: 10,
            batch_size: 64,
            image_size: None,
            channels: None,
            val_fraction: 0.1,
            max_images: None,
            checkpoint_every: 0,
            workers: 2,
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
        }
    }
}

/// A whole run: the method with its own section, the loop's settings and the backbone.
///
/// It (de)serialises through a TOML table (`method = NAME`, `[train]`, `[backbone]`, `[NAME]`),
/// in TOML files and in checkpoint sidecars alike.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunConfig {
    /// The method and its settings.
    pub method: MethodConfig,
    /// Training-loop settings.
    pub train: TrainConfig,
    /// The backbone every method trains.
    pub backbone: BackboneConfig,
}

impl Serialize for RunConfig {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.to_table().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RunConfig {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let table = toml::Table::deserialize(deserializer)?;
        RunConfig::from_table(table, "configuration").map_err(serde::de::Error::custom)
    }
}

/// Overlays `top` on `base`, table by table.
fn merge(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => merge(b, t),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Deserialises one section, naming the key at fault as `section.key`.
pub(crate) fn section_from<T: serde::de::DeserializeOwned>(
    table: toml::Table,
    section: &str,
) -> std::result::Result<T, String> {
    serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|e| format!("{section}.{}: {}", e.path(), e.inner()))
}

pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> TrainError {
    TrainError::InvalidConfig {
        what: what.into(),
        reason: reason.into(),
    }
}

/// Checks that `value` is a finite number at least `min` (`> min` when `strict`).
pub(crate) fn finite_at_least(key: &str, value: f64, min: f64, strict: bool) -> Result<()> {
    let ok = value.is_finite() && if strict { value > min } else { value >= min };
    if ok {
        Ok(())
    } else {
        let bound = if strict { ">" } else { ">=" };
        Err(invalid(
            key,
            format!("{value} is not a finite number {bound} {min}"),
        ))
    }
}

impl RunConfig {
    /// Reads a TOML file; unknown keys and wrong types are errors naming the key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
        let value: toml::Table = toml::from_str(&text).map_err(|e| TrainError::Config {
            origin: path.display().to_string(),
            reason: e.message().to_string(),
        })?;
        Self::from_table(value, &path.display().to_string())
    }

    /// The default configuration of `method`.
    pub fn for_method(method: Method) -> Self {
        Self {
            method: method.default_config(),
            train: method.default_train(),
            backbone: BackboneConfig::default(),
        }
    }

    /// Reads a configuration from a table: `method` names the method (default: rotation), and
    /// the only sections are `train`, `backbone` and the method's own.
    pub fn from_table(mut table: toml::Table, origin: &str) -> Result<Self> {
        let error = |reason: String| TrainError::Config {
            origin: origin.to_string(),
            reason,
        };
        let name = match table.remove("method") {
            None => Method::Rotation.name().to_string(),
            Some(toml::Value::String(name)) => name,
            Some(other) => return Err(error(format!("method: expected a name, got {other}"))),
        };
        let section = match table.remove(&name) {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t,
            Some(other) => return Err(error(format!("{name}: expected a section, got {other}"))),
        };
        let mut part = |key: &str| match table.remove(key) {
            Some(toml::Value::Table(t)) => Ok(t),
            None => Ok(toml::Table::new()),
            Some(other) => Err(error(format!("{key}: expected a section, got {other}"))),
        };
        let train = part("train")?;
        let backbone = part("backbone")?;
        if let Some(key) = table.keys().next() {
            let hint = if Method::from_name(key).is_some() {
                format!(
                    "the section [{key}] belongs to method '{key}', but this run's method is '{name}'"
                )
            } else {
                format!("unknown key '{key}' (expected method, train, backbone, {name})")
            };
            return Err(error(hint));
        }
        let method = MethodConfig::from_section(&name, section).map_err(error)?;
        // Keys the file leaves out take the method's own defaults.
        let defaults =
            Method::from_name(&name).map_or_else(TrainConfig::default, |m| m.default_train());
        let mut full = match toml::Value::try_from(&defaults) {
            Ok(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        };
        merge(&mut full, train);
        let train = full;
        // No backbone section, or an empty one: the default backbone.
        let backbone = if backbone.is_empty() {
            BackboneConfig::default()
        } else {
            section_from(backbone, "backbone").map_err(error)?
        };
        Ok(Self {
            method,
            train: section_from(train, "train").map_err(error)?,
            backbone,
        })
    }

    /// The configuration as a TOML table (what [`from_table`](Self::from_table) reads).
    pub fn to_table(&self) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("method".into(), self.method.name().into());
        table.insert(
            "train".into(),
            toml::Value::try_from(&self.train).expect("the train section serialises"),
        );
        table.insert(
            "backbone".into(),
            toml::Value::try_from(&self.backbone).expect("the backbone section serialises"),
        );
        table.insert(
            self.method.name().to_string(),
            toml::Value::Table(self.method.to_section()),
        );
        table
    }

    /// Applies `key=value` overrides (`train.epochs=3`, `rotation.flip=false`); values are TOML
    /// (`[64, 128]`, `true`, `{ kind = "nin", blocks = 4 }`), bare words are strings.
    pub fn with_overrides(self, overrides: &[String]) -> Result<Self> {
        if overrides.is_empty() {
            return Ok(self);
        }
        let mut table = self.to_table();
        for item in overrides {
            let (key, raw) = item.split_once('=').ok_or_else(|| TrainError::Config {
                origin: "--set".into(),
                reason: format!("'{item}' is not key=value"),
            })?;
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(raw.to_string()));
            let mut node = &mut table;
            let parts: Vec<&str> = key.trim().split('.').collect();
            for part in &parts[..parts.len() - 1] {
                node = match node
                    .entry(part.to_string())
                    .or_insert_with(|| toml::Value::Table(Default::default()))
                {
                    toml::Value::Table(t) => t,
                    _ => {
                        return Err(TrainError::Config {
                            origin: "--set".into(),
                            reason: format!("'{key}': '{part}' is not a section"),
                        });
                    }
                };
            }
            node.insert(parts[parts.len() - 1].to_string(), value);
        }
        Self::from_table(table, "--set")
    }

    /// Checks values that would otherwise fail deep inside training, naming the key.
    pub fn validate(&self) -> Result<()> {
        let t = &self.train;
        if t.epochs == 0 {
            return Err(invalid("train.epochs", "must be at least 1"));
        }
        if t.batch_size == 0 {
            return Err(invalid("train.batch_size", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&t.val_fraction) {
            return Err(invalid(
                "train.val_fraction",
                format!("{} is not in [0, 1)", t.val_fraction),
            ));
        }
        if let Some(c) = t.channels
            && c != 1
            && c != 3
        {
            return Err(invalid("train.channels", format!("{c}: must be 1 or 3")));
        }
        if t.image_size == Some(0) {
            return Err(invalid("train.image_size", "must be positive"));
        }
        if t.workers == 0 {
            return Err(invalid("train.workers", "must be at least 1"));
        }
        t.optimizer.validate("train.optimizer")?;
        t.schedule.validate("train.schedule")?;
        self.backbone
            .validate()
            .map_err(|reason| invalid("backbone", reason))?;
        self.method.validate()
    }

    /// The configuration as TOML text, as saved in a run folder.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a RunConfig always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_keep_defaults_and_round_trip() {
        let table: toml::Table =
            toml::from_str("[train]\nepochs = 3\n[rotation]\nflip = false").unwrap();
        let config = RunConfig::from_table(table, "test").unwrap();
        assert_eq!(config.train.epochs, 3);
        assert_eq!(config.train.batch_size, TrainConfig::default().batch_size);
        assert_eq!(config.method.name(), "rotation");
        let again: RunConfig = toml::from_str(&config.to_toml()).unwrap();
        assert_eq!(again, config);
        let json: RunConfig =
            serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        assert_eq!(json, config);
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key() {
        let table: toml::Table = toml::from_str("[train]\nepochz = 3").unwrap();
        let err = RunConfig::from_table(table, "f.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("epochz") && err.contains("f.toml"), "{err}");
        let table: toml::Table = toml::from_str("[train]\nbatch_size = \"big\"").unwrap();
        let err = RunConfig::from_table(table, "f.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("train.batch_size"), "{err}");
        let table: toml::Table = toml::from_str("[trian]\nepochs = 1").unwrap();
        let err = RunConfig::from_table(table, "f.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trian"), "{err}");
    }

    #[test]
    fn overrides_parse_toml_values() {
        let config = RunConfig::default()
            .with_overrides(&[
                "train.epochs=2".into(),
                "train.optimizer.kind=adam".into(),
                "backbone.widths=[8, 16]".into(),
                "rotation.crop=24".into(),
            ])
            .unwrap();
        assert_eq!(config.train.epochs, 2);
        assert_eq!(config.train.optimizer.kind, OptimizerKind::Adam);
        assert_eq!(
            config.backbone,
            BackboneConfig::ConvNet {
                widths: vec![8, 16]
            }
        );
        let nin = RunConfig::default()
            .with_overrides(&["backbone={ kind = \"nin\", blocks = 4 }".into()])
            .unwrap();
        assert_eq!(nin.backbone, BackboneConfig::Nin { blocks: 4 });
        let err = RunConfig::default()
            .with_overrides(&["train.nope=1".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
        let err = RunConfig::default()
            .with_overrides(&["train.epochs=many".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("train.epochs"), "{err}");
    }

    #[test]
    fn validation_names_the_key_and_rejects_non_finite_numbers() {
        assert!(RunConfig::default().validate().is_ok());
        for (key, value) in [
            ("train.val_fraction", "1.5"),
            ("train.val_fraction", "nan"),
            ("train.optimizer.lr", "nan"),
            ("train.optimizer.lr", "inf"),
            ("train.optimizer.lr", "0.0"),
            ("train.optimizer.weight_decay", "nan"),
            ("train.optimizer.momentum", "nan"),
            ("train.schedule.warmup_epochs", "inf"),
            ("train.schedule.gamma", "nan"),
            ("train.schedule.min_lr", "-inf"),
            ("rotation.crop", "0"),
        ] {
            let config = RunConfig::default()
                .with_overrides(&[format!("{key}={value}")])
                .unwrap();
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(key), "{key}={value}: {err}");
        }
    }
}
