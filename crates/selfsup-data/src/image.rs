//! [`Image`]: the owned planar f32 image every transform and generator works on.

use std::path::Path;

use image::{DynamicImage, ImageBuffer, ImageReader, Luma, Rgb};

use crate::error::{DataError, Result};

/// An owned image stored plane by plane (`[channels, height, width]`, row-major in each plane),
/// the layout Burn's `[batch, channels, height, width]` tensors use.
///
/// Decoded images have 1 (grey) or 3 (RGB) channels with values in `[0, 1]`; transforms keep that
/// range. Other channel counts and ranges appear only where a doc says so (CIE Lab images, Sobel
/// gradients, normalised images).
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    channels: usize,
    height: usize,
    width: usize,
    data: Vec<f32>,
}

impl Image {
    /// Wraps planar pixel data; fails if `data.len() != channels * height * width` or a
    /// dimension is zero.
    pub fn new(channels: usize, height: usize, width: usize, data: Vec<f32>) -> Result<Self> {
        if channels == 0 || height == 0 || width == 0 || data.len() != channels * height * width {
            return Err(DataError::Shape {
                channels,
                height,
                width,
                len: data.len(),
            });
        }
        Ok(Self {
            channels,
            height,
            width,
            data,
        })
    }

    /// An image filled with `value`; fails if a dimension is zero.
    pub fn filled(channels: usize, height: usize, width: usize, value: f32) -> Result<Self> {
        Self::new(
            channels,
            height,
            width,
            vec![value; channels * height * width],
        )
    }

    /// The image with every value clamped to `[0, 1]` (what saving it as 8 bits keeps).
    pub fn clamped(mut self) -> Self {
        self.data.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
        self
    }

    /// Builds an image from 8-bit planar data (`[channels, height, width]`), scaling to `[0, 1]`.
    pub fn from_u8(channels: usize, height: usize, width: usize, data: &[u8]) -> Result<Self> {
        Self::new(
            channels,
            height,
            width,
            data.iter().map(|&v| f32::from(v) / 255.0).collect(),
        )
    }

    /// Converts a decoded image: grey images (with or without alpha) give 1 channel, all others 3
    /// (alpha is dropped); 16-bit and float images keep their precision.
    pub fn from_dynamic(img: &DynamicImage) -> Self {
        let (width, height) = (img.width() as usize, img.height() as usize);
        if img.color().has_color() {
            let rgb = img.to_rgb32f();
            let plane = height * width;
            let mut data = vec![0.0; 3 * plane];
            for (i, px) in rgb.pixels().enumerate() {
                data[i] = px[0];
                data[plane + i] = px[1];
                data[2 * plane + i] = px[2];
            }
            Self {
                channels: 3,
                height,
                width,
                data,
            }
        } else {
            Self {
                channels: 1,
                height,
                width,
                data: img.to_luma32f().into_raw(),
            }
        }
    }

    /// Reads and decodes an image file in any format the `image` crate reads, detected from the
    /// content rather than the extension.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        Self::decode(&bytes, path)
    }

    /// Decodes an encoded image held in memory; `path` only names it in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Self> {
        if bytes.is_empty() {
            return Err(DataError::EmptyFile { path: path.into() });
        }
        let decode_err = |source| DataError::Decode {
            path: path.into(),
            source,
        };
        let img = ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| decode_err(image::ImageError::IoError(e)))?
            .decode()
            .map_err(decode_err)?;
        Ok(Self::from_dynamic(&img))
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// `[channels, height, width]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// All pixels, plane after plane.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// All pixels, mutable, plane after plane.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Gives up the pixel buffer.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// One channel's plane, row-major.
    ///
    /// # Panics
    /// If `channel >= self.channels()`.
    pub fn plane(&self, channel: usize) -> &[f32] {
        let n = self.height * self.width;
        &self.data[channel * n..(channel + 1) * n]
    }

    /// One channel's plane, row-major, mutable.
    ///
    /// # Panics
    /// If `channel >= self.channels()`.
    pub fn plane_mut(&mut self, channel: usize) -> &mut [f32] {
        let n = self.height * self.width;
        &mut self.data[channel * n..(channel + 1) * n]
    }

    /// The value at (`channel`, `y`, `x`).
    ///
    /// # Panics
    /// If the position is outside the image.
    pub fn get(&self, channel: usize, y: usize, x: usize) -> f32 {
        self.data[(channel * self.height + y) * self.width + x]
    }

    /// Builds an image of the same channel count by mapping each plane to a new plane of the
    /// given size.
    pub(crate) fn map_planes(
        &self,
        height: usize,
        width: usize,
        mut f: impl FnMut(&[f32], &mut [f32]),
    ) -> Self {
        let mut data = vec![0.0; self.channels * height * width];
        for (c, out) in data.chunks_exact_mut(height * width).enumerate() {
            f(self.plane(c), out);
        }
        Self {
            channels: self.channels,
            height,
            width,
            data,
        }
    }

    /// Converts to `channels` channels: grey to RGB repeats the plane, RGB to grey takes the
    /// ITU-R BT.601 luma (as PIL and torchvision do).
    pub fn to_channels(&self, channels: usize) -> Result<Self> {
        match (self.channels, channels) {
            (a, b) if a == b => Ok(self.clone()),
            (1, 3) => Ok(Self {
                channels: 3,
                height: self.height,
                width: self.width,
                data: self.data.repeat(3),
            }),
            (3, 1) => Ok(crate::transform::grayscale(self)),
            (a, b) => Err(DataError::invalid(
                "to_channels",
                format!("cannot convert a {a}-channel image to {b} channels"),
            )),
        }
    }

    /// Converts to an 8-bit `image` buffer for saving, clamping to `[0, 1]`; needs 1 or 3
    /// channels.
    pub fn to_dynamic(&self) -> Result<DynamicImage> {
        let q = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        let (w, h) = (self.width as u32, self.height as u32);
        match self.channels {
            1 => Ok(DynamicImage::ImageLuma8(
                ImageBuffer::<Luma<u8>, _>::from_fn(w, h, |x, y| {
                    Luma([q(self.get(0, y as usize, x as usize))])
                }),
            )),
            3 => Ok(DynamicImage::ImageRgb8(ImageBuffer::<Rgb<u8>, _>::from_fn(
                w,
                h,
                |x, y| {
                    let (y, x) = (y as usize, x as usize);
                    Rgb([
                        q(self.get(0, y, x)),
                        q(self.get(1, y, x)),
                        q(self.get(2, y, x)),
                    ])
                },
            ))),
            c => Err(DataError::invalid(
                "to_dynamic",
                format!("only 1- or 3-channel images can be saved, not {c}"),
            )),
        }
    }

    /// Saves as an 8-bit image; the format follows the file extension.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.to_dynamic()?
            .save(path)
            .map_err(|source| DataError::Encode {
                path: path.into(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_rejects_wrong_length() {
        assert!(matches!(
            Image::new(3, 2, 2, vec![0.0; 11]),
            Err(DataError::Shape { len: 11, .. })
        ));
        assert!(Image::new(0, 2, 2, vec![]).is_err());
    }

    #[test]
    fn png_round_trip_is_exact_in_8_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let img = Image::from_u8(3, 2, 3, &(0..18).map(|v| v * 14).collect::<Vec<u8>>()).unwrap();
        img.save(&path).unwrap();
        assert_eq!(Image::open(&path).unwrap(), img);
    }

    #[test]
    fn decode_errors_name_the_file() {
        let err = Image::decode(b"", Path::new("x.png")).unwrap_err();
        assert!(matches!(err, DataError::EmptyFile { .. }));
        let err = Image::decode(b"not an image at all", Path::new("y.jpg")).unwrap_err();
        assert!(err.to_string().contains("y.jpg"), "{err}");
    }

    #[test]
    fn channel_conversion() {
        let grey = Image::from_u8(1, 1, 2, &[0, 255]).unwrap();
        let rgb = grey.to_channels(3).unwrap();
        assert_eq!(rgb.data(), &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        let back = rgb.to_channels(1).unwrap();
        assert!((back.get(0, 0, 1) - 1.0).abs() < 1e-6);
        assert!(grey.to_channels(2).is_err());
    }
}
