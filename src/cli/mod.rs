//! The commands of the `selfsup` tool.

mod args;
mod backends;
mod colorize;
mod data;
mod embed;
mod eval;
mod export;
mod finetune;
mod image_eval;
mod inpaint;
mod jigsaw;
mod predict;
mod render;
mod show;
mod train;
mod upscale;

use clap::{Parser, Subcommand};

/// Self-supervised visual representation learning on Burn.
#[derive(Parser, Debug)]
#[command(name = "selfsup", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect data sources.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Pretrain a network on a pretext task.
    Train(train::TrainArgs),
    /// Evaluate a checkpoint's frozen features on a labelled dataset.
    Eval(eval::EvalArgs),
    /// Write a checkpoint's features and the labels as NumPy .npy files.
    Embed(embed::EmbedArgs),
    /// Write a checkpoint's backbone alone (safetensors with PyTorch names, and its input spec).
    Export(export::ExportArgs),
    /// Fine-tune a checkpoint's backbone with a new head on labelled images, then test it.
    Finetune(finetune::FinetuneArgs),
    /// Classify images with a fine-tuned checkpoint.
    Predict(predict::PredictArgs),
    /// Draw generated pretext samples as a PNG grid.
    Show(show::ShowArgs),
    /// Colourise images with a colorization checkpoint (PNGs, any size, the input's L kept).
    Colorize(colorize::ColorizeArgs),
    /// Fill holes with an inpainting checkpoint (PNGs, any size, pixels outside the hole kept).
    Inpaint(inpaint::InpaintArgs),
    /// Upsample images with a super-resolution checkpoint (PNGs, any size).
    Upscale(upscale::UpscaleArgs),
    /// Render random room scenes: colour, depth, normals, contours and instance PNGs.
    Render(render::RenderArgs),
    /// List the backends this build includes and check that each one starts.
    Backends,
    /// Jigsaw tools: permutation sets.
    #[command(subcommand)]
    Jigsaw(jigsaw::JigsawCommand),
}

impl Cli {
    /// Runs the command.
    pub fn run(&self) -> anyhow::Result<()> {
        match &self.command {
            Command::Data(command) => command.run(),
            Command::Train(args) => args.run(),
            Command::Eval(args) => args.run(),
            Command::Embed(args) => args.run(),
            Command::Export(args) => args.run(),
            Command::Finetune(args) => args.run(),
            Command::Predict(args) => args.run(),
            Command::Show(args) => args.run(),
            Command::Colorize(args) => args.run(),
            Command::Inpaint(args) => args.run(),
            Command::Upscale(args) => args.run(),
            Command::Render(args) => args.run(),
            Command::Backends => backends::run(),
            Command::Jigsaw(command) => command.run(),
        }
    }
}
