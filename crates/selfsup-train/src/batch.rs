//! [`ImageBatcher`]: labelled images to `[batch, channels, height, width]` tensors.

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup_data::transform::{Filter, resize};
use selfsup_data::{Image, LabeledImage};

use crate::error::{Result, TrainError};

/// A batch of images with their labels.
#[derive(Clone, Debug)]
pub struct ImageBatch {
    /// `[batch, channels, height, width]`, values as the source gave them (`[0, 1]` for decoded
    /// images).
    pub images: Tensor<4>,
    /// `[batch]` class indices, present when every image in the batch has a label.
    pub labels: Option<Tensor<1, Int>>,
}

/// Stacks images into one tensor, first bringing each to a fixed channel count (grey <-> RGB)
/// and size (bilinear resampling) so that mixed folders batch cleanly.
#[derive(Clone, Debug)]
pub struct ImageBatcher {
    channels: usize,
    height: usize,
    width: usize,
}

impl ImageBatcher {
    /// A batcher producing `[batch, channels, height, width]`; `channels` must be 1 or 3.
    pub fn new(channels: usize, height: usize, width: usize) -> Result<Self> {
        if channels != 1 && channels != 3 {
            return Err(TrainError::InvalidConfig {
                what: "batcher channels",
                reason: format!("{channels} channels; images are batched as 1 (grey) or 3 (RGB)"),
            });
        }
        if height == 0 || width == 0 {
            return Err(TrainError::InvalidConfig {
                what: "batcher size",
                reason: format!("{height}x{width} has a zero side"),
            });
        }
        Ok(Self {
            channels,
            height,
            width,
        })
    }

    /// Brings one image to the batch's channel count and size.
    pub fn conform(&self, image: &Image) -> Image {
        let image = match (image.channels(), self.channels) {
            (a, b) if a == b => image.clone(),
            (_, 1) => selfsup_data::transform::grayscale(image),
            _ => selfsup_data::transform::grayscale(image)
                .to_channels(3)
                .expect("grey to RGB is always possible"),
        };
        if (image.height(), image.width()) == (self.height, self.width) {
            image
        } else {
            resize(&image, self.height, self.width, Filter::Bilinear)
                .expect("ImageBatcher::new rejects zero sizes")
        }
    }
}

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

impl Batcher<LabeledImage, ImageBatch> for ImageBatcher {
    fn batch(&self, items: Vec<LabeledImage>, device: &Device) -> ImageBatch {
        let images: Vec<Image> = items.iter().map(|i| self.conform(&i.image)).collect();
        let labels: Option<Vec<i64>> = items.iter().map(|i| i.label.map(|l| l as i64)).collect();
        let n = items.len();
        ImageBatch {
            images: stack_images(&images, device),
            labels: labels.map(|l| Tensor::from_data(TensorData::new(l, [n]), device)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_images_batch_to_one_shape() {
        let device = Device::flex();
        let batcher = ImageBatcher::new(3, 4, 4).unwrap();
        let items = vec![
            LabeledImage {
                image: Image::filled(1, 8, 8, 0.5).unwrap(),
                label: Some(2),
            },
            LabeledImage {
                image: Image::filled(3, 4, 4, 1.0).unwrap(),
                label: Some(0),
            },
        ];
        let batch = batcher.batch(items, &device);
        assert_eq!(batch.images.dims(), [2, 3, 4, 4]);
        let values = batch.images.into_data().try_to_vec::<f32>().unwrap();
        assert!(values[..48].iter().all(|v| (v - 0.5).abs() < 1e-6));
        assert!(values[48..].iter().all(|v| (v - 1.0).abs() < 1e-6));
        let labels = batch
            .labels
            .unwrap()
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        assert_eq!(labels, vec![2, 0]);
    }

    #[test]
    fn unlabelled_items_give_no_labels() {
        let batcher = ImageBatcher::new(1, 2, 2).unwrap();
        let item = LabeledImage {
            image: Image::filled(1, 2, 2, 0.0).unwrap(),
            label: None,
        };
        assert!(batcher.batch(vec![item], &Device::flex()).labels.is_none());
        assert!(ImageBatcher::new(2, 2, 2).is_err());
        assert!(ImageBatcher::new(1, 0, 2).is_err());
    }
}
