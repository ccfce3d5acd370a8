//! [`IdxDataset`]: images and labels in the IDX format of MNIST and Fashion-MNIST.
//!
//! An IDX file is a big-endian header (two zero bytes, an element-type code, the number of
//! dimensions, then one u32 per dimension) followed by the raw elements. Images are
//! `[count, height, width]` unsigned bytes (type 0x08, 3 dims); labels are `[count]` bytes.
//! Files may be gzipped, which is detected from the content.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::source::{ImageSource, LabeledImage};

/// Images (and optional labels) read whole into memory from IDX files.
#[derive(Clone, Debug)]
pub struct IdxDataset {
    name: String,
    pixels: Vec<u8>,
    count: usize,
    height: usize,
    width: usize,
    labels: Option<Vec<u8>>,
    classes: Vec<String>,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UNSIGNED_BYTE: u8 = 0x08;

fn gunzip_if_needed(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| DataError::Idx {
            path: path.into(),
            reason: format!("gzip stream is corrupt or truncated: {e}"),
        })?;
    Ok(out)
}

/// Checks the header against the expected number of dimensions and returns the dimensions and
/// the payload.
fn parse<'a>(bytes: &'a [u8], ndim: usize, path: &Path) -> Result<(Vec<usize>, &'a [u8])> {
    let bad = |reason: String| DataError::Idx {
        path: path.into(),
        reason,
    };
    if bytes.len() < 4 {
        return Err(bad(format!(
            "file is {} bytes, shorter than the 4-byte magic number",
            bytes.len()
        )));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(format!(
            "wrong magic number {:02x}{:02x}{:02x}{:02x}: IDX files start with two zero bytes",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    if bytes[2] != UNSIGNED_BYTE {
        return Err(bad(format!(
            "element type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
            bytes[2]
        )));
    }
    if usize::from(bytes[3]) != ndim {
        return Err(bad(format!("has {} dimensions, expected {ndim}", bytes[3])));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(bad("header is truncated".into()));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
    let payload = &bytes[header..];
    if payload.len() != expected {
        return Err(bad(format!(
            "dimensions {dims:?} need {expected} bytes of data but the file has {}{}",
            payload.len(),
            if payload.len() < expected {
                " (truncated)"
            } else {
                ""
            }
        )));
    }
    Ok((dims, payload))
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    if bytes.is_empty() {
        return Err(DataError::EmptyFile { path: path.into() });
    }
    gunzip_if_needed(bytes, path)
}

/// The label file that conventionally sits beside an image file:
/// `train-images-idx3-ubyte.gz` -> `train-labels-idx1-ubyte.gz`.
pub(crate) fn sibling_labels(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    let labels = name.replace("images-idx3", "labels-idx1");
    (labels != name).then(|| images.with_file_name(labels))
}

/// Whether the first bytes look like an IDX file (raw or gzipped).
pub(crate) fn looks_like_idx(path: &Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head[..2] == GZIP_MAGIC || (head[0] == 0 && head[1] == 0))
}

impl IdxDataset {
    /// Reads an image file and, if given, its label file.
    pub fn open(images: impl AsRef<Path>, labels: Option<&Path>) -> Result<Self> {
        let images = images.as_ref();
        let image_bytes = read_file(images)?;
        let label_bytes = labels.map(read_file).transpose()?;
        Self::from_idx_bytes(
            &image_bytes,
            label_bytes.as_deref(),
            images,
            labels.unwrap_or(Path::new("")),
        )
    }

    /// Parses uncompressed or gzipped IDX bytes held in memory; the paths only name them in
    /// errors and descriptions.
    pub fn from_bytes(
        images: &[u8],
        labels: Option<&[u8]>,
        images_path: &Path,
        labels_path: &Path,
    ) -> Result<Self> {
        let images_raw = gunzip_if_needed(images.to_vec(), images_path)?;
        let labels_raw = labels
            .map(|l| gunzip_if_needed(l.to_vec(), labels_path))
            .transpose()?;
        Self::from_idx_bytes(&images_raw, labels_raw.as_deref(), images_path, labels_path)
    }

    fn from_idx_bytes(
        images: &[u8],
        labels: Option<&[u8]>,
        images_path: &Path,
        labels_path: &Path,
    ) -> Result<Self> {
        let (dims, pixels) = parse(images, 3, images_path)?;
        let (count, height, width) = (dims[0], dims[1], dims[2]);
        if height == 0 || width == 0 {
            return Err(DataError::Idx {
                path: images_path.into(),
                reason: format!("images of size {height}x{width} have a zero side"),
            });
        }
        let labels = match labels {
            None => None,
            Some(bytes) => {
                let (ldims, lpayload) = parse(bytes, 1, labels_path)?;
                if ldims[0] != count {
                    return Err(DataError::LabelCount {
                        images: images_path.into(),
                        labels: labels_path.into(),
                        image_count: count,
                        label_count: ldims[0],
                    });
                }
                Some(lpayload.to_vec())
            }
        };
        let classes = labels
            .as_ref()
            .map(|l| {
                let n = l.iter().copied().max().map_or(0, |m| usize::from(m) + 1);
                (0..n).map(|c| c.to_string()).collect()
            })
            .unwrap_or_default();
        Ok(Self {
            name: images_path.display().to_string(),
            pixels: pixels.to_vec(),
            count,
            height,
            width,
            labels,
            classes,
        })
    }

    /// Replaces the numeric class names ("0", "1", ...) with readable ones.
    pub fn with_class_names(mut self, names: &[&str]) -> Self {
        if self.labels.is_some() && names.len() >= self.classes.len() {
            self.classes = names.iter().map(|s| s.to_string()).collect();
        }
        self
    }

    /// Renames the source in descriptions.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

impl ImageSource for IdxDataset {
    fn len(&self) -> usize {
        self.count
    }

    fn get(&self, index: usize) -> Result<LabeledImage> {
        if index >= self.count {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.count,
            });
        }
        let size = self.height * self.width;
        let image = Image::from_u8(
            1,
            self.height,
            self.width,
            &self.pixels[index * size..(index + 1) * size],
        )?;
        Ok(LabeledImage {
            image,
            label: self.label(index),
        })
    }

    fn label(&self, index: usize) -> Option<usize> {
        self.labels.as_ref()?.get(index).map(|&l| usize::from(l))
    }

    fn shape(&self, _index: usize) -> Result<[usize; 3]> {
        Ok([1, self.height, self.width])
    }

    fn class_names(&self) -> &[String] {
        &self.classes
    }

    fn describe(&self) -> String {
        format!("IDX images {}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: [u8; 4], dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut v = magic.to_vec();
        dims.iter().for_each(|d| v.extend(d.to_be_bytes()));
        v.extend(payload);
        v
    }

    fn images(n: u32) -> Vec<u8> {
        idx([0, 0, 8, 3], &[n, 2, 3], &vec![255; 6 * n as usize])
    }

    fn open(images: &[u8], labels: Option<&[u8]>) -> Result<IdxDataset> {
        IdxDataset::from_bytes(images, labels, Path::new("img.idx"), Path::new("lab.idx"))
    }

    #[test]
    fn reads_images_and_labels() {
        let labels = idx([0, 0, 8, 1], &[2], &[4, 1]);
        let ds = open(&images(2), Some(&labels)).unwrap();
        assert_eq!(ds.len(), 2);
        let item = ds.get(1).unwrap();
        assert_eq!(item.label, Some(1));
        assert_eq!(item.image.shape(), [1, 2, 3]);
        assert!(item.image.data().iter().all(|&v| v == 1.0));
        assert_eq!(ds.class_names().len(), 5);
        assert!(matches!(ds.get(2), Err(DataError::IndexOutOfRange { .. })));
    }

    #[test]
    fn reads_gzip() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&images(3)).unwrap();
        let ds = open(&gz.finish().unwrap(), None).unwrap();
        assert_eq!(ds.len(), 3);
        assert!(ds.class_names().is_empty());
        assert_eq!(ds.label(0), None);
    }

    #[test]
    fn bad_files_give_reasons() {
        let reason = |bytes: &[u8]| open(bytes, None).unwrap_err().to_string();
        assert!(reason(&[1, 2, 8, 3, 0, 0, 0, 0]).contains("magic"));
        assert!(reason(&idx([0, 0, 8, 2], &[1, 4], &[0; 4])).contains("dimensions"));
        assert!(reason(&idx([0, 0, 0x0d, 3], &[1, 1, 1], &[0; 4])).contains("element type"));
        let mut truncated = images(4);
        truncated.truncate(truncated.len() - 5);
        assert!(reason(&truncated).contains("truncated"));
        assert!(reason(&[0x1f, 0x8b, 8, 0, 1]).contains("gzip"));
        let labels = idx([0, 0, 8, 1], &[3], &[0, 1, 2]);
        assert!(matches!(
            open(&images(2), Some(&labels)),
            Err(DataError::LabelCount {
                image_count: 2,
                label_count: 3,
                ..
            })
        ));
    }

    #[test]
    fn labels_file_name_follows_convention() {
        assert_eq!(
            sibling_labels(Path::new("/d/t10k-images-idx3-ubyte.gz")),
            Some(PathBuf::from("/d/t10k-labels-idx1-ubyte.gz"))
        );
        assert_eq!(sibling_labels(Path::new("/d/pics.bin")), None);
    }
}
