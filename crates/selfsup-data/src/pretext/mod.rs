//! Pretext generators: from an image to a training sample whose labels come from the image.
//!
//! A generator is a pure function of (config, image, index, RNG); the RNG comes from
//! [`sample_rng`]`(seed, epoch, index)`, so every sample is reproducible and independent of the
//! order or the thread in which it is made. The index lets a generator look up what its method
//! computed for that image (DeepCluster's pseudo-label).

mod colorization;
mod context_prediction;
mod inpainting;
mod jigsaw;
mod labelled;
mod permutation;
mod rotation;
mod superres;
mod synthetic;

pub use colorization::{
    ColorizationConfig, ColorizationGenerator, ColorizationSample, colourise, lab_image,
    subsample_ab,
};
pub use context_prediction::{
    ColorShortcut, ContextConfig, ContextGenerator, ContextSample, NEIGHBOURS,
};
pub use inpainting::{
    InpaintingConfig, InpaintingGenerator, InpaintingSample, MaskKind, QUARTER, REGION_COVERAGE,
    centre_mask, centre_square, composite, coverage, diffusion_fill, dilate, fill_hole,
    loss_weights, mask, min_side,
};
pub use jigsaw::{
    JigsawConfig, JigsawGenerator, JigsawSample, Selection, shuffle, stretch, unshuffle,
};
pub use labelled::{AugmentConfig, LabelledGenerator, LabelledSample, uniform_over_clusters};
pub use permutation::{ALL_PERMUTATIONS, Permutation, PermutationSet, TILES};
pub use rotation::{RotationConfig, RotationGenerator, RotationSample};
pub use superres::{SuperResGenerator, SuperResSample, downsample};
pub use synthetic::{
    DenseScores, HELD_OUT, SyntheticGenerator, SyntheticSample, depth_picture, mean_map_scores,
    normals_picture,
};

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::error::Result;
use crate::image::Image;

/// Makes one pretext training sample from one image.
pub trait PretextGenerator: Send + Sync {
    /// What one image turns into.
    type Sample: Send;

    /// Builds the sample of `image`, image `index` of its source, drawing randomness only from
    /// `rng`.
    fn generate(&self, image: &Image, index: usize, rng: &mut StdRng) -> Result<Self::Sample>;

    /// The sample as one gallery row of 1- or 3-channel images in `[0, 1]` (what `selfsup show`
    /// draws).
    fn picture(&self, sample: &Self::Sample) -> Vec<Image>;
}

/// SplitMix64's finaliser: a bijective mix so that nearby inputs give unrelated outputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The RNG of sample `index` in `epoch` of a run seeded with `seed`.
pub fn sample_rng(seed: u64, epoch: u64, index: u64) -> StdRng {
    let key = mix(mix(mix(seed) ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15)) ^ index);
    StdRng::seed_from_u64(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn sample_rngs_are_reproducible_and_distinct() {
        let draw = |s, e, i| sample_rng(s, e, i).random::<u64>();
        assert_eq!(draw(1, 2, 3), draw(1, 2, 3));
        assert_ne!(draw(1, 2, 3), draw(1, 2, 4));
        assert_ne!(draw(1, 2, 3), draw(1, 3, 3));
        assert_ne!(draw(1, 2, 3), draw(2, 2, 3));
        assert_ne!(draw(0, 1, 0), draw(0, 0, 1));
    }
}
