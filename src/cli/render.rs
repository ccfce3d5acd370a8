//! `selfsup render --count N --size S --out DIR`: random room scenes as PNG files (colour, 16-bit
//! depth, normals, contours, instance ids), to look at or to reuse.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use selfsup::data::render::{
    Scene, SceneConfig, check_output_folder, check_scene_count, check_size, render, save_rendering,
};

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Scenes to render.
    #[arg(long, default_value_t = 16)]
    count: usize,
    /// Side of the square renderings, in pixels.
    #[arg(long, default_value_t = 128)]
    size: usize,
    /// The first scene's seed; scene i has seed + i, so any scene can be rendered again alone.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The folder to write: new, or empty. Files appear there only once all are written.
    #[arg(long)]
    out: PathBuf,
}

impl RenderArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        check_scene_count(self.count, self.seed)?;
        check_output_folder(&self.out)?;
        check_size(self.size, self.size)?;
        let config = SceneConfig::default();
        // Written beside the destination, then moved in whole: an interrupted run leaves no
        // partial folder under the asked-for name.
        let name = self
            .out
            .file_name()
            .with_context(|| format!("{} names no folder", self.out.display()))?;
        let staging = self.out.with_file_name(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("cannot write {}", staging.display()))?;
        let start = Instant::now();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let rendered = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let (config, dir) = (&config, staging.as_path());
                    scope.spawn(move || -> anyhow::Result<()> {
                        for i in (w..self.count).step_by(workers) {
                            let seed = self.seed + i as u64;
                            let rendering =
                                render(&Scene::random(config, seed)?, self.size, self.size)?;
                            save_rendering(&rendering, dir, &format!("{seed:06}"))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().expect("a render worker panicked"))
        });
        if let Err(e) = rendered {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        let seconds = start.elapsed().as_secs_f64();
        // An empty destination is replaced (rename cannot move over a folder).
        let moved = if self.out.exists() {
            std::fs::remove_dir(&self.out)
        } else {
            Ok(())
        }
        .and_then(|()| std::fs::rename(&staging, &self.out));
        if let Err(e) = moved {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e)
                .with_context(|| format!("cannot move the renderings to {}", self.out.display()));
        }
        println!(
            "{} scenes of {s}x{s} (seeds {} to {}) in {seconds:.1} s on {workers} threads -> {}",
            self.count,
            self.seed,
            self.seed + self.count as u64 - 1,
            self.out.display(),
            s = self.size,
        );
        Ok(())
    }
}
