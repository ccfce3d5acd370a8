//! Super-resolution (SRGAN) end to end on the bundled colour photos: tiled upsampling equals one
//! pass, a tiny run through the warm-up and the adversarial phase, held-out scores beside
//! bicubic upsampling, both probed networks, the `upscale` command and bad input.

use std::path::Path;

use burn::module::Module;
use selfsup::data::{FolderOptions, Image, open_source};
use selfsup::train::checkpoint::{self, load_network};
use selfsup::train::translate::{load_task, translate};
use selfsup::train::{Method, SuperResTask};

use crate::cli::{selfsup, text};
use crate::methods::{source_of, tiny_config};
use crate::rotation::{flex, options};

/// A two-epoch run (MSE warm-up, then adversarial) on 16-pixel crops of the bundled photos.
fn tiny_run(dir: &Path) {
    let config = tiny_config(Method::SuperRes, 2);
    let mut options = options(dir, false);
    options.data_spec = Some("photos-sample?crop=16&crops=12".into());
    Method::SuperRes
        .train(&config, source_of(Method::SuperRes), &flex(), &options)
        .unwrap();
}

fn photo_crop(h: usize, w: usize) -> Image {
    let test = open_source("photos-sample:test?crop=40", FolderOptions::default()).unwrap();
    selfsup::data::transform::crop(&test.get(0).unwrap().image, 0, 0, h, w).unwrap()
}

#[test]
fn an_srgan_run_warms_up_then_trains_adversarially_and_upsamples_any_size() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path());
    let state = checkpoint::load_state(&dir.path().join("checkpoints/last")).unwrap();
    // Epoch 1 is the SRResNet warm-up (MSE alone), epoch 2 adversarial.
    assert!(!state.history[0].train.contains_key("d_loss"));
    for name in ["mse", "adversarial", "d_loss", "d_real_acc", "d_fake_acc"] {
        assert!(state.history[1].train.contains_key(name), "{name}");
    }
    let names: Vec<&str> = state.networks.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["trunk", "discriminator"]);
    // No `best`: the lowest MSE would pick the SRResNet phase, its discriminator untrained;
    // the run is read at its last checkpoint.
    assert!(!dir.path().join("checkpoints/best").exists());
    assert_eq!(
        checkpoint::checkpoint_dir(dir.path()),
        dir.path().join("checkpoints/last")
    );
    // The trunk reads the low resolution it was trained at, the discriminator the crops.
    let (trunk, discriminator) = (&state.networks[0].input, &state.networks[1].input);
    assert_eq!(trunk.side * 4, discriminator.side);
    for name in ["trunk", "discriminator"] {
        let (backbone, network, _) = load_network(dir.path(), Some(name), false, &flex()).unwrap();
        assert_eq!(backbone.block_channels().len(), network.backbone.blocks());
    }

    // Tiles overlapping by the generator's reach give the one-pass result.
    let (task, model) =
        load_task::<SuperResTask>(&dir.path().join("checkpoints/last"), &flex()).unwrap();
    let model = model.valid();
    let low = photo_crop(13, 11);
    let tiled = task.upscale(&model.generator, &low, &flex()).unwrap();
    assert_eq!(tiled.shape(), [3, 52, 44]);
    let whole = model
        .generator
        .forward(selfsup::train::stack_images(&[low], &flex()));
    let whole = whole
        .clamp(0.0, 1.0)
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let worst = tiled
        .data()
        .iter()
        .zip(&whole)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "tiled and one-pass results differ by {worst}");

    // Held-out images of any size: cropped to a multiple of the scale, scored beside bicubic.
    let odd = photo_crop(37, 29);
    let scored = translate(dir.path(), &[odd], &flex()).unwrap();
    let t = &scored[0].translation;
    assert_eq!(t.prediction.shape(), [3, 36, 28]);
    assert_eq!(t.baselines[0].0, "bicubic");
    let scores: Vec<&str> = scored[0].scores.iter().map(|s| s.name).collect();
    assert_eq!(scores, ["psnr", "ssim"]);
    // An image smaller than the scale has no low-resolution version.
    let err = translate(dir.path(), &[photo_crop(3, 3)], &flex()).unwrap_err();
    assert!(err.to_string().contains("multiple of the scale"), "{err}");
}

#[test]
fn the_upscale_command_multiplies_the_size_and_refuses_other_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path());
    let photo = dir.path().join("small.png");
    photo_crop(10, 7).save(&photo).unwrap();
    let out_dir = dir.path().join("up");
    let args = |checkpoint: &str| {
        vec![
            "upscale".to_string(),
            "--checkpoint".into(),
            checkpoint.into(),
            photo.to_str().unwrap().into(),
            "--out".into(),
            out_dir.to_str().unwrap().into(),
        ]
    };
    let run = dir.path().to_str().unwrap();
    let out = selfsup(&args(run).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out).1);
    let up = Image::open(out_dir.join("small.png")).unwrap();
    assert_eq!(up.shape(), [3, 40, 28]);

    let other = tempfile::tempdir().unwrap();
    Method::Rotation
        .train(
            &tiny_config(Method::Rotation, 1),
            source_of(Method::Rotation),
            &flex(),
            &options(other.path(), false),
        )
        .unwrap();
    let other_run = other.path().to_str().unwrap();
    let out = selfsup(
        &args(other_run)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let stderr = text(&out).1;
    assert!(!out.status.success());
    assert!(
        stderr.contains("'rotation' checkpoint, not 'superres'"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_feature_content_loss_reads_a_frozen_selfsup_network() {
    let dir = tempfile::tempdir().unwrap();
    let rotation = dir.path().join("rotation");
    Method::Rotation
        .train(
            &tiny_config(Method::Rotation, 1),
            crate::rotation::sample(),
            &flex(),
            &options(&rotation, false),
        )
        .unwrap();
    let with = |overrides: &[String]| tiny_config(Method::SuperRes, 2).with_overrides(overrides);
    let checkpoint = format!("superres.content.checkpoint=\"{}\"", rotation.display());
    let config = with(&[checkpoint.clone(), "superres.content.block=2".into()]).unwrap();
    let run = dir.path().join("sr");
    let mut opts = options(&run, false);
    opts.data_spec = Some("photos-sample?crop=16&crops=12".into());
    Method::SuperRes
        .train(&config, source_of(Method::SuperRes), &flex(), &opts)
        .unwrap();

    // The SRResNet warm-up on the MSE, then the features.
    let state = checkpoint::load_state(&run.join("checkpoints/last")).unwrap();
    assert!(!state.history[0].train.contains_key("features"));
    assert!(
        state.history[1]
            .train
            .get("features")
            .is_some_and(|v| *v > 0.0),
        "{:?} {:?}",
        state.history[1].train,
        state.config.method
    );
    assert!(state.history[1].train.contains_key("mse"));

    // The rotation backbone rode along unchanged, running statistics included.
    let source = checkpoint::resolve(&checkpoint::checkpoint_dir(&rotation)).unwrap();
    let theirs = crate::testutil::tensors(&source.join(checkpoint::MODEL_FILE));
    let ours = crate::testutil::tensors(&run.join("checkpoints/last").join(checkpoint::MODEL_FILE));
    let mut compared = 0;
    for (name, bytes) in &theirs {
        if let Some(rest) = name.strip_prefix("backbone.") {
            assert_eq!(&ours[&format!("content.backbone.{rest}")], bytes, "{name}");
            compared += 1;
        }
    }
    assert!(compared >= 8, "two conv-BN blocks: {compared} tensors");

    let err = Method::SuperRes
        .train(
            &with(&[checkpoint, "superres.content.block=9".into()]).unwrap(),
            source_of(Method::SuperRes),
            &flex(),
            &options(&dir.path().join("bad"), false),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("superres.content.block"), "{err}");
}

#[test]
fn any_network_of_a_checkpoint_can_be_fine_tuned() {
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("srgan");
    tiny_run(&pre);
    let run = dir.path().join("ft");
    let out = selfsup(&[
        "finetune",
        "--checkpoint",
        pre.to_str().unwrap(),
        "--network",
        "discriminator",
        "--data",
        "sample",
        "--labels-per-class",
        "2",
        "--set",
        "finetune.steps=2",
        "--set",
        "train.epochs=1",
        "--set",
        "train.batch_size=8",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let pretrained = checkpoint::load_state(&pre.join("checkpoints/last")).unwrap();
    let discriminator = pretrained.network(Some("discriminator")).unwrap();
    let tuned = checkpoint::load_state(&run.join("checkpoints/last")).unwrap();
    assert_eq!(tuned.networks[0].backbone, discriminator.backbone);
    assert_eq!(tuned.networks[0].input, discriminator.input);
}
