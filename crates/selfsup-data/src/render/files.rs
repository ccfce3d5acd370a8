//! A rendering as PNG files that any image tool reads.

use std::path::{Path, PathBuf};

use image::{ImageBuffer, Luma};

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::render::Rendering;

/// The files [`save_rendering`] writes for a stem `S`: `S-rgb.png` (8-bit sRGB),
/// `S-depth.png` (16-bit grey, millimetres, 0 where nothing was hit), `S-normals.png` (8-bit
/// RGB, each component `(n + 1) / 2`, grey where nothing was hit), `S-contours.png` (8-bit,
/// 255 on contours) and `S-instances.png` (16-bit instance ids, 0 for none).
pub const RENDERING_FILES: [&str; 5] = ["rgb", "depth", "normals", "contours", "instances"];

/// The largest depth a 16-bit millimetre PNG holds, in scene units (metres).
const MAX_DEPTH: f32 = u16::MAX as f32 / 1000.0;

fn save_u16(path: &Path, width: usize, height: usize, data: Vec<u16>) -> Result<()> {
    ImageBuffer::<Luma<u16>, Vec<u16>>::from_raw(width as u32, height as u32, data)
        .expect("one value a pixel")
        .save(path)
        .map_err(|source| DataError::Encode {
            path: path.into(),
            source,
        })
}

/// Checks a request for `count` scenes with seeds `first_seed..first_seed + count`: at least
/// one scene, and seeds that do not run past `u64::MAX`.
pub fn check_scene_count(count: usize, first_seed: u64) -> Result<()> {
    if count == 0 {
        return Err(DataError::invalid("render", "count 0: nothing to render"));
    }
    if first_seed.checked_add(count as u64 - 1).is_none() {
        return Err(DataError::invalid(
            "render",
            format!("seeds {first_seed} + {count} scenes run past {}", u64::MAX),
        ));
    }
    Ok(())
}

/// Checks that renderings may go to `out`: a new folder, or an empty one (nothing is
/// overwritten).
pub fn check_output_folder(out: &Path) -> Result<()> {
    if !out.exists() {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(out).map_err(|source| DataError::Io {
        path: out.into(),
        source,
    })?;
    if entries.next().is_some() {
        return Err(DataError::invalid(
            "render",
            format!(
                "{} is not empty: renderings go to a new or empty folder, nothing is overwritten",
                out.display()
            ),
        ));
    }
    Ok(())
}

/// Writes `rendering` under `dir` as the [`RENDERING_FILES`] of `stem`; returns their paths.
pub fn save_rendering(rendering: &Rendering, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    let [_, h, w] = rendering.rgb.shape();
    let path = |kind: &str| dir.join(format!("{stem}-{kind}.png"));
    rendering.rgb.save(path("rgb"))?;
    let depth = rendering
        .depth
        .data()
        .iter()
        .map(|d| (d.min(MAX_DEPTH) * 1000.0).round() as u16)
        .collect();
    save_u16(&path("depth"), w, h, depth)?;
    let normals = rendering.normals.data().iter().map(|n| (n + 1.0) / 2.0);
    Image::new(3, h, w, normals.collect())?.save(path("normals"))?;
    rendering.contours.save(path("contours"))?;
    save_u16(&path("instances"), w, h, rendering.instances.clone())?;
    Ok(RENDERING_FILES.iter().map(|k| path(k)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Scene, SceneConfig, render};

    #[test]
    fn the_files_read_back_as_the_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let scene = Scene::random(&SceneConfig::default(), 3).unwrap();
        let r = render(&scene, 20, 30).unwrap();
        let files = save_rendering(&r, dir.path(), "000003").unwrap();
        assert_eq!(files.len(), RENDERING_FILES.len());
        let depth = image::open(&files[1]).unwrap().into_luma16();
        assert_eq!(depth.dimensions(), (30, 20));
        for (k, mm) in depth.pixels().enumerate() {
            let metres = f32::from(mm.0[0]) / 1000.0;
            assert!((metres - r.depth.data()[k]).abs() <= 5e-4, "pixel {k}");
        }
        let ids = image::open(&files[4]).unwrap().into_luma16();
        assert!(ids.pixels().map(|p| p.0[0]).eq(r.instances.iter().copied()));
        assert_eq!(Image::open(&files[3]).unwrap(), r.contours);
    }
}
