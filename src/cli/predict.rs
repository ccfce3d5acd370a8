//! `selfsup predict --checkpoint FINETUNED IMAGE...|--data SOURCE`: class predictions with
//! probabilities (the predicted class's, or every class's).

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use burn::tensor::activation::softmax;
use clap::Args;
use selfsup::data::Image;
use selfsup::train::checkpoint;
use selfsup::train::task::{FinetuneTask, PretextTask};
use selfsup::train::{BackendKind, MethodConfig, Setup, stack_images};

use super::args::{FolderArgs, open};

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// A fine-tuning run (`selfsup finetune`) or one of its checkpoint folders.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Image files to classify.
    images: Vec<PathBuf>,
    /// Or a data source to classify (every image of it).
    #[arg(long, conflicts_with = "images")]
    data: Option<String>,
    /// Write CSV (`item,class,name,probability`) here instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Add every class's probability, one column per class after the predicted one's.
    #[arg(long)]
    all_classes: bool,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

impl PredictArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let dir = checkpoint::checkpoint_dir(&self.checkpoint);
        let state = checkpoint::load_state(&dir)?;
        let MethodConfig::Finetune(settings) = &state.config.method else {
            bail!(
                "{} is a {} run: predict needs a fine-tuned checkpoint (selfsup finetune)",
                self.checkpoint.display(),
                state.method
            );
        };
        let setup = Setup {
            backbone: state.config.backbone.clone(),
            images: state.images.clone(),
            seed: state.seed,
            train: state.config.train.clone(),
        };
        let task = FinetuneTask::new(settings, &setup)?;
        let device = self.backend.device()?;
        let model = checkpoint::load_model(task.model(&device), &dir)?;
        let input = &task.network().input;
        let items: Vec<(String, Image)> = match &self.data {
            Some(spec) => {
                let source = open(spec, FolderArgs::default())?;
                (0..source.len())
                    .map(|i| Ok((i.to_string(), source.get(i)?.image)))
                    .collect::<anyhow::Result<_>>()?
            }
            None if self.images.is_empty() => bail!("give image files or --data SOURCE"),
            None => self
                .images
                .iter()
                .map(|p| Ok((p.display().to_string(), Image::open(p)?)))
                .collect::<anyhow::Result<_>>()?,
        };
        let classes = settings.classes;
        let name = |c: usize| settings.class_names.get(c).map_or("", String::as_str);
        let mut text = String::from("item,class,name,probability");
        if self.all_classes {
            for c in 0..classes {
                text.push_str(&format!(",{}", field(&format!("p_{c}_{}", name(c)))));
            }
        }
        text.push('\n');
        for chunk in items.chunks(256) {
            let batch: Vec<Image> = chunk.iter().map(|(_, img)| input.prepare(img)).collect();
            let probabilities = softmax(model.forward(stack_images(&batch, &device)), 1)
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            for ((item, _), p) in chunk.iter().zip(probabilities.chunks(classes)) {
                // The first of equal maxima, as argmax.
                let best = (0..classes).fold(0, |b, c| if p[c] > p[b] { c } else { b });
                let (item, label) = (field(item), field(name(best)));
                text.push_str(&format!("{item},{best},{label},{:.4}", p[best]));
                if self.all_classes {
                    for v in p {
                        text.push_str(&format!(",{v:.4}"));
                    }
                }
                text.push('\n');
            }
        }
        match &self.out {
            Some(path) => {
                std::fs::write(path, &text)?;
                println!("wrote {} predictions to {}", items.len(), path.display());
            }
            None => std::io::stdout().write_all(text.as_bytes())?,
        }
        Ok(())
    }
}

/// `value` as one CSV field: quoted where it holds a comma, a quote or a line break.
fn field(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\"")).into()
    } else {
        value.into()
    }
}
