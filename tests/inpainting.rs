//! Inpainting (Context Encoders) end to end on the bundled colour photos, and the shared GAN
//! step: each half updates only its network; a tiny run fills only the hole of images of any
//! size; the `inpaint` and `eval image` commands; bad input.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use selfsup::data::pretext::centre_mask;
use selfsup::data::{FolderOptions, Image, open_source};
use selfsup::models::PretextModel;
use selfsup::models::gan::Adversarial;
use selfsup::train::checkpoint::save_weights;
use selfsup::train::gan::{self, GanSettings, discriminator_half, generator_half};
use selfsup::train::task::{PretextTask, StepInfo};
use selfsup::train::translate::translate;
use selfsup::train::{InpaintingTask, Method, Optimizers, RunConfig, SchedulePlan};

use crate::cli::{selfsup, text};
use crate::methods::{ready, source_of, task_for, tiny_config};
use crate::rotation::{flex, options};
use crate::testutil::tensors;

/// The tensors of `module` by PyTorch name.
fn weights<M: Module>(module: &M, dir: &Path, name: &str) -> BTreeMap<String, Vec<u8>> {
    let path = dir.join(format!("{name}.safetensors"));
    save_weights(module, &path).unwrap();
    tensors(&path)
}

/// Names whose tensors differ between two snapshots.
fn changed(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    a.iter()
        .filter(|(k, v)| b[*k] != **v)
        .map(|(k, _)| k.clone())
        .collect()
}

type Model = <InpaintingTask as PretextTask>::Model;
type Batch = <Model as PretextModel>::Batch;

/// A tiny inpainting task on autodiff flex, ready for a GAN step: its network and a batch.
fn ready_to_step() -> (InpaintingTask, RunConfig, Model, Batch) {
    let config = tiny_config(Method::Inpainting, 1);
    let mut task: InpaintingTask = task_for(&config);
    let device = flex().autodiff();
    let (model, samples) = ready(&mut task, &config, &device);
    let batch = task.collate(samples, &device);
    (task, config, model, batch)
}

/// The task's optimisers at step 10 of 100.
fn optimizers(task: &InpaintingTask, config: &RunConfig) -> Optimizers {
    let mut optimizers = Optimizers::new(task.optimizers(&config.train)).unwrap();
    optimizers.set_step(&SchedulePlan::new(100, 1), 10);
    optimizers
}

#[test]
fn each_half_of_a_gan_step_updates_only_its_network() {
    let dir = tempfile::tempdir().unwrap();
    let (task, config, model, batch) = ready_to_step();
    let mut optimizers = optimizers(&task, &config);

    // The generator's pass moves its BatchNorm statistics: snapshots after it.
    let generated = model.generate(&batch);
    let (g0, d0) = (
        weights(&model.generator, dir.path(), "g0"),
        weights(&model.discriminator, dir.path(), "d0"),
    );
    let (model, verdicts) = discriminator_half(
        model,
        generated.real.clone(),
        generated.fake.clone(),
        &mut optimizers,
    )
    .unwrap();
    let names: Vec<&str> = verdicts.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["d_loss", "d_real_acc", "d_fake_acc"]);
    let (g1, d1) = (
        weights(&model.generator, dir.path(), "g1"),
        weights(&model.discriminator, dir.path(), "d1"),
    );
    assert!(changed(&g0, &g1).is_empty(), "{:?}", changed(&g0, &g1));
    assert!(changed(&d0, &d1).iter().any(|n| n.ends_with("weight")));

    let (model, output) = generator_half(
        model,
        generated.content,
        Some((generated.fake, 1e-3)),
        &mut optimizers,
    )
    .unwrap();
    assert!(output.metrics.iter().any(|(n, _)| *n == "adversarial"));
    let (g2, d2) = (
        weights(&model.generator, dir.path(), "g2"),
        weights(&model.discriminator, dir.path(), "d2"),
    );
    // Judging the generated images in training mode moves the discriminator's BatchNorm
    // statistics (as in PyTorch); its parameters stay.
    let moved = changed(&d1, &d2);
    assert!(
        moved.iter().all(|n| n.contains("running_")),
        "discriminator parameters changed in the generator's half: {moved:?}"
    );
    let learnt = changed(&g1, &g2);
    assert!(
        learnt.iter().any(|n| n.starts_with("encoder.")),
        "{learnt:?}"
    );
    assert!(learnt.iter().any(|n| n.starts_with("fc")), "{learnt:?}");
}

#[test]
fn the_gan_step_updates_the_discriminator_k_times_and_never_at_weight_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (task, config, model, batch) = ready_to_step();
    let d0 = weights(&model.discriminator, dir.path(), "d0");
    // One step from the same start under `gan`: the discriminator's tensors and the metrics.
    let step = |gan: GanSettings, name: &str| {
        let mut optimizers = optimizers(&task, &config);
        let info = StepInfo {
            step: 10,
            epoch: 0,
            steps_per_epoch: 100,
        };
        let (model, output) =
            gan::step(model.clone(), &batch, &mut optimizers, &gan, info).unwrap();
        let names: Vec<&str> = output.metrics.iter().map(|(n, _)| *n).collect();
        (
            weights(&model.discriminator, dir.path(), name),
            names.contains(&"d_loss"),
        )
    };
    let with = |weight: f64, discriminator_steps: usize| GanSettings {
        weight,
        discriminator_steps,
        warmup_epochs: 0,
        ..GanSettings::default()
    };
    let (once, judged) = step(with(1e-3, 1), "once");
    let (twice, _) = step(with(1e-3, 2), "twice");
    assert!(judged);
    assert!(changed(&d0, &once).iter().any(|n| n.ends_with("weight")));
    // The second update moves the weights on from where the first left them.
    assert!(changed(&once, &twice).iter().any(|n| n.ends_with("weight")));
    // Weight 0 is the reconstruction alone: the discriminator neither learns nor judges.
    let (untouched, judged) = step(with(0.0, 1), "zero");
    assert!(!judged);
    assert!(
        changed(&d0, &untouched).is_empty(),
        "{:?}",
        changed(&d0, &untouched)
    );
}

/// A one-epoch inpainting run on 16-pixel crops of the bundled photos.
fn tiny_run(dir: &Path) {
    let config = tiny_config(Method::Inpainting, 1);
    let mut options = options(dir, false);
    options.data_spec = Some("photos-sample?crop=16&crops=12".into());
    Method::Inpainting
        .train(&config, source_of(Method::Inpainting), &flex(), &options)
        .unwrap();
}

#[test]
fn a_context_encoder_fills_only_the_hole_of_images_of_any_size() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path());
    let state =
        selfsup::train::checkpoint::load_state(&dir.path().join("checkpoints/last")).unwrap();
    assert_eq!(state.networks[0].name, "encoder");
    assert_eq!(state.networks[0].prefix, "generator.encoder");
    assert_eq!(state.optimizers.len(), 2);
    let logged = &state.history[0].train;
    for name in ["l2", "adversarial", "d_loss", "d_real_acc", "d_fake_acc"] {
        assert!(logged.contains_key(name), "{name}: {logged:?}");
    }

    let test = open_source("photos-sample:test?crop=40", FolderOptions::default()).unwrap();
    let crop = test.get(0).unwrap().image;
    let odd = selfsup::data::transform::crop(&crop, 0, 0, 37, 29).unwrap();
    let scored = translate(dir.path(), &[crop.clone(), odd.clone()], &flex()).unwrap();
    for (s, original) in scored.iter().zip([&crop, &odd]) {
        let t = &s.translation;
        assert_eq!(t.prediction.shape(), original.shape());
        let mask = centre_mask(original.height(), original.width());
        for c in 0..3 {
            for (i, (&p, &o)) in t
                .prediction
                .plane(c)
                .iter()
                .zip(original.plane(c))
                .enumerate()
            {
                if mask.plane(0)[i] < 0.5 {
                    assert_eq!(p, o, "pixel {i} outside the hole changed");
                }
            }
        }
        let names: Vec<&str> = t.baselines.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["mean", "diffusion"]);
        let scores: Vec<&str> = s.scores.iter().map(|s| s.name).collect();
        assert_eq!(scores, ["psnr", "ssim", "psnr_hole"]);
        assert!(s.scores.iter().all(|s| s.prediction.is_finite()));
    }
}

#[test]
fn the_inpaint_command_keeps_every_pixel_outside_the_hole() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path());
    let run = dir.path().to_str().unwrap();
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/selfsup-data/data/photos-sample/test/rocket.jpg"
    );
    let out_dir = dir.path().join("filled");
    let out = selfsup(&[
        "inpaint",
        "--checkpoint",
        run,
        photo,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let input = Image::open(photo).unwrap();
    let filled = Image::open(out_dir.join("rocket.png")).unwrap();
    assert_eq!(filled.shape(), input.shape());
    let mask = centre_mask(input.height(), input.width());
    let outside = |img: &Image| -> Vec<f32> {
        (0..3)
            .flat_map(|c| {
                img.plane(c)
                    .iter()
                    .zip(mask.plane(0))
                    .filter(|(_, m)| **m < 0.5)
                    .map(|(v, _)| *v)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(outside(&filled), outside(&input));

    // A mask file of the wrong size is refused, naming it.
    let mask_file = dir.path().join("mask.png");
    Image::filled(1, 8, 8, 1.0)
        .unwrap()
        .save(&mask_file)
        .unwrap();
    let out = selfsup(&[
        "inpaint",
        "--checkpoint",
        run,
        photo,
        "--mask",
        mask_file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = text(&out).1;
    assert!(!out.status.success());
    assert!(
        stderr.contains("mask.png") && stderr.contains("size"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // An image too small to hold a hole is refused, naming it and its size.
    let tiny = dir.path().join("tiny.png");
    Image::filled(3, 1, 5, 0.5).unwrap().save(&tiny).unwrap();
    let out = selfsup(&[
        "inpaint",
        "--checkpoint",
        run,
        tiny.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = text(&out).1;
    assert!(!out.status.success());
    assert!(
        stderr.contains("tiny.png") && stderr.contains("5x1 image is too small"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // The held-out scores name both fills.
    let out = selfsup(&["eval", "image", "--checkpoint", run, "--limit", "2"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    for name in ["psnr_hole", "mean", "diffusion"] {
        assert!(stdout.contains(name), "{name}: {stdout}");
    }
}

#[test]
fn inpaint_refuses_another_methods_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    Method::Rotation
        .train(
            &tiny_config(Method::Rotation, 1),
            source_of(Method::Rotation),
            &flex(),
            &options(dir.path(), false),
        )
        .unwrap();
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/selfsup-data/data/photos-sample/test/rocket.jpg"
    );
    let out = selfsup(&[
        "inpaint",
        "--checkpoint",
        dir.path().to_str().unwrap(),
        photo,
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    let stderr = text(&out).1;
    assert!(!out.status.success());
    assert!(
        stderr.contains("'rotation' checkpoint, not 'inpainting'"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
