//! [`Subset`]: some of a source's images, by index (a few labels per class for fine-tuning).

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::error::{DataError, Result};
use crate::source::{ImageSource, LabeledImage};

/// The images `indices` of a source, in that order.
#[derive(Clone, Debug)]
pub struct Subset {
    source: Arc<dyn ImageSource>,
    indices: Vec<usize>,
    name: String,
}

impl Subset {
    /// `per_class` images of every class of `source`, chosen by a shuffle seeded with `seed`,
    /// in source order. Every image must be labelled and every class must hold `per_class`.
    pub fn per_class(source: Arc<dyn ImageSource>, per_class: usize, seed: u64) -> Result<Self> {
        let bad = |reason: String| DataError::Source {
            spec: source.describe(),
            reason,
        };
        if per_class == 0 {
            return Err(bad("labels per class must be at least 1".into()));
        }
        let mut by_class: Vec<Vec<usize>> = Vec::new();
        for i in 0..source.len() {
            let label = source.label(i).ok_or_else(|| {
                bad(format!("image {i} has no label: a labelled source is needed (class sub-folders, or IDX labels)"))
            })?;
            if by_class.len() <= label {
                by_class.resize(label + 1, Vec::new());
            }
            by_class[label].push(i);
        }
        let names = source.class_names();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut indices = Vec::with_capacity(per_class * by_class.len());
        for (class, members) in by_class.iter_mut().enumerate() {
            if members.len() < per_class {
                let name = names
                    .get(class)
                    .map_or(String::new(), |n| format!(" ({n})"));
                return Err(bad(format!(
                    "class {class}{name} holds {} images, fewer than the {per_class} labels per class asked for",
                    members.len()
                )));
            }
            members.shuffle(&mut rng);
            indices.extend_from_slice(&members[..per_class]);
        }
        indices.sort_unstable();
        let name = format!("{}, {per_class} per class (seed {seed})", source.describe());
        Ok(Self {
            source,
            indices,
            name,
        })
    }

    /// The source indices of the subset's images.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl ImageSource for Subset {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn get(&self, index: usize) -> Result<LabeledImage> {
        let len = self.indices.len();
        let i = *self
            .indices
            .get(index)
            .ok_or(DataError::IndexOutOfRange { index, len })?;
        self.source.get(i)
    }

    fn label(&self, index: usize) -> Option<usize> {
        self.indices.get(index).and_then(|&i| self.source.label(i))
    }

    fn shape(&self, index: usize) -> Result<[usize; 3]> {
        let len = self.indices.len();
        let i = *self
            .indices
            .get(index)
            .ok_or(DataError::IndexOutOfRange { index, len })?;
        self.source.shape(i)
    }

    fn class_names(&self) -> &[String] {
        self.source.class_names()
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Split, bundled_sample};

    #[test]
    fn per_class_subsets_are_balanced_and_seeded() {
        let source: Arc<dyn ImageSource> = Arc::new(bundled_sample(Split::Test).unwrap());
        let subset = Subset::per_class(source.clone(), 10, 3).unwrap();
        assert_eq!(subset.len(), 100);
        let mut counts = [0; 10];
        for i in 0..subset.len() {
            counts[subset.label(i).unwrap()] += 1;
        }
        assert_eq!(counts, [10; 10]);
        assert_eq!(
            subset.indices(),
            Subset::per_class(source.clone(), 10, 3).unwrap().indices()
        );
        assert_ne!(
            subset.indices(),
            Subset::per_class(source.clone(), 10, 4).unwrap().indices()
        );
        let err = Subset::per_class(source, 101, 0).unwrap_err().to_string();
        assert!(
            err.contains("holds 100 images, fewer than the 101"),
            "{err}"
        );
    }
}
