//! `selfsup colorize --checkpoint RUN IMAGE... --out DIR`: colourised PNGs, any size.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use selfsup::data::Image;
use selfsup::train::translate::{expect_method, translate_with};
use selfsup::train::{BackendKind, ColorizationTask, PretextTask};

#[derive(Args, Debug)]
pub struct ColorizeArgs {
    /// A colorization run or one of its checkpoint folders.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Image files (colour or grey, any size): each one's lightness is kept and its colour
    /// predicted.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Folder for the PNGs (`NAME.png`, named after each input).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
    /// Override a key of the run's configuration that changes how the network is applied:
    /// `--set colorization.temperature=0.2` (the annealed mean's T; the paper: 0.38).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

impl ColorizeArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        // Any image-to-image checkpoint would translate; only a colouriser's output is colour.
        expect_method(&self.checkpoint, ColorizationTask::NAME)?;
        let images = self
            .images
            .iter()
            .map(|p| Image::open(p).with_context(|| format!("colorize: {}", p.display())))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let scored = translate_with(
            &self.checkpoint,
            &self.overrides,
            &images,
            &self.backend.device()?,
        )?;
        std::fs::create_dir_all(&self.out)?;
        for (path, result) in self.images.iter().zip(&scored) {
            let stem = path
                .file_stem()
                .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
            let out = self.out.join(format!("{stem}.png"));
            result.translation.prediction.save(&out)?;
            let scores: Vec<String> = result
                .scores
                .iter()
                .map(|s| format!("{} {:.3} (grey {:.3})", s.name, s.prediction, s.baseline()))
                .collect();
            println!(
                "{} -> {}: {}",
                path.display(),
                out.display(),
                scores.join(", ")
            );
        }
        Ok(())
    }
}
