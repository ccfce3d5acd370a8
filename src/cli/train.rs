//! `selfsup train METHOD`.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use selfsup::train::checkpoint;
use selfsup::train::{BackendKind, Method, RunConfig, RunOptions, describe};

use super::args::{ConfigArgs, FolderArgs, open, run_folder};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The pretext method.
    method: Method,
    /// Training images (see `selfsup data info --help` for the forms); default: `sample`, or
    /// the data of the run being resumed.
    #[arg(long)]
    data: Option<String>,
    /// The run folder to write; required unless resuming.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint.
    #[arg(long, conflicts_with = "out")]
    resume: Option<PathBuf>,
    /// With --resume: continue on other data than the run was trained on, on purpose.
    #[arg(long, requires = "resume")]
    change_data: bool,
    /// Stop after this many epochs of the run (counted from its start), as if interrupted:
    /// the schedule still plans for train.epochs, and --resume continues exactly.
    #[arg(long, value_name = "EPOCHS")]
    stop_after: Option<usize>,
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
    #[command(flatten)]
    folder: FolderArgs,
}

impl TrainArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let (out, resume) = run_folder(self.out.as_deref(), self.resume.as_deref())?;
        let (base, recorded) = if resume {
            let state = checkpoint::load_state(&out.join("checkpoints/last"))?;
            (selfsup::train::run_config(&out)?, state.data.spec)
        } else {
            (RunConfig::for_method(self.method), None)
        };
        let config = self.config.resolve(base)?;
        if config.method.name() != self.method.name() {
            bail!(
                "the configuration is for method '{}', not '{}'",
                config.method.name(),
                self.method
            );
        }
        let spec = self
            .data
            .clone()
            .or(recorded)
            .unwrap_or_else(|| "sample".into());
        let source = open(&spec, self.folder)?;
        let device = self.backend.device()?;
        eprintln!(
            "training {} on {} ({} images) with {} for {} epochs -> {}",
            self.method,
            source.describe(),
            source.len(),
            self.backend,
            config.train.epochs,
            out.display()
        );
        let options = RunOptions {
            out_dir: out.clone(),
            resume,
            progress: true,
            data_spec: Some(spec),
            change_data: self.change_data,
            stop_after: self.stop_after,
        };
        let history = self.method.train(&config, source, &device, &options)?;
        if let Some(last) = history.last() {
            println!("{}", describe(last, config.train.epochs));
        }
        println!("checkpoints: {}", out.join("checkpoints").display());
        Ok(())
    }
}
