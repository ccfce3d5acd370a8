//! `selfsup inpaint --checkpoint RUN IMAGE... [--mask centre|FILE] --out DIR`: holes filled
//! by a Context Encoder, any image size, every pixel outside the hole the input's.

use std::path::PathBuf;

use anyhow::Context;
use burn::module::Module;
use clap::Args;
use selfsup::data::Image;
use selfsup::data::pretext::{centre_mask, coverage};
use selfsup::data::transform::grayscale;
use selfsup::train::checkpoint::checkpoint_dir;
use selfsup::train::translate::load_task;
use selfsup::train::{BackendKind, InpaintingTask, PretextTask};

#[derive(Args, Debug)]
pub struct InpaintArgs {
    /// An inpainting run or one of its checkpoint folders.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Image files, any size.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// The hole: `centre` (the central quarter of each image), or an image file of the
    /// images' size whose light pixels (above one half) mark it.
    #[arg(long, default_value = "centre")]
    mask: String,
    /// Folder for the PNGs (`NAME.png`, named after each input).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

impl InpaintArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let device = self.backend.device()?;
        let (task, model) =
            load_task::<InpaintingTask>(&checkpoint_dir(&self.checkpoint), &device)?;
        let model = model.valid();
        let file_mask = match self.mask.as_str() {
            "centre" | "center" => None,
            path => Some((
                path,
                grayscale(&Image::open(path).with_context(|| format!("mask {path}"))?),
            )),
        };
        std::fs::create_dir_all(&self.out)?;
        for path in &self.images {
            let image =
                Image::open(path).with_context(|| format!("inpaint: {}", path.display()))?;
            let mask = match &file_mask {
                None => centre_mask(image.height(), image.width()),
                Some((file, mask)) => {
                    if (mask.height(), mask.width()) != (image.height(), image.width()) {
                        anyhow::bail!(
                            "mask {file} is {}x{} but {} is {}x{}: a mask must have its image's size",
                            mask.width(),
                            mask.height(),
                            path.display(),
                            image.width(),
                            image.height()
                        );
                    }
                    mask.clone()
                }
            };
            let filled = task
                .inpaint(&model, &image, &mask, &device)
                .with_context(|| format!("{}: {}", InpaintingTask::NAME, path.display()))?;
            let stem = path
                .file_stem()
                .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
            let out = self.out.join(format!("{stem}.png"));
            filled.save(&out)?;
            println!(
                "{} -> {} (hole: {:.1}% of the image)",
                path.display(),
                out.display(),
                100.0 * coverage(&mask)
            );
        }
        Ok(())
    }
}
