//! What every image-to-image method's example does after choosing its configuration: pretrain
//! on crops of the training photos, apply the network to crops of the held-out photos, score
//! each prediction beside the method's baselines and draw input | prediction | baselines |
//! original rows.

use std::path::Path;
use std::sync::Arc;

use selfsup::data::{FolderOptions, ImageSource, gallery, open_source, test_split_of};
use selfsup::train::translate::{gallery_rows, mean_scores, translate};
use selfsup::train::{BackendKind, RunConfig, RunOptions, train_method};

/// Trains `config`'s method on `data` into `out` (replacing a previous run there), then scores
/// up to 40 `test_crop`-pixel crops of the held-out photos and draws six of them.
pub fn run(
    config: &RunConfig,
    data: &str,
    test_crop: usize,
    out: &Path,
    backend: BackendKind,
) -> anyhow::Result<()> {
    let device = backend.device()?;
    if out.join("checkpoints").exists() {
        println!("replacing the previous run in {}", out.display());
        std::fs::remove_dir_all(out)?;
    }
    let train: Arc<dyn ImageSource> = Arc::from(open_source(data, FolderOptions::default())?);
    let options = RunOptions {
        out_dir: out.to_path_buf(),
        progress: true,
        data_spec: Some(data.to_string()),
        ..RunOptions::default()
    };
    train_method(config, train, &device, &options)?;

    let test_spec = test_split_of(data)?;
    let separator = if test_spec.contains('?') { '&' } else { '?' };
    let test = open_source(
        &format!("{test_spec}{separator}crop={test_crop}"),
        FolderOptions::default(),
    )?;
    let images = (0..test.len().min(40))
        .map(|i| Ok(test.get(i)?.image))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scored = translate(out, &images, &device)?;
    println!("{} test crops of {}:", images.len(), test.describe());
    for s in mean_scores(&scored) {
        let baselines: String = s
            .baselines
            .iter()
            .map(|(name, v)| format!("   {name} {v:>8.4}"))
            .collect();
        println!(
            "  {:<15} prediction {:>8.4}{baselines}",
            s.name, s.prediction
        );
    }
    let rows = gallery_rows(&scored, &images, 6);
    let picture = out.join("gallery.png");
    gallery::grid(&rows, 1, 2)?.save(&picture)?;
    let names: Vec<&str> = scored
        .first()
        .map(|s| s.translation.baselines.iter().map(|(n, _)| *n).collect())
        .unwrap_or_default();
    println!(
        "input | prediction | {} | original: {}",
        names.join(" | "),
        picture.display()
    );
    Ok(())
}
