//! `curves.png`: loss and pretext accuracy per epoch, drawn with the `image` crate.
//!
//! Two panels: loss (left) and accuracy (right), training in blue and validation in orange, with
//! each panel's lowest and highest value written at its axis in a 3x5 pixel digit font (the
//! exact numbers are in `metrics.csv`). Hand-drawn because a plotting crate would bring a font
//! stack (freetype, fontconfig) into every build for two line charts.

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::error::{Result, TrainError};
use crate::metrics::EpochRecord;

const W: u32 = 400;
const H: u32 = 260;
const MARGIN: u32 = 30;
const TRAIN: Rgb<u8> = Rgb([31, 119, 180]);
const VAL: Rgb<u8> = Rgb([255, 127, 14]);
const AXIS: Rgb<u8> = Rgb([60, 60, 60]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);

/// 3x5 glyphs for `0-9 . - %`, rows top to bottom, 3 bits per row.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        '%' => [5, 1, 2, 4, 5],
        _ => return None,
    })
}

fn text(img: &mut RgbImage, x: u32, y: u32, s: &str) {
    for (i, c) in s.chars().enumerate() {
        let Some(rows) = glyph(c) else { continue };
        for (r, bits) in rows.iter().enumerate() {
            for b in 0..3 {
                if bits & (4 >> b) != 0 {
                    let (px, py) = (x + 4 * i as u32 + b, y + r as u32);
                    if px < img.width() && py < img.height() {
                        img.put_pixel(px, py, AXIS);
                    }
                }
            }
        }
    }
}

fn line(img: &mut RgbImage, (x0, y0): (f64, f64), (x1, y1): (f64, f64), color: Rgb<u8>) {
    let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
    for i in 0..=steps {
        let t = i as f64 / steps as f64;
        let (x, y) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        for (dx, dy) in [(0, 0), (1, 0), (0, 1)] {
            let (px, py) = (x as u32 + dx, y as u32 + dy);
            if px < img.width() && py < img.height() {
                img.put_pixel(px, py, color);
            }
        }
    }
}

/// Draws one panel of series `(color, values by epoch)` at horizontal offset `left`.
fn panel(img: &mut RgbImage, left: u32, series: &[(Rgb<u8>, Vec<Option<f64>>)], percent: bool) {
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .collect();
    let (x0, x1) = (left + MARGIN, left + W - 10);
    let (y0, y1) = (H - MARGIN, 10);
    for k in 0..=4 {
        let y = y1 + (y0 - y1) * k / 4;
        line(
            img,
            (f64::from(x0), f64::from(y)),
            (f64::from(x1), f64::from(y)),
            GRID,
        );
    }
    line(
        img,
        (f64::from(x0), f64::from(y0)),
        (f64::from(x1), f64::from(y0)),
        AXIS,
    );
    line(
        img,
        (f64::from(x0), f64::from(y0)),
        (f64::from(x0), f64::from(y1)),
        AXIS,
    );
    let Some(lo) = values.iter().copied().reduce(f64::min) else {
        return;
    };
    let hi = values.iter().copied().fold(lo, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let label = |v: f64| {
        if percent {
            format!("{:.1}%", 100.0 * v)
        } else {
            format!("{v:.3}")
        }
    };
    text(img, left + 2, y0 - 5, &label(lo));
    text(img, left + 2, y1, &label(hi));
    let n = series.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    text(img, x1 - 12, y0 + 6, &n.to_string());
    let px = |i: usize| f64::from(x0) + (f64::from(x1 - x0)) * (i as f64 + 1.0) / n.max(1) as f64;
    let py = |v: f64| f64::from(y0) - f64::from(y0 - y1) * (v - lo) / span;
    for (color, vals) in series {
        let points: Vec<(f64, f64)> = vals
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (px(i), py(v))))
            .collect();
        for pair in points.windows(2) {
            line(img, pair[0], pair[1], *color);
        }
        for &(x, y) in &points {
            line(img, (x - 2.0, y), (x + 2.0, y), *color);
        }
    }
}

/// Writes the loss and accuracy curves of `history` to `path` (PNG).
pub fn draw(history: &[EpochRecord], path: &Path) -> Result<()> {
    let mut img = RgbImage::from_pixel(2 * W, H, Rgb([255, 255, 255]));
    panel(
        &mut img,
        0,
        &[
            (TRAIN, history.iter().map(|r| Some(r.train_loss)).collect()),
            (VAL, history.iter().map(|r| r.val_loss).collect()),
        ],
        false,
    );
    panel(
        &mut img,
        W,
        &[
            (TRAIN, history.iter().map(|r| r.train_accuracy).collect()),
            (VAL, history.iter().map(|r| r.val_accuracy).collect()),
        ],
        true,
    );
    img.save(path)
        .map_err(|e| TrainError::io(path, std::io::Error::other(e)))
}
