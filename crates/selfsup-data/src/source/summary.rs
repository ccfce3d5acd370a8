//! [`Summary`]: counts, sizes, channels and the label histogram of a source.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::Result;
use crate::source::ImageSource;

/// What `selfsup data info` prints about a source.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The source's description.
    pub description: String,
    /// Number of images.
    pub count: usize,
    /// How many images have each `[channels, height, width]`.
    pub shapes: BTreeMap<[usize; 3], usize>,
    /// `(class name, count)` for every class, in label order.
    pub histogram: Vec<(String, usize)>,
    /// Images without a label.
    pub unlabelled: usize,
}

impl Summary {
    /// Reads the shape and label of every image (headers only for folders).
    pub fn of(source: &dyn ImageSource) -> Result<Self> {
        let names = source.class_names();
        let mut counts = vec![0; names.len()];
        let mut shapes = BTreeMap::new();
        let mut unlabelled = 0;
        for i in 0..source.len() {
            *shapes.entry(source.shape(i)?).or_insert(0) += 1;
            match source.label(i) {
                Some(l) if l < counts.len() => counts[l] += 1,
                _ => unlabelled += 1,
            }
        }
        Ok(Self {
            description: source.describe(),
            count: source.len(),
            shapes,
            histogram: names.iter().cloned().zip(counts).collect(),
            unlabelled,
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "source:   {}", self.description)?;
        writeln!(f, "images:   {}", self.count)?;
        for ([c, h, w], n) in &self.shapes {
            let kind = match c {
                1 => "grey",
                3 => "RGB",
                _ => "channels",
            };
            writeln!(f, "shape:    {c} x {h} x {w} ({kind}): {n} images")?;
        }
        if self.histogram.is_empty() {
            writeln!(f, "labels:   none")?;
        } else {
            writeln!(f, "labels:   {} classes", self.histogram.len())?;
            let width = self
                .histogram
                .iter()
                .map(|(n, _)| n.len())
                .max()
                .unwrap_or(0);
            for (label, (name, n)) in self.histogram.iter().enumerate() {
                writeln!(f, "  {label:>3} {name:<width$} {n:>8}")?;
            }
            if self.unlabelled > 0 {
                writeln!(f, "  unlabelled {:>8}", self.unlabelled)?;
            }
        }
        Ok(())
    }
}
