//! Every built-in method through the shared machinery, written once: its loss falls on a fixed
//! batch, it resumes exactly, it draws samples; then what is particular to some methods.

use std::path::Path;
use std::sync::Arc;

use burn::prelude::*;
use selfsup::data::pretext::{PretextGenerator, sample_rng};
use selfsup::data::{FolderOptions, ImageSource, open_source};
use selfsup::train::checkpoint::{self, MODEL_FILE, TASK_FILE};
use selfsup::train::task::{PretextTask, SampleOf, StepInfo, TaskData, TaskState};
use selfsup::train::{
    Method, MethodVisitor, Optimizers, RunConfig, RunOptions, SchedulePlan, TrainError, setup, show,
};

use crate::cli::{fails_with, selfsup, text};
use crate::rotation::{flex, options, sample};
use crate::testutil::{in_own_process, single_threaded, tensors};

/// A tiny configuration of `method`: a 2-block backbone, few images, small batches, Adam.
pub fn tiny_config(method: Method, epochs: usize) -> RunConfig {
    let mut overrides = vec![
        format!("train.epochs={epochs}"),
        "train.batch_size=8".into(),
        "train.max_images=48".into(),
        "train.val_fraction=0.25".into(),
        "train.optimizer.kind=\"adam\"".into(),
        "train.optimizer.lr=0.003".into(),
        "train.schedule.kind=\"cosine\"".into(),
        "backbone.widths=[4, 8]".into(),
    ];
    match method {
        Method::Rotation => overrides.push("train.image_size=16".into()),
        Method::Jigsaw => overrides.push("jigsaw.puzzle.permutations=10".into()),
        Method::DeepCluster => {
            overrides.push("deep_cluster.kmeans.k=4".into());
            overrides.push("deep_cluster.pca_dims=4".into());
            overrides.push("train.val_fraction=0.0".into());
        }
        Method::ContextPrediction => {}
        Method::Colorization => {
            overrides.push("train.image_size=16".into());
            overrides.push("colorization.prior_images=48".into());
        }
        Method::Inpainting => {
            overrides.push("train.image_size=16".into());
            overrides.push("inpainting.mean_images=48".into());
            overrides.push("inpainting.discriminator_width=4".into());
        }
        Method::SuperRes => {
            overrides.push("train.image_size=16".into());
            overrides.push(
                "superres={channels=8, blocks=1, discriminator_width=4, \
                 discriminator_pairs=2, discriminator_hidden=8, tile=16, \
                 gan={warmup_epochs=1}}"
                    .into(),
            );
        }
        Method::Synthetic => {
            overrides.push("train.image_size=16".into());
            overrides.push(
                "synthetic={decoder_width=4, discriminator_width=4, discriminator_hidden=8, \
                 baseline_scenes=4}"
                    .into(),
            );
        }
        Method::Finetune => {
            overrides.push("finetune.steps=12".into());
            // Its default warm-up spans the first epoch, which a few steps never leave.
            overrides.push("train.schedule.warmup_epochs=0.0".into());
        }
    }
    RunConfig::for_method(method)
        .with_overrides(&overrides)
        .unwrap()
}

/// The images `method` trains on in these tests: the bundled colour photos (16-pixel crops)
/// for the image-to-image methods, the bundled Fashion-MNIST sample for the others.
pub fn source_of(method: Method) -> Arc<dyn ImageSource> {
    match method {
        Method::Colorization | Method::Inpainting | Method::SuperRes => Arc::from(
            open_source("photos-sample?crop=16&crops=12", FolderOptions::default()).unwrap(),
        ),
        _ => sample(),
    }
}

fn method_of<T: PretextTask>() -> Method {
    Method::from_name(T::NAME).unwrap()
}

pub(crate) fn task_for<T: PretextTask>(config: &RunConfig) -> T {
    let settings = config.method.settings_of::<T>().unwrap();
    let source = source_of(method_of::<T>());
    T::new(&settings, &setup(config, source.as_ref()).unwrap()).unwrap()
}

/// Prepares `task` on the first 32 test images as a run would, and returns the network
/// after the first epoch-start hook and 16 samples.
pub(crate) fn ready<T: PretextTask>(
    task: &mut T,
    config: &RunConfig,
    device: &Device,
) -> (T::Model, Vec<SampleOf<T>>) {
    let source = source_of(method_of::<T>());
    let images = setup(config, source.as_ref()).unwrap().images;
    let train: Vec<usize> = (0..32).collect();
    let data = TaskData {
        source: source.as_ref(),
        train: &train,
        val: &[],
        images: &images,
        seed: 0,
        device,
        batch_size: 32,
    };
    device.seed(0);
    let model = task.model(device);
    task.prepare(&data).unwrap();
    let model = task.on_epoch_start(model, 0, &data).unwrap().model;
    let generator = task.generator().unwrap();
    let samples = (0..16)
        .map(|i| {
            let image = images.conform(&source.get(i).unwrap().image);
            generator
                .generate(&image, i, &mut sample_rng(0, 0, i as u64))
                .unwrap()
        })
        .collect();
    (model, samples)
}

struct LossFalls;

impl MethodVisitor for LossFalls {
    type Output = ();

    fn visit<T: PretextTask>(self) {
        let config = tiny_config(method_of::<T>(), 1);
        let mut task: T = task_for(&config);
        let device = flex().autodiff();
        let (mut model, samples) = ready(&mut task, &config, &device);
        let batch = task.collate(samples, &device);
        let mut optimizers = Optimizers::new(task.optimizers(&config.train)).unwrap();
        let mut losses = Vec::new();
        for step in 0..50 {
            optimizers.set_step(&SchedulePlan::new(1000, 1), 0);
            let info = StepInfo {
                step,
                epoch: 0,
                steps_per_epoch: 1000,
            };
            let (next, out) = task
                .train_step(model, &batch, &mut optimizers, info)
                .unwrap();
            model = next;
            losses.push(out.loss.into_scalar::<f32>());
        }
        let (first, last) = (losses[0], losses[49]);
        assert!(
            last < 0.8 * first,
            "{}: loss {first} -> {last}: {losses:?}",
            T::NAME
        );
    }
}

#[test]
fn every_method_lowers_its_loss_on_a_fixed_batch() {
    for method in Method::ALL {
        method.visit(LossFalls);
    }
}

#[test]
fn every_method_resumes_exactly_and_round_trips_its_checkpoint() {
    in_own_process("methods::resume_and_round_trip_of_every_method");
}

#[test]
#[ignore = "bitwise: run alone in its own process by every_method_resumes_exactly_and_round_trips_its_checkpoint"]
fn resume_and_round_trip_of_every_method() {
    single_threaded(|| {
        for &method in Method::ALL {
            let (straight, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let config = tiny_config(method, 2);
            let run = |dir: &Path, resume: bool, stop_after: Option<usize>| {
                let options = RunOptions {
                    stop_after,
                    ..options(dir, resume)
                };
                method
                    .train(&config, source_of(method), &flex(), &options)
                    .unwrap()
            };
            run(straight.path(), false, None);
            run(split.path(), false, Some(1));
            let history = run(split.path(), true, None);
            assert_eq!(history.len(), 2, "{method}");
            let last = |d: &Path, f: &str| d.join("checkpoints/last").join(f);
            assert_eq!(
                tensors(&last(straight.path(), MODEL_FILE)),
                tensors(&last(split.path(), MODEL_FILE)),
                "{method}: weights differ after resuming"
            );
            let task_file = last(straight.path(), TASK_FILE);
            if task_file.exists() {
                assert_eq!(
                    tensors(&task_file),
                    tensors(&last(split.path(), TASK_FILE)),
                    "{method}"
                );
            }
            // The checkpoint loads back into a fresh network of the method.
            let state = checkpoint::load_state(&straight.path().join("checkpoints/last")).unwrap();
            assert_eq!(state.method, method.name());
            let (backbone, network, _) = checkpoint::load_network(
                &straight.path().join("checkpoints/last"),
                None,
                false,
                &flex(),
            )
            .unwrap();
            assert_eq!(network, state.networks[0], "{method}: the default network");
            assert_eq!(
                backbone.block_channels().len(),
                network.backbone.blocks(),
                "{method}"
            );
            if method != Method::SuperRes {
                // The run's [backbone]; SRGAN's trunk is its own.
                assert_eq!(backbone.block_channels(), [4, 8], "{method}");
            }
        }
    });
}

#[test]
fn every_method_shows_its_samples() {
    for &method in Method::ALL {
        let rows = show(
            &tiny_config(method, 1),
            source_of(method).as_ref(),
            3,
            None,
            &flex(),
        )
        .unwrap();
        assert_eq!(rows.len(), 3, "{method}");
        assert!(rows.iter().all(|r| !r.is_empty()), "{method}");
    }
    let dir = tempfile::tempdir().unwrap();
    for (method, columns) in [("jigsaw", 9), ("context", 9), ("deepcluster", 1)] {
        let out = selfsup(&[
            "show",
            method,
            "--out",
            dir.path().to_str().unwrap(),
            "--count",
            "2",
        ]);
        assert!(out.status.success(), "{method}: {}", text(&out).1);
        let name = Method::from_name(method).unwrap().name();
        let png = image::open(dir.path().join(format!("{name}.png"))).unwrap();
        assert!(
            png.width() >= columns as u32 * png.height() / 2 / 2,
            "{method}"
        );
    }
}

#[test]
fn the_permutation_command_reports_the_papers_distances() {
    let out = selfsup(&["jigsaw", "permutations", "--n", "100"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    // Noroozi & Favaro, Table 1: the 100-permutation set has mean distance 8.08, minimum 2.
    assert!(
        stdout.contains("minimum Hamming distance 2, mean 8.08"),
        "{stdout}"
    );
    fails_with(&["jigsaw", "permutations", "--n", "400000"], "362880");
}

#[test]
fn a_jigsaw_run_refuses_more_permutations_than_exist_before_building_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    fails_with(
        &[
            "train",
            "jigsaw",
            "--data",
            "sample",
            "--out",
            run.to_str().unwrap(),
            "--set",
            "jigsaw.puzzle.permutations=400000",
        ],
        "jigsaw.puzzle.permutations: 400000 permutations asked for: a set holds 1 to 362880",
    );
    assert!(!run.join("checkpoints").exists());
}

#[test]
fn a_jigsaw_run_keeps_its_permutation_set() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("perms.txt");
    let out = selfsup(&[
        "jigsaw",
        "permutations",
        "--n",
        "10",
        "--seed",
        "5",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let mut config = tiny_config(Method::Jigsaw, 1);
    config = config
        .with_overrides(&[format!(
            "jigsaw.puzzle.permutation_file={:?}",
            file.to_str().unwrap()
        )])
        .unwrap();
    let run = dir.path().join("run");
    Method::Jigsaw
        .train(&config, sample(), &flex(), &options(&run, false))
        .unwrap();
    let saved = TaskState::load(&run.join("checkpoints/last").join(TASK_FILE)).unwrap();
    assert_eq!(saved.i64("permutations").unwrap().0, [10, 9]);
    // The file changes under the run: resuming refuses the mismatch instead of using another set.
    let out = selfsup(&[
        "jigsaw",
        "permutations",
        "--n",
        "10",
        "--seed",
        "6",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    config.train.epochs = 2;
    let err = Method::Jigsaw
        .train(&config, sample(), &flex(), &options(&run, true))
        .unwrap_err();
    assert!(
        err.to_string().contains("does not match the checkpoint"),
        "{err}"
    );
}

#[test]
fn deep_cluster_relabels_and_replaces_its_head_every_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(Method::DeepCluster, 2);
    let history = Method::DeepCluster
        .train(&config, sample(), &flex(), &options(dir.path(), false))
        .unwrap();
    let state = checkpoint::load_state(&dir.path().join("checkpoints/last")).unwrap();
    assert_eq!(
        state.generations.get("fc"),
        Some(&2),
        "the head was replaced twice"
    );
    assert!(!dir.path().join("checkpoints/best").exists());
    for record in &history {
        for metric in [
            "nmi_labels",
            "cluster_min",
            "cluster_max",
            "kmeans_objective",
            "cluster_seconds",
            "extract_seconds",
        ] {
            assert!(
                record.hook.contains_key(metric),
                "{metric}: {:?}",
                record.hook
            );
        }
        assert!(record.hook["cluster_min"] >= 1.0, "no empty cluster");
    }
    assert!(history[1].hook.contains_key("nmi_previous"));
    let csv = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("nmi_labels"), "{csv}");
    // The hook itself: a new head each time, whose weights differ from the last.
    let mut task: selfsup::train::DeepClusterTask = task_for(&config);
    let device = flex().autodiff();
    let (model, _) = ready(&mut task, &config, &device);
    let before = model.fc.weight.val().into_data();
    let source = sample();
    let train: Vec<usize> = (0..32).collect();
    let images = setup(&config, source.as_ref()).unwrap().images;
    let data = TaskData {
        source: source.as_ref(),
        train: &train,
        val: &[],
        images: &images,
        seed: 0,
        device: &device,
        batch_size: 32,
    };
    let start = task.on_epoch_start(model, 1, &data).unwrap();
    assert_eq!(start.reinitialized, ["fc"]);
    assert_ne!(start.model.fc.weight.val().into_data(), before);
}

#[test]
fn deep_cluster_refuses_what_it_cannot_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let attempt = |extra: &[&str]| {
        let overrides: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let config = tiny_config(Method::DeepCluster, 1)
            .with_overrides(&overrides)
            .unwrap();
        Method::DeepCluster
            .train(
                &config,
                sample(),
                &flex(),
                &options(&dir.path().join(extra.join("_")), false),
            )
            .unwrap_err()
            .to_string()
    };
    let err = attempt(&["deep_cluster.kmeans.k=100"]);
    assert!(
        err.contains("k is 100") && err.contains("48 training images"),
        "{err}"
    );
    let err = attempt(&["deep_cluster.pca_dims=9"]);
    assert!(err.contains("9 exceeds the 8 feature dimensions"), "{err}");
    let err = attempt(&["train.max_images=1"]);
    assert!(err.contains("1 training images"), "{err}");
    assert!(matches!(
        RunConfig::for_method(Method::DeepCluster)
            .with_overrides(&["deep_cluster.kmeans.k=1".into()])
            .unwrap()
            .validate(),
        Err(TrainError::InvalidConfig { .. })
    ));
}

#[test]
fn the_clustering_protocol_scores_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    Method::Rotation
        .train(
            &tiny_config(Method::Rotation, 1),
            sample(),
            &flex(),
            &options(dir.path(), false),
        )
        .unwrap();
    let out = selfsup(&[
        "eval",
        "nmi",
        "--checkpoint",
        dir.path().to_str().unwrap(),
        "--data",
        "sample",
        "--clusters",
        "10",
        "--pca-dims",
        "4",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("clustering NMI score") && stdout.contains("10 clusters"),
        "{stdout}"
    );
}

/// docs/configuration.md shows every method's defaults: each of its TOML blocks reads as the
/// defaults of the method it names, so the page cannot drift from the code.
#[test]
fn the_documented_configurations_are_the_defaults() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    let blocks: Vec<&str> = page
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(
        blocks.len(),
        9,
        "rotation (with train and backbone), jigsaw, context, deep cluster, colorization, \
         inpainting, superres, synthetic, finetune"
    );
    for block in blocks {
        let table: toml::Table = toml::from_str(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        let config = RunConfig::from_table(table, "docs/configuration.md").unwrap();
        let method = config.method.method().unwrap();
        let defaults = RunConfig::for_method(method);
        assert_eq!(
            config.method, defaults.method,
            "{method}: the documented section differs"
        );
        if block.contains("[train]") {
            assert_eq!(config, defaults, "{method}: the documented defaults differ");
        }
    }
}

#[test]
fn an_exported_backbone_gives_the_checkpoints_features() {
    use selfsup::train::eval::{Pooling, View, extract_views};
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    Method::Jigsaw
        .train(
            &tiny_config(Method::Jigsaw, 1),
            sample(),
            &flex(),
            &options(&run, false),
        )
        .unwrap();
    let file = dir.path().join("out/backbone.safetensors");
    let record = checkpoint::export_network(&run, None, &file, &flex()).unwrap();
    assert_eq!(record.method, "jigsaw");
    assert_eq!(
        record.input.side, 48,
        "the jigsaw network reads 48 px images"
    );
    let (exported, read) = checkpoint::load_exported(&file, &flex()).unwrap();
    assert_eq!(read, record);
    let (original, network, _) = checkpoint::load_network(&run, None, false, &flex()).unwrap();
    let source = sample();
    let view = [View {
        block: 1,
        pooling: Pooling::Global,
    }];
    let features = |b: &selfsup::models::backbone::Backbone| {
        extract_views(b, source.as_ref(), &[0, 1, 2], &network.input, &view, 8)
            .unwrap()
            .remove(0)
    };
    assert_eq!(features(&exported), features(&original));
    // The file carries no prefix: PyTorch loads it into the bare backbone.
    let names: Vec<String> = tensors(&file).into_keys().collect();
    assert!(names.iter().all(|n| n.starts_with("blocks.")), "{names:?}");
}

/// The patch methods learn on standardised patches, so their backbones are read on
/// standardised images, unless the patches were left as they were.
#[test]
fn patch_methods_declare_the_normalisation_their_patches_had() {
    use selfsup::data::Preprocess;
    use selfsup::train::task::{ContextTask, JigsawTask};
    let declared = |method: Method, key: &str, on: bool| {
        let config = tiny_config(method, 1)
            .with_overrides(&[format!("{key}={on}")])
            .unwrap();
        let networks = match method {
            Method::Jigsaw => task_for::<JigsawTask>(&config).networks(),
            _ => task_for::<ContextTask>(&config).networks(),
        };
        networks[0].input.preprocess
    };
    for (method, key) in [
        (Method::Jigsaw, "jigsaw.puzzle.normalize_tiles"),
        (
            Method::ContextPrediction,
            "context_prediction.patches.normalize_patches",
        ),
    ] {
        assert_eq!(
            declared(method, key, true),
            Preprocess::Standardize,
            "{method}"
        );
        assert_eq!(declared(method, key, false), Preprocess::None, "{method}");
    }
}
