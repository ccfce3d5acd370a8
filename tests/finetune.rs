//! Fine-tuning (issue 13): a pretrained backbone with a new head, trained end to end, through
//! the library and the CLI.

use std::path::Path;

use selfsup::train::checkpoint;
use selfsup::train::task::labelled_source;
use selfsup::train::{Method, MethodConfig, RunConfig, RunOptions};

use crate::cli::{fails_with, selfsup, text};
use crate::methods::tiny_config;
use crate::rotation::{flex, options, sample};
use crate::testutil::{in_own_process, single_threaded, tensors};

/// A tiny pretrained rotation run in `dir`.
fn pretrained(dir: &Path) {
    Method::Rotation
        .train(
            &tiny_config(Method::Rotation, 1),
            sample(),
            &flex(),
            &options(dir, false),
        )
        .unwrap();
}

/// `selfsup finetune` of `pretrained` for 4 steps of 8 images, then `extra` (the data...).
fn tiny_finetune<'a>(pretrained: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "finetune",
        "--checkpoint",
        pretrained.to_str().unwrap(),
        "--set",
        "finetune.steps=4",
        "--set",
        "train.batch_size=8",
    ];
    args.extend_from_slice(extra);
    args
}

/// A fine-tuning configuration of `pretrained`'s backbone, as `selfsup finetune` builds it.
fn finetune_config(pretrained: &Path, overrides: &[&str]) -> RunConfig {
    let mut config = RunConfig::for_method(Method::Finetune);
    let network = checkpoint::load_state(&pretrained.join("checkpoints/last"))
        .unwrap()
        .network(None)
        .unwrap()
        .clone();
    config.backbone = network.backbone;
    config.train.image_size = Some(network.input.side);
    config.train.channels = Some(1);
    config.train.epochs = 2;
    config.train.batch_size = 8;
    config.train.max_images = Some(48);
    if let MethodConfig::Finetune(s) = &mut config.method {
        s.checkpoint = Some(pretrained.to_path_buf());
        s.steps = 6;
    }
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    config.with_overrides(&overrides).unwrap()
}

fn weights(run: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    tensors(&run.join("checkpoints/last/model.safetensors"))
}

#[test]
fn fine_tuning_moves_the_backbone_but_not_its_frozen_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pre");
    pretrained(&pre);
    let before = weights(&pre);
    for (freeze, name) in [(0, "free"), (1, "frozen"), (2, "all frozen")] {
        let run = dir.path().join(name);
        let config = finetune_config(&pre, &[&format!("finetune.freeze_blocks={freeze}")]);
        let history = Method::Finetune
            .train(&config, sample(), &flex(), &options(&run, false))
            .unwrap();
        assert_eq!(history.len(), 2);
        let after = weights(&run);
        // The head has one output per class.
        let head = after.keys().find(|k| k.as_str() == "fc.weight").unwrap();
        assert_eq!(after[head].len(), 10 * 8 * 4, "[10, 8] f32");
        let mut compared = 0;
        for (tensor, bytes) in &after {
            let Some(path) = tensor.strip_prefix("backbone.blocks.") else {
                continue;
            };
            // The pretrained file names the backbone's tensors as the classifier does.
            let original = &before[tensor];
            compared += 1;
            let block: usize = path[..1].parse().unwrap();
            if block < freeze {
                assert_eq!(bytes, original, "{tensor} is frozen, bitwise");
            } else if tensor.ends_with("conv.weight") {
                assert_ne!(bytes, original, "{tensor} should have been tuned");
            }
        }
        // 2 blocks of 2 layers, each a convolution and BatchNorm's 4 tensors.
        assert_eq!(compared, 2 * 2 * 5, "every backbone tensor compared");
        // Validation accuracy picks `best`; the run is probe-able like any other.
        assert!(run.join("checkpoints/best/state.json").is_file());
        let (backbone, _, _) = checkpoint::load_network(&run, None, false, &flex()).unwrap();
        assert_eq!(backbone.block_channels(), [4, 8]);
    }
}

#[test]
fn the_backbone_multiplier_reaches_its_optimiser() {
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pre");
    pretrained(&pre);
    let run = dir.path().join("run");
    let config = finetune_config(
        &pre,
        &[
            "finetune.backbone_lr=0.1",
            "train.schedule.kind=\"constant\"",
            "train.schedule.warmup_epochs=0.0",
        ],
    );
    let history = Method::Finetune
        .train(&config, sample(), &flex(), &options(&run, false))
        .unwrap();
    let lr = &history[1].lr;
    assert!(
        (lr["backbone"] - 1e-4).abs() < 1e-12 && (lr["head"] - 1e-3).abs() < 1e-12,
        "{lr:?}"
    );
}

#[test]
fn the_cli_fine_tunes_tests_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pre");
    pretrained(&pre);
    let run = dir.path().join("ft");
    fn args<'a>(pre: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
        let labelled = ["--data", "sample", "--labels-per-class", "5"];
        tiny_finetune(
            pre,
            &[&labelled[..], &["--set", "train.epochs=2"], extra].concat(),
        )
    }
    let out = selfsup(&args(&pre, &["--out", run.to_str().unwrap()]));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("test accuracy") && stdout.contains("1000 images"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("test.json")).unwrap()).unwrap();
    assert!(report["accuracy"].as_f64().unwrap() > 0.0);
    let state = checkpoint::load_state(&run.join("checkpoints/last")).unwrap();
    assert_eq!(state.data.images, 50, "5 labels for each of 10 classes");

    let csv = dir.path().join("pred.csv");
    let out = selfsup(&[
        "predict",
        "--checkpoint",
        run.to_str().unwrap(),
        "--data",
        "sample:test",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 1001, "a header and one line an image");
    assert!(csv.lines().nth(1).unwrap().split(',').count() == 4);

    // One image file, every class's probability, printed.
    let png = dir.path().join("one.png");
    crate::testutil::write_image(&png, 20, 24, 3);
    let out = selfsup(&[
        "predict",
        "--checkpoint",
        run.to_str().unwrap(),
        "--all-classes",
        png.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].contains("p_0_T-shirt/top"), "{stdout}");
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(fields.len(), 4 + 10, "{stdout}");
    let p: Vec<f64> = fields[4..].iter().map(|v| v.parse().unwrap()).collect();
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-3, "{stdout}");
    let best: usize = fields[1].parse().unwrap();
    assert_eq!(fields[3].parse::<f64>().unwrap(), p[best], "{stdout}");

    // The fine-tuned backbone is a network like any other for the probes.
    let out = selfsup(&[
        "eval",
        "knn",
        "--checkpoint",
        run.to_str().unwrap(),
        "--data",
        "sample",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(text(&out).0.contains("k-NN"), "{}", text(&out).0);

    // The same recipe from random weights.
    let scratch = dir.path().join("scratch");
    let out = selfsup(&args(
        &pre,
        &["--random-init", "--out", scratch.to_str().unwrap()],
    ));
    assert!(out.status.success(), "{}", text(&out).1);
    let state = checkpoint::load_state(&scratch.join("checkpoints/last")).unwrap();
    let MethodConfig::Finetune(settings) = &state.config.method else {
        panic!("a fine-tuning run")
    };
    assert!(settings.random_init);
    assert_ne!(weights(&scratch), weights(&run));

    // Bad input: a missing checkpoint, too many labels per class, a pretext run given to predict.
    let missing = dir.path().join("nothing");
    let (x, y) = (dir.path().join("x"), dir.path().join("y"));
    fails_with(
        &tiny_finetune(
            &missing,
            &["--data", "sample", "--out", x.to_str().unwrap()],
        ),
        "nothing",
    );
    fails_with(
        &tiny_finetune(
            &pre,
            &[
                "--data",
                "sample",
                "--labels-per-class",
                "600",
                "--out",
                y.to_str().unwrap(),
            ],
        ),
        "fewer than the 600 labels per class",
    );
    fails_with(
        &[
            "predict",
            "--checkpoint",
            pre.to_str().unwrap(),
            "--data",
            "sample:test",
        ],
        "is a rotation run",
    );
}

#[test]
fn a_fine_tuned_run_needs_its_pretrained_checkpoint_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pre");
    pretrained(&pre);
    let run = dir.path().join("ft");
    let run_arg = run.to_str().unwrap();
    let out = selfsup(&tiny_finetune(
        &pre,
        &[
            "--data",
            "sample",
            "--labels-per-class",
            "5",
            "--set",
            "train.epochs=1",
            "--out",
            run_arg,
        ],
    ));
    assert!(out.status.success(), "{}", text(&out).1);
    // The pretrained run goes; the fine-tuned one still resumes, predicts and is probed.
    std::fs::remove_dir_all(&pre).unwrap();
    for args in [
        &["finetune", "--resume", run_arg, "--set", "train.epochs=2"][..],
        &["predict", "--checkpoint", run_arg, "--data", "sample:test"],
        &["eval", "knn", "--checkpoint", run_arg, "--data", "sample"],
    ] {
        let out = selfsup(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out).1);
    }
    let state = checkpoint::load_state(&run.join("checkpoints/last")).unwrap();
    assert_eq!(state.epoch, 2);
}

#[test]
fn fine_tuning_a_checkpoint_resumes_exactly() {
    in_own_process("finetune::resume_of_a_checkpoints_subset_with_frozen_blocks");
}

#[test]
#[ignore = "bitwise: run alone in its own process by fine_tuning_a_checkpoint_resumes_exactly"]
fn resume_of_a_checkpoints_subset_with_frozen_blocks() {
    single_threaded(|| {
        let dir = tempfile::tempdir().unwrap();
        let pre = dir.path().join("pre");
        pretrained(&pre);
        // As `selfsup finetune` runs it: pretrained weights, a labelled subset, a frozen block.
        let config = finetune_config(
            &pre,
            &["finetune.labels_per_class=3", "finetune.freeze_blocks=1"],
        );
        let MethodConfig::Finetune(settings) = &config.method else {
            unreachable!()
        };
        let source = labelled_source(settings, sample()).unwrap();
        let run = |name: &str, resume: bool, stop_after: Option<usize>| {
            let options = RunOptions {
                stop_after,
                ..options(&dir.path().join(name), resume)
            };
            Method::Finetune
                .train(&config, source.clone(), &flex(), &options)
                .unwrap()
        };
        run("straight", false, None);
        run("split", false, Some(1));
        assert_eq!(run("split", true, None).len(), 2);
        assert_eq!(
            weights(&dir.path().join("straight")),
            weights(&dir.path().join("split"))
        );
    });
}

#[test]
fn an_unlabelled_source_cannot_be_fine_tuned() {
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pre");
    pretrained(&pre);
    let images = dir.path().join("unlabelled");
    for i in 0..12 {
        crate::testutil::write_image(&images.join(format!("{i}.png")), 16, 16, i as u8);
    }
    let source = std::sync::Arc::new(
        selfsup::data::ImageFolder::open(&images, selfsup::data::FolderOptions::default()).unwrap(),
    );
    let mut config = finetune_config(&pre, &[]);
    config.train.max_images = None;
    let err = Method::Finetune
        .train(
            &config,
            source,
            &flex(),
            &options(&dir.path().join("run"), false),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no label"), "{err}");
    let out = dir.path().join("cli");
    fails_with(
        &tiny_finetune(
            &pre,
            &[
                "--data",
                images.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        ),
        "have no labels: fine-tuning needs labelled images",
    );
}

#[path = "../examples/custom_pretext.rs"]
#[allow(dead_code)]
mod custom_pretext;

/// examples/custom_pretext.rs: a pretext task written outside the crates trains through the
/// shared trainer and is probed by the shared probes.
#[test]
fn a_pretext_task_defined_outside_selfsup_trains_and_probes() {
    let dir = tempfile::tempdir().unwrap();
    let (pretrained, random) = custom_pretext::train_and_probe(
        dir.path(),
        1,
        Some(256),
        selfsup::train::BackendKind::Flex,
    )
    .unwrap();
    assert_eq!(pretrained.len(), 4);
    assert_eq!(random.len(), 4);
    let state = checkpoint::load_state(&dir.path().join("checkpoints/last")).unwrap();
    assert_eq!(state.method, "flip");
    let metrics = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    let steps = metrics.lines().filter(|l| l.contains(",train,")).count();
    assert!(steps >= 3, "a few steps of 64 images: {steps}");
    let config = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(
        config.contains("method = \"flip\"") && config.contains("[flip]"),
        "{config}"
    );
}

#[test]
fn bad_checkpoints_and_test_sets_are_named_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pre");
    pretrained(&pre);
    let models = || {
        ["best", "last"]
            .map(|c| pre.join("checkpoints").join(c).join(checkpoint::MODEL_FILE))
            .into_iter()
            .filter(|f| f.is_file())
    };
    let finetune = |name: &str| {
        Method::Finetune
            .train(
                &finetune_config(&pre, &[]),
                sample(),
                &flex(),
                &options(&dir.path().join(name), false),
            )
            .unwrap_err()
            .to_string()
    };

    // Test images that cannot score the run are refused before training: other classes than
    // the training images', or none.
    let with_test = |test: &Path, out: &str, says: &str| {
        let out = dir.path().join(out);
        let args = [
            "--data",
            "sample",
            "--test",
            test.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        fails_with(&tiny_finetune(&pre, &args), says);
        assert!(!out.join("checkpoints").exists(), "nothing trained");
    };
    let two = dir.path().join("two-classes");
    crate::testutil::class_folder(&two);
    with_test(&two, "t", "have 2 classes, the training images 10");
    let unlabelled = dir.path().join("unlabelled");
    for i in 0..3 {
        crate::testutil::write_image(&unlabelled.join(format!("{i}.png")), 8, 8, i);
    }
    with_test(&unlabelled, "u", "have no labels");

    // Weights of another architecture than the checkpoint declares.
    let other = selfsup::models::RotNetConfig {
        backbone: selfsup::models::backbone::BackboneConfig::ConvNet {
            widths: vec![4, 16],
        },
    }
    .init(1, &flex());
    for file in models() {
        checkpoint::save_weights(&other, &file).unwrap();
    }
    let err = finetune("wrong");
    assert!(
        err.contains("model.safetensors") && err.contains("does not fit the model"),
        "{err}"
    );

    // A truncated weights file.
    for file in models() {
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    }
    let err = finetune("truncated");
    assert!(
        err.contains("model.safetensors") && err.contains("unreadable"),
        "{err}"
    );
}
