//! [`write_npy`]: features and labels as NumPy files.

use std::path::Path;

use npyz::WriterBuilder;

use crate::error::{Result, TrainError};
use crate::eval::Features;

fn write_npy_file(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).map_err(|e| TrainError::io(&path, e))?;
    write(&mut std::io::BufWriter::new(file)).map_err(|e| TrainError::io(&path, e))
}

/// Writes features as `features.npy` (`float32 [n, dim]`) and labels as `labels.npy`
/// (`int64 [n]`, -1 where unlabelled) in `dir`.
pub fn write_npy(features: &Features, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let n = features.len() as u64;
    write_npy_file(dir, "features.npy", |w| {
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[n, features.dim as u64])
            .writer(w)
            .begin_nd()?;
        writer.extend(features.data.iter().copied())?;
        writer.finish()
    })?;
    write_npy_file(dir, "labels.npy", |w| {
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[n])
            .writer(w)
            .begin_nd()?;
        writer.extend(
            features
                .labels
                .iter()
                .map(|l| l.map_or(-1i64, |l| l as i64)),
        )?;
        writer.finish()
    })
}
