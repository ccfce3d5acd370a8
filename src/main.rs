//! The `selfsup` command-line tool.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use selfsup::data::pretext::{PretextGenerator, RotationGenerator, sample_rng};
use selfsup::data::{FolderOptions, ImageSource, Summary, gallery, open_source};
use selfsup::train::checkpoint::{self, CheckpointState};
use selfsup::train::eval::{self, Features, Pooling, ProbeConfig, View};
use selfsup::train::{BackendKind, ImageBatcher, Method, RunConfig, RunOptions, describe};

/// Self-supervised visual representation learning on Burn.
#[derive(Parser, Debug)]
#[command(name = "selfsup", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect data sources.
    #[command(subcommand)]
    Data(DataCommand),
    /// Pretrain a network on a pretext task.
    Train(TrainArgs),
    /// Evaluate a checkpoint's frozen features on a labelled dataset.
    Eval(EvalArgs),
    /// Write a checkpoint's features and the labels as NumPy .npy files.
    Embed(EmbedArgs),
    /// Draw generated pretext samples as a PNG grid.
    Show(ShowArgs),
    /// List the backends this build includes and check that each one starts.
    Backends,
}

#[derive(Subcommand, Debug)]
enum DataCommand {
    /// Print the number of images, their sizes and channels, and the label histogram.
    Info(SourceArgs),
}

/// Which data to read.
#[derive(Args, Debug)]
struct SourceArgs {
    /// `sample[:train|test]` (bundled), `fashion-mnist[:train|test]` (from Debian's
    /// dataset-fashion-mnist), an image folder (class sub-folders give labels) or an IDX file.
    #[arg(default_value = "sample")]
    source: String,
    #[command(flatten)]
    folder: FolderArgs,
}

#[derive(Args, Debug, Clone, Copy)]
struct FolderArgs {
    /// Skip unreadable files in folders with a warning instead of failing.
    #[arg(long)]
    skip_bad: bool,
    /// Decode every image of a folder up front (catches truncated files a header check misses).
    #[arg(long)]
    verify: bool,
}

#[derive(Args, Debug)]
struct ConfigArgs {
    /// A TOML run configuration (see docs/configuration.md); defaults apply to missing keys.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override one key, e.g. `--set train.epochs=3 --set backbone.widths=[64,128,256]`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// The pretext method.
    method: Method,
    /// Training images (see `selfsup data info --help` for the forms).
    #[arg(long, default_value = "sample")]
    data: String,
    /// The run folder to write; required unless resuming.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint.
    #[arg(long, conflicts_with = "out")]
    resume: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
    #[command(flatten)]
    folder: FolderArgs,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// A linear classifier on standardised frozen features.
    Linear,
    /// Weighted k-nearest-neighbours on cosine similarity.
    Knn,
    /// The linear probe trained on only `--per-class` labels per class.
    Few,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum PoolingArg {
    /// Global average pooling (one value per channel).
    Global,
    /// Average pooling to a grid of at most `--dims` values.
    Grid,
}

#[derive(Args, Debug)]
struct FeatureArgs {
    /// A run folder (its best checkpoint is used) or a checkpoint folder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Evaluate a freshly initialised backbone of the same shape instead (the baseline).
    #[arg(long)]
    random_init: bool,
    /// Blocks whose outputs are the features, from 1 (default: the last); repeat or list
    /// them (`--block 1,2,3`) to evaluate several from one pass over the images.
    #[arg(long, value_delimiter = ',')]
    block: Vec<usize>,
    /// Evaluate every block (instead of `--block`).
    #[arg(long, conflicts_with = "block")]
    all_blocks: bool,
    /// How block outputs are pooled; several (`--pooling global,grid`) are evaluated in turn.
    #[arg(long, value_enum, value_delimiter = ',', default_values = ["global"])]
    pooling: Vec<PoolingArg>,
    /// Dimension budget of grid pooling.
    #[arg(long, default_value_t = 2048)]
    dims: usize,
    #[arg(long, default_value = "flex")]
    backend: BackendKind,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// One or more of `linear`, `knn`, `few`; all share one feature extraction.
    #[arg(required = true)]
    protocols: Vec<Protocol>,
    #[command(flatten)]
    features: FeatureArgs,
    /// Labelled training images for the probe or the k-NN memory bank.
    #[arg(long, default_value = "sample")]
    data: String,
    /// Labelled test images (default: the test split of `sample` or `fashion-mnist`).
    #[arg(long)]
    test: Option<String>,
    /// Training labels per class for `few`.
    #[arg(long, default_value_t = 100)]
    per_class: usize,
    /// Neighbours for k-NN.
    #[arg(long, default_value_t = 20)]
    k: usize,
    /// Temperature of the k-NN vote weights.
    #[arg(long, default_value_t = 0.07)]
    temperature: f64,
    /// Epochs of linear-probe training.
    #[arg(long, default_value_t = 30)]
    probe_epochs: usize,
}

#[derive(Args, Debug)]
struct EmbedArgs {
    #[command(flatten)]
    features: FeatureArgs,
    /// Images to embed.
    #[arg(long, default_value = "sample")]
    data: String,
    /// Folder for features.npy and labels.npy.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct ShowArgs {
    /// The pretext method.
    method: Method,
    #[arg(long, default_value = "sample")]
    data: String,
    /// Folder for the PNG.
    #[arg(long)]
    out: PathBuf,
    /// Images to show.
    #[arg(long, default_value_t = 8)]
    count: usize,
    #[command(flatten)]
    config: ConfigArgs,
}

fn open(spec: &str, folder: FolderArgs) -> anyhow::Result<Arc<dyn ImageSource>> {
    let source = open_source(
        spec,
        FolderOptions {
            skip_bad: folder.skip_bad,
            verify: folder.verify,
        },
    )?;
    for (path, reason) in source.skipped() {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    Ok(Arc::from(source))
}

fn run_config(args: &ConfigArgs, base: Option<RunConfig>) -> anyhow::Result<RunConfig> {
    let config = match (&args.config, base) {
        (Some(path), _) => RunConfig::load(path)?,
        (None, Some(base)) => base,
        (None, None) => RunConfig::default(),
    };
    let config = config.with_overrides(&args.overrides)?;
    config.validate()?;
    Ok(config)
}

fn data_info(args: &SourceArgs) -> anyhow::Result<()> {
    let source = open(&args.source, args.folder)?;
    print!("{}", Summary::of(source.as_ref())?);
    Ok(())
}

fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let (out, resume) = match (&args.out, &args.resume) {
        (Some(out), None) => (out.clone(), false),
        (None, Some(run)) => (run.clone(), true),
        _ => bail!("give --out RUN_FOLDER for a new run or --resume RUN_FOLDER to continue one"),
    };
    let base = if resume {
        Some(selfsup::train::run_config(&out)?)
    } else {
        None
    };
    let config = run_config(&args.config, base)?;
    let source = open(&args.data, args.folder)?;
    let device = args.backend.device()?;
    eprintln!(
        "training {} on {} ({} images) with {} for {} epochs -> {}",
        args.method,
        source.describe(),
        source.len(),
        args.backend,
        config.train.epochs,
        out.display()
    );
    let options = RunOptions {
        out_dir: out.clone(),
        resume,
        progress: true,
    };
    let history = args.method.train(&config, source, &device, &options)?;
    if let Some(last) = history.last() {
        println!("{}", describe(last, config.train.epochs));
    }
    println!("checkpoints: {}", out.join("checkpoints").display());
    Ok(())
}

/// The checkpoint folder of `path`: a run folder's best (else last) checkpoint, or `path` itself.
fn checkpoint_dir(path: &Path) -> PathBuf {
    for name in ["best", "last"] {
        let dir = path.join("checkpoints").join(name);
        if checkpoint::resolve(&dir).is_ok() {
            return dir;
        }
    }
    path.to_path_buf()
}

/// A feature view with the words that name it in reports.
struct NamedView {
    view: View,
    name: String,
}

/// Features of every requested view for each of `specs`: `sets[spec][view]`.
fn features(
    args: &FeatureArgs,
    specs: &[&str],
) -> anyhow::Result<(Vec<Vec<Features>>, Vec<NamedView>, CheckpointState)> {
    let dir = checkpoint_dir(&args.checkpoint);
    let state = checkpoint::load_state(&dir)?;
    let method: Method = state.method.parse()?;
    let device = args.backend.device()?;
    let weights = (!args.random_init).then_some(dir.as_path());
    let backbone = method.backbone(&state.config, state.in_channels, weights, &device)?;
    let blocks = backbone.block_channels().len();
    let chosen = if args.all_blocks {
        (1..=blocks).collect()
    } else if args.block.is_empty() {
        vec![blocks]
    } else {
        args.block.clone()
    };
    if let Some(b) = chosen.iter().find(|&&b| b == 0 || b > blocks) {
        bail!("--block {b}: the backbone has blocks 1 to {blocks}");
    }
    let views: Vec<NamedView> = chosen
        .iter()
        .flat_map(|&block| {
            args.pooling.iter().map(move |&pooling| NamedView {
                view: View {
                    block: block - 1,
                    pooling: match pooling {
                        PoolingArg::Global => Pooling::Global,
                        PoolingArg::Grid => Pooling::Grid {
                            max_dims: args.dims,
                        },
                    },
                },
                name: format!("block {block} {pooling:?}").to_lowercase(),
            })
        })
        .collect();
    let plain: Vec<View> = views.iter().map(|v| v.view).collect();
    let conform = ImageBatcher::new(state.in_channels, state.image_size, state.image_size)?;
    let sets = specs
        .iter()
        .map(|spec| {
            let source = open(
                spec,
                FolderArgs {
                    skip_bad: false,
                    verify: false,
                },
            )?;
            Ok(eval::extract_views(
                &backbone,
                source.as_ref(),
                &conform,
                &plain,
                256,
            )?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((sets, views, state))
}

fn default_test(data: &str) -> anyhow::Result<String> {
    let name = data.split(':').next().unwrap_or(data);
    match name {
        "sample" | "fashion-mnist" => Ok(format!("{name}:test")),
        _ => bail!(
            "give --test for labelled test images (only sample and fashion-mnist have a default)"
        ),
    }
}

fn evaluate(args: &EvalArgs) -> anyhow::Result<()> {
    let test = match &args.test {
        Some(t) => t.clone(),
        None => default_test(&args.data)?,
    };
    let (mut sets, views, state) = features(&args.features, &[&args.data, &test])?;
    let test_sets = sets.pop().context("test features")?;
    let train_sets = sets.pop().context("train features")?;
    let device = args.features.backend.device()?;
    let probe = ProbeConfig {
        epochs: args.probe_epochs,
        seed: state.seed,
        ..ProbeConfig::default()
    };
    let init = if args.features.random_init {
        "random init"
    } else {
        "pretrained"
    };
    for ((view, train_features), test_features) in views.iter().zip(&train_sets).zip(&test_sets) {
        for protocol in &args.protocols {
            let (name, train) = match protocol {
                Protocol::Few => (
                    "linear-probe",
                    Cow::Owned(train_features.per_class(args.per_class, state.seed)),
                ),
                Protocol::Linear => ("linear-probe", Cow::Borrowed(train_features)),
                Protocol::Knn => ("k-NN", Cow::Borrowed(train_features)),
            };
            let accuracy = match protocol {
                Protocol::Knn => {
                    eval::knn_accuracy(&train, test_features, args.k, args.temperature, &device)?
                }
                Protocol::Linear | Protocol::Few => {
                    eval::linear_probe(&train, test_features, &probe, &device)?
                }
            };
            println!(
                "{name} accuracy {:.2}% ({} {init}, {}, {} dims, {} train / {} test images{})",
                100.0 * accuracy,
                state.method,
                view.name,
                train.dim,
                train.len(),
                test_features.len(),
                if *protocol == Protocol::Few {
                    format!(", {} labels per class", args.per_class)
                } else {
                    String::new()
                },
            );
        }
    }
    Ok(())
}

fn embed(args: &EmbedArgs) -> anyhow::Result<()> {
    if args.features.all_blocks || args.features.block.len() > 1 || args.features.pooling.len() > 1
    {
        bail!("embed writes one view: give one --block and one --pooling");
    }
    let (mut sets, _, _) = features(&args.features, &[&args.data])?;
    let features = sets.remove(0).remove(0);
    eval::write_npy(&features, &args.out)?;
    println!(
        "wrote {} features of {} dims to {}",
        features.len(),
        features.dim,
        args.out.join("features.npy").display()
    );
    Ok(())
}

fn show(args: &ShowArgs) -> anyhow::Result<()> {
    let config = run_config(&args.config, None)?;
    let source = open(
        &args.data,
        FolderArgs {
            skip_bad: false,
            verify: false,
        },
    )?;
    let [c, h, w] = source.shape(0)?;
    let side = config.train.image_size.unwrap_or(h.min(w));
    let conform = ImageBatcher::new(
        config.train.channels.unwrap_or(if c == 1 { 1 } else { 3 }),
        side,
        side,
    )?;
    let rows = match args.method {
        Method::Rotation => {
            let generator = RotationGenerator::new(config.rotation.clone())?;
            (0..args.count.min(source.len()))
                .map(|i| {
                    let image = conform.conform(&source.get(i)?.image);
                    let sample = generator
                        .generate(&image, &mut sample_rng(config.train.seed, 0, i as u64))?;
                    Ok(sample.rotations.to_vec())
                })
                .collect::<anyhow::Result<Vec<_>>>()?
        }
    };
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join(format!("{}.png", args.method));
    let scale = (96 / side.max(1)).max(1);
    gallery::grid(&rows, scale, 4)?.save(&path)?;
    println!(
        "wrote {} ({} images, one per row; columns are the labels 0..3)",
        path.display(),
        rows.len()
    );
    Ok(())
}

fn backends() -> anyhow::Result<()> {
    for backend in BackendKind::ALL {
        let status = match backend.device() {
            Ok(device) => std::panic::catch_unwind(|| {
                let x = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
                x.sum().into_scalar::<f32>()
            })
            .map_or_else(
                |_| "compiled in, but its device failed to start".to_string(),
                |sum| format!("compiled in, sum([1, 2, 3]) = {sum}"),
            ),
            Err(e) => e.to_string(),
        };
        println!("{:<8} {status}", backend.name());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Data(DataCommand::Info(args)) => data_info(args),
        Command::Train(args) => train(args),
        Command::Eval(args) => evaluate(args),
        Command::Embed(args) => embed(args),
        Command::Show(args) => show(args),
        Command::Backends => backends(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
