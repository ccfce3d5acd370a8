//! Sample-generation speed of the pretext generators on one core: how many samples per second
//! one worker thread makes from the bundled Fashion-MNIST sample (decode, conform, generate),
//! to compare with the training step's samples per second (`metrics.csv`; docs/benchmarks.md).
//!
//! ```text
//! cargo bench --bench generators                    # every generator, 2 seconds each
//! cargo bench --bench generators -- --seconds 10
//! ```

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use selfsup::data::pretext::{
    ContextConfig, ContextGenerator, JigsawConfig, JigsawGenerator, PermutationSet,
    PretextGenerator, RotationConfig, RotationGenerator, sample_rng,
};
use selfsup::data::{ImageSource, InputSpec, Split, bundled_sample};

#[derive(Parser, Debug)]
struct Args {
    /// Seconds to time each generator for.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Samples per second of `generator` on one thread, cycling through `source`.
fn rate<G: PretextGenerator>(generator: &G, source: &dyn ImageSource, seconds: f64) -> f64 {
    let images = InputSpec::plain(1, 28).expect("a valid spec");
    let start = Instant::now();
    let mut made = 0usize;
    while start.elapsed().as_secs_f64() < seconds {
        let index = made % source.len();
        let image = images.conform(&source.get(index).expect("bundled image").image);
        let sample = generator
            .generate(&image, index, &mut sample_rng(0, 0, made as u64))
            .expect("a valid sample");
        std::hint::black_box(sample);
        made += 1;
    }
    made as f64 / start.elapsed().as_secs_f64()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let source = bundled_sample(Split::Train)?;
    let jigsaw = JigsawConfig::default();
    let permutations = Arc::new(PermutationSet::max_hamming(jigsaw.permutations, 0)?);
    println!("{:<20} {:>12}", "generator", "samples/s");
    let rows = [
        (
            "rotation",
            rate(
                &RotationGenerator::new(RotationConfig::default())?,
                &source,
                args.seconds,
            ),
        ),
        (
            "jigsaw",
            rate(
                &JigsawGenerator::new(jigsaw, permutations)?,
                &source,
                args.seconds,
            ),
        ),
        (
            "context_prediction",
            rate(
                &ContextGenerator::new(ContextConfig::default())?,
                &source,
                args.seconds,
            ),
        ),
    ];
    for (name, samples_per_second) in rows {
        println!("{name:<20} {samples_per_second:>12.0}");
    }
    Ok(())
}
