//! The same training on wgpu as on flex (issue 7): from the same weights and the same samples,
//! RotNet and both contract tasks give the same inference outputs (1e-4 relative), the same
//! losses after three training steps (1%), and a checkpoint written on wgpu gives flex the same
//! outputs. In CI, wgpu runs on Mesa's Vulkan CPU driver (lavapipe), which compiles every
//! shader on first use: the inputs are tiny.

use std::path::Path;
use std::sync::Arc;

use burn::prelude::*;
use selfsup::data::pretext::{PretextGenerator, sample_rng};
use selfsup::data::{FolderOptions, ImageSource, open_source};
use selfsup::models::PretextModel;
use selfsup::train::checkpoint::{load_weights, save_weights};
use selfsup::train::task::{PretextTask, SampleOf, StepInfo, TaskData};
use selfsup::train::{
    BackendKind, ColorizationTask, ContextTask, DeepClusterTask, InpaintingTask, JigsawTask,
    Method, Optimizers, RotationTask, RunConfig, SchedulePlan, SuperResTask, SyntheticTask, setup,
};

use crate::contract::{Adversarial, Shifting, adversarial_config, data, shifting_config};
use crate::rotation::{flex, options, tiny};

/// The wgpu device, if a Vulkan (or other) adapter answers; CI installs lavapipe, so there a
/// missing adapter fails the test instead of skipping it.
fn wgpu() -> Option<Device> {
    let device = BackendKind::Wgpu.device().ok()?;
    let works = std::panic::catch_unwind(|| {
        Tensor::<1>::from_floats([1.0, 2.0], &device)
            .sum()
            .into_scalar::<f32>()
    })
    .is_ok_and(|sum| sum == 3.0);
    if !works {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide a wgpu adapter (mesa-vulkan-drivers, see .ci/run)"
        );
        eprintln!("note: no wgpu adapter; skipping the flex/wgpu parity check");
    }
    works.then_some(device)
}

fn scalar(t: Tensor<1>) -> f64 {
    f64::from(t.into_scalar::<f32>())
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * a.abs().max(b.abs()).max(1e-6)
}

/// Runs the parity checks for `task` on the first images of `source`.
fn parity<T: PretextTask>(
    mut task: T,
    config: &RunConfig,
    source: Arc<dyn ImageSource>,
    wgpu: &Device,
    dir: &Path,
) where
    SampleOf<T>: Clone,
{
    let images = setup(config, source.as_ref()).unwrap().images;
    let shown: Vec<usize> = (0..6).collect();
    let (flex_ad, wgpu_ad) = (flex().autodiff(), wgpu.clone().autodiff());
    flex_ad.seed(1);
    let flex_model = task.model(&flex_ad);
    let data = TaskData {
        source: source.as_ref(),
        train: &shown,
        val: &[],
        images: &images,
        seed: 0,
        device: &flex_ad,
        batch_size: 6,
    };
    task.prepare(&data).unwrap();
    let flex_model = task.on_epoch_start(flex_model, 0, &data).unwrap().model;
    let init = dir.join("init.safetensors");
    save_weights(&flex_model, &init).unwrap();
    let wgpu_model = load_weights(task.model(&wgpu_ad), &init, None).unwrap();
    let generator = task.generator().unwrap();
    let samples: Vec<SampleOf<T>> = shown
        .iter()
        .map(|&i| {
            let image = images.conform(&source.get(i).unwrap().image);
            generator
                .generate(&image, i, &mut sample_rng(0, 0, i as u64))
                .unwrap()
        })
        .collect();
    let batches: Vec<_> = samples.chunks(2).map(|c| c.to_vec()).collect();
    let infer = |model: &T::Model, device: &Device| {
        scalar(
            model
                .valid()
                .forward_step(&task.collate(samples.clone(), device))
                .loss,
        )
    };
    let (a, b) = (infer(&flex_model, &flex()), infer(&wgpu_model, wgpu));
    assert!(
        close(a, b, 1e-4),
        "{}: inference loss flex {a} wgpu {b}",
        T::NAME
    );

    let train = |mut model: T::Model, device: &Device| {
        let mut optimizers = Optimizers::new(task.optimizers(&config.train)).unwrap();
        let plan = SchedulePlan::new(3, 1);
        let mut losses = Vec::new();
        for (step, batch) in batches.iter().enumerate() {
            optimizers.set_step(&plan, step);
            let info = StepInfo {
                step,
                epoch: 0,
                steps_per_epoch: 3,
            };
            let batch = task.collate(batch.clone(), device);
            let (next, out) = task
                .train_step(model, &batch, &mut optimizers, info)
                .unwrap();
            model = next;
            losses.push(scalar(out.loss));
        }
        (model, losses)
    };
    let (_, flex_losses) = train(flex_model, &flex_ad);
    let (wgpu_trained, wgpu_losses) = train(wgpu_model, &wgpu_ad);
    for (a, b) in flex_losses.iter().zip(&wgpu_losses) {
        assert!(
            close(*a, *b, 0.01),
            "{}: losses flex {flex_losses:?} wgpu {wgpu_losses:?}",
            T::NAME
        );
    }
    // A checkpoint written on wgpu gives flex the same outputs.
    let trained = dir.join("trained.safetensors");
    save_weights(&wgpu_trained, &trained).unwrap();
    let on_flex = load_weights(task.model(&flex_ad), &trained, None).unwrap();
    let (a, b) = (infer(&wgpu_trained, wgpu), infer(&on_flex, &flex()));
    assert!(
        close(a, b, 1e-4),
        "{}: moved checkpoint flex {b} wgpu {a}",
        T::NAME
    );
}

/// A built-in method's default configuration on the tiny backbone, with overrides.
fn method_config(method: Method, overrides: &[&str]) -> RunConfig {
    let mut config = RunConfig::for_method(method);
    config.backbone = tiny(1).backbone;
    config.train = tiny(1).train;
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    config.with_overrides(&overrides).unwrap()
}

fn task_of<T: PretextTask>(config: &RunConfig, source: &dyn ImageSource) -> T {
    let settings = config.method.settings_of::<T>().unwrap();
    T::new(&settings, &setup(config, source).unwrap()).unwrap()
}

#[test]
fn flex_and_wgpu_train_alike() {
    let Some(wgpu) = wgpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rotation = tiny(1);
    parity(
        task_of::<RotationTask>(&rotation, data().as_ref()),
        &rotation,
        data(),
        &wgpu,
        dir.path(),
    );
    let adversarial = adversarial_config(1);
    parity(
        task_of::<Adversarial>(&adversarial, data().as_ref()),
        &adversarial,
        data(),
        &wgpu,
        dir.path(),
    );
    let shifting = shifting_config(1);
    parity(
        task_of::<Shifting>(&shifting, data().as_ref()),
        &shifting,
        data(),
        &wgpu,
        dir.path(),
    );
    // Dropout draws from each backend's own random stream: off, so both see the same network.
    let jigsaw = method_config(
        Method::Jigsaw,
        &[
            "jigsaw.puzzle.permutations=10",
            "jigsaw.network.dropout=0.0",
        ],
    );
    parity(
        task_of::<JigsawTask>(&jigsaw, data().as_ref()),
        &jigsaw,
        data(),
        &wgpu,
        dir.path(),
    );
    let context = method_config(Method::ContextPrediction, &[]);
    parity(
        task_of::<ContextTask>(&context, data().as_ref()),
        &context,
        data(),
        &wgpu,
        dir.path(),
    );
    let cluster = method_config(
        Method::DeepCluster,
        &["deep_cluster.kmeans.k=3", "deep_cluster.pca_dims=4"],
    );
    parity(
        task_of::<DeepClusterTask>(&cluster, data().as_ref()),
        &cluster,
        data(),
        &wgpu,
        dir.path(),
    );
    let photos: Arc<dyn ImageSource> =
        Arc::from(open_source("photos-sample?crop=16&crops=3", FolderOptions::default()).unwrap());
    let colorization = method_config(
        Method::Colorization,
        &["train.image_size=16", "colorization.prior_images=6"],
    );
    parity(
        task_of::<ColorizationTask>(&colorization, photos.as_ref()),
        &colorization,
        photos.clone(),
        &wgpu,
        dir.path(),
    );
    let inpainting = method_config(
        Method::Inpainting,
        &[
            "train.image_size=16",
            "inpainting.mean_images=6",
            "inpainting.discriminator_width=4",
        ],
    );
    parity(
        task_of::<InpaintingTask>(&inpainting, photos.as_ref()),
        &inpainting,
        photos.clone(),
        &wgpu,
        dir.path(),
    );
    let superres = method_config(
        Method::SuperRes,
        &[
            "train.image_size=16",
            // No warm-up: the steps compared are adversarial ones, both networks updated.
            "superres={channels=4, blocks=1, discriminator_width=4, discriminator_pairs=2, \
             discriminator_hidden=8, tile=16, gan={warmup_epochs=0}}",
        ],
    );
    parity(
        task_of::<SuperResTask>(&superres, photos.as_ref()),
        &superres,
        photos.clone(),
        &wgpu,
        dir.path(),
    );
    let synthetic = method_config(
        Method::Synthetic,
        &[
            "train.image_size=16",
            "synthetic={decoder_width=4, discriminator_width=4, discriminator_hidden=8, \
             baseline_scenes=4}",
        ],
    );
    parity(
        task_of::<SyntheticTask>(&synthetic, data().as_ref()),
        &synthetic,
        data(),
        &wgpu,
        dir.path(),
    );
    // And the trainer itself runs on wgpu.
    let run = dir.path().join("run");
    let mut config = tiny(1);
    config.train.max_images = Some(16);
    let history = Method::Rotation
        .train(&config, data(), &wgpu, &options(&run, false))
        .unwrap();
    assert!(history[0].train_loss().is_finite());
}

/// Regression (found while writing this test): with Burn's kernel fusion, which burn-wgpu's
/// default features turn on, wgpu computed the weight gradient of a convolution with one output
/// channel wrongly (max |diff| 1.2 to 1.6 against flex, every other channel count agreeing to
/// 1e-7), and a GAN's generator gradient wrongly when its output fed both the content loss and a
/// BatchNorm discriminator. selfsup builds wgpu without fusion (Cargo.toml); both cases agree.
#[test]
fn one_channel_output_convolutions_get_the_same_gradient() {
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::optim::GradientsParams;
    let Some(wgpu) = wgpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conv.safetensors");
    let conv = |cin: usize, device: &Device| {
        Conv2dConfig::new([cin, 1], [3, 3])
            .with_padding(PaddingConfig2d::Same)
            .init(device)
    };
    for cin in [1, 4] {
        save_weights(&conv(cin, &flex()), &path).unwrap();
        let grads: Vec<Vec<f32>> = [flex().autodiff(), wgpu.clone().autodiff()]
            .into_iter()
            .map(|device| {
                let layer = load_weights(conv(cin, &device), &path, None).unwrap();
                let x: Vec<f32> = (0..2 * cin * 6 * 6)
                    .map(|i| ((i * 37) % 101) as f32 / 101.0)
                    .collect();
                let x = Tensor::<4>::from_data(
                    burn::tensor::TensorData::new(x, [2, cin, 6, 6]),
                    &device,
                );
                let loss = (layer.forward(x) - 1.0).powf_scalar(2.0).mean();
                let grads = GradientsParams::from_grads(loss.backward(), &layer);
                grads
                    .get::<4>(layer.weight.id)
                    .unwrap()
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap()
            })
            .collect();
        let diff = grads[0]
            .iter()
            .zip(&grads[1])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "{cin} input channels: max |diff| {diff}");
    }
}

/// DeepCluster's clustering runs on the training device: PCA and k-means on wgpu agree with
/// flex (the same projection to 1e-3, the same assignment).
#[test]
fn clustering_on_wgpu_agrees_with_flex() {
    use selfsup::train::cluster::{KMeansConfig, Pca, kmeans};
    let Some(wgpu) = wgpu() else { return };
    let (n, dim) = (300, 6);
    let data: Vec<f32> = (0..n * dim)
        .map(|i| ((i * 7919) % 1009) as f32 / 1009.0 + ((i / dim) % 3) as f32)
        .collect();
    let run = |device: &Device| {
        let x = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(data.clone(), [n, dim]),
            device,
        );
        let pca = Pca::fit(&x, 4, true).unwrap();
        let y = pca.apply(x);
        let projected = y
            .clone()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        let config = KMeansConfig {
            k: 3,
            ..KMeansConfig::default()
        };
        (pca, projected, kmeans(&y, &config, 5).unwrap().assignment)
    };
    let (a, b) = (run(&flex()), run(&wgpu));
    let diff =
        a.1.iter()
            .zip(&b.1)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
    assert!(diff < 1e-3, "projection differs by {diff}");
    let eig =
        a.0.eigenvalues
            .iter()
            .zip(&b.0.eigenvalues)
            .map(|(x, y)| (x - y).abs() / x.abs().max(1e-6))
            .fold(0.0f64, f64::max);
    assert!(eig < 1e-3, "eigenvalues differ by {eig}");
    assert_eq!(a.2, b.2, "assignments differ");
}
