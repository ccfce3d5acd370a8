//! Picture grids of generated samples, for looking at what a pretext task feeds the network.

use crate::error::{DataError, Result};
use crate::image::Image;
use crate::transform::{Filter, resize};

/// Lays `rows` of images out as one grid image: each cell is the largest image's size times
/// `scale` (nearest-neighbour, so pixels stay visible), with a `gap`-pixel white border. Grey
/// images are shown as RGB; all images must have 1 or 3 channels.
pub fn grid(rows: &[Vec<Image>], scale: usize, gap: usize) -> Result<Image> {
    let cells = rows.iter().flatten();
    let cell_h = cells.clone().map(Image::height).max().unwrap_or(0) * scale.max(1);
    let cell_w = cells.clone().map(Image::width).max().unwrap_or(0) * scale.max(1);
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    if rows.is_empty() || cols == 0 || cell_h == 0 {
        return Err(DataError::invalid("grid", "nothing to draw"));
    }
    let height = rows.len() * (cell_h + gap) + gap;
    let width = cols * (cell_w + gap) + gap;
    let mut canvas = Image::filled(3, height, width, 1.0)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, img) in row.iter().enumerate() {
            let cell = resize(
                &img.to_channels(3)?,
                img.height() * scale.max(1),
                img.width() * scale.max(1),
                Filter::Nearest,
            )?;
            let (top, left) = (gap + r * (cell_h + gap), gap + c * (cell_w + gap));
            for ch in 0..3 {
                let src = cell.plane(ch);
                let dst = canvas.plane_mut(ch);
                for y in 0..cell.height() {
                    let start = (top + y) * width + left;
                    dst[start..start + cell.width()]
                        .copy_from_slice(&src[y * cell.width()..(y + 1) * cell.width()]);
                }
            }
        }
    }
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_land_in_place() {
        let black = Image::filled(1, 2, 2, 0.0).unwrap();
        let g = grid(&[vec![black.clone(), black]], 2, 1).unwrap();
        assert_eq!(g.shape(), [3, 6, 11]);
        assert_eq!(g.get(0, 0, 0), 1.0); // border
        assert_eq!(g.get(0, 1, 1), 0.0); // first cell
        assert_eq!(g.get(1, 4, 9), 0.0); // second cell, scaled
        assert_eq!(g.get(2, 3, 5), 1.0); // gap between cells
        assert!(grid(&[], 1, 1).is_err());
    }
}
