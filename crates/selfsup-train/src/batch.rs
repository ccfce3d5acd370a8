//! [`stack_images`]: equally sized images to one `[batch, channels, height, width]` tensor.

use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup_data::Image;

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
        let values = batch.into_data().to_vec::<f32>().unwrap();
        assert!(values[..6].iter().all(|v| *v == 0.5));
        assert!(values[6..].iter().all(|v| *v == 1.0));
    }
}
