//! Fine-tuning through the library: pretrain RotNet briefly on the bundled sample, then fine-tune
//! its backbone with 100 labels per class and compare with the same recipe from random weights,
//! both tested once on the sample's test split.
//!
//! ```text
//! cargo run --release --example finetune
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use selfsup::data::{ImageSource, Split, bundled_sample};
use selfsup::train::checkpoint;
use selfsup::train::task::{FinetuneTask, PretextTask, classifier_accuracy, labelled_source};
use selfsup::train::{BackendKind, Method, MethodConfig, RunConfig, RunOptions, setup};

#[derive(Parser, Debug)]
struct Args {
    /// Pretraining epochs of RotNet on the sample.
    #[arg(long, default_value_t = 2)]
    pretrain_epochs: usize,
    /// Labels per class to fine-tune with.
    #[arg(long, default_value_t = 100)]
    labels_per_class: usize,
    /// Fine-tuning steps.
    #[arg(long, default_value_t = 600)]
    steps: usize,
    #[arg(long, default_value = "runs/finetune-example")]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

fn options(out: &Path) -> anyhow::Result<RunOptions> {
    if out.join("checkpoints").exists() {
        std::fs::remove_dir_all(out)?;
    }
    Ok(RunOptions {
        out_dir: out.to_path_buf(),
        progress: true,
        ..RunOptions::default()
    })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let device = args.backend.device()?;
    let train: Arc<dyn ImageSource> = Arc::new(bundled_sample(Split::Train)?);
    let test = bundled_sample(Split::Test)?;

    let mut pretext = RunConfig::for_method(Method::Rotation);
    pretext.train.epochs = args.pretrain_epochs;
    let pretrained = args.out.join("rotnet");
    Method::Rotation.train(&pretext, train.clone(), &device, &options(&pretrained)?)?;

    for random_init in [false, true] {
        let mut config = RunConfig::for_method(Method::Finetune);
        config.backbone = pretext.backbone.clone();
        if let MethodConfig::Finetune(s) = &mut config.method {
            s.checkpoint = Some(pretrained.clone());
            s.random_init = random_init;
            s.labels_per_class = Some(args.labels_per_class);
            s.steps = args.steps;
        }
        let MethodConfig::Finetune(settings) = &config.method else {
            unreachable!()
        };
        let data = labelled_source(settings, train.clone())?;
        let out = args
            .out
            .join(if random_init { "random" } else { "pretrained" });
        Method::Finetune.train(&config, data.clone(), &device, &options(&out)?)?;
        let task = FinetuneTask::new(settings, &setup(&config, data.as_ref())?)?;
        let model = checkpoint::load_model(task.model(&device), &checkpoint::checkpoint_dir(&out))?;
        let accuracy = classifier_accuracy(&model, &test, &task.network().input, 256)?;
        println!(
            "{:>11}: test accuracy {:.1}% after {} steps on {} labels per class",
            if random_init { "random init" } else { "RotNet" },
            100.0 * accuracy,
            args.steps,
            args.labels_per_class
        );
    }
    Ok(())
}
