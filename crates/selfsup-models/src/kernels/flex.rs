//! The im2col kernels as a Burn backend extension on flex, with their own backward pass.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Flex, backend_extension};
use burn::tensor::TensorData;

use super::im2col::{self, ConvGeometry};
use super::timing::{Pass::*, timed};
use super::{batch_norm, pool};

/// A 2-D convolution plus bias by the im2col kernels: the plain one (`transposed` false:
/// `[batch, c_in, h, w]` by `[c_out, c_in, kh, kw]`) or the transposed one (`[batch, c_in, h,
/// w]` by `[c_in, c_out, kh, kw]`), where `geometry` is the plain convolution the transposed one
/// is the input gradient of ([`ConvGeometry::transposed`]).
#[backend_extension(Flex, Autodiff)]
pub trait FlexKernels: Backend {
    /// The convolution's output.
    fn im2col_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: ConvGeometry,
        transposed: bool,
    ) -> FloatTensor<Self>;

    /// Training-mode BatchNorm of a `[batch, channels, h, w]` input, then ReLU when `relu` is
    /// set: `(output, mean, biased variance)`, the statistics detached.
    fn batch_norm_relu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// Inference-mode BatchNorm of a `[batch, channels, h, w]` input with the given statistics
    /// (the running ones), then ReLU when `relu` is set.
    fn batch_norm_relu_eval(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> FloatTensor<Self>;

    /// Max pooling of a `[batch, channels, h, w]` input over 2x2 windows with stride 2.
    fn max_pool_2x2(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The tensor's values, row-major, without a copy when it is contiguous f32 storage.
fn values(tensor: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    let layout = tensor.layout();
    let len = layout.num_elements();
    if layout.is_contiguous() && layout.start_offset() == 0 {
        std::borrow::Cow::Borrowed(&tensor.storage::<f32>()[..len])
    } else {
        std::borrow::Cow::Owned(
            tensor
                .clone()
                .into_data()
                .try_into_vec::<f32>()
                .expect("the caller checked f32"),
        )
    }
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `[batch, channels, pixels]` of a BatchNorm input.
fn norm_dims(x: &FlexTensor) -> batch_norm::Dims {
    let shape = x.layout().shape();
    [
        shape[0],
        shape[1],
        shape.num_elements() / (shape[0] * shape[1]).max(1),
    ]
}

/// `[batch, channels, h, w]` of a plain convolution's input (`input` true) or output.
fn image_shape(g: &ConvGeometry, input: bool) -> [usize; 4] {
    match input {
        true => [g.batch, g.c_in, g.input[0], g.input[1]],
        false => [g.batch, g.c_out, g.output[0], g.output[1]],
    }
}

fn weight_shape(g: &ConvGeometry) -> [usize; 4] {
    [g.c_out, g.c_in, g.kernel[0], g.kernel[1]]
}

impl FlexKernels for Flex {
    fn im2col_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        g: ConvGeometry,
        transposed: bool,
    ) -> FlexTensor {
        let (x, w, b) = (values(&x), values(&weight), values(&bias));
        match transposed {
            false => tensor(
                timed(ConvForward, || im2col::conv2d(&g, &x, &w, Some(&b))),
                image_shape(&g, false),
            ),
            true => tensor(
                timed(ConvForward, || {
                    im2col::conv2d_input_grad(&g, &w, &x, Some(&b))
                }),
                image_shape(&g, true),
            ),
        }
    }

    fn batch_norm_relu_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
        relu: bool,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (dims, shape) = (norm_dims(&x), x.layout().shape().clone());
        let (out, mean, var) = timed(BatchNormForward, || {
            batch_norm::forward(
                dims,
                &values(&x),
                &values(&gamma),
                &values(&beta),
                epsilon,
                relu,
            )
        });
        let channels = [dims[1]];
        (
            FlexTensor::from_data(TensorData::new(out, shape)),
            tensor(mean, channels),
            tensor(var, channels),
        )
    }

    fn batch_norm_relu_eval(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mean: FlexTensor,
        var: FlexTensor,
        epsilon: f64,
        relu: bool,
    ) -> FlexTensor {
        let (dims, shape) = (norm_dims(&x), x.layout().shape().clone());
        let out = timed(BatchNormForward, || {
            batch_norm::inference(
                dims,
                &values(&x),
                &values(&gamma),
                &values(&beta),
                &values(&mean),
                &values(&var),
                epsilon,
                relu,
            )
        });
        FlexTensor::from_data(TensorData::new(out, shape))
    }

    fn max_pool_2x2(x: FlexTensor) -> FlexTensor {
        let shape = x.layout().shape();
        let [batch, channels, h, w] = [shape[0], shape[1], shape[2], shape[3]];
        let out = pool::max_pool_2x2([batch * channels, h, w], &values(&x));
        tensor(out, [batch, channels, h / 2, w / 2])
    }
}

/// BatchNorm's backward pass; the state keeps the batch statistics of the forward pass.
#[derive(Debug)]
struct BatchNormReluBackward;

impl Backward<Flex, 3> for BatchNormReluBackward {
    type State = (NodeId, NodeId, NodeId, FlexTensor, FlexTensor, f64, bool);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, gamma, beta, mean, var, epsilon, relu) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x);
        let gamma = checkpointer.retrieve_node_output::<FlexTensor>(gamma);
        let beta = checkpointer.retrieve_node_output::<FlexTensor>(beta);
        let (dims, shape) = (norm_dims(&x), x.layout().shape().clone());
        let (dx, dgamma, dbeta) = timed(BatchNormBackward, || {
            batch_norm::backward(
                dims,
                &values(&x),
                &values(&dy),
                &values(&gamma),
                &values(&beta),
                &values(&mean),
                &values(&var),
                epsilon,
                relu,
            )
        });
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dx, shape)));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, tensor(dgamma, [dims[1]]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, tensor(dbeta, [dims[1]]));
        }
    }
}

/// The backward pass: the other two kernels, with the roles of a transposed convolution's
/// input and output exchanged.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    type State = (NodeId, NodeId, ConvGeometry, bool);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, weight, g, transposed) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x);
        let weight = checkpointer.retrieve_node_output::<FlexTensor>(weight);
        let (x, w, dy) = (values(&x), values(&weight), values(&dy));
        if let Some(node) = node_x {
            let dx = match transposed {
                false => tensor(
                    timed(ConvInputGrad, || {
                        im2col::conv2d_input_grad(&g, &w, &dy, None)
                    }),
                    image_shape(&g, true),
                ),
                true => tensor(
                    timed(ConvInputGrad, || im2col::conv2d(&g, &dy, &w, None)),
                    image_shape(&g, false),
                ),
            };
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_weight {
            let dw = match transposed {
                false => timed(ConvWeightGrad, || im2col::conv2d_weight_grad(&g, &x, &dy)),
                true => timed(ConvWeightGrad, || im2col::conv2d_weight_grad(&g, &dy, &x)),
            };
            grads.register::<Flex>(node.id, tensor(dw, weight_shape(&g)));
        }
        if let Some(node) = node_bias {
            // The bias gradient: dy summed per channel, over the batch and the pixels.
            let shape = image_shape(&g, transposed);
            let dims = [shape[0], shape[1], shape[2] * shape[3]];
            let sums = batch_norm::channel_sums(dims, &dy, None, |_| |v, _| (v, 0.0));
            let db = sums.into_iter().map(|(sum, _)| sum as f32).collect();
            grads.register::<Flex>(node.id, tensor(db, [dims[1]]));
        }
    }
}

impl<C: CheckpointStrategy> FlexKernels for Autodiff<Flex, C> {
    fn im2col_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: ConvGeometry,
        transposed: bool,
    ) -> FloatTensor<Self> {
        let prepared = ConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        let forward = |x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>| {
            Flex::im2col_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                geometry,
                transposed,
            )
        };
        match prepared {
            OpsKind::Tracked(mut prep) => {
                let state = (
                    prep.checkpoint(&x),
                    prep.checkpoint(&weight),
                    geometry,
                    transposed,
                );
                prep.finish(state, forward(x, weight, bias))
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(x, weight, bias)),
        }
    }

    fn batch_norm_relu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let prepared = BatchNormReluBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let forward =
            |x: &FloatTensor<Self>, gamma: &FloatTensor<Self>, beta: &FloatTensor<Self>| {
                Flex::batch_norm_relu_train(
                    x.primitive().clone(),
                    gamma.primitive().clone(),
                    beta.primitive().clone(),
                    epsilon,
                    relu,
                )
            };
        match prepared {
            OpsKind::Tracked(mut prep) => {
                let (nx, ng, nb) = (
                    prep.checkpoint(&x),
                    prep.checkpoint(&gamma),
                    prep.checkpoint(&beta),
                );
                let (out, mean, var) = forward(&x, &gamma, &beta);
                let state = (nx, ng, nb, mean.clone(), var.clone(), epsilon, relu);
                (
                    prep.finish(state, out),
                    Self::from_inner(mean),
                    Self::from_inner(var),
                )
            }
            OpsKind::UnTracked(prep) => {
                let (out, mean, var) = forward(&x, &gamma, &beta);
                (
                    prep.finish(out),
                    Self::from_inner(mean),
                    Self::from_inner(var),
                )
            }
        }
    }

    /// Burn's own ops, which autodiff differentiates: inference-mode BatchNorm is only taken
    /// through this kernel without autodiff (inference), so a frozen layer inside a graph being
    /// differentiated keeps Burn's path.
    fn batch_norm_relu_eval(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> FloatTensor<Self> {
        let y = <Self as ModuleOps<Self>>::batch_norm(x, gamma, beta, mean, var, epsilon);
        match relu {
            true => <Self as ActivationOps<Self>>::relu(y),
            false => y,
        }
    }

    /// Burn's own op, which records the indices its backward pass needs.
    fn max_pool_2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as ModuleOps<Self>>::max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], false)
    }
}
