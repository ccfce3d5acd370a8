//! `selfsup show METHOD --out DIR`.

use std::path::PathBuf;

use clap::Args;
use selfsup::data::gallery;
use selfsup::train::{BackendKind, Method, RunConfig, checkpoint, show};

use super::args::{ConfigArgs, FolderArgs, open};

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The pretext method.
    method: Method,
    #[arg(long, default_value = "sample")]
    data: String,
    /// Folder for the PNG.
    #[arg(long)]
    out: PathBuf,
    /// Images to show.
    #[arg(long, default_value_t = 8)]
    count: usize,
    /// Use this run's configuration, task state and weights (a run or checkpoint folder):
    /// samples as validation draws them, each row followed by the network's predictions where
    /// the method has dense ones (synthetic imagery's depth, normals and contours).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

impl ShowArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let dir = self.checkpoint.as_deref().map(checkpoint::checkpoint_dir);
        let base = match &dir {
            Some(dir) => checkpoint::load_state(dir)?.config,
            None => RunConfig::for_method(self.method),
        };
        let config = self.config.resolve(base)?;
        if config.method.name() != self.method.name() {
            anyhow::bail!(
                "the configuration is for method '{}', not '{}'",
                config.method.name(),
                self.method
            );
        }
        let source = open(&self.data, FolderArgs::default())?;
        let rows = show(
            &config,
            source.as_ref(),
            self.count,
            dir.as_deref(),
            &self.backend.device()?,
        )?;
        std::fs::create_dir_all(&self.out)?;
        let path = self.out.join(format!("{}.png", self.method));
        let side = rows
            .iter()
            .flatten()
            .map(|i| i.height().max(i.width()))
            .max()
            .unwrap_or(1);
        gallery::grid(&rows, (96 / side.max(1)).max(1), 4)?.save(&path)?;
        println!(
            "wrote {} ({} images, one sample per row)",
            path.display(),
            rows.len()
        );
        Ok(())
    }
}
