//! Synthetic imagery end to end on the bundled sample: a tiny run, then its predictions drawn
//! beside the held-out scenes' targets.

use selfsup::data::pretext::{HELD_OUT, depth_picture};
use selfsup::data::render::{Scene, SceneConfig, render};
use selfsup::train::{Method, show};

use crate::methods::{source_of, tiny_config};
use crate::rotation::{flex, options};

#[test]
fn a_trained_run_shows_its_predictions_on_held_out_scenes_and_real_images() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(Method::Synthetic, 1);
    let source = source_of(Method::Synthetic);
    Method::Synthetic
        .train(
            &config,
            source.clone(),
            &flex(),
            &options(dir.path(), false),
        )
        .unwrap();
    let rows = show(
        &config,
        source.as_ref(),
        2,
        Some(&dir.path().join("checkpoints/last")),
        &flex(),
    )
    .unwrap();
    for (i, row) in rows.iter().enumerate() {
        // Rendering, depth, normals, contours, real image; then the predicted depth, normals and
        // contours of the rendering and of the real image.
        let shapes: Vec<[usize; 3]> = row.iter().map(|p| p.shape()).collect();
        let (grey, rgb) = ([1, 16, 16], [3, 16, 16]);
        assert_eq!(
            shapes,
            [
                grey, grey, rgb, grey, grey, grey, rgb, grey, grey, rgb, grey
            ]
        );
        assert!(
            row[5..]
                .iter()
                .all(|p| p.data().iter().all(|v| (0.0..=1.0).contains(v))),
            "pictures in [0, 1]"
        );
        // A trained network is shown validation's held-out scenes, never a training one.
        let scene = Scene::random(&SceneConfig::default(), HELD_OUT | i as u64).unwrap();
        assert_eq!(
            row[1],
            depth_picture(&render(&scene, 16, 16).unwrap().depth)
        );
    }
}
