//! `selfsup eval image --checkpoint RUN [--data SOURCE] [--gallery FILE]`: an image-to-image
//! checkpoint's predictions on held-out images, scored beside the baseline.

use std::path::Path;

use selfsup::data::{gallery, test_split_of};
use selfsup::train::checkpoint;
use selfsup::train::translate::{gallery_rows, mean_scores, translate_with};

use super::args::{FolderArgs, open};

/// Images the gallery shows.
const GALLERY_ROWS: usize = 6;

/// Scores every image of `data` (default: the test split of the run's data), the run's
/// configuration changed by `overrides`, and prints the means; draws the first few as
/// input | prediction | baseline | original rows.
pub fn run(
    checkpoint_path: &Path,
    overrides: &[String],
    data: Option<&str>,
    limit: Option<usize>,
    gallery_path: Option<&Path>,
    device: &burn::prelude::Device,
) -> anyhow::Result<()> {
    let state = checkpoint::load_state(&checkpoint::checkpoint_dir(checkpoint_path))?;
    let spec = match data {
        Some(d) => d.to_string(),
        None => {
            let trained_on = state.data.spec.as_deref().ok_or_else(|| {
                anyhow::anyhow!("the run does not record its data: give --data SOURCE")
            })?;
            test_split_of(trained_on)?
        }
    };
    let source = open(&spec, FolderArgs::default())?;
    let n = limit.unwrap_or(source.len()).min(source.len());
    let images = (0..n)
        .map(|i| Ok(source.get(i)?.image))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scored = translate_with(checkpoint_path, overrides, &images, device)?;
    println!(
        "{} ({}), {n} images of {}:",
        checkpoint_path.display(),
        state.method,
        source.describe()
    );
    for s in mean_scores(&scored) {
        let baselines: String = s
            .baselines
            .iter()
            .map(|(name, v)| format!("   {name} {v:>9.4}"))
            .collect();
        println!(
            "  {:<15} prediction {:>9.4}{baselines}",
            s.name, s.prediction
        );
    }
    if let Some(path) = gallery_path {
        let rows = gallery_rows(&scored, &images, GALLERY_ROWS);
        gallery::grid(&rows, 1, 2)?.save(path)?;
        let baselines: Vec<&str> = scored
            .first()
            .map(|s| s.translation.baselines.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default();
        println!(
            "gallery (input | prediction | {} | original): {}",
            baselines.join(" | "),
            path.display()
        );
    }
    Ok(())
}
