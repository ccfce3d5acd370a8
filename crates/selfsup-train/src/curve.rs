//! `curves.png`: every metric per epoch, drawn with the `image` crate.
//!
//! One panel per metric (the loss, the task's step metrics, the values its epoch hook reports,
//! the learning rates), two panels a row, each titled with the metric's name: training in blue,
//! validation in orange, epoch-hook values and learning rates in green, with each panel's lowest
//! and highest value written at its axis in a 3x5 pixel font (the exact numbers are in
//! `metrics.csv`). Hand-drawn because a plotting crate would bring a font stack (freetype,
//! fontconfig) into every build for a few line charts.

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::error::{Result, TrainError};
use crate::metrics::EpochRecord;

const W: u32 = 400;
const H: u32 = 260;
const MARGIN: u32 = 30;
/// Height of a panel's title strip.
const TITLE: u32 = 12;
const TRAIN: Rgb<u8> = Rgb([31, 119, 180]);
const VAL: Rgb<u8> = Rgb([255, 127, 14]);
const AXIS: Rgb<u8> = Rgb([60, 60, 60]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);
const HOOK: Rgb<u8> = Rgb([44, 160, 44]);

/// 3x5 glyphs for digits, letters (drawn as capitals) and `. - % _ +`, rows top to bottom, 3
/// bits per row.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c.to_ascii_uppercase() {
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        '_' => [0, 0, 0, 0, 7],
        '+' => [0, 2, 7, 2, 0],
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
        } else if v != 0.0 && v.abs() < 0.01 {
            format!("{v:.1e}")
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

/// One panel: a title and its series.
struct Panel {
    title: String,
    series: Vec<(Rgb<u8>, Vec<Option<f64>>)>,
    percent: bool,
}

/// The panels of `history`: `loss`, then every other training metric (with validation), then
/// the epoch-hook values, then the learning rates.
fn panels(history: &[EpochRecord]) -> Vec<Panel> {
    let mut names: Vec<&String> = history.iter().flat_map(|r| r.train.keys()).collect();
    names.sort_by_key(|n| (n.as_str() != "loss", n.as_str()));
    names.dedup();
    let percent = |name: &str| name.contains("accuracy") || name.ends_with("_acc");
    let mut out: Vec<Panel> = names
        .into_iter()
        .map(|name| Panel {
            title: name.clone(),
            series: vec![
                (
                    TRAIN,
                    history.iter().map(|r| r.train.get(name).copied()).collect(),
                ),
                (
                    VAL,
                    history.iter().map(|r| r.val.get(name).copied()).collect(),
                ),
            ],
            percent: percent(name),
        })
        .collect();
    let mut single = |pick: fn(&EpochRecord) -> &crate::metrics::Metrics, prefix: &str| {
        let mut keys: Vec<&String> = history.iter().flat_map(|r| pick(r).keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            out.push(Panel {
                title: format!("{prefix}{key}"),
                series: vec![(
                    HOOK,
                    history.iter().map(|r| pick(r).get(key).copied()).collect(),
                )],
                percent: false,
            });
        }
    };
    single(|r| &r.hook, "");
    single(|r| &r.lr, "lr ");
    out
}

/// Writes the curves of `history` to `path` (PNG).
pub fn draw(history: &[EpochRecord], path: &Path) -> Result<()> {
    let panels = panels(history);
    let rows = panels.len().div_ceil(2).max(1) as u32;
    let mut img = RgbImage::from_pixel(2 * W, rows * (H + TITLE), Rgb([255, 255, 255]));
    for (i, p) in panels.iter().enumerate() {
        let (left, top) = ((i as u32 % 2) * W, (i as u32 / 2) * (H + TITLE));
        text(&mut img, left + MARGIN, top + 4, &p.title);
        let mut cell = RgbImage::from_pixel(W, H, Rgb([255, 255, 255]));
        panel(&mut cell, 0, &p.series, p.percent);
        image::imageops::replace(&mut img, &cell, i64::from(left), i64::from(top + TITLE));
    }
    img.save(path)
        .map_err(|e| TrainError::io(path, std::io::Error::other(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_titled_panel_per_metric() {
        let record = |epoch: usize| EpochRecord {
            epoch,
            train: [
                ("loss".to_string(), 1.0 / epoch as f64),
                ("accuracy".into(), 0.5),
            ]
            .into(),
            val: [("loss".to_string(), 1.2)].into(),
            hook: [("nmi".to_string(), 0.3)].into(),
            lr: [("model".to_string(), 0.1)].into(),
            images_per_second: 10.0,
            seconds: 1.0,
            notes: Vec::new(),
        };
        let history = [record(1), record(2)];
        let titles: Vec<String> = panels(&history).into_iter().map(|p| p.title).collect();
        assert_eq!(titles, ["loss", "accuracy", "nmi", "lr model"]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curves.png");
        draw(&history, &path).unwrap();
        let png = image::open(&path).unwrap();
        assert_eq!((png.width(), png.height()), (2 * W, 2 * (H + TITLE)));
    }
}
