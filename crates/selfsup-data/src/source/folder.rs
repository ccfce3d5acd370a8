//! [`ImageFolder`]: every image file under a folder, labelled by its top-level sub-folder.

use std::path::{Path, PathBuf};

use image::ImageReader;

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::source::{ImageSource, LabeledImage};

/// How an [`ImageFolder`] treats files it cannot read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FolderOptions {
    /// Skip unreadable files (they are listed in [`ImageFolder::skipped`]) instead of failing.
    pub skip_bad: bool,
    /// Decode every image when opening, which also catches truncated pixel data that a header
    /// check misses (slower: the whole folder is decoded once).
    pub verify: bool,
}

#[derive(Clone, Debug)]
struct Entry {
    path: PathBuf,
    label: Option<usize>,
    shape: [usize; 3],
}

/// The images under a folder, searched recursively, in sorted path order.
///
/// As in torchvision's `ImageFolder`, each sub-folder of the root is a class (named after it) and
/// the images anywhere below it carry its label; images directly in the root are unlabelled.
/// Hidden files and folders (starting with `.`) are ignored; every other file must be an image in
/// a format the `image` crate reads, detected from its content.
#[derive(Clone, Debug)]
pub struct ImageFolder {
    root: PathBuf,
    entries: Vec<Entry>,
    classes: Vec<String>,
    skipped: Vec<(PathBuf, String)>,
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let read = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    for entry in read {
        let path = entry.map_err(|e| DataError::io(dir, e))?.path();
        if is_hidden(&path) {
            continue;
        }
        if path.is_dir() {
            list_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads the shape from the header alone.
fn header_shape(path: &Path) -> Result<[usize; 3]> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if meta.len() == 0 {
        return Err(DataError::EmptyFile { path: path.into() });
    }
    let decode = |source| DataError::Decode {
        path: path.into(),
        source,
    };
    let reader = ImageReader::open(path)
        .map_err(|e| DataError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?;
    if reader.format().is_none() {
        return Err(decode(image::ImageError::Unsupported(
            image::error::UnsupportedError::from_format_and_kind(
                image::error::ImageFormatHint::PathExtension(path.into()),
                image::error::UnsupportedErrorKind::Format(image::error::ImageFormatHint::Unknown),
            ),
        )));
    }
    let decoder = reader.into_decoder().map_err(decode)?;
    use image::ImageDecoder;
    let (w, h) = decoder.dimensions();
    let channels = if decoder.color_type().has_color() {
        3
    } else {
        1
    };
    Ok([channels, h as usize, w as usize])
}

fn full_shape(path: &Path) -> Result<[usize; 3]> {
    Image::open(path).map(|img| img.shape())
}

impl ImageFolder {
    /// Lists and checks the images under `root`.
    pub fn open(root: impl AsRef<Path>, options: FolderOptions) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if !root.exists() {
            return Err(DataError::NotFound { path: root });
        }
        let mut files = Vec::new();
        list_files(&root, &mut files)?;
        files.sort();

        let mut classes: Vec<String> = files.iter().filter_map(|f| class_of(&root, f)).collect();
        classes.dedup(); // sorted paths keep each class's files together

        let check = if options.verify {
            full_shape
        } else {
            header_shape
        };
        let shapes = check_all(&files, check);
        let mut entries = Vec::with_capacity(files.len());
        let mut skipped = Vec::new();
        for (path, shape) in files.into_iter().zip(shapes) {
            match shape {
                Ok(shape) => {
                    let label =
                        class_of(&root, &path).and_then(|c| classes.iter().position(|k| *k == c));
                    entries.push(Entry { path, label, shape });
                }
                Err(e) if options.skip_bad => skipped.push((path, e.to_string())),
                Err(e) => return Err(e),
            }
        }
        if entries.is_empty() {
            return Err(DataError::NoImages { path: root });
        }
        Ok(Self {
            root,
            entries,
            classes,
            skipped,
        })
    }

    /// The path of image `index`.
    pub fn path(&self, index: usize) -> Option<&Path> {
        self.entries.get(index).map(|e| e.path.as_path())
    }
}

/// The class of a file: the first path component below the root, if the file is not in the root.
fn class_of(root: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root).ok()?;
    let mut parts = rel.components();
    let first = parts.next()?;
    parts.next()?; // a file directly in the root has no class
    Some(first.as_os_str().to_string_lossy().into_owned())
}

/// Runs `check` over all files on every core, keeping the order.
fn check_all(files: &[PathBuf], check: fn(&Path) -> Result<[usize; 3]>) -> Vec<Result<[usize; 3]>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|p| check(p)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

impl ImageSource for ImageFolder {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn get(&self, index: usize) -> Result<LabeledImage> {
        let entry = self.entries.get(index).ok_or(DataError::IndexOutOfRange {
            index,
            len: self.entries.len(),
        })?;
        Ok(LabeledImage {
            image: Image::open(&entry.path)?,
            label: entry.label,
        })
    }

    fn label(&self, index: usize) -> Option<usize> {
        self.entries.get(index)?.label
    }

    fn shape(&self, index: usize) -> Result<[usize; 3]> {
        self.entries
            .get(index)
            .map(|e| e.shape)
            .ok_or(DataError::IndexOutOfRange {
                index,
                len: self.entries.len(),
            })
    }

    fn class_names(&self) -> &[String] {
        &self.classes
    }

    fn describe(&self) -> String {
        format!("image folder {}", self.root.display())
    }

    fn skipped(&self) -> &[(PathBuf, String)] {
        &self.skipped
    }
}
