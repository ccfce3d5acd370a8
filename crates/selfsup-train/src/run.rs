//! Entry points for the built-in methods by name: train one, or draw what its generator makes.

use std::path::Path;
use std::sync::Arc;

use burn::prelude::*;
use selfsup_data::pretext::{PretextGenerator, sample_rng};
use selfsup_data::{Image, ImageSource};

use crate::checkpoint;
use crate::config::RunConfig;
use crate::error::{Result, TrainError};
use crate::method::{Method, MethodVisitor};
use crate::metrics::EpochRecord;
use crate::task::{PretextTask, TaskData};
use crate::trainer::{RunOptions, setup, train};

struct Training<'a> {
    config: &'a RunConfig,
    source: Arc<dyn ImageSource>,
    device: &'a Device,
    options: &'a RunOptions,
}

impl MethodVisitor for Training<'_> {
    type Output = Result<Vec<EpochRecord>>;

    fn visit<T: PretextTask>(self) -> Self::Output {
        let settings = self.config.method.settings_of::<T>()?;
        let task = T::new(&settings, &setup(self.config, self.source.as_ref())?)?;
        Ok(train(task, self.config, self.source, self.device, self.options)?.history)
    }
}

impl Method {
    /// Trains this method as `config` says (its `method` must be this one) and returns the
    /// per-epoch history of the whole run.
    pub fn train(
        self,
        config: &RunConfig,
        source: Arc<dyn ImageSource>,
        device: &Device,
        options: &RunOptions,
    ) -> Result<Vec<EpochRecord>> {
        self.visit(Training {
            config,
            source,
            device,
            options,
        })
    }
}

/// Trains the built-in method that `config` names.
pub fn train_method(
    config: &RunConfig,
    source: Arc<dyn ImageSource>,
    device: &Device,
    options: &RunOptions,
) -> Result<Vec<EpochRecord>> {
    method_of(config)?.train(config, source, device, options)
}

fn method_of(config: &RunConfig) -> Result<Method> {
    config
        .method
        .method()
        .ok_or_else(|| TrainError::UnknownMethod {
            name: config.method.name().to_string(),
            known: Method::names(),
        })
}

struct Showing<'a> {
    config: &'a RunConfig,
    source: &'a dyn ImageSource,
    count: usize,
    checkpoint: Option<&'a Path>,
    device: &'a Device,
}

impl MethodVisitor for Showing<'_> {
    type Output = Result<Vec<Vec<Image>>>;

    fn visit<T: PretextTask>(self) -> Self::Output {
        let settings = self.config.method.settings_of::<T>()?;
        let setup = setup(self.config, self.source)?;
        let mut task = T::new(&settings, &setup)?;
        // The task prepares (and DeepCluster clusters) on more images than it shows: a
        // clustering of six images would say nothing.
        let context: Vec<usize> =
            (0..self.count.max(SHOW_CONTEXT).min(self.source.len())).collect();
        let shown = &context[..self.count.min(context.len())];
        let ad = self.device.clone().autodiff();
        ad.seed(setup.seed);
        let data = TaskData {
            source: self.source,
            train: &context,
            val: &[],
            images: &setup.images,
            seed: setup.seed,
            device: &ad,
            batch_size: 256,
        };
        let mut model = task.model(&ad);
        // A trained network is shown what validation shows it (held-out scenes, fixed masks),
        // with its predictions.
        match self.checkpoint {
            Some(dir) => {
                task.restore(checkpoint::load_task_state(dir)?)?;
                model = checkpoint::load_model(model, dir)?;
            }
            None => task.prepare(&data)?,
        }
        // The generator carries what the epoch start computed (DeepCluster's labels).
        let model = task.on_epoch_start(model, 0, &data)?.model;
        let (generator, trained) = match self.checkpoint {
            Some(_) => (task.val_generator()?, Some(model.valid())),
            None => (task.generator()?, None),
        };
        shown
            .iter()
            .map(|&i| {
                let image = setup.images.conform(&self.source.get(i)?.image);
                let sample =
                    generator.generate(&image, i, &mut sample_rng(setup.seed, 0, i as u64))?;
                let mut row = generator.picture(&sample);
                if let Some(trained) = &trained {
                    row.extend(task.predicted_pictures(trained, &sample, self.device)?);
                }
                Ok(row)
            })
            .collect()
    }
}

/// How many of the source's first images `show` prepares the task on.
const SHOW_CONTEXT: usize = 1000;

/// The first `count` images of `source` as the generator of `config`'s method turns them into
/// samples (epoch 0), one gallery row per image. With a checkpoint folder, its task state and
/// weights are used (a permutation set, cluster assignments), samples are drawn as validation
/// draws them, and each row ends with the network's predictions where the method draws them
/// ([`PretextTask::predicted_pictures`]); without, the task prepares itself on the source's
/// first 1,000 images (or all, if fewer).
pub fn show(
    config: &RunConfig,
    source: &dyn ImageSource,
    count: usize,
    checkpoint: Option<&Path>,
    device: &Device,
) -> Result<Vec<Vec<Image>>> {
    method_of(config)?.visit(Showing {
        config,
        source,
        count,
        checkpoint,
        device,
    })
}
