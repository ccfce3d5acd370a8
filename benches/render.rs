//! Rendering speed of the synthetic-imagery renderer on one core: random room scenes drawn and
//! ray cast (colour, depth, normals, instances, contours) per second, at a few sizes
//! (docs/benchmarks.md). The training loader's workers render in parallel, one scene each.
//!
//! ```text
//! cargo bench --bench render                     # 64, 128 and 256 px, 3 seconds each
//! cargo bench --bench render -- --seconds 10
//! ```

use std::time::Instant;

use clap::Parser;
use selfsup::data::render::{Scene, SceneConfig, render};

#[derive(Parser, Debug)]
struct Args {
    /// Seconds to time each size for.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let args = Args::parse();
    let config = SceneConfig::default();
    for side in [64, 128, 256] {
        let start = Instant::now();
        let mut scenes = 0u64;
        while start.elapsed().as_secs_f64() < args.seconds {
            let scene = Scene::random(&config, scenes).expect("the default config is valid");
            let rendering = render(&scene, side, side).expect("a valid size");
            std::hint::black_box(rendering);
            scenes += 1;
        }
        let rate = scenes as f64 / start.elapsed().as_secs_f64();
        println!("render {side}x{side}: {rate:.1} scenes/s on one thread ({scenes} scenes)");
    }
}
