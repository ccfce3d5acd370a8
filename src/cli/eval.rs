//! `selfsup eval PROTOCOL... --checkpoint RUN`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use selfsup::data::test_split_of;
use selfsup::train::eval::{self, ProbeConfig, Protocol};

use super::args::{FeatureArgs, FolderArgs, open};
use super::image_eval;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum ProtocolArg {
    /// Logistic regression on standardised frozen features, fitted to convergence.
    Linear,
    /// Weighted k-nearest-neighbours on cosine similarity.
    Knn,
    /// The logistic regression trained on only `--per-class` labels per class.
    Few,
    /// NMI of DeepCluster's clustering pipeline (PCA, whitening, k-means) on the test features.
    Nmi,
    /// An image-to-image checkpoint's predictions on --data (default: the test split of the
    /// run's data), scored beside the baseline: PSNR, SSIM and the method's own scores.
    Image,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// One or more of `linear`, `knn`, `few`; all share one feature extraction.
    #[arg(required = true)]
    protocols: Vec<ProtocolArg>,
    #[command(flatten)]
    features: FeatureArgs,
    /// Labelled training images for the probe or the k-NN memory bank (default: `sample`);
    /// for `image`, the images to score.
    #[arg(long)]
    data: Option<String>,
    /// Labelled test images (default: the test split that goes with --data).
    #[arg(long)]
    test: Option<String>,
    /// Training labels per class for `few`.
    #[arg(long, default_value_t = 100)]
    per_class: usize,
    /// Seeds the `few` subset (default: the run's seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Neighbours for k-NN.
    #[arg(long, default_value_t = 20)]
    k: usize,
    /// Temperature of the k-NN vote weights.
    #[arg(long, default_value_t = 0.07)]
    temperature: f64,
    /// Inverse L2 strength of the logistic regression (scikit-learn's C).
    #[arg(long, default_value_t = 1.0)]
    c: f64,
    /// k-means clusters for `nmi`.
    #[arg(long, default_value_t = 100)]
    clusters: usize,
    /// PCA dimensions for `nmi` (at most the feature dimension).
    #[arg(long, default_value_t = 64)]
    pca_dims: usize,
    /// For `image`: score only the first N images.
    #[arg(long)]
    limit: Option<usize>,
    /// For `image`: write a picture of input | prediction | baseline | original rows here.
    #[arg(long)]
    gallery: Option<PathBuf>,
    /// For `image`: override a key of the run's configuration that changes how the network is
    /// applied (`--set colorization.temperature=0.2`, `--set superres.tile=128`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

impl EvalArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        if self.protocols.contains(&ProtocolArg::Image) {
            if self.protocols.len() > 1 {
                anyhow::bail!("`image` scores predictions, not features: give it alone");
            }
            if let Some(side) = self.features.side {
                anyhow::bail!(
                    "--side reads features at another side; `image` applies the network to \
                     whole images at their own size, so --side {side} would change nothing"
                );
            }
            return image_eval::run(
                &self.features.checkpoint,
                &self.overrides,
                self.data.as_deref(),
                self.limit,
                self.gallery.as_deref(),
                &self.features.backend.device()?,
            );
        }
        if !self.overrides.is_empty() {
            anyhow::bail!("--set applies to `image` alone: probes read the network as trained");
        }
        let data = self.data.clone().unwrap_or_else(|| "sample".into());
        let test = match &self.test {
            Some(t) => t.clone(),
            None => test_split_of(&data)?,
        };
        if test == data {
            anyhow::bail!(
                "--data and --test are both '{test}': the probe would train and test on the same \
                 images"
            );
        }
        let protocols: Vec<Protocol> = self
            .protocols
            .iter()
            .filter_map(|p| match p {
                ProtocolArg::Knn => Some(Protocol::Knn {
                    k: self.k,
                    temperature: self.temperature,
                }),
                ProtocolArg::Linear => Some(Protocol::Linear),
                ProtocolArg::Few => Some(Protocol::Few {
                    per_class: self.per_class,
                }),
                ProtocolArg::Nmi => Some(Protocol::Nmi {
                    clusters: self.clusters,
                    pca_dims: self.pca_dims,
                }),
                // Handled above: it scores predictions, not features.
                ProtocolArg::Image => None,
            })
            .collect();
        let probe = ProbeConfig {
            c: self.c,
            ..ProbeConfig::default()
        };
        probe.validate()?;
        let args = &self.features;
        let device = args.backend.device()?;
        let (backbone, network, state) = args.load(&device)?;
        let views = args.views(backbone.block_channels().len(), network.block)?;
        let plain: Vec<_> = views.iter().map(|v| v.view).collect();
        let mut sets = Vec::new();
        for spec in [&data, &test] {
            let source = open(spec, FolderArgs::default())?;
            let all: Vec<usize> = (0..source.len()).collect();
            sets.push(eval::extract_views(
                &backbone,
                source.as_ref(),
                &all,
                &network.input,
                &plain,
                256,
            )?);
        }
        let init = if args.random_init {
            "random init"
        } else {
            "pretrained"
        };
        for ((view, train), test) in views.iter().zip(&sets[0]).zip(&sets[1]) {
            for protocol in &protocols {
                let train = protocol.training_set(train, self.seed.unwrap_or(state.seed))?;
                let accuracy = protocol.accuracy(&train, test, &probe, &device)?;
                println!(
                    "{} {} {:.2}% ({} {init}, {}, {}, {} dims, {} train / {} test images{}{})",
                    protocol.name(),
                    if matches!(protocol, Protocol::Nmi { .. }) {
                        "score"
                    } else {
                        "accuracy"
                    },
                    100.0 * accuracy,
                    state.method,
                    network.name,
                    view.name,
                    train.dim,
                    train.len(),
                    test.len(),
                    match protocol {
                        Protocol::Few { per_class } => format!(", {per_class} labels per class"),
                        Protocol::Nmi { clusters, .. } =>
                            format!(", {clusters} clusters of the test features"),
                        _ => String::new(),
                    },
                    args.side
                        .map_or_else(String::new, |side| format!(", read at {side} px")),
                );
            }
        }
        Ok(())
    }
}
