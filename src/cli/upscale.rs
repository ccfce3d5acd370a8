//! `selfsup upscale --checkpoint RUN IMAGE... --out DIR`: images upsampled by a super-resolution
//! checkpoint's generator, any size (in tiles that give the same result as one pass).

use std::path::PathBuf;

use anyhow::Context;
use burn::module::Module;
use clap::Args;
use selfsup::data::Image;
use selfsup::train::checkpoint::checkpoint_dir;
use selfsup::train::translate::load_task;
use selfsup::train::{BackendKind, PretextTask, SuperResTask};

#[derive(Args, Debug)]
pub struct UpscaleArgs {
    /// A super-resolution run or one of its checkpoint folders.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Image files, any size.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Folder for the PNGs (`NAME.png`, named after each input).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

impl UpscaleArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let device = self.backend.device()?;
        let (task, model) = load_task::<SuperResTask>(&checkpoint_dir(&self.checkpoint), &device)?;
        let model = model.valid();
        std::fs::create_dir_all(&self.out)?;
        for path in &self.images {
            let image =
                Image::open(path).with_context(|| format!("upscale: {}", path.display()))?;
            let upscaled = task
                .upscale(&model.generator, &image, &device)
                .with_context(|| format!("{}: {}", SuperResTask::NAME, path.display()))?;
            let stem = path
                .file_stem()
                .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
            let out = self.out.join(format!("{stem}.png"));
            upscaled.save(&out)?;
            println!(
                "{} ({}x{}) -> {} ({}x{})",
                path.display(),
                image.width(),
                image.height(),
                out.display(),
                upscaled.width(),
                upscaled.height()
            );
        }
        Ok(())
    }
}
