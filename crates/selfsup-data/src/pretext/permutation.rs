//! [`PermutationSet`]: the jigsaw puzzle's classes, permutations of 9 tiles chosen far apart in
//! Hamming distance.
//!
//! Noroozi & Favaro (2016), Algorithm 1: start from a random permutation, then repeatedly add
//! the candidate (of all 9! = 362,880) whose summed Hamming distance to the permutations already
//! chosen is largest; "the average Hamming distance ... should be as large as possible" (section
//! 3.2). Their Table 1 studies N = 1000 (average distance 8.00, minimum 2) down to 100 (8.08,
//! minimum 2). [`PermutationSet::max_min_hamming`] is a named deviation that maximises the
//! minimum distance instead (the paper's 95-permutation row has minimum 3).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::error::{DataError, Result};

/// Tiles in a 3x3 puzzle.
pub const TILES: usize = 9;
/// Every permutation of 9 tiles: 9!.
pub const ALL_PERMUTATIONS: usize = 362_880;

/// One permutation: output slot `i` shows source cell `p[i]`.
pub type Permutation = [u8; TILES];

/// A set of distinct permutations of 9 tiles; a permutation's index is its class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermutationSet {
    permutations: Vec<Permutation>,
}

fn hamming(a: &Permutation, b: &Permutation) -> u32 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as u32
}

/// All 9! permutations in lexicographic order.
fn all_permutations() -> Vec<Permutation> {
    let mut out = Vec::with_capacity(ALL_PERMUTATIONS);
    let mut p: Permutation = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    loop {
        out.push(p);
        // Next lexicographic permutation.
        let Some(i) = (0..TILES - 1).rev().find(|&i| p[i] < p[i + 1]) else {
            return out;
        };
        let j = (i + 1..TILES)
            .rev()
            .find(|&j| p[j] > p[i])
            .expect("p[i+1] > p[i]");
        p.swap(i, j);
        p[i + 1..].reverse();
    }
}

/// How each greedy step scores a candidate.
#[derive(Clone, Copy)]
enum Criterion {
    /// Sum (so, average) of distances to the chosen permutations: Algorithm 1.
    Sum,
    /// Minimum distance to the chosen permutations, ties broken by the sum.
    Min,
}

impl PermutationSet {
    /// Whether a set of `n` permutations can exist; the reason if not.
    pub(crate) fn check_size(n: usize) -> std::result::Result<(), String> {
        if n == 0 || n > ALL_PERMUTATIONS {
            return Err(format!(
                "{n} permutations asked for: a set holds 1 to {ALL_PERMUTATIONS} (9!) \
                 permutations of 9 tiles"
            ));
        }
        Ok(())
    }

    fn check_count(n: usize) -> Result<()> {
        Self::check_size(n).map_err(|reason| DataError::invalid("jigsaw permutations", reason))
    }

    fn greedy(n: usize, seed: u64, criterion: Criterion) -> Result<Self> {
        Self::check_count(n)?;
        let candidates = all_permutations();
        let mut sum = vec![0u32; candidates.len()];
        let mut min = vec![u32::MAX; candidates.len()];
        let mut taken = vec![false; candidates.len()];
        let mut next = StdRng::seed_from_u64(seed).random_range(0..candidates.len());
        let mut chosen = Vec::with_capacity(n);
        while chosen.len() < n {
            taken[next] = true;
            let p = candidates[next];
            chosen.push(p);
            for (k, c) in candidates.iter().enumerate() {
                let d = hamming(&p, c);
                sum[k] += d;
                min[k] = min[k].min(d);
            }
            // The first best candidate wins ties, as numpy's argmax does.
            let score = |k: usize| match criterion {
                Criterion::Sum => (sum[k], 0),
                Criterion::Min => (min[k], sum[k]),
            };
            let mut best: Option<usize> = None;
            for (k, _) in taken.iter().enumerate().filter(|(_, taken)| !**taken) {
                if best.is_none_or(|b| score(k) > score(b)) {
                    best = Some(k);
                }
            }
            match best {
                Some(k) => next = k,
                None => break,
            }
        }
        Ok(Self {
            permutations: chosen,
        })
    }

    /// Algorithm 1 of Noroozi & Favaro: `n` permutations, the first drawn from `seed`, each next
    /// one the farthest from the chosen set in summed Hamming distance.
    pub fn max_hamming(n: usize, seed: u64) -> Result<Self> {
        Self::greedy(n, seed, Criterion::Sum)
    }

    /// The max-min variant (a deviation from the paper): each next permutation is the one whose
    /// nearest chosen permutation is farthest, ties broken by summed distance.
    pub fn max_min_hamming(n: usize, seed: u64) -> Result<Self> {
        Self::greedy(n, seed, Criterion::Min)
    }

    /// A set from explicit permutations (of `0..9`, distinct).
    pub fn from_permutations(permutations: Vec<Permutation>) -> Result<Self> {
        Self::check_count(permutations.len())?;
        for (i, p) in permutations.iter().enumerate() {
            let mut seen = [false; TILES];
            for &t in p {
                if usize::from(t) >= TILES || std::mem::replace(&mut seen[usize::from(t)], true) {
                    return Err(DataError::invalid(
                        "jigsaw permutations",
                        format!("permutation {i} ({p:?}) is not a permutation of 0..8"),
                    ));
                }
            }
            if let Some(j) = permutations[..i].iter().position(|q| q == p) {
                return Err(DataError::invalid(
                    "jigsaw permutations",
                    format!("permutations {j} and {i} are the same ({p:?})"),
                ));
            }
        }
        Ok(Self { permutations })
    }

    /// Reads a set written by [`to_text`](Self::to_text): one permutation a line, nine numbers
    /// 0 to 8 separated by spaces or commas.
    pub fn from_text(text: &str, origin: &str) -> Result<Self> {
        let mut permutations = Vec::new();
        for (line_no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let values: Vec<&str> = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .collect();
            let parsed: Option<Vec<u8>> = values.iter().map(|v| v.parse().ok()).collect();
            let p: Option<Permutation> = parsed.and_then(|v| v.try_into().ok());
            let p = p.ok_or_else(|| {
                DataError::invalid(
                    "jigsaw permutations",
                    format!(
                        "{origin}, line {}: '{line}' is not nine numbers 0 to 8",
                        line_no + 1
                    ),
                )
            })?;
            permutations.push(p);
        }
        Self::from_permutations(permutations)
    }

    /// One permutation a line.
    pub fn to_text(&self) -> String {
        self.permutations
            .iter()
            .map(|p| {
                p.iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
                    + "\n"
            })
            .collect()
    }

    /// Number of permutations (classes).
    pub fn len(&self) -> usize {
        self.permutations.len()
    }

    /// Whether the set is empty (never, for a constructed set).
    pub fn is_empty(&self) -> bool {
        self.permutations.is_empty()
    }

    /// Permutation `i`.
    pub fn get(&self, i: usize) -> Option<&Permutation> {
        self.permutations.get(i)
    }

    /// Every permutation, in class order.
    pub fn permutations(&self) -> &[Permutation] {
        &self.permutations
    }

    /// Minimum and mean Hamming distance over all pairs (0 and 0 for one permutation).
    pub fn distances(&self) -> (u32, f64) {
        let mut min = u32::MAX;
        let (mut sum, mut pairs) = (0u64, 0u64);
        for (i, a) in self.permutations.iter().enumerate() {
            for b in &self.permutations[i + 1..] {
                let d = hamming(a, b);
                min = min.min(d);
                sum += u64::from(d);
                pairs += 1;
            }
        }
        if pairs == 0 {
            (0, 0.0)
        } else {
            (min, sum as f64 / pairs as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_permutations_are_distinct_and_complete() {
        let all = all_permutations();
        assert_eq!(all.len(), ALL_PERMUTATIONS);
        assert_eq!(all[0], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(all[ALL_PERMUTATIONS - 1], [8, 7, 6, 5, 4, 3, 2, 1, 0]);
        assert!(
            all.windows(2).all(|w| w[0] < w[1]),
            "lexicographic, hence distinct"
        );
    }

    #[test]
    fn algorithm_one_spreads_permutations_far_apart() {
        let set = PermutationSet::max_hamming(100, 0).unwrap();
        assert_eq!(set.len(), 100);
        let (min, mean) = set.distances();
        // The paper's 100-permutation set: mean 8.08, minimum 2 (Table 1; the authors'
        // permutations_100_max.bin measures the same).
        assert!(mean > 8.0, "mean {mean}");
        assert!(min >= 2, "min {min}");
        assert!(PermutationSet::from_permutations(set.permutations().to_vec()).is_ok());
        // Deterministic by seed, different across seeds.
        assert_eq!(set, PermutationSet::max_hamming(100, 0).unwrap());
        assert_ne!(set, PermutationSet::max_hamming(100, 1).unwrap());
        // The max-min variant keeps every pair at least 3 apart at this size.
        let maxmin = PermutationSet::max_min_hamming(100, 0).unwrap();
        assert!(maxmin.distances().0 >= 3, "{:?}", maxmin.distances());
    }

    #[test]
    fn sizes_beyond_nine_factorial_and_bad_files_are_errors() {
        let err = PermutationSet::max_hamming(ALL_PERMUTATIONS + 1, 0).unwrap_err();
        assert!(err.to_string().contains("362880"), "{err}");
        assert!(PermutationSet::max_hamming(0, 0).is_err());
        let set = PermutationSet::max_hamming(5, 3).unwrap();
        assert_eq!(PermutationSet::from_text(&set.to_text(), "x").unwrap(), set);
        let err = PermutationSet::from_text("0 1 2 3 4 5 6 7 7\n", "p.txt").unwrap_err();
        assert!(err.to_string().contains("not a permutation"), "{err}");
        let err = PermutationSet::from_text("0 1 2\n", "p.txt").unwrap_err();
        assert!(err.to_string().contains("p.txt, line 1"), "{err}");
        let twice = "0 1 2 3 4 5 6 7 8\n0 1 2 3 4 5 6 7 8\n";
        assert!(PermutationSet::from_text(twice, "p.txt").is_err());
    }
}
