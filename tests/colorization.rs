//! Colorization end to end on the bundled colour photos: a tiny run, colourising images of
//! other sizes with the input's lightness kept, the image-to-image commands, and bad input.

use std::path::Path;

use selfsup::data::{FolderOptions, Image, lightness, open_source};
use selfsup::train::translate::{mean_scores, translate, translate_with};
use selfsup::train::{Method, TrainError};

use crate::cli::{selfsup, text};
use crate::methods::{source_of, tiny_config};
use crate::rotation::{flex, options, sample};

/// A one-epoch colorization run on 16-pixel crops of the bundled photos, with `loss`
/// (`classification` or `l2`).
fn tiny_run(dir: &Path, loss: &str) {
    let config = tiny_config(Method::Colorization, 1)
        .with_overrides(&[format!("colorization.loss=\"{loss}\"")])
        .unwrap();
    let mut options = options(dir, false);
    options.data_spec = Some("photos-sample?crop=16&crops=12".into());
    Method::Colorization
        .train(&config, source_of(Method::Colorization), &flex(), &options)
        .unwrap();
}

#[test]
fn a_trained_colorizer_keeps_the_lightness_of_images_of_any_size() {
    for loss in ["classification", "l2"] {
        keeps_the_lightness(loss);
    }
}

fn keeps_the_lightness(loss: &str) {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path(), loss);
    let test = open_source("photos-sample:test?crop=40", FolderOptions::default()).unwrap();
    let crop = test.get(0).unwrap().image;
    let odd = selfsup::data::transform::crop(&crop, 0, 0, 37, 29).unwrap();
    let scored = translate(dir.path(), &[crop.clone(), odd.clone()], &flex()).unwrap();
    for (s, image) in scored.iter().zip([&crop, &odd]) {
        let t = &s.translation;
        assert_eq!(t.prediction.shape(), image.shape());
        let lab = t.prediction_lab.as_ref().unwrap();
        let l: Vec<f32> = lightness(image).data().iter().map(|v| v * 100.0).collect();
        assert_eq!(lab.plane(0), l.as_slice(), "the input's L, exactly");
        let names: Vec<&str> = s.scores.iter().map(|x| x.name).collect();
        assert_eq!(
            names,
            [
                "psnr",
                "ssim",
                "ab_error",
                "auc",
                "auc_rebalanced",
                "saturation",
                "chroma"
            ]
        );
    }
    // The grey baseline has no colour, and its ab error is the originals' chroma.
    let means = mean_scores(&scored);
    let saturation = means.iter().find(|s| s.name == "saturation").unwrap();
    assert!(saturation.baseline() < 1e-6);
    assert!(
        means
            .iter()
            .all(|s| s.prediction.is_finite() && s.baseline().is_finite())
    );

    if loss == "l2" {
        return; // the temperature below is the classifier's annealed mean's
    }
    // Overrides change how the network is applied: the annealed mean's temperature moves the
    // colours and keeps the lightness; keys that change the network are refused.
    let at = |temperature: &str| {
        let set = [format!("colorization.temperature={temperature}")];
        let scored = translate_with(dir.path(), &set, std::slice::from_ref(&crop), &flex());
        scored.unwrap().remove(0).translation
    };
    let (sharp, mean) = (at("0.05"), at("1.0"));
    let lab = |t: &selfsup::train::task::Translation| t.prediction_lab.clone().unwrap();
    assert_eq!(lab(&sharp).plane(0), lab(&mean).plane(0));
    assert_ne!(lab(&sharp).plane(1), lab(&mean).plane(1));
    for key in ["backbone.widths=[3, 5]", "colorization.loss=l2"] {
        let err = translate_with(
            dir.path(),
            &[key.into()],
            std::slice::from_ref(&crop),
            &flex(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("colorization.temperature"), "{err}");
    }
}

#[test]
fn the_image_commands_colourise_score_and_draw() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path(), "classification");
    let run = dir.path().to_str().unwrap();
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/selfsup-data/data/photos-sample/test/rocket.jpg"
    );
    let out_dir = dir.path().join("coloured");
    let out = selfsup(&[
        "colorize",
        "--checkpoint",
        run,
        photo,
        "--out",
        out_dir.to_str().unwrap(),
        "--set",
        "colorization.temperature=0.2",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let coloured = Image::open(out_dir.join("rocket.png")).unwrap();
    assert_eq!(coloured.shape(), Image::open(photo).unwrap().shape());

    let gallery = dir.path().join("gallery.png");
    let out = selfsup(&[
        "eval",
        "image",
        "--checkpoint",
        run,
        "--limit",
        "3",
        "--gallery",
        gallery.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    // The run's own test split: photos-sample:test with the run's crop options.
    assert!(
        stdout.contains("3 images of") && stdout.contains("photos-sample:test"),
        "{stdout}"
    );
    for name in [
        "psnr",
        "ssim",
        "ab_error",
        "auc_rebalanced",
        "saturation",
        "chroma",
    ] {
        assert!(stdout.contains(name), "{name}: {stdout}");
    }
    let picture = Image::open(&gallery).unwrap();
    assert!(picture.width() > 4 * 16 && picture.height() > 3 * 16);
}

#[test]
fn colorization_refuses_what_it_cannot_learn_from_or_read() {
    // A grey source conforms to one channel.
    let config = tiny_config(Method::Colorization, 1)
        .with_overrides(&["train.channels=1".into()])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = Method::Colorization
        .train(&config, sample(), &flex(), &options(dir.path(), false))
        .unwrap_err();
    assert!(matches!(err, TrainError::InvalidConfig { .. }), "{err}");
    assert!(err.to_string().contains("colour"), "{err}");
    // Colour files with grey pixels only: nothing to learn, said before training.
    let grey = tempfile::tempdir().unwrap();
    for i in 0..4 {
        Image::filled(3, 24, 24, 0.2 * i as f32)
            .unwrap()
            .save(grey.path().join(format!("g{i}.png")))
            .unwrap();
    }
    let source = open_source(
        &format!("{}?crop=16&crops=4", grey.path().display()),
        FolderOptions::default(),
    )
    .unwrap();
    assert_eq!(source.len(), 12);
    let err = Method::Colorization
        .train(
            &tiny_config(Method::Colorization, 1),
            std::sync::Arc::from(source),
            &flex(),
            &options(&dir.path().join("grey"), false),
        )
        .unwrap_err();
    assert!(err.to_string().contains("has colour"), "{err}");
    assert!(!dir.path().join("grey/checkpoints/last").exists());

    // colorize: a file that is not an image, and a checkpoint of a method without images out.
    let run = tempfile::tempdir().unwrap();
    tiny_run(run.path(), "classification");
    let not_image = run.path().join("notes.png");
    std::fs::write(&not_image, "not a picture").unwrap();
    let out = selfsup(&[
        "colorize",
        "--checkpoint",
        run.path().to_str().unwrap(),
        not_image.to_str().unwrap(),
        "--out",
        run.path().join("o").to_str().unwrap(),
    ]);
    let stderr = text(&out).1;
    assert!(
        !out.status.success() && stderr.contains("notes.png"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Another method's checkpoint is refused, an image-to-image one too (it would translate
    // without complaint), and nothing is written.
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/selfsup-data/data/photos-sample/test/rocket.jpg"
    );
    for method in [Method::Rotation, Method::Inpainting] {
        let other = tempfile::tempdir().unwrap();
        method
            .train(
                &tiny_config(method, 1),
                source_of(method),
                &flex(),
                &options(other.path(), false),
            )
            .unwrap();
        let out_dir = other.path().join("o");
        let out = selfsup(&[
            "colorize",
            "--checkpoint",
            other.path().to_str().unwrap(),
            photo,
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        let stderr = text(&out).1;
        let expected = format!("'{}' checkpoint, not 'colorization'", method.name());
        assert!(
            !out.status.success() && stderr.contains(&expected),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out_dir.exists(), "nothing written");
    }
}
