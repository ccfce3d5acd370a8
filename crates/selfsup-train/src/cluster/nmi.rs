//! [`nmi`]: normalised mutual information between two labellings.

use std::collections::HashMap;

/// Mutual information of two labellings of the same items divided by the arithmetic mean of
/// their entropies (scikit-learn's `normalized_mutual_info_score`, its default
/// `average_method="arithmetic"`). 1 for identical labellings up to renaming; 1 when both put
/// everything in one cluster; 0 when they are independent.
pub fn nmi(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 1.0;
    }
    let mut joint: HashMap<(usize, usize), f64> = HashMap::new();
    let mut pa: HashMap<usize, f64> = HashMap::new();
    let mut pb: HashMap<usize, f64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1.0;
        *pa.entry(x).or_default() += 1.0;
        *pb.entry(y).or_default() += 1.0;
    }
    let n = n as f64;
    let entropy =
        |p: &HashMap<usize, f64>| -> f64 { p.values().map(|&c| -(c / n) * (c / n).ln()).sum() };
    let (ha, hb) = (entropy(&pa), entropy(&pb));
    if ha == 0.0 && hb == 0.0 {
        return 1.0;
    }
    let mi: f64 = joint
        .iter()
        .map(|(&(x, y), &c)| (c / n) * ((c * n) / (pa[&x] * pb[&y])).ln())
        .sum();
    (mi / ((ha + hb) / 2.0)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_and_renamed_labellings_score_one() {
        let a = [0, 0, 1, 1, 2, 2, 2];
        assert!((nmi(&a, &a) - 1.0).abs() < 1e-12);
        let renamed: Vec<usize> = a.iter().map(|&x| [5, 9, 1][x]).collect();
        assert!((nmi(&a, &renamed) - 1.0).abs() < 1e-12);
        // scikit-learn: normalized_mutual_info_score([0,0,1,1], [0,1,0,1]) = 0.0 and
        // ([0,0,1,1,2,2], [0,0,1,1,1,1]) = 0.7336804366512113
        assert!(nmi(&[0, 0, 1, 1], &[0, 1, 0, 1]).abs() < 1e-12);
        assert!(
            (nmi(&[0, 0, 1, 1, 2, 2], &[0, 0, 1, 1, 1, 1]) - 0.733_680_436_651_211_3).abs() < 1e-9
        );
    }
}
