//! `selfsup export --checkpoint RUN --out FILE.safetensors`.

use std::path::PathBuf;

use clap::Args;
use selfsup::train::BackendKind;
use selfsup::train::checkpoint::export_network;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A run folder (its best checkpoint, else its last) or a checkpoint folder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The network to export (default: the checkpoint's first, usually `backbone`).
    #[arg(long)]
    network: Option<String>,
    /// The safetensors file to write; its architecture and input go beside it as .json.
    #[arg(long)]
    out: PathBuf,
}

impl ExportArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let device = BackendKind::Flex.device()?;
        let record = export_network(
            &self.checkpoint,
            self.network.as_deref(),
            &self.out,
            &device,
        )?;
        println!(
            "wrote {} ({} network of a {} run) and {}",
            self.out.display(),
            record.network,
            record.method,
            self.out.with_extension("json").display()
        );
        Ok(())
    }
}
