//! RotNet end to end on tiny models: training, checkpoints, resume, evaluation.

use std::path::Path;
use std::sync::Arc;

use burn::prelude::*;
use selfsup::data::{ImageSource, InputSpec, Split, bundled_sample};
use selfsup::models::backbone::BackboneConfig;
use selfsup::models::{RotNet, RotNetConfig};
use selfsup::train::checkpoint::{self, MODEL_FILE, load_network};
use selfsup::train::eval::{self, Pooling, ProbeConfig, View};
use selfsup::train::{BackendKind, Method, RunConfig, RunOptions, TrainError};

/// A config small enough to train in seconds.
pub fn tiny(epochs: usize) -> RunConfig {
    RunConfig::for_method(Method::Rotation)
        .with_overrides(&[
            format!("train.epochs={epochs}"),
            "train.batch_size=16".into(),
            "train.max_images=96".into(),
            "train.val_fraction=0.25".into(),
            "train.image_size=16".into(),
            "train.optimizer.kind=\"adam\"".into(),
            "train.optimizer.lr=0.003".into(),
            "train.schedule.kind=\"constant\"".into(),
            "backbone.widths=[4, 8]".into(),
        ])
        .unwrap()
}

pub fn sample() -> Arc<dyn ImageSource> {
    Arc::new(bundled_sample(Split::Test).unwrap())
}

pub fn options(dir: &Path, resume: bool) -> RunOptions {
    RunOptions {
        out_dir: dir.to_path_buf(),
        resume,
        ..RunOptions::default()
    }
}

pub fn flex() -> Device {
    BackendKind::Flex.device().unwrap()
}

/// A tiny RotNet as the tiny config builds it, for 16-pixel grey images.
fn tiny_rotnet(device: &Device) -> RotNet {
    RotNetConfig {
        backbone: tiny(1).backbone,
    }
    .init(1, device)
}

#[test]
fn training_lowers_the_loss_and_writes_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let history = Method::Rotation
        .train(&tiny(4), sample(), &flex(), &options(dir.path(), false))
        .unwrap();
    assert_eq!(history.len(), 4);
    assert!(
        history[3].train_loss() < history[0].train_loss(),
        "loss did not fall: {:?}",
        history.iter().map(|r| r.train_loss()).collect::<Vec<_>>()
    );
    for file in [
        "config.toml",
        "metrics.csv",
        "curves.png",
        "checkpoints/last/model.safetensors",
        "checkpoints/last/state.json",
        "checkpoints/best/optimizer-model.bpk",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
    let csv = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    // 72 training images in batches of 16: 5 steps per epoch, plus one validation row each.
    assert_eq!(csv.lines().filter(|l| l.contains(",train,")).count(), 20);
    assert_eq!(csv.lines().filter(|l| l.contains(",val,")).count(), 4);

    // A fresh run in the same folder is refused before it touches the checkpoints.
    let weights = dir.path().join("checkpoints/last/model.safetensors");
    let before = std::fs::read(&weights).unwrap();
    let again = Method::Rotation.train(&tiny(1), sample(), &flex(), &options(dir.path(), false));
    assert!(
        matches!(again, Err(TrainError::RunExists { .. })),
        "{again:?}"
    );
    assert_eq!(std::fs::read(&weights).unwrap(), before);
}

/// Trains through the CLI in a child process with one Rayon thread: flex's parallel reductions
/// split work by thread availability, so only a single-threaded run is bitwise repeatable when
/// other work (here: the other tests) competes for the cores.
fn cli_train(config: &Path, args: &[&str]) {
    let resuming = args.contains(&"--resume");
    let config = ["--config", config.to_str().unwrap()];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_selfsup"))
        .args(["train", "rotation", "--data", "sample:test"])
        .args(args)
        .args(if resuming { &[][..] } else { &config[..] })
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn resumed_run_ends_with_the_same_weights() {
    let straight = tempfile::tempdir().unwrap();
    let split = tempfile::tempdir().unwrap();
    let (a, b) = (
        straight.path().to_str().unwrap(),
        split.path().to_str().unwrap(),
    );
    let config = straight.path().join("tiny.toml");
    std::fs::write(&config, tiny(1).to_toml()).unwrap();
    cli_train(&config, &["--out", a, "--set", "train.epochs=2"]);
    cli_train(&config, &["--out", b, "--set", "train.epochs=1"]);
    cli_train(&config, &["--resume", b, "--set", "train.epochs=2"]);
    // Compared tensor by tensor: the file's metadata order follows a hash map and may differ.
    let weights = |d: &Path| std::fs::read(d.join("checkpoints/last").join(MODEL_FILE)).unwrap();
    let (a, b) = (weights(straight.path()), weights(split.path()));
    let (a, b) = (
        safetensors::SafeTensors::deserialize(&a).unwrap(),
        safetensors::SafeTensors::deserialize(&b).unwrap(),
    );
    let mut names = a.names();
    names.sort();
    let mut other = b.names();
    other.sort();
    assert_eq!(names, other);
    for name in names {
        assert!(
            a.tensor(name).unwrap().data() == b.tensor(name).unwrap().data(),
            "{name} differs after resuming"
        );
    }
    let state = checkpoint::load_state(&split.path().join("checkpoints/last")).unwrap();
    assert_eq!((state.epoch, state.history.len()), (2, 2));
}

#[test]
fn an_interrupted_save_leaves_a_loadable_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    Method::Rotation
        .train(&tiny(1), sample(), &flex(), &options(dir.path(), false))
        .unwrap();
    let last = dir.path().join("checkpoints/last");
    // A crash while writing: the temporary folder is half written, `last` is untouched.
    std::fs::create_dir_all(dir.path().join("checkpoints/.tmp-last")).unwrap();
    std::fs::write(
        dir.path().join("checkpoints/.tmp-last").join(MODEL_FILE),
        b"partial",
    )
    .unwrap();
    assert_eq!(checkpoint::load_state(&last).unwrap().epoch, 1);
    // A crash between the two renames: only the `.old-` copy exists.
    std::fs::rename(&last, dir.path().join("checkpoints/.old-last")).unwrap();
    assert_eq!(checkpoint::load_state(&last).unwrap().epoch, 1);
    checkpoint::load_model(tiny_rotnet(&flex()), &last).unwrap();
    // And training resumes from it.
    Method::Rotation
        .train(&tiny(2), sample(), &flex(), &options(dir.path(), true))
        .unwrap();
    assert_eq!(checkpoint::load_state(&last).unwrap().epoch, 2);
}

#[test]
fn bad_checkpoints_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    Method::Rotation
        .train(&tiny(1), sample(), &flex(), &options(dir.path(), false))
        .unwrap();
    let last = dir.path().join("checkpoints/last");
    let file = last.join(MODEL_FILE);
    let fresh = || tiny_rotnet(&flex());

    // Wrong shape: a model with other widths.
    let other: RotNet = RotNetConfig {
        backbone: BackboneConfig::ConvNet {
            widths: vec![4, 16],
        },
    }
    .init(1, &flex());
    let err = checkpoint::load_weights(other, &file, None).unwrap_err();
    assert!(matches!(err, TrainError::Checkpoint { .. }), "{err}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    // Truncated file.
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let err = checkpoint::load_weights(fresh(), &file, None).unwrap_err();
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    // Missing file.
    assert!(checkpoint::load_weights(fresh(), &last.join("nope.safetensors"), None).is_err());
}

#[test]
fn divergence_stops_with_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny(1)
        .with_overrides(&[
            "train.optimizer.kind=\"sgd\"".into(),
            "train.optimizer.lr=1e30".into(),
        ])
        .unwrap();
    let err = Method::Rotation
        .train(&config, sample(), &flex(), &options(dir.path(), false))
        .unwrap_err();
    assert!(matches!(err, TrainError::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("step"), "{err}");
}

#[test]
fn checkpoint_uses_pytorch_names_and_layouts() {
    let dir = tempfile::tempdir().unwrap();
    Method::Rotation
        .train(&tiny(1), sample(), &flex(), &options(dir.path(), false))
        .unwrap();
    let bytes = std::fs::read(dir.path().join("checkpoints/last").join(MODEL_FILE)).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let shape = |name: &str| {
        file.tensor(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .shape()
            .to_vec()
    };
    // nn.Linear(8, 4).weight is [out, in]; BatchNorm2d holds weight/bias/running stats.
    assert_eq!(shape("fc.weight"), [4, 8]);
    assert_eq!(shape("backbone.blocks.0.0.conv.weight"), [4, 1, 3, 3]);
    assert_eq!(shape("backbone.blocks.1.1.bn.weight"), [8]);
    assert_eq!(shape("backbone.blocks.1.1.bn.running_var"), [8]);
    assert!(
        file.names()
            .iter()
            .all(|n| !n.contains("gamma") && !n.contains("ConvNet"))
    );
    // Readable like the sidecar, not private to the writer (burn-store writes 0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| {
            let path = dir.path().join("checkpoints/last").join(f);
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777
        };
        assert_eq!(mode(MODEL_FILE), mode("state.json"));
    }
}

#[cfg(feature = "ndarray")]
#[test]
fn a_checkpoint_saved_on_flex_gives_the_same_outputs_on_ndarray() {
    let dir = tempfile::tempdir().unwrap();
    Method::Rotation
        .train(&tiny(1), sample(), &flex(), &options(dir.path(), false))
        .unwrap();
    let last = dir.path().join("checkpoints/last");
    let outputs = |device: Device| {
        let model = checkpoint::load_model(tiny_rotnet(&device), &last).unwrap();
        let x = Tensor::<4>::from_data(
            burn::tensor::TensorData::new(
                (0..2 * 16 * 16)
                    .map(|i| (i % 7) as f32 / 7.0)
                    .collect::<Vec<_>>(),
                [2, 1, 16, 16],
            ),
            &device,
        );
        model
            .forward(x)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let a = outputs(flex());
    let b = outputs(BackendKind::Ndarray.device().unwrap());
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(diff < 1e-4, "max |diff| = {diff}");
}

#[test]
fn probes_and_export_run_on_checkpoint_features() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny(1);
    Method::Rotation
        .train(&config, sample(), &flex(), &options(dir.path(), false))
        .unwrap();
    let (backbone, network, _) =
        load_network(&dir.path().join("checkpoints/last"), None, false, &flex()).unwrap();
    assert_eq!(network.input, InputSpec::plain(1, 16).unwrap());
    let source = bundled_sample(Split::Test).unwrap();
    let all: Vec<usize> = (0..source.len()).collect();
    let extract =
        |views: &[View]| eval::extract_views(&backbone, &source, &all, &network.input, views, 128);
    let global = extract(&[View {
        block: 1,
        pooling: Pooling::Global,
    }])
    .unwrap()
    .remove(0);
    assert_eq!((global.len(), global.dim), (1000, 8));
    let grid = extract(&[View {
        block: 0,
        pooling: Pooling::Grid { max_dims: 100 },
    }])
    .unwrap()
    .remove(0);
    assert_eq!(grid.dim, 4 * 5 * 5);
    // One pass over the images for several views gives what one pass per view gives.
    let views = [
        View {
            block: 0,
            pooling: Pooling::Grid { max_dims: 100 },
        },
        View {
            block: 1,
            pooling: Pooling::Global,
        },
    ];
    let both = extract(&views).unwrap();
    for (one, alone) in both.iter().zip([&grid, &global]) {
        assert_eq!((one.dim, &one.labels), (alone.dim, &alone.labels));
        let diff = one
            .data
            .iter()
            .zip(&alone.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "max |diff| {diff}");
    }
    let (train, test) = (global.per_class(50, 0), global.per_class(100, 1));
    assert_eq!(train.len(), 500);
    let knn = eval::knn_accuracy(&train, &test, 5, 0.07, &flex()).unwrap();
    let probe = eval::linear_probe(&train, &test, &ProbeConfig::default(), &flex()).unwrap();
    // Ten balanced classes: anything learnt shows as better than the 10% of guessing.
    assert!(knn > 0.15 && probe > 0.15, "k-NN {knn}, probe {probe}");
    assert!(
        extract(&[View {
            block: 2,
            pooling: Pooling::Global
        }])
        .is_err()
    );

    eval::write_npy(&global, &dir.path().join("emb")).unwrap();
    let bytes = std::fs::read(dir.path().join("emb/features.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), [1000, 8]);
    let values: Vec<f32> = npy.into_vec().unwrap();
    assert_eq!(values, global.data);
}
