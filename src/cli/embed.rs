//! `selfsup embed --checkpoint RUN --out DIR`.

use std::path::PathBuf;

use clap::Args;
use selfsup::train::eval;

use super::args::{FeatureArgs, FolderArgs, open};

#[derive(Args, Debug)]
pub struct EmbedArgs {
    #[command(flatten)]
    features: FeatureArgs,
    /// Images to embed.
    #[arg(long, default_value = "sample")]
    data: String,
    /// Folder for features.npy and labels.npy.
    #[arg(long)]
    out: PathBuf,
    /// Write only a seeded subset of this many images per class (the `eval few` subset of the
    /// same `--seed`).
    #[arg(long)]
    per_class: Option<usize>,
    /// Seeds the per-class subset (default: the run's seed, as `eval few`).
    #[arg(long)]
    seed: Option<u64>,
}

impl EmbedArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let args = &self.features;
        if args.all_blocks || args.block.len() > 1 || args.pooling.len() > 1 {
            anyhow::bail!("embed writes one view: give one --block and one --pooling");
        }
        let device = args.backend.device()?;
        let (backbone, network, state) = args.load(&device)?;
        let views = args.views(backbone.block_channels().len(), network.block)?;
        let source = open(&self.data, FolderArgs::default())?;
        let all: Vec<usize> = (0..source.len()).collect();
        let features = eval::extract_views(
            &backbone,
            source.as_ref(),
            &all,
            &network.input,
            &[views[0].view],
            256,
        )?
        .remove(0);
        let features = match self.per_class {
            Some(n) => features.per_class(n, self.seed.unwrap_or(state.seed)),
            None => features,
        };
        eval::write_npy(&features, &self.out)?;
        println!(
            "wrote {} features of {} dims ({}, {}) to {}",
            features.len(),
            features.dim,
            network.name,
            views[0].name,
            self.out.join("features.npy").display()
        );
        Ok(())
    }
}
