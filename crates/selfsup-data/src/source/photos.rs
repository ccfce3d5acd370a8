//! [`PhotoCrops`]: square crops of colour photos, so that a dozen multi-megapixel photos give
//! as many training images as asked for.
//!
//! Each photo is decoded once, scaled down so that its short side is [`CropOptions::side`]
//! pixels (antialiased; never up), and kept in memory. Crop `i` comes from photo
//! `i % photos` at a position drawn from `(seed, i)`: the same index is always the same crop,
//! so runs resume and evaluate on exactly what they trained on.

use std::path::{Path, PathBuf};

use rand::RngExt;

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::pretext::sample_rng;
use crate::source::{ImageSource, LabeledImage, Split};
use crate::transform::{Filter, crop, resize};

/// How photos become crops: the part of a source string after `?`
/// (`photos:train?crop=96&crops=1000&side=320&seed=1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CropOptions {
    /// Side of the square crops, in pixels of the scaled photo.
    pub crop: usize,
    /// Crops per photo.
    pub crops: usize,
    /// Each photo's short side after scaling, in pixels (0: keep the photo's size).
    pub side: usize,
    /// Seed of the crop positions.
    pub seed: u64,
}

impl Default for CropOptions {
    /// 64-pixel crops from photos scaled to a 256-pixel short side (each crop sees about a
    /// sixteenth of the scene, as the paper's 176-pixel crops of 256-pixel ImageNet images see
    /// a half), 500 crops per photo.
    fn default() -> Self {
        Self {
            crop: 64,
            crops: 500,
            side: 256,
            seed: 0,
        }
    }
}

impl CropOptions {
    /// Reads `key=value` pairs separated by `&`; keys left out keep their defaults.
    pub fn parse(spec: &str, query: &str) -> Result<Self> {
        let mut options = Self::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let error = |reason: String| DataError::Source {
                spec: spec.into(),
                reason,
            };
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| error(format!("'{pair}' is not key=value")))?;
            let number: u64 = value
                .parse()
                .map_err(|_| error(format!("{key}={value}: expected a whole number")))?;
            let positive = |n: u64| {
                if n == 0 {
                    Err(error(format!("{key} must be positive")))
                } else {
                    Ok(n as usize)
                }
            };
            match key {
                "crop" => options.crop = positive(number)?,
                "crops" => options.crops = positive(number)?,
                "side" => options.side = number as usize,
                "seed" => options.seed = number,
                _ => {
                    return Err(error(format!(
                        "unknown option '{key}' (photo sources take crop, crops, side, seed)"
                    )));
                }
            }
        }
        Ok(options)
    }

    /// The options as a query string, for messages and descriptions.
    pub fn query(&self) -> String {
        format!(
            "crop={}&crops={}&side={}&seed={}",
            self.crop, self.crops, self.side, self.seed
        )
    }
}

/// Which photos of a folder are test photos: every fourth in name order, starting with the
/// fourth (indices 3, 7, 11...), so that a folder of four or more photos has both splits.
pub fn is_test_photo(position: usize) -> bool {
    position % 4 == 3
}

/// Square crops of colour photos, unlabelled.
#[derive(Clone, Debug)]
pub struct PhotoCrops {
    name: String,
    paths: Vec<PathBuf>,
    photos: Vec<Image>,
    options: CropOptions,
}

/// Decodes (or takes) and scales one photo.
fn scaled(image: Image, side: usize) -> Result<Image> {
    let short = image.height().min(image.width());
    if side == 0 || short <= side {
        return Ok(image);
    }
    let scale = side as f64 / short as f64;
    let h = ((image.height() as f64 * scale).round() as usize).max(side);
    let w = ((image.width() as f64 * scale).round() as usize).max(side);
    resize(&image, h, w, Filter::Bilinear)
}

impl PhotoCrops {
    /// Crops of the given photos (decoded images with the path each came from).
    pub fn new(
        name: impl Into<String>,
        photos: Vec<(PathBuf, Image)>,
        options: CropOptions,
    ) -> Result<Self> {
        let name = name.into();
        if photos.is_empty() {
            return Err(DataError::Source {
                spec: name,
                reason: "no photos to crop".into(),
            });
        }
        let mut paths = Vec::with_capacity(photos.len());
        let mut images = Vec::with_capacity(photos.len());
        for (path, image) in photos {
            let image = scaled(image.to_channels(3)?, options.side)?;
            if image.height() < options.crop || image.width() < options.crop {
                return Err(DataError::Source {
                    spec: name,
                    reason: format!(
                        "{} is {}x{} after scaling (side={}), smaller than a {}-pixel crop: \
                         ask for a smaller crop or a larger side",
                        path.display(),
                        image.width(),
                        image.height(),
                        options.side,
                        options.crop
                    ),
                });
            }
            paths.push(path);
            images.push(image);
        }
        Ok(Self {
            name,
            paths,
            photos: images,
            options,
        })
    }

    /// Crops of the image files `paths`, decoded on every core.
    pub fn open(name: impl Into<String>, paths: &[PathBuf], options: CropOptions) -> Result<Self> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = paths.len().div_ceil(threads).max(1);
        let decoded: Vec<Result<(PathBuf, Image)>> = std::thread::scope(|s| {
            let handles: Vec<_> = paths
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|p| {
                                // Scale while decoding in parallel; `new` then finds it small.
                                let image = scaled(Image::open(p)?.to_channels(3)?, options.side)?;
                                Ok((p.clone(), image))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        Self::new(name, decoded.into_iter().collect::<Result<_>>()?, options)
    }

    /// The image files of `split` in `dir` (name order; test photos by [`is_test_photo`]),
    /// cropped.
    pub fn open_folder(spec: &str, dir: &Path, split: Split, options: CropOptions) -> Result<Self> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| DataError::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        files.sort();
        let chosen: Vec<PathBuf> = files
            .into_iter()
            .enumerate()
            .filter(|(i, _)| is_test_photo(*i) == (split == Split::Test))
            .map(|(_, p)| p)
            .collect();
        if chosen.is_empty() {
            return Err(DataError::Source {
                spec: spec.into(),
                reason: format!(
                    "{} has no {} photos (every fourth file in name order is a test photo)",
                    dir.display(),
                    if split == Split::Test {
                        "test"
                    } else {
                        "training"
                    }
                ),
            });
        }
        Self::open(spec, &chosen, options)
    }

    /// The photos' files, in crop order.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The scaled photos.
    pub fn photos(&self) -> &[Image] {
        &self.photos
    }

    /// The options.
    pub fn options(&self) -> CropOptions {
        self.options
    }

    /// Crop `index`: its photo, top and left.
    pub fn position(&self, index: usize) -> (usize, usize, usize) {
        let photo = index % self.photos.len();
        let image = &self.photos[photo];
        // A stream of its own, apart from those of the pretext samples.
        let mut rng = sample_rng(self.options.seed, u64::MAX, index as u64);
        let top = rng.random_range(0..=image.height() - self.options.crop);
        let left = rng.random_range(0..=image.width() - self.options.crop);
        (photo, top, left)
    }
}

impl ImageSource for PhotoCrops {
    fn len(&self) -> usize {
        self.photos.len() * self.options.crops
    }

    fn get(&self, index: usize) -> Result<LabeledImage> {
        if index >= self.len() {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        let (photo, top, left) = self.position(index);
        let side = self.options.crop;
        Ok(LabeledImage {
            image: crop(&self.photos[photo], top, left, side, side)?,
            label: None,
        })
    }

    fn label(&self, _index: usize) -> Option<usize> {
        None
    }

    fn shape(&self, index: usize) -> Result<[usize; 3]> {
        if index >= self.len() {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        Ok([3, self.options.crop, self.options.crop])
    }

    fn class_names(&self) -> &[String] {
        &[]
    }

    fn describe(&self) -> String {
        format!(
            "{} crops of {} photos ({}): {}",
            self.len(),
            self.photos.len(),
            self.options.query(),
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn gradient(h: usize, w: usize) -> Image {
        let data = (0..3 * h * w).map(|i| (i % 251) as f32 / 251.0).collect();
        Image::new(3, h, w, data).unwrap()
    }

    fn photos(options: CropOptions) -> PhotoCrops {
        let photos = vec![
            (PathBuf::from("a.png"), gradient(40, 70)),
            (PathBuf::from("b.png"), gradient(90, 33)),
        ];
        PhotoCrops::new("test", photos, options).unwrap()
    }

    proptest! {
        #[test]
        fn crops_lie_inside_their_photo_and_repeat_by_seed(crop in 1usize..=33, seed in 0u64..50, index in 0usize..200) {
            let options = CropOptions { crop, crops: 100, side: 0, seed };
            let source = photos(options);
            let (photo, top, left) = source.position(index);
            let image = &source.photos()[photo];
            prop_assert_eq!(photo, index % 2);
            prop_assert!(top + crop <= image.height() && left + crop <= image.width());
            let got = source.get(index).unwrap().image;
            prop_assert_eq!(got.shape(), [3, crop, crop]);
            prop_assert_eq!(got.get(1, 0, 0), image.get(1, top, left));
            prop_assert_eq!(&photos(options).get(index).unwrap().image, &got);
        }
    }

    #[test]
    fn another_seed_moves_the_crops() {
        let a = photos(CropOptions {
            crop: 8,
            crops: 50,
            side: 0,
            seed: 1,
        });
        let b = photos(CropOptions {
            crop: 8,
            crops: 50,
            side: 0,
            seed: 2,
        });
        let moved = (0..100).filter(|&i| a.position(i) != b.position(i)).count();
        assert!(moved > 90, "{moved}");
        assert_eq!(a.len(), 100);
        assert!(a.get(100).is_err());
    }

    #[test]
    fn photos_are_scaled_to_their_short_side_never_up() {
        let source = photos(CropOptions {
            crop: 8,
            crops: 1,
            side: 20,
            seed: 0,
        });
        assert_eq!(source.photos()[0].shape(), [3, 20, 35]);
        assert_eq!(source.photos()[1].shape(), [3, 55, 20]);
        let kept = photos(CropOptions {
            crop: 8,
            crops: 1,
            side: 500,
            seed: 0,
        });
        assert_eq!(kept.photos()[0].shape(), [3, 40, 70]);
    }

    #[test]
    fn a_crop_larger_than_a_photo_names_the_photo_and_its_size() {
        let photos = vec![(PathBuf::from("small.png"), gradient(30, 50))];
        let options = CropOptions {
            crop: 40,
            crops: 1,
            side: 0,
            seed: 0,
        };
        let err = PhotoCrops::new("x", photos, options)
            .unwrap_err()
            .to_string();
        assert!(err.contains("small.png") && err.contains("50x30"), "{err}");
    }

    #[test]
    fn options_parse_and_reject_what_they_do_not_know() {
        let o = CropOptions::parse("s", "crop=32&crops=7&side=0&seed=3").unwrap();
        assert_eq!(
            o,
            CropOptions {
                crop: 32,
                crops: 7,
                side: 0,
                seed: 3
            }
        );
        assert_eq!(CropOptions::parse("s", "").unwrap(), CropOptions::default());
        for bad in ["crop=0", "crop=x", "size=3", "crop"] {
            assert!(CropOptions::parse("s", bad).is_err(), "{bad}");
        }
        assert_eq!(CropOptions::parse("s", &o.query()).unwrap(), o);
    }

    #[test]
    fn every_fourth_photo_is_a_test_photo() {
        let test: Vec<usize> = (0..12).filter(|&i| is_test_photo(i)).collect();
        assert_eq!(test, [3, 7, 11]);
    }
}
