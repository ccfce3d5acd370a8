//! Jigsaw puzzles (Noroozi & Favaro, "Unsupervised Learning of Visual Representations by
//! Solving Jigsaw Puzzles", ECCV 2016): cut an image into a 3x3 grid, shuffle the tiles by a
//! permutation from a fixed set, and learn to name the permutation.
//!
//! "we randomly crop a 225 x 225 pixel window from an image, divide it into a 3 x 3 grid, and
//! randomly pick a 64 x 64 pixel tile from each 75 x 75 pixel cell" (section 3.3): the gaps and
//! the random offsets keep edge continuity from giving the answer away. Each tile is normalised
//! on its own ("we normalize the mean and the standard deviation of each patch independently"),
//! so that low-level statistics do not either; grey tiles and per-channel jitter of up to two
//! pixels counter chromatic aberration (the authors' code: `jitter_size`, `make_gray`).
//!
//! Sizes scale with the image: unless set, the window is the largest multiple of 3 within 15/16
//! of the image side and the tile is the paper's 64/75 of a cell. By default images are resized
//! to 48 px, so the window is 45 px, the cells 15 px and the tiles 13 px; channel jitter is at
//! most 1 px (2 px on 64 px tiles, scaled). 48 px is the smallest side that leaves
//! Fashion-MNIST's 28 px garments recognisable in a ninth of the image while keeping
//! evaluation, which reads whole images at this size, cheap. 15/16 rather than the paper's
//! 225/256 keeps the tiles as large as a small image allows (at 48 px: 13 px rather than 12).

use std::path::PathBuf;
use std::sync::Arc;

use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::pretext::PretextGenerator;
use crate::pretext::permutation::{Permutation, PermutationSet, TILES};
use crate::transform::{Filter, crop, grayscale, normalize_per_image, resize};

/// How the permutation set is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Algorithm 1: the largest summed (average) Hamming distance.
    #[default]
    Average,
    /// A deviation: the largest minimum Hamming distance.
    Minimum,
}

/// Configuration of the [`JigsawGenerator`] (`[jigsaw]` in a run configuration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JigsawConfig {
    /// Images are resized (bilinear) to this square side before sampling; Fashion-MNIST's 28 px
    /// leave no room for nine gapped tiles.
    pub image_size: usize,
    /// Side of the random square window cut into the 3 x 3 grid (a multiple of 3); by default
    /// the largest within 15/16 of `image_size` ([`JigsawConfig::crop`]).
    pub crop: Option<usize>,
    /// Side of the random tile taken inside each cell (at most a cell); by default 64/75 of a
    /// cell, the paper's ratio ([`JigsawConfig::tile`]).
    pub tile: Option<usize>,
    /// Number of permutations, the classes. The paper's main setting is 1000; 100 is its
    /// nearly-as-good smaller set (Table 1: 67.0 vs 67.1 detection mAP) and learns faster at a
    /// small budget.
    pub permutations: usize,
    /// How the permutation set is chosen.
    pub selection: Selection,
    /// A file of permutations (one a line, nine numbers 0 to 8) to use instead of generating
    /// them; it must hold `permutations` of them.
    pub permutation_file: Option<PathBuf>,
    /// Normalise each tile's channels to zero mean and unit variance.
    pub normalize_tiles: bool,
    /// Probability that a tile of a colour image is shown in grey.
    pub grey_probability: f64,
    /// Each colour channel of a tile is shifted by 0 to this many pixels on each axis.
    pub channel_jitter: usize,
}

impl Default for JigsawConfig {
    fn default() -> Self {
        Self {
            image_size: 48,
            crop: None,
            tile: None,
            permutations: 100,
            selection: Selection::Average,
            permutation_file: None,
            normalize_tiles: true,
            grey_probability: 0.3,
            channel_jitter: 1,
        }
    }
}

impl JigsawConfig {
    /// The window's side: `crop` if set, else the largest multiple of 3 within 15/16 of the
    /// image (45 px of 48).
    pub fn crop(&self) -> usize {
        self.crop.unwrap_or(self.image_size * 15 / 16 / 3 * 3)
    }

    /// The tile's side: `tile` if set, else 64/75 of a cell, rounded (13 px of 15).
    pub fn tile(&self) -> usize {
        self.tile.unwrap_or((self.crop() / 3 * 64 + 37) / 75)
    }

    /// Checks the geometry and the permutation count, naming the key at fault and what would
    /// work.
    pub fn validate(&self) -> Result<()> {
        let bad =
            |what: &str, reason: String| DataError::invalid("jigsaw", format!("{what}: {reason}"));
        let (crop, tile) = (self.crop(), self.tile());
        if crop == 0 || !crop.is_multiple_of(3) {
            return Err(bad(
                "jigsaw.puzzle.crop",
                format!(
                    "{crop} is not a positive multiple of 3 (jigsaw.puzzle.image_size {} is too \
                     small for a 3 x 3 grid)",
                    self.image_size
                ),
            ));
        }
        if crop > self.image_size {
            return Err(bad(
                "jigsaw.puzzle.crop",
                format!(
                    "a {crop} px window does not fit {} px images (jigsaw.puzzle.image_size)",
                    self.image_size
                ),
            ));
        }
        let cell = crop / 3;
        if tile == 0 || tile > cell {
            return Err(bad(
                "jigsaw.puzzle.tile",
                format!("{tile} px does not fit a {cell} px cell (jigsaw.puzzle.crop / 3)"),
            ));
        }
        PermutationSet::check_size(self.permutations)
            .map_err(|reason| bad("jigsaw.puzzle.permutations", reason))?;
        if !(0.0..=1.0).contains(&self.grey_probability) {
            return Err(bad(
                "jigsaw.puzzle.grey_probability",
                format!("{} is not in [0, 1]", self.grey_probability),
            ));
        }
        Ok(())
    }

    /// The permutation set this configuration asks for: read from `permutation_file`, or made
    /// by the selection rule from `seed`.
    pub fn permutation_set(&self, seed: u64) -> Result<PermutationSet> {
        let set = match &self.permutation_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
                PermutationSet::from_text(&text, &path.display().to_string())?
            }
            None => match self.selection {
                Selection::Average => PermutationSet::max_hamming(self.permutations, seed)?,
                Selection::Minimum => PermutationSet::max_min_hamming(self.permutations, seed)?,
            },
        };
        if set.len() != self.permutations {
            return Err(DataError::invalid(
                "jigsaw",
                format!(
                    "the permutation file holds {} permutations but jigsaw.puzzle.permutations is {}",
                    set.len(),
                    self.permutations
                ),
            ));
        }
        Ok(set)
    }
}

/// One puzzle: nine tiles in shuffled order and the index of the permutation that shuffled
/// them.
#[derive(Clone, Debug, PartialEq)]
pub struct JigsawSample {
    /// `tiles[i]` shows grid cell `permutation[i]` (cells numbered row by row).
    pub tiles: Vec<Image>,
    /// The permutation's index in the set: the class.
    pub label: usize,
}

/// Output slot `i` takes `items[permutation[i]]`.
pub fn shuffle<T: Clone>(items: &[T], permutation: &Permutation) -> Vec<T> {
    permutation
        .iter()
        .map(|&p| items[usize::from(p)].clone())
        .collect()
}

/// Undoes [`shuffle`]: item `permutation[i]` goes back to slot `permutation[i]`.
pub fn unshuffle<T: Clone>(items: &[T], permutation: &Permutation) -> Vec<T> {
    let mut out = items.to_vec();
    for (i, &p) in permutation.iter().enumerate() {
        out[usize::from(p)] = items[i].clone();
    }
    out
}

/// Makes [`JigsawSample`]s.
#[derive(Clone, Debug)]
pub struct JigsawGenerator {
    config: JigsawConfig,
    permutations: Arc<PermutationSet>,
}

impl JigsawGenerator {
    /// Checks the configuration; `permutations` are the classes.
    pub fn new(config: JigsawConfig, permutations: Arc<PermutationSet>) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            permutations,
        })
    }

    /// The nine tiles of `image` in grid order (row by row), before shuffling, grey and
    /// normalisation; `jitter` shifts colour channels.
    pub fn tiles(&self, image: &Image, rng: &mut StdRng, jitter: bool) -> Result<Vec<Image>> {
        let c = &self.config;
        let image = if (image.height(), image.width()) == (c.image_size, c.image_size) {
            image.clone()
        } else {
            resize(image, c.image_size, c.image_size, Filter::Bilinear)?
        };
        let (crop_side, side) = (c.crop(), c.tile());
        let top = rng.random_range(0..=c.image_size - crop_side);
        let left = rng.random_range(0..=c.image_size - crop_side);
        let cell = crop_side / 3;
        let room = cell - side;
        (0..TILES)
            .map(|k| {
                let (row, col) = (k / 3, k % 3);
                let y = top + row * cell + rng.random_range(0..=room);
                let x = left + col * cell + rng.random_range(0..=room);
                if !jitter || image.channels() == 1 || c.channel_jitter == 0 {
                    return crop(&image, y, x, side, side);
                }
                // Each channel from its own window, shifted within the cell.
                let mut tile = crop(&image, y, x, side, side)?;
                for ch in 0..image.channels() {
                    let max_y = top + row * cell + room;
                    let max_x = left + col * cell + room;
                    let dy = (y + rng.random_range(0..=c.channel_jitter)).min(max_y);
                    let dx = (x + rng.random_range(0..=c.channel_jitter)).min(max_x);
                    let shifted = crop(&image, dy, dx, side, side)?;
                    tile.plane_mut(ch).copy_from_slice(shifted.plane(ch));
                }
                Ok(tile)
            })
            .collect()
    }

    /// The permutation set.
    pub fn permutations(&self) -> &PermutationSet {
        &self.permutations
    }
}

impl PretextGenerator for JigsawGenerator {
    type Sample = JigsawSample;

    fn generate(&self, image: &Image, _index: usize, rng: &mut StdRng) -> Result<JigsawSample> {
        let c = &self.config;
        if image.height().min(image.width()) == 0 {
            return Err(DataError::invalid("jigsaw", "empty image"));
        }
        let tiles = self.tiles(image, rng, true)?;
        let label = rng.random_range(0..self.permutations.len());
        let permutation = self.permutations.get(label).expect("label < len");
        let tiles = shuffle(&tiles, permutation)
            .into_iter()
            .map(|tile| {
                let tile = if tile.channels() == 3 && rng.random_bool(c.grey_probability) {
                    grayscale(&tile).to_channels(3).expect("grey to RGB")
                } else {
                    tile
                };
                if c.normalize_tiles {
                    normalize_per_image(&tile)
                } else {
                    tile
                }
            })
            .collect();
        Ok(JigsawSample { tiles, label })
    }

    fn picture(&self, sample: &JigsawSample) -> Vec<Image> {
        // Normalised tiles shown stretched back to [0, 1].
        sample.tiles.iter().map(stretch).collect()
    }
}

/// Maps an image's values linearly onto `[0, 1]` (for showing normalised tiles).
pub fn stretch(image: &Image) -> Image {
    let (lo, hi) = image
        .data()
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let data = image.data().iter().map(|v| (v - lo) / span).collect();
    Image::new(image.channels(), image.height(), image.width(), data).expect("same shape")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretext::sample_rng;
    use proptest::prelude::*;

    fn image(c: usize, side: usize, seed: u64) -> Image {
        let mut rng = sample_rng(seed, 0, 0);
        let data = (0..c * side * side).map(|_| rng.random::<f32>()).collect();
        Image::new(c, side, side, data).unwrap()
    }

    /// The generator of `config`, with a set of 100 permutations made once for every test.
    fn generator(config: JigsawConfig) -> JigsawGenerator {
        static SET: std::sync::OnceLock<Arc<PermutationSet>> = std::sync::OnceLock::new();
        let set = SET.get_or_init(|| Arc::new(PermutationSet::max_hamming(100, 0).unwrap()));
        JigsawGenerator::new(
            JigsawConfig {
                permutations: 100,
                ..config
            },
            set.clone(),
        )
        .unwrap()
    }

    proptest! {
        #[test]
        fn a_sample_unshuffled_by_its_label_is_the_grid(seed in 0u64..50, side in 4usize..9) {
            // The generator's own output, before normalisation: its tiles, put back by the
            // permutation its label names, are the image's cells in order.
            let config = JigsawConfig {
                image_size: 3 * side,
                crop: Some(3 * side),
                tile: Some(side),
                normalize_tiles: false,
                ..JigsawConfig::default()
            };
            let g = generator(config);
            let img = image(1, 3 * side, seed);
            // Tiles as large as their cells and a crop the size of the image: the tiles are the
            // cells, so shuffling the cells by the label's permutation gives the sample.
            let sample = g.generate(&img, 0, &mut sample_rng(seed, 0, 2)).unwrap();
            let p = *g.permutations().get(sample.label).unwrap();
            let cells: Vec<Image> = (0..TILES)
                .map(|k| crop(&img, (k / 3) * side, (k % 3) * side, side, side).unwrap())
                .collect();
            prop_assert_eq!(&unshuffle(&sample.tiles, &p), &cells);
            prop_assert_eq!(&shuffle(&cells, &p), &sample.tiles);
        }
    }

    #[test]
    fn sizes_scale_with_the_image() {
        for (image_size, crop, tile) in [(48, 45, 13), (64, 60, 17), (96, 90, 26), (256, 240, 68)] {
            let config = JigsawConfig {
                image_size,
                ..JigsawConfig::default()
            };
            assert_eq!(
                (config.crop(), config.tile()),
                (crop, tile),
                "{image_size} px"
            );
            config.validate().unwrap();
        }
        let set = JigsawConfig {
            crop: Some(30),
            tile: Some(9),
            ..JigsawConfig::default()
        };
        assert_eq!((set.crop(), set.tile()), (30, 9));
    }

    #[test]
    fn tiles_stay_inside_their_cells() {
        let config = JigsawConfig::default();
        let g = generator(config.clone());
        let img = image(1, 48, 5);
        for seed in 0..20 {
            let tiles = g.tiles(&img, &mut sample_rng(seed, 0, 0), false).unwrap();
            assert_eq!(tiles.len(), 9);
            for tile in &tiles {
                assert_eq!(tile.shape(), [1, config.tile(), config.tile()]);
            }
        }
    }

    #[test]
    fn samples_are_normalised_labelled_and_reproducible() {
        let g = generator(JigsawConfig::default());
        let img = image(3, 28, 1);
        let a = g.generate(&img, 0, &mut sample_rng(0, 0, 3)).unwrap();
        let b = g.generate(&img, 0, &mut sample_rng(0, 0, 3)).unwrap();
        assert_eq!(a, b);
        assert!(a.label < 100);
        assert_eq!(a.tiles.len(), 9);
        let plane = a.tiles[0].plane(0);
        let mean = plane.iter().sum::<f32>() / plane.len() as f32;
        assert!(mean.abs() < 1e-4, "{mean}");
        assert_eq!(g.picture(&a).len(), 9);
    }

    #[test]
    fn impossible_geometry_is_an_error_naming_the_key() {
        for (config, needle) in [
            (
                JigsawConfig {
                    crop: Some(44),
                    ..JigsawConfig::default()
                },
                "jigsaw.puzzle.crop",
            ),
            (
                JigsawConfig {
                    crop: Some(51),
                    ..JigsawConfig::default()
                },
                "does not fit",
            ),
            (
                JigsawConfig {
                    tile: Some(16),
                    ..JigsawConfig::default()
                },
                "jigsaw.puzzle.tile",
            ),
            (
                JigsawConfig {
                    image_size: 2,
                    ..JigsawConfig::default()
                },
                "image_size 2 is too small",
            ),
            (
                JigsawConfig {
                    permutations: 0,
                    ..JigsawConfig::default()
                },
                "jigsaw.puzzle.permutations: 0 permutations asked for",
            ),
            (
                JigsawConfig {
                    permutations: 400_000,
                    ..JigsawConfig::default()
                },
                "400000 permutations asked for: a set holds 1 to 362880",
            ),
        ] {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("perms.txt");
        std::fs::write(&file, PermutationSet::max_hamming(10, 0).unwrap().to_text()).unwrap();
        let config = JigsawConfig {
            permutation_file: Some(file),
            ..JigsawConfig::default()
        };
        let err = config.permutation_set(0).unwrap_err().to_string();
        assert!(
            err.contains("holds 10 permutations") && err.contains("is 100"),
            "{err}"
        );
    }
}
