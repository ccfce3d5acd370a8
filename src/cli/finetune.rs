//! `selfsup finetune --checkpoint RUN --data SOURCE --out DIR`: a pretrained backbone and a new
//! head trained on labelled images, then tested once.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use selfsup::data::test_split_of;
use selfsup::train::checkpoint;
use selfsup::train::task::{
    FinetuneTask, PretextTask, check_test_source, classifier_accuracy, labelled_source,
};
use selfsup::train::{BackendKind, Method, MethodConfig, RunConfig, RunOptions, describe, setup};

use super::args::{ConfigArgs, FolderArgs, open, run_folder};

#[derive(Args, Debug)]
pub struct FinetuneArgs {
    /// The pretrained run (or checkpoint folder) whose backbone is fine-tuned.
    #[arg(long, required_unless_present = "resume")]
    checkpoint: Option<PathBuf>,
    /// The checkpoint's network to fine-tune (`discriminator`...; default: its first).
    #[arg(long, conflicts_with = "resume")]
    network: Option<String>,
    /// Labelled training images (validation images are held out of them).
    #[arg(long)]
    data: Option<String>,
    /// Labelled test images, evaluated once at the end (default: the test split of --data).
    #[arg(long)]
    test: Option<String>,
    /// Train on this many labels per class only (a seeded subset).
    #[arg(long)]
    labels_per_class: Option<usize>,
    /// Seeds the subset of --labels-per-class.
    #[arg(long, default_value_t = 0)]
    subset_seed: u64,
    /// Train the same network from random weights with the same recipe (the baseline).
    #[arg(long)]
    random_init: bool,
    /// The run folder to write.
    #[arg(long, conflicts_with = "resume")]
    out: Option<PathBuf>,
    /// Continue the fine-tuning run in this folder.
    #[arg(long)]
    resume: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

impl FinetuneArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let (out, resume) = run_folder(self.out.as_deref(), self.resume.as_deref())?;
        let recorded = if resume {
            Some(checkpoint::load_state(&out.join("checkpoints/last"))?)
        } else {
            None
        };
        let spec = self
            .data
            .clone()
            .or_else(|| recorded.as_ref().and_then(|s| s.data.spec.clone()))
            .context("give --data: labelled training images")?;
        let full = open(&spec, FolderArgs::default())?;
        let config = match &recorded {
            Some(state) => self.config.resolve(state.config.clone())?,
            None => self.fresh_config(full.as_ref())?,
        };
        let MethodConfig::Finetune(settings) = &config.method else {
            bail!(
                "the configuration is for method '{}', not 'finetune'",
                config.method.name()
            );
        };
        let source = labelled_source(settings, full)?;
        // The test images are opened and checked before training, so that a wrong --test fails
        // in seconds rather than after the run.
        let test_spec = match &self.test {
            Some(t) => t.clone(),
            None => test_split_of(&spec)?,
        };
        let test = open(&test_spec, FolderArgs::default())?;
        check_test_source(settings, test.as_ref())?;
        let device = self.backend.device()?;
        eprintln!(
            "fine-tuning on {} ({} images, {} classes) for {} steps -> {}",
            source.describe(),
            source.len(),
            settings.classes,
            settings.steps,
            out.display()
        );
        let options = RunOptions {
            out_dir: out.clone(),
            resume,
            progress: true,
            data_spec: Some(spec.clone()),
            ..RunOptions::default()
        };
        let history = Method::Finetune.train(&config, source.clone(), &device, &options)?;
        if let Some(last) = history.last() {
            println!("{}", describe(last, config.train.epochs));
        }

        // The test images, once, through the checkpoint validation picked.
        let best = checkpoint::checkpoint_dir(&out);
        let task = FinetuneTask::new(settings, &setup(&config, source.as_ref())?)?;
        let model = checkpoint::load_model(task.model(&device), &best)?;
        let accuracy = classifier_accuracy(&model, test.as_ref(), &task.network().input, 256)?;
        let report = serde_json::json!({
            "test": test_spec,
            "test_images": test.len(),
            "checkpoint": best,
            "accuracy": accuracy,
        });
        std::fs::write(out.join("test.json"), serde_json::to_vec_pretty(&report)?)?;
        println!(
            "test accuracy {:.2}% on {} images ({}), checkpoint {}",
            100.0 * accuracy,
            test.len(),
            test_spec,
            best.display()
        );
        Ok(())
    }

    /// The configuration of a new run: the pretrained network's architecture and input (the
    /// network `--network` or `finetune.network` names), recorded in the run; the data's
    /// classes; then the user's file and overrides.
    fn fresh_config(&self, source: &dyn selfsup::data::ImageSource) -> anyhow::Result<RunConfig> {
        let mut base = RunConfig::for_method(Method::Finetune);
        let classes = source.class_names().len();
        if let MethodConfig::Finetune(s) = &mut base.method {
            s.checkpoint = self.checkpoint.clone();
            s.network = self.network.clone();
            s.random_init = self.random_init;
            s.labels_per_class = self.labels_per_class;
            s.subset_seed = self.subset_seed;
            if classes > 0 {
                s.classes = classes;
                s.class_names = source.class_names().to_vec();
            }
        }
        if let Some(path) = &self.checkpoint {
            // The user's settings say which network; its architecture is then the base they
            // apply to.
            let wanted = match self.config.resolve(base.clone())?.method {
                MethodConfig::Finetune(s) => s.network,
                _ => None,
            };
            let state = checkpoint::load_state(&checkpoint::checkpoint_dir(path))?;
            let network = state.network(wanted.as_deref())?;
            base.backbone = network.backbone.clone();
            base.train.image_size = Some(network.input.side);
            base.train.channels = Some(network.input.image_channels);
            if let MethodConfig::Finetune(s) = &mut base.method {
                s.network = Some(network.name.clone());
                s.pretrained = Some(network.clone());
            }
        }
        self.config.resolve(base)
    }
}
