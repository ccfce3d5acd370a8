//! Arguments several commands share, and opening what they name.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;
use burn::prelude::Device;
use clap::{Args, ValueEnum};
use selfsup::data::{FolderOptions, ImageSource, open_source};
use selfsup::models::backbone::Backbone;
use selfsup::train::checkpoint::{CheckpointState, load_network};
use selfsup::train::eval::{Pooling, View};
use selfsup::train::task::Network;
use selfsup::train::{BackendKind, RunConfig};

#[derive(Args, Debug, Clone, Copy, Default)]
pub struct FolderArgs {
    /// Skip unreadable files in folders with a warning instead of failing.
    #[arg(long)]
    pub skip_bad: bool,
    /// Decode every image of a folder up front (catches truncated files a header check misses).
    #[arg(long)]
    pub verify: bool,
}

/// Opens a data source, printing a warning for each file a folder skipped.
pub fn open(spec: &str, folder: FolderArgs) -> anyhow::Result<Arc<dyn ImageSource>> {
    let source = open_source(
        spec,
        FolderOptions {
            skip_bad: folder.skip_bad,
            verify: folder.verify,
        },
    )?;
    for (path, reason) in source.skipped() {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    Ok(Arc::from(source))
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// A TOML run configuration (see docs/configuration.md); defaults apply to missing keys.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override one key, e.g. `--set train.epochs=3 --set backbone.widths=[64,128,256]`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

impl ConfigArgs {
    /// The configuration: the file, else `base`, with the overrides applied and checked.
    pub fn resolve(&self, base: RunConfig) -> anyhow::Result<RunConfig> {
        let config = match &self.config {
            Some(path) => RunConfig::load(path)?,
            None => base,
        };
        let config = config.with_overrides(&self.overrides)?;
        config.validate()?;
        Ok(config)
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolingArg {
    /// Global average pooling (one value per channel).
    Global,
    /// Average pooling to a grid of at most `--dims` values.
    Grid,
}

/// Which features of which checkpoint.
#[derive(Args, Debug)]
pub struct FeatureArgs {
    /// A run folder (its best checkpoint is used, else its last) or a checkpoint folder.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Evaluate a freshly initialised network of the same shape instead (the baseline).
    #[arg(long)]
    pub random_init: bool,
    /// The checkpoint's network to read (default: its first, usually `backbone`).
    #[arg(long)]
    pub network: Option<String>,
    /// Blocks whose outputs are the features, from 1 (default: the block the method documents
    /// as its representation); repeat or list them (`--block 1,2,3`) to evaluate several from
    /// one pass over the images.
    #[arg(long, value_delimiter = ',')]
    pub block: Vec<usize>,
    /// Evaluate every block (instead of `--block`).
    #[arg(long, conflicts_with = "block")]
    pub all_blocks: bool,
    /// How block outputs are pooled; several (`--pooling global,grid`) are evaluated in turn.
    #[arg(long, value_enum, value_delimiter = ',', default_values = ["global"])]
    pub pooling: Vec<PoolingArg>,
    /// Dimension budget of grid pooling.
    #[arg(long, default_value_t = 2048)]
    pub dims: usize,
    /// Read the images at this side instead of the one the network trained at (its
    /// checkpoint's input): pooled features exist at any side the backbone takes, and a
    /// network trained on patches may be read at their scale.
    #[arg(long)]
    pub side: Option<usize>,
    #[arg(long, default_value = "flex")]
    pub backend: BackendKind,
}

/// A view with the words that name it in reports.
pub struct NamedView {
    pub view: View,
    pub name: String,
}

impl FeatureArgs {
    /// The network asked for, its weights loaded (or freshly initialised), with `--side`
    /// applied to its input.
    pub fn load(&self, device: &Device) -> anyhow::Result<(Backbone, Network, CheckpointState)> {
        let (backbone, mut network, state) = load_network(
            &self.checkpoint,
            self.network.as_deref(),
            self.random_init,
            device,
        )?;
        if let Some(side) = self.side {
            network
                .backbone
                .check_input(side)
                .map_err(|reason| anyhow::anyhow!("--side {side}: {reason}"))?;
            network.input.side = side;
        }
        Ok((backbone, network, state))
    }

    /// The views asked for, over a network of `blocks` blocks whose representation is block
    /// `default` (from 0).
    pub fn views(&self, blocks: usize, default: usize) -> anyhow::Result<Vec<NamedView>> {
        let chosen = if self.all_blocks {
            (1..=blocks).collect()
        } else if self.block.is_empty() {
            vec![default + 1]
        } else {
            self.block.clone()
        };
        if let Some(b) = chosen.iter().find(|&&b| b == 0 || b > blocks) {
            anyhow::bail!("--block {b}: the network has blocks 1 to {blocks}");
        }
        Ok(chosen
            .iter()
            .flat_map(|&block| {
                self.pooling.iter().map(move |&pooling| NamedView {
                    view: View {
                        block: block - 1,
                        pooling: match pooling {
                            PoolingArg::Global => Pooling::Global,
                            PoolingArg::Grid => Pooling::Grid {
                                max_dims: self.dims,
                            },
                        },
                    },
                    name: format!("block {block} {pooling:?}").to_lowercase(),
                })
            })
            .collect())
    }
}

/// The folder of `--out` (a new run) or of `--resume` (a run to continue), and whether it
/// resumes; one of the two must be given.
pub fn run_folder(out: Option<&Path>, resume: Option<&Path>) -> anyhow::Result<(PathBuf, bool)> {
    match (out, resume) {
        (Some(out), None) => Ok((out.to_path_buf(), false)),
        (None, Some(run)) => Ok((run.to_path_buf(), true)),
        _ => bail!("give --out RUN_FOLDER for a new run or --resume RUN_FOLDER to continue one"),
    }
}
