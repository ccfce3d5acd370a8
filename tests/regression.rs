//! Regression tests for the correctness gaps of issue 7, one each, through the CLI where a
//! user met them.

use std::path::Path;

use crate::cli::{fails_with, selfsup, text};

/// A tiny rotation run on 64 images of the sample's test split, 2 blocks, 16 px.
fn tiny_run(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "train",
        "rotation",
        "--data",
        "sample:test",
        "--out",
        dir.to_str().unwrap(),
        "--set",
        "train.max_images=64",
        "--set",
        "backbone.widths=[4,8]",
        "--set",
        "train.image_size=16",
        "--set",
        "train.batch_size=16",
        "--set",
        "train.epochs=1",
    ];
    args.extend(extra);
    selfsup(&args)
}

#[test]
fn a_probe_never_trains_and_tests_on_the_same_images() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    assert!(tiny_run(&run, &[]).status.success());
    let run = run.to_str().unwrap();
    // `sample:test` has no test split of its own: its default was itself.
    fails_with(
        &["eval", "knn", "--checkpoint", run, "--data", "sample:test"],
        "same images",
    );
    fails_with(
        &[
            "eval",
            "knn",
            "--checkpoint",
            run,
            "--data",
            "sample",
            "--test",
            "sample",
        ],
        "same images",
    );
}

#[test]
fn resume_keeps_its_data_and_its_plan() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    assert!(tiny_run(&run, &[]).status.success());
    let run_s = run.to_str().unwrap();
    // Without --data, resuming reads the data the run was trained on.
    let out = selfsup(&[
        "train",
        "rotation",
        "--resume",
        run_s,
        "--set",
        "train.epochs=2",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    // Other data is refused unless asked for.
    let resume = [
        "train",
        "rotation",
        "--resume",
        run_s,
        "--set",
        "train.epochs=3",
    ];
    let with = |extra: &[&'static str]| [&resume[..], extra].concat();
    fails_with(&with(&["--data", "sample"]), "was trained on sample:test");
    // Changing what the run is, rather than its length, is refused and names the key.
    fails_with(&with(&["--set", "train.batch_size=8"]), "train.batch_size");
    fails_with(&with(&["--set", "train.max_images=32"]), "train.max_images");
    fails_with(
        &with(&["--set", "train.val_fraction=0.5"]),
        "train.val_fraction",
    );
    fails_with(
        &[
            "train",
            "rotation",
            "--resume",
            run_s,
            "--set",
            "train.epochs=1",
        ],
        "fewer than the 2 epochs",
    );
    let out = selfsup(&with(&["--data", "sample", "--change-data"]));
    assert!(out.status.success(), "{}", text(&out).1);
}

#[test]
fn extending_a_cosine_run_does_not_raise_the_learning_rate() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    assert!(
        tiny_run(&run, &["--set", "train.schedule.kind=\"cosine\""])
            .status
            .success()
    );
    let out = selfsup(&[
        "train",
        "rotation",
        "--resume",
        run.to_str().unwrap(),
        "--set",
        "train.epochs=2",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let rates: Vec<f64> = csv
        .lines()
        .filter(|l| l.contains(",train,"))
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(rates.len(), 8, "{csv}");
    assert!(rates.windows(2).all(|w| w[1] <= w[0]), "{rates:?}");
}

#[test]
fn an_empty_training_split_is_an_error_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = tiny_run(&run, &["--set", "train.max_images=0"]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("no training images"), "{stderr}");
    assert!(!run.join("checkpoints/last").exists());
    // One image, half held out: rounding leaves none to train on.
    let out = tiny_run(
        &run,
        &[
            "--set",
            "train.max_images=1",
            "--set",
            "train.val_fraction=0.5",
        ],
    );
    assert!(
        text(&out).1.contains("no training images"),
        "{}",
        text(&out).1
    );
}

#[test]
fn inputs_too_small_for_the_pooling_name_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let out = selfsup(&[
        "train",
        "rotation",
        "--out",
        dir.path().join("run").to_str().unwrap(),
        "--set",
        "train.image_size=6",
    ]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("6-pixel") && stderr.contains("at least 8"),
        "{stderr}"
    );
    let out = tiny_run(&dir.path().join("crop"), &["--set", "rotation.crop=1"]);
    assert!(text(&out).1.contains("1-pixel"), "{}", text(&out).1);
}

#[test]
fn non_finite_settings_are_rejected_with_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = tiny_run(&run, &["--set", "train.schedule.warmup_epochs=nan"]);
    assert!(
        text(&out).1.contains("train.schedule.warmup_epochs"),
        "{}",
        text(&out).1
    );
    assert!(tiny_run(&run, &[]).status.success());
    let run = run.to_str().unwrap();
    for (flag, value, needle) in [
        ("--temperature", "0", "temperature"),
        ("--temperature", "nan", "temperature"),
        ("--c", "0", "probe C"),
        ("--k", "0", "neighbour"),
    ] {
        fails_with(
            &[
                "eval",
                "knn",
                "linear",
                "--checkpoint",
                run,
                "--data",
                "sample",
                flag,
                value,
            ],
            needle,
        );
    }
}

#[test]
fn eval_defaults_to_the_methods_representation_block() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // Four blocks: RotNet's representation is block 3, the one before the pretext block.
    assert!(
        tiny_run(&run, &["--set", "backbone.widths=[4,4,8,8]"])
            .status
            .success()
    );
    let out = selfsup(&[
        "eval",
        "knn",
        "--checkpoint",
        run.to_str().unwrap(),
        "--data",
        "sample",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("block 3 global"), "{stdout}");
}

/// Rewrites one tensor of a safetensors file (or drops it when `f` gives `None`).
fn edit_tensor(path: &Path, name: &str, f: impl Fn(&[u8]) -> Option<Vec<u8>>) {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut kept = Vec::new();
    for (n, view) in file.tensors() {
        let data = if n == name {
            f(view.data())
        } else {
            Some(view.data().to_vec())
        };
        if let Some(data) = data {
            kept.push((n, view.dtype(), view.shape().to_vec(), data));
        }
    }
    let views: Vec<_> = kept
        .iter()
        .map(|(n, d, s, data)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), data).unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn broken_weights_are_named_not_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    assert!(tiny_run(&run, &[]).status.success());
    let last = run.join("checkpoints/last");
    let file = last.join("model.safetensors");
    let original = std::fs::read(&file).unwrap();
    let eval = [
        "eval",
        "knn",
        "--checkpoint",
        last.to_str().unwrap(),
        "--data",
        "sample",
    ];
    // A diverged checkpoint: NaN in one tensor.
    edit_tensor(&file, "backbone.blocks.1.0.conv.weight", |data| {
        let mut data = data.to_vec();
        data[..4].copy_from_slice(&f32::NAN.to_le_bytes());
        Some(data)
    });
    fails_with(&eval, "tensor 'backbone.blocks.1.0.conv.weight' holds NaN");
    // A missing tensor: named, without Burn's internal hints.
    std::fs::write(&file, &original).unwrap();
    edit_tensor(&file, "backbone.blocks.0.1.conv.weight", |_| None);
    let stderr = fails_with(&eval, "backbone.blocks.0.1.conv.weight");
    assert!(!stderr.contains("allow_partial"), "{stderr}");
}

#[test]
fn a_folder_of_mnist_layout_idx_files_is_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let sample =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/selfsup-data/data/fashion-mnist-sample");
    for name in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(sample.join(name), dir.path().join(name)).unwrap();
    }
    let root = dir.path().to_str().unwrap();
    let out = selfsup(&["data", "info", root]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("images:   5000"), "{stdout}");
    let out = selfsup(&["data", "info", &format!("{root}:test")]);
    assert!(text(&out).0.contains("images:   1000"), "{}", text(&out).0);
}
