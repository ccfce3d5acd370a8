//! Every compiled CPU backend trains: a smoke test of a few Adam steps of a tiny RotNet.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup::models::backbone::BackboneConfig;
use selfsup::models::{PretextModel, RotNetConfig, RotationBatch};
use selfsup::train::BackendKind;

fn loss_falls_on(backend: BackendKind) {
    let device = backend.device().unwrap().autodiff();
    device.seed(1);
    let mut model = RotNetConfig {
        backbone: BackboneConfig::ConvNet {
            widths: vec![8, 16],
        },
    }
    .init(3, &device);
    let mut optim = AdamConfig::new().init();
    let batch = RotationBatch {
        images: Tensor::<4>::random([8, 3, 8, 8], burn::tensor::Distribution::Default, &device),
        labels: Tensor::<1, Int>::from_data(
            TensorData::new(vec![0i64, 1, 2, 3, 0, 1, 2, 3], [8]),
            &device,
        ),
    };
    let mut losses = Vec::new();
    for _ in 0..8 {
        let loss = model.forward_step(&batch).loss;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
        losses.push(loss.into_scalar::<f32>());
    }
    assert!(
        losses.iter().all(|l| l.is_finite()),
        "{backend}: {losses:?}"
    );
    assert!(
        losses[7] < losses[0],
        "{backend}: loss did not fall: {losses:?}"
    );
}

#[test]
fn flex_trains() {
    loss_falls_on(BackendKind::Flex);
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_trains() {
    loss_falls_on(BackendKind::Ndarray);
}
