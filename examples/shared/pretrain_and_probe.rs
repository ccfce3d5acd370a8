//! What every method's example does after choosing its configuration: pretrain on the bundled
//! sample's training split, then probe every block of the pretrained and of a randomly
//! initialised backbone on its test split.

use std::path::Path;
use std::sync::Arc;

use selfsup::data::{ImageSource, Split, bundled_sample};
use selfsup::train::eval::probe_blocks;
use selfsup::train::{BackendKind, RunConfig, RunOptions, train_method};

/// Trains `config`'s method into `out` (replacing a previous run there) and prints the pretext
/// accuracy and both backbones' probes, block by block.
pub fn run(name: &str, config: &RunConfig, out: &Path, backend: BackendKind) -> anyhow::Result<()> {
    let device = backend.device()?;
    if out.join("checkpoints").exists() {
        println!("replacing the previous run in {}", out.display());
        std::fs::remove_dir_all(out)?;
    }
    let train_images = Arc::new(bundled_sample(Split::Train)?);
    let options = RunOptions {
        out_dir: out.to_path_buf(),
        progress: true,
        data_spec: Some("sample:train".into()),
        ..RunOptions::default()
    };
    let history = train_method(config, train_images.clone(), &device, &options)?;
    let last = history.last().expect("at least one epoch");
    // Methods without a pretext accuracy (synthetic imagery's dense tasks) printed their
    // scores with every epoch.
    let pretext = last
        .val
        .get("accuracy")
        .map(|a| ("validation", a))
        .or_else(|| last.train.get("accuracy").map(|a| ("training", a)));
    if let Some((split, accuracy)) = pretext {
        println!(
            "pretext ({}) {split} accuracy: {:.1}%",
            config.method.name(),
            100.0 * accuracy
        );
    }
    let test_images = bundled_sample(Split::Test)?;
    let checkpoint = out.join("checkpoints/last");
    for (label, random_init) in [(name, false), ("random init", true)] {
        let scores = probe_blocks(
            &checkpoint,
            random_init,
            train_images.as_ref(),
            &test_images,
            &device,
        )?;
        for s in scores {
            println!(
                "{label:>12}, block {}{}: linear probe {:.1}%, k-NN (k=20) {:.1}% on {} test images",
                s.block,
                if s.representation { "*" } else { " " },
                100.0 * s.linear,
                100.0 * s.knn,
                test_images.len()
            );
        }
    }
    println!("(* the block the method documents as its representation)");
    println!(
        "checkpoint: {}",
        checkpoint.join("model.safetensors").display()
    );
    Ok(())
}
