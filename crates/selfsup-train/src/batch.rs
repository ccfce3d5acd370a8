//! [`stack_images`]: equally sized images to one `[batch, channels, height, width]` tensor;
//! [`stack_parts`]: samples of several images each, one tensor per part;
//! [`unstack_images`]: a network's `[batch, channels, height, width]` output back to images;
//! [`labelled_batch`]: images and one class each, for the classifier tasks.

use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup_data::pretext::LabelledSample;
use selfsup_data::{DataError, Image};
use selfsup_models::LabelledBatch;

use crate::error::Result;

/// Stacks equally sized images into one `[batch, channels, height, width]` tensor.
///
/// # Panics
/// If the images differ in shape (callers conform them first).
pub fn stack_images(images: &[Image], device: &Device) -> Tensor<4> {
    let [c, h, w] = images.first().map_or([0, 0, 0], Image::shape);
    let mut data = Vec::with_capacity(images.len() * c * h * w);
    for image in images {
        assert_eq!(image.shape(), [c, h, w], "stack_images needs equal shapes");
        data.extend_from_slice(image.data());
    }
    Tensor::from_data(TensorData::new(data, [images.len(), c, h, w]), device)
}

/// Stacks samples made of `N` images each (an input and its targets) into one tensor per
/// part, in the order of the arrays.
pub fn stack_parts<const N: usize>(
    samples: impl IntoIterator<Item = [Image; N]>,
    device: &Device,
) -> [Tensor<4>; N] {
    let mut parts: [Vec<Image>; N] = std::array::from_fn(|_| Vec::new());
    for sample in samples {
        for (part, image) in parts.iter_mut().zip(sample) {
            part.push(image);
        }
    }
    parts.map(|p| stack_images(&p, device))
}

/// Splits a `[batch, channels, height, width]` tensor into `batch` images (the inverse of
/// [`stack_images`]): what a network predicted, as pictures.
pub fn unstack_images(batch: Tensor<4>) -> Result<Vec<Image>> {
    let [b, c, h, w] = batch.dims();
    let data = batch
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| DataError::InvalidArgument {
            op: "prediction",
            reason: format!("not f32 values: {e:?}"),
        })?;
    if b == 0 {
        return Ok(Vec::new());
    }
    data.chunks_exact(c * h * w)
        .map(|plane| Ok(Image::new(c, h, w, plane.to_vec())?))
        .collect()
}

/// Stacks `images` with their `labels` (one each) into a classifier's batch.
pub fn labelled_batch(images: &[Image], labels: Vec<i64>, device: &Device) -> LabelledBatch {
    let n = labels.len();
    LabelledBatch {
        images: stack_images(images, device),
        labels: Tensor::from_data(TensorData::new(labels, [n]), device),
    }
}

/// A classifier's batch of labelled samples (pseudo-labels or true ones).
pub fn collate_labelled(samples: Vec<LabelledSample>, device: &Device) -> LabelledBatch {
    let labels = samples.iter().map(|s| s.label as i64).collect();
    let images: Vec<_> = samples.into_iter().map(|s| s.image).collect();
    labelled_batch(&images, labels, device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_stack_in_order() {
        let device = Device::flex();
        let images = [
            Image::filled(1, 2, 3, 0.5).unwrap(),
            Image::filled(1, 2, 3, 1.0).unwrap(),
        ];
        let batch = stack_images(&images, &device);
        assert_eq!(batch.dims(), [2, 1, 2, 3]);
        let values = batch.into_data().try_into_vec::<f32>().unwrap();
        assert!(values[..6].iter().all(|v| *v == 0.5));
        assert!(values[6..].iter().all(|v| *v == 1.0));
        let back = unstack_images(stack_images(&images, &device)).unwrap();
        assert_eq!(back, images);
    }
}
