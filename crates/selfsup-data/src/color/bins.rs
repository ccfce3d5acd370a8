//! The quantised ab space of colorization (Zhang, Isola & Efros 2016): the Q = 313 bin centres,
//! soft encoding of a colour over its nearest bins, the colour prior and the class-rebalancing
//! weights derived from it.
//!
//! The bins are the authors' published list (`pts_in_hull.npy` of their code, 10-unit grid,
//! index = class), kept in their order so that class ids mean the same as in their models. The
//! paper calls them "in gamut"; the list is wider than sRGB: 262 of the 313 cells hold an sRGB
//! colour (the test below counts them) and the other 51 never occur as targets here.

/// The grid step of the ab bins, in Lab units.
pub const BIN_STEP: f32 = 10.0;

/// The number of ab bins (Q).
pub const BINS: usize = 313;

/// The (a, b) centre of each bin, in the authors' order (their class index).
#[rustfmt::skip]
pub const AB_BINS: [[i16; 2]; BINS] = [
    [-90, 50], [-90, 60], [-90, 70], [-90, 80], [-90, 90], [-80, 20], [-80, 30], [-80, 40],
    [-80, 50], [-80, 60], [-80, 70], [-80, 80], [-80, 90], [-70, 0], [-70, 10], [-70, 20],
    [-70, 30], [-70, 40], [-70, 50], [-70, 60], [-70, 70], [-70, 80], [-70, 90], [-60, -20],
    [-60, -10], [-60, 0], [-60, 10], [-60, 20], [-60, 30], [-60, 40], [-60, 50], [-60, 60],
    [-60, 70], [-60, 80], [-60, 90], [-50, -30], [-50, -20], [-50, -10], [-50, 0], [-50, 10],
    [-50, 20], [-50, 30], [-50, 40], [-50, 50], [-50, 60], [-50, 70], [-50, 80], [-50, 90],
    [-50, 100], [-40, -40], [-40, -30], [-40, -20], [-40, -10], [-40, 0], [-40, 10], [-40, 20],
    [-40, 30], [-40, 40], [-40, 50], [-40, 60], [-40, 70], [-40, 80], [-40, 90], [-40, 100],
    [-30, -50], [-30, -40], [-30, -30], [-30, -20], [-30, -10], [-30, 0], [-30, 10], [-30, 20],
    [-30, 30], [-30, 40], [-30, 50], [-30, 60], [-30, 70], [-30, 80], [-30, 90], [-30, 100],
    [-20, -50], [-20, -40], [-20, -30], [-20, -20], [-20, -10], [-20, 0], [-20, 10], [-20, 20],
    [-20, 30], [-20, 40], [-20, 50], [-20, 60], [-20, 70], [-20, 80], [-20, 90], [-20, 100],
    [-10, -60], [-10, -50], [-10, -40], [-10, -30], [-10, -20], [-10, -10], [-10, 0], [-10, 10],
    [-10, 20], [-10, 30], [-10, 40], [-10, 50], [-10, 60], [-10, 70], [-10, 80], [-10, 90],
    [-10, 100], [0, -70], [0, -60], [0, -50], [0, -40], [0, -30], [0, -20], [0, -10],
    [0, 0], [0, 10], [0, 20], [0, 30], [0, 40], [0, 50], [0, 60], [0, 70],
    [0, 80], [0, 90], [0, 100], [10, -80], [10, -70], [10, -60], [10, -50], [10, -40],
    [10, -30], [10, -20], [10, -10], [10, 0], [10, 10], [10, 20], [10, 30], [10, 40],
    [10, 50], [10, 60], [10, 70], [10, 80], [10, 90], [20, -80], [20, -70], [20, -60],
    [20, -50], [20, -40], [20, -30], [20, -20], [20, -10], [20, 0], [20, 10], [20, 20],
    [20, 30], [20, 40], [20, 50], [20, 60], [20, 70], [20, 80], [20, 90], [30, -90],
    [30, -80], [30, -70], [30, -60], [30, -50], [30, -40], [30, -30], [30, -20], [30, -10],
    [30, 0], [30, 10], [30, 20], [30, 30], [30, 40], [30, 50], [30, 60], [30, 70],
    [30, 80], [30, 90], [40, -100], [40, -90], [40, -80], [40, -70], [40, -60], [40, -50],
    [40, -40], [40, -30], [40, -20], [40, -10], [40, 0], [40, 10], [40, 20], [40, 30],
    [40, 40], [40, 50], [40, 60], [40, 70], [40, 80], [40, 90], [50, -100], [50, -90],
    [50, -80], [50, -70], [50, -60], [50, -50], [50, -40], [50, -30], [50, -20], [50, -10],
    [50, 0], [50, 10], [50, 20], [50, 30], [50, 40], [50, 50], [50, 60], [50, 70],
    [50, 80], [60, -110], [60, -100], [60, -90], [60, -80], [60, -70], [60, -60], [60, -50],
    [60, -40], [60, -30], [60, -20], [60, -10], [60, 0], [60, 10], [60, 20], [60, 30],
    [60, 40], [60, 50], [60, 60], [60, 70], [60, 80], [70, -110], [70, -100], [70, -90],
    [70, -80], [70, -70], [70, -60], [70, -50], [70, -40], [70, -30], [70, -20], [70, -10],
    [70, 0], [70, 10], [70, 20], [70, 30], [70, 40], [70, 50], [70, 60], [70, 70],
    [70, 80], [80, -110], [80, -100], [80, -90], [80, -80], [80, -70], [80, -60], [80, -50],
    [80, -40], [80, -30], [80, -20], [80, -10], [80, 0], [80, 10], [80, 20], [80, 30],
    [80, 40], [80, 50], [80, 60], [80, 70], [90, -110], [90, -100], [90, -90], [90, -80],
    [90, -70], [90, -60], [90, -50], [90, -40], [90, -30], [90, -20], [90, -10], [90, 0],
    [90, 10], [90, 20], [90, 30], [90, 40], [90, 50], [90, 60], [90, 70], [100, -90],
    [100, -80], [100, -70], [100, -60], [100, -50], [100, -40], [100, -30], [100, -20], [100, -10],
    [100, 0],];

/// Grid cells per axis: a and b run from -110 to 110 in steps of 10.
const GRID: usize = 23;
const GRID_MIN: f32 = -110.0;

/// The bins with a lookup from grid cell to bin, for nearest-bin queries.
#[derive(Clone, Debug)]
pub struct AbBins {
    centres: Vec<[f32; 2]>,
    /// Bin index of each grid cell, or `None` outside the list.
    cell: Vec<Option<u16>>,
}

impl Default for AbBins {
    fn default() -> Self {
        Self::new()
    }
}

fn grid_index(v: f32) -> usize {
    (((v - GRID_MIN) / BIN_STEP).round().max(0.0) as usize).min(GRID - 1)
}

impl AbBins {
    /// The authors' 313 bins.
    pub fn new() -> Self {
        let centres: Vec<[f32; 2]> = AB_BINS
            .iter()
            .map(|&[a, b]| [f32::from(a), f32::from(b)])
            .collect();
        let mut cell = vec![None; GRID * GRID];
        for (q, &[a, b]) in centres.iter().enumerate() {
            cell[grid_index(a) * GRID + grid_index(b)] = Some(q as u16);
        }
        Self { centres, cell }
    }

    /// The (a, b) centres, by class index.
    pub fn centres(&self) -> &[[f32; 2]] {
        &self.centres
    }

    /// The number of bins.
    pub fn len(&self) -> usize {
        self.centres.len()
    }

    /// Whether there are no bins (never, for [`AbBins::new`]).
    pub fn is_empty(&self) -> bool {
        self.centres.is_empty()
    }

    /// The `k` bins nearest to (a, b) with their squared distances, nearest first (ties by
    /// index).
    ///
    /// Searches the grid cells within three cells of (a, b) rather than all 313 bins: any bin
    /// within 25 units lies among them, so the answer is exact whenever the `k`-th nearest is
    /// that close; otherwise (colours at or past the hull's edge) it searches every bin.
    pub fn nearest(&self, a: f32, b: f32, k: usize, out: &mut Vec<(f32, usize)>) {
        const REACH: isize = 3;
        let k = k.max(1);
        let guaranteed = (REACH as f32 * BIN_STEP - BIN_STEP / 2.0).powi(2);
        let inside = |v: f32| (GRID_MIN - BIN_STEP / 2.0..=-GRID_MIN + BIN_STEP / 2.0).contains(&v);
        out.clear();
        let (ia, ib) = (grid_index(a) as isize, grid_index(b) as isize);
        for x in (ia - REACH).max(0)..=(ia + REACH).min(GRID as isize - 1) {
            for y in (ib - REACH).max(0)..=(ib + REACH).min(GRID as isize - 1) {
                if let Some(q) = self.cell[x as usize * GRID + y as usize] {
                    let [ca, cb] = self.centres[q as usize];
                    out.push(((a - ca).powi(2) + (b - cb).powi(2), q as usize));
                }
            }
        }
        out.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let exact = inside(a) && inside(b) && out.len() >= k && out[k - 1].0 <= guaranteed;
        if !exact {
            out.clear();
            out.extend(
                self.centres
                    .iter()
                    .enumerate()
                    .map(|(q, [ca, cb])| ((a - ca).powi(2) + (b - cb).powi(2), q)),
            );
            out.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        }
        out.truncate(k);
    }

    /// Soft-encodes (a, b) over its `k` nearest bins with a Gaussian kernel of width `sigma`
    /// (the paper: 5 neighbours, sigma 5): adds the weights, which sum to 1, into `target`
    /// (one value per bin) and returns the nearest bin. `scratch` is working space, left
    /// holding the weights.
    pub fn soft_encode(
        &self,
        a: f32,
        b: f32,
        k: usize,
        sigma: f32,
        scratch: &mut Vec<(f32, usize)>,
        mut target: impl FnMut(usize, f32),
    ) -> usize {
        self.nearest(a, b, k.max(1), scratch);
        let nearest_d2 = scratch[0].0;
        // Relative to the nearest distance: the same normalised weights, without underflow for
        // colours far from every bin.
        // The scratch distances become the kernel weights in place: no allocation per pixel.
        for (d2, _) in scratch.iter_mut() {
            *d2 = (-(*d2 - nearest_d2) / (2.0 * sigma * sigma)).exp();
        }
        let total: f32 = scratch.iter().map(|(w, _)| w).sum();
        for (w, q) in scratch.iter() {
            target(*q, w / total);
        }
        scratch[0].1
    }

    /// The colour prior: the histogram of `ab` pairs over their nearest bins, smoothed with a
    /// Gaussian of width `sigma` over the ab plane, summing to 1. `None` if `ab` is empty.
    pub fn prior(&self, ab: impl IntoIterator<Item = [f32; 2]>, sigma: f32) -> Option<Vec<f64>> {
        let mut counts = vec![0.0f64; self.len()];
        let mut scratch = Vec::new();
        for [a, b] in ab {
            self.nearest(a, b, 1, &mut scratch);
            counts[scratch[0].1] += 1.0;
        }
        let total: f64 = counts.iter().sum();
        if total == 0.0 {
            return None;
        }
        let two_s2 = 2.0 * f64::from(sigma).powi(2);
        let mut smooth: Vec<f64> = self
            .centres
            .iter()
            .map(|[a, b]| {
                counts
                    .iter()
                    .zip(&self.centres)
                    .filter(|(c, _)| **c > 0.0)
                    .map(|(c, [ca, cb])| {
                        let d2 = f64::from((a - ca).powi(2) + (b - cb).powi(2));
                        c * (-d2 / two_s2).exp()
                    })
                    .sum()
            })
            .collect();
        let sum: f64 = smooth.iter().sum();
        smooth.iter_mut().for_each(|p| *p /= sum);
        Some(smooth)
    }
}

/// The smallest probability [`rebalancing_weights`] divides by.
pub const RAREST: f64 = 1e-8;

/// Class-rebalancing weights (the paper's equation 4): `w ∝ ((1 - lambda) p + lambda / Q)^-1`,
/// scaled so that their expectation under the prior `p` is 1. The mixture is floored at
/// [`RAREST`] so that, with `lambda` 0, colours the prior (nearly) never saw weigh much, not
/// infinitely much.
pub fn rebalancing_weights(prior: &[f64], lambda: f64) -> Vec<f32> {
    let q = prior.len() as f64;
    let mix: Vec<f64> = prior
        .iter()
        .map(|p| (1.0 - lambda) * p + lambda / q)
        .collect();
    let raw: Vec<f64> = mix.iter().map(|m| 1.0 / m.max(RAREST)).collect();
    let expectation: f64 = prior.iter().zip(&raw).map(|(p, w)| p * w).sum();
    raw.iter().map(|w| (w / expectation) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::srgb_to_lab_pixel;
    use proptest::prelude::*;

    #[test]
    fn there_are_313_distinct_bins_on_the_10_unit_grid() {
        let bins = AbBins::new();
        assert_eq!(bins.len(), 313);
        let mut seen = std::collections::HashSet::new();
        for [a, b] in AB_BINS {
            assert!(a % 10 == 0 && b % 10 == 0, "({a}, {b})");
            assert!(seen.insert((a, b)), "({a}, {b}) twice");
        }
        // The authors' list, spot-checked: its first, its neutral and its last entries.
        assert_eq!(AB_BINS[0], [-90, 50]);
        assert_eq!(AB_BINS[120], [0, 0]);
        assert_eq!(AB_BINS[312], [100, 0]);
    }

    #[test]
    fn every_srgb_colour_falls_into_a_listed_bin() {
        // 33^3 colours of the sRGB cube: each one's own grid cell is one of the 313, and the
        // cells they reach are the 262 the module docs name.
        let bins = AbBins::new();
        let mut used = std::collections::HashSet::new();
        let steps = 33;
        for r in 0..steps {
            for g in 0..steps {
                for b in 0..steps {
                    let rgb = [r, g, b].map(|v| v as f32 / (steps - 1) as f32);
                    let [_, a, bb] = srgb_to_lab_pixel(rgb);
                    let cell = bins.cell[grid_index(a) * GRID + grid_index(bb)];
                    assert!(cell.is_some(), "{rgb:?} -> ({a}, {bb}) has no bin");
                    used.insert(cell);
                }
            }
        }
        assert!((255..=262).contains(&used.len()), "{}", used.len());
    }

    #[test]
    fn rebalancing_weights_have_expectation_one_under_the_prior() {
        let bins = AbBins::new();
        let ab = (0..500).map(|i| [(i % 40) as f32 - 20.0, (i % 7) as f32 * 3.0]);
        let prior = bins.prior(ab, 5.0).unwrap();
        assert!((prior.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        for lambda in [0.0, 0.5, 1.0] {
            let w = rebalancing_weights(&prior, lambda);
            let e: f64 = prior.iter().zip(&w).map(|(p, w)| p * f64::from(*w)).sum();
            assert!((e - 1.0).abs() < 1e-5, "lambda {lambda}: {e}");
        }
        // Uniform mixing only: every weight is 1. Rare colours weigh more than common ones.
        assert!(
            rebalancing_weights(&prior, 1.0)
                .iter()
                .all(|w| (w - 1.0).abs() < 1e-5)
        );
        let w = rebalancing_weights(&prior, 0.5);
        let common = prior
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(y.1))
            .unwrap()
            .0;
        assert!(w.iter().all(|v| *v >= w[common]));
        assert!(bins.prior(std::iter::empty(), 5.0).is_none());
    }

    #[test]
    fn nearest_search_agrees_with_brute_force_far_outside_the_grid_too() {
        let bins = AbBins::new();
        let mut fast = Vec::new();
        for (a, b) in [
            (0.0, 0.0),
            (3.0, -4.0),
            (127.0, 127.0),
            (-128.0, 90.0),
            (500.0, -500.0),
        ] {
            bins.nearest(a, b, 5, &mut fast);
            let mut all: Vec<(f32, usize)> = bins
                .centres()
                .iter()
                .enumerate()
                .map(|(q, [ca, cb])| ((a - ca).powi(2) + (b - cb).powi(2), q))
                .collect();
            all.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            assert_eq!(
                fast.iter().map(|x| x.0).collect::<Vec<_>>(),
                all[..5].iter().map(|x| x.0).collect::<Vec<_>>(),
                "({a}, {b})"
            );
        }
    }

    proptest! {
        #[test]
        fn soft_encoding_sums_to_one_and_peaks_at_the_nearest_bin(a in -100.0f32..100.0, b in -110.0f32..100.0) {
            let bins = AbBins::new();
            let mut target = vec![0.0f32; BINS];
            let mut scratch = Vec::new();
            let q = bins.soft_encode(a, b, 5, 5.0, &mut scratch, |q, w| target[q] += w);
            let sum: f32 = target.iter().sum();
            prop_assert!((sum - 1.0).abs() < 1e-5);
            prop_assert_eq!(target.iter().filter(|w| **w > 0.0).count(), 5);
            let max = target.iter().cloned().fold(0.0f32, f32::max);
            prop_assert_eq!(target[q], max);
            let [ca, cb] = bins.centres()[q];
            for [xa, xb] in bins.centres() {
                prop_assert!((a - ca).powi(2) + (b - cb).powi(2) <= (a - xa).powi(2) + (b - xb).powi(2) + 1e-3);
            }
        }
    }
}
