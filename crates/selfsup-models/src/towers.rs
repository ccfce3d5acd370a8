//! [`towers`]: several patches of one image through one shared backbone, as the jigsaw
//! network's nine towers and context prediction's two towers with tied weights.

use burn::prelude::*;

use crate::backbone::{Backbone, global_avg_pool};

/// Runs every patch through `backbone` and returns each patch's globally pooled last-block
/// features, grouped by sample. Patches of one sample are consecutive, so the towers share
/// weights by construction: one batched forward pass serves them all.
///
/// # Shapes
/// - `patches`: `[batch * per_sample, channels, height, width]` -> `[batch, per_sample, features]`
pub fn towers(backbone: &Backbone, patches: Tensor<4>, per_sample: usize) -> Tensor<3> {
    let [n, ..] = patches.dims();
    let pooled = global_avg_pool(backbone.forward(patches)); // [batch * per_sample, features]
    let [_, features] = pooled.dims();
    pooled.reshape([n / per_sample.max(1), per_sample, features])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backbone::BackboneConfig;

    #[test]
    fn a_patch_has_the_same_features_in_every_position() {
        let device = Device::flex();
        let backbone = BackboneConfig::ConvNet { widths: vec![4, 8] }.init(1, &device);
        let patches =
            Tensor::<4>::random([6, 1, 8, 8], burn::tensor::Distribution::Default, &device);
        // The same six patches, the first and the last swapped.
        let swapped = Tensor::cat(
            vec![
                patches.clone().slice(5..6),
                patches.clone().slice(1..5),
                patches.clone().slice(0..1),
            ],
            0,
        );
        let backbone = backbone.valid();
        let a = towers(&backbone, patches, 3);
        let b = towers(&backbone, swapped, 3);
        assert_eq!(a.dims(), [2, 3, 8]);
        let first = a
            .clone()
            .slice([0..1, 0..1])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let moved = b
            .clone()
            .slice([1..2, 2..3])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let diff = first
            .iter()
            .zip(&moved)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(diff < 1e-6, "{diff}");
        let middle = a
            .slice([0..2, 1..2])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let same = b
            .slice([0..2, 1..2])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(middle, same);
    }
}
