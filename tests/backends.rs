//! Every compiled CPU backend trains: a smoke test of one Adam step on a tiny input.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use selfsup::models::reference::RotNetReference;
use selfsup::train::BackendKind;

fn loss_falls_on(backend: BackendKind) {
    let device = backend.device().unwrap().autodiff();
    device.seed(1);
    let mut model = RotNetReference::new(&device);
    let mut optim = AdamConfig::new().init();
    let x = Tensor::<4>::random([8, 3, 8, 8], burn::tensor::Distribution::Default, &device);
    let y = Tensor::<1, Int>::from_data(
        TensorData::new(vec![0i64, 1, 2, 3, 0, 1, 2, 3], [8]),
        &device,
    );
    let ce = CrossEntropyLossConfig::new().init(&device);
    let mut losses = Vec::new();
    for _ in 0..8 {
        let loss = ce.forward(model.forward(x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
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
