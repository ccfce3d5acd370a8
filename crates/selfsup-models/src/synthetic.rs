//! Synthetic imagery (Ren & Lee 2018): one trunk, dense heads predicting a rendered scene's
//! depth, surface normals and instance contours from its features at every block (a small
//! feature-pyramid decoder), and a domain discriminator on the trunk's last features that tells
//! real images from synthetic ones.

use crate::kernels;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use crate::backbone::{Backbone, BackboneConfig, ConvBlock};
use crate::gan::{Adversarial, Discriminator, DiscriminatorConfig, Generated, judge, map_networks};
use crate::pretext_model::{PretextModel, StepOutput};

/// How depth is compared (`synthetic.depth_loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthLoss {
    /// Mean squared difference of log depths.
    LogL2,
    /// Eigen et al. (2014)'s scale-invariant error on log depths (lambda 0.5).
    ScaleInvariant,
}

/// The loss weights of the three tasks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaskWeights {
    /// Depth.
    pub depth: f64,
    /// Surface normals.
    pub normals: f64,
    /// Contours.
    pub contours: f64,
}

/// Configuration to create a [`SyntheticNet`] using the [init function](Self::init).
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticNetConfig {
    /// The trunk.
    pub backbone: BackboneConfig,
    /// Image channels.
    pub channels: usize,
    /// Channels of the decoder.
    pub decoder_width: usize,
    /// The domain discriminator, sized for the trunk's last map.
    pub discriminator: DiscriminatorConfig,
    /// The multi-task loss.
    pub loss: MultiTaskLoss,
}

impl SyntheticNetConfig {
    /// Builds the networks.
    pub fn init(&self, device: &Device) -> SyntheticNet {
        let trunk = self.backbone.init(self.channels, device);
        let w = self.decoder_width;
        let lateral = trunk
            .block_channels()
            .into_iter()
            .map(|c| Conv2dConfig::new([c, w], [1, 1]).init(device))
            .collect();
        let fuse = trunk
            .block_channels()
            .iter()
            .map(|_| ConvBlock::new(w, w, 3, device))
            .collect();
        let head = |out: usize| {
            Conv2dConfig::new([w, out], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        SyntheticNet {
            generator: MultiTaskNet {
                trunk,
                lateral,
                fuse,
                depth: head(1),
                normals: head(3),
                contours: head(1),
            },
            discriminator: self.discriminator.init(device),
            loss: self.loss,
        }
    }
}

/// The trunk with its three dense heads.
#[derive(Module, Debug)]
pub struct MultiTaskNet {
    /// The trunk: what downstream tasks reuse.
    pub trunk: Backbone,
    /// A 1x1 convolution from each block's output to the decoder's width.
    pub lateral: Vec<Conv2d>,
    /// A 3x3 conv-BN-ReLU after each block's features are merged in.
    pub fuse: Vec<ConvBlock>,
    /// Log depth.
    pub depth: Conv2d,
    /// Surface normals (before normalising to unit length).
    pub normals: Conv2d,
    /// Contour logits.
    pub contours: Conv2d,
}

/// The heads' predictions at the input's size.
#[derive(Debug)]
pub struct Predictions {
    /// `[b, 1, h, w]` log depth.
    pub log_depth: Tensor<4>,
    /// `[b, 3, h, w]` unit normals.
    pub normals: Tensor<4>,
    /// `[b, 1, h, w]` contour logits.
    pub contours: Tensor<4>,
    /// The trunk's last map (what the discriminator judges).
    pub features: Tensor<4>,
}

fn resize(x: Tensor<4>, size: [usize; 2]) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    if [h, w] == size {
        x
    } else {
        interpolate(
            x,
            InterpolateOptions::new(InterpolateMode::Nearest).with_output_size(size),
        )
    }
}

impl MultiTaskNet {
    /// # Shapes
    /// - `images`: `[batch, channels, h, w]`
    pub fn forward(&self, images: Tensor<4>) -> Predictions {
        let [_, _, h, w] = images.dims();
        let blocks = self.trunk.forward_blocks(images);
        let features = blocks.last().cloned().expect("a trunk has blocks");
        // Deepest first: each block's features join the upsampled sum of the deeper ones.
        let x = blocks
            .into_iter()
            .enumerate()
            .rev()
            .fold(None, |deeper: Option<Tensor<4>>, (b, block)| {
                let [_, _, bh, bw] = block.dims();
                let lateral = kernels::conv2d(&self.lateral[b], block);
                let merged = match deeper {
                    Some(d) => resize(d, [bh, bw]) + lateral,
                    None => lateral,
                };
                Some(self.fuse[b].forward(merged))
            })
            .expect("a trunk has blocks");
        let x = resize(x, [h, w]);
        let normals = kernels::conv2d(&self.normals, x.clone());
        let length = normals
            .clone()
            .powi_scalar(2)
            .sum_dim(1)
            .sqrt()
            .clamp_min(1e-6);
        Predictions {
            log_depth: kernels::conv2d(&self.depth, x.clone()),
            normals: normals / length,
            contours: kernels::conv2d(&self.contours, x),
            features,
        }
    }
}

/// What the multi-task loss compares and how much each task counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiTaskLoss {
    /// How depth is compared.
    pub depth: DepthLoss,
    /// The weights of the three tasks.
    pub weights: TaskWeights,
}

/// The multi-task network with its domain discriminator.
#[derive(Module, Debug)]
pub struct SyntheticNet {
    /// Trunk and heads: the GAN step's generator.
    pub generator: MultiTaskNet,
    /// Tells real images' trunk features (1) from synthetic ones' (0).
    pub discriminator: Discriminator,
    /// The multi-task loss.
    #[module(skip)]
    pub loss: MultiTaskLoss,
}

/// Rendered scenes with their geometry, and real images.
#[derive(Clone, Debug)]
pub struct SyntheticBatch {
    /// `[b, c, s, s]`: the renderings.
    pub synthetic: Tensor<4>,
    /// `[b, 1, s, s]`: depth, 0 where nothing was hit.
    pub depth: Tensor<4>,
    /// `[b, 3, s, s]`: unit normals in the camera frame.
    pub normals: Tensor<4>,
    /// `[b, 1, s, s]`: 1 on contours.
    pub contours: Tensor<4>,
    /// `[b, c, s, s]`: real images.
    pub real: Tensor<4>,
}

/// The weighted binary cross-entropy of contour `logits` against `targets` in {0, 1}, each
/// class weighted by the other's share of the batch's pixels (Xie & Tu 2015's class-balanced
/// loss, which Ren & Lee use): contours are a few percent of the pixels.
pub fn balanced_bce(logits: Tensor<4>, targets: Tensor<4>) -> Tensor<1> {
    let positive = targets.clone().mean().detach();
    let negative = positive.clone().neg().add_scalar(1.0);
    let on = targets.clone() * log_sigmoid(logits.clone()) * negative.unsqueeze::<4>();
    let off = targets.neg().add_scalar(1.0) * log_sigmoid(logits.neg()) * positive.unsqueeze::<4>();
    (on + off).mean().neg()
}

/// The three tasks' losses and scores, over the pixels where the scene was hit.
fn task_terms(p: &Predictions, batch: &SyntheticBatch, depth_loss: DepthLoss) -> [Tensor<1>; 6] {
    let valid = batch.depth.clone().greater_elem(0.0).float();
    let count = valid.clone().sum().clamp_min(1.0);
    let log_target = batch.depth.clone().clamp_min(1e-3).log();
    let d = (p.log_depth.clone() - log_target) * valid.clone();
    let depth = match depth_loss {
        DepthLoss::LogL2 => d.clone().powi_scalar(2).sum() / count.clone(),
        DepthLoss::ScaleInvariant => {
            // Per image: mean(d^2) - 0.5 mean(d)^2 (Eigen, Puhrsch & Fergus 2014, lambda 0.5).
            let n = valid.clone().sum_dims(&[1, 2, 3]).clamp_min(1.0);
            let mean = d.clone().sum_dims(&[1, 2, 3]) / n.clone();
            let square = d.clone().powi_scalar(2).sum_dims(&[1, 2, 3]) / n;
            (square - mean.powi_scalar(2).mul_scalar(0.5)).mean()
        }
    };
    let cos = (p.normals.clone() * batch.normals.clone()).sum_dim(1);
    let normals = ((cos.clone().neg().add_scalar(1.0)) * valid.clone()).sum() / count.clone();
    let contours = balanced_bce(p.contours.clone(), batch.contours.clone());
    // Scores, as the method's page reports them.
    let error = (p.log_depth.clone().exp() - batch.depth.clone()) * valid.clone();
    let rmse = (error.powi_scalar(2).sum() / count.clone()).sqrt().detach();
    let angle = (cos.clamp(-1.0, 1.0).acos() * valid).sum() / count;
    let angle = angle.mul_scalar(180.0 / std::f32::consts::PI).detach();
    let predicted = p.contours.clone().greater_elem(0.0).float();
    let hits = (predicted.clone() * batch.contours.clone()).sum();
    let f_score =
        hits.mul_scalar(2.0) / (predicted.sum() + batch.contours.clone().sum()).clamp_min(1.0);
    [depth, normals, contours, rmse, angle, f_score.detach()]
}

impl Adversarial for SyntheticNet {
    type Generator = MultiTaskNet;

    /// The weighted multi-task loss on the renderings; the discriminator judges the trunk's
    /// last features of the real images against those of the renderings.
    fn generate(&self, batch: &SyntheticBatch) -> Generated {
        let p = self.generator.forward(batch.synthetic.clone());
        let [depth, normals, contours, rmse, angle, f_score] =
            task_terms(&p, batch, self.loss.depth);
        let w = self.loss.weights;
        let loss = depth.clone().mul_scalar(w.depth)
            + normals.clone().mul_scalar(w.normals)
            + contours.clone().mul_scalar(w.contours);
        let real = self.generator.trunk.forward(batch.real.clone());
        Generated {
            content: StepOutput::new(loss)
                .with("depth_loss", depth)
                .with("normal_loss", normals)
                .with("contour_loss", contours)
                .with("depth_rmse", rmse)
                .with("normal_angle", angle)
                .with("contour_f", f_score),
            fake: p.features,
            real,
        }
    }

    fn discriminator(&self) -> &Discriminator {
        &self.discriminator
    }

    map_networks!(MultiTaskNet);
}

impl PretextModel for SyntheticNet {
    type Batch = SyntheticBatch;

    /// The multi-task loss and scores, with the discriminator's verdicts.
    fn forward_step(&self, batch: &SyntheticBatch) -> StepOutput {
        judge(self, batch)
    }

    fn backbone(&self) -> &Backbone {
        &self.generator.trunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backbone::StridedLayer;

    fn net(device: &Device) -> SyntheticNet {
        let backbone = BackboneConfig::ConvNet {
            widths: vec![4, 8, 8],
        };
        SyntheticNetConfig {
            backbone,
            channels: 1,
            decoder_width: 8,
            discriminator: DiscriminatorConfig {
                in_channels: 8,
                side: 4,
                kernel: 3,
                layers: vec![StridedLayer {
                    channels: 8,
                    stride: 2,
                }],
                hidden: Some(8),
            },
            loss: MultiTaskLoss {
                depth: DepthLoss::ScaleInvariant,
                weights: TaskWeights {
                    depth: 1.0,
                    normals: 1.0,
                    contours: 1.0,
                },
            },
        }
        .init(device)
    }

    #[test]
    fn the_heads_predict_at_the_input_size() {
        let device = Device::flex();
        let p = net(&device)
            .generator
            .forward(Tensor::zeros([2, 1, 16, 16], &device));
        assert_eq!(p.log_depth.dims(), [2, 1, 16, 16]);
        assert_eq!(p.normals.dims(), [2, 3, 16, 16]);
        assert_eq!(p.contours.dims(), [2, 1, 16, 16]);
        assert_eq!(p.features.dims(), [2, 8, 4, 4]);
        let length = p.normals.powi_scalar(2).sum_dim(1).sqrt();
        let off = (length - 1.0).abs().max().into_scalar::<f32>();
        assert!(off < 1e-4, "unit normals: {off}");
    }

    #[test]
    fn balanced_bce_weighs_the_rare_class_up() {
        let device = Device::flex();
        // One contour pixel in four, every logit 0: each class's term is log 2 times the
        // other's share, so the loss is log 2 x (1/4 x 3/4 + 3/4 x 1/4).
        let targets = Tensor::<1>::from_floats([1.0, 0.0, 0.0, 0.0], &device).reshape([1, 1, 2, 2]);
        let loss = balanced_bce(Tensor::zeros([1, 1, 2, 2], &device), targets).into_scalar::<f32>();
        let expected = std::f32::consts::LN_2 * (2.0 * 0.25 * 0.75);
        assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");
    }
}
