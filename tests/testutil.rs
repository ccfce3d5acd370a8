//! Fixtures: real image files written with the `image` crate.

use std::path::Path;

use image::{Rgb, RgbImage};

/// Writes a `w` x `h` RGB image whose colour depends on `seed`, in the format of the extension.
pub fn write_image(path: &Path, w: u32, h: u32, seed: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([seed.wrapping_mul(37), (x * 13) as u8, (y * 29) as u8])
    })
    .save(path)
    .unwrap();
}

/// A folder with two classes of real PNG and JPEG files plus one unlabelled image at the root.
pub fn class_folder(root: &Path) {
    write_image(&root.join("cat/a.bmp"), 12, 10, 1);
    write_image(&root.join("cat/nested/b.jpg"), 16, 16, 2);
    write_image(&root.join("dog/c.png"), 8, 8, 3);
    image::GrayImage::from_fn(9, 7, |x, y| image::Luma([(x * y) as u8]))
        .save(root.join("dog/d.png"))
        .unwrap();
    write_image(&root.join("root.png"), 5, 5, 4);
    std::fs::write(root.join(".hidden"), b"ignored").unwrap();
}

/// True when the full Fashion-MNIST from Debian's package is installed; CI installs it, so a
/// missing dataset fails there and only skips (with a note) on a developer's machine.
/// Whether Debian's mate-backgrounds photos are installed (CI installs them).
pub fn have_photos() -> bool {
    let present = Path::new(selfsup::data::source::PHOTOS_DIR).is_dir();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install mate-backgrounds (see .ci/run)"
        );
        eprintln!("note: mate-backgrounds not installed; skipping the photo-source check");
    }
    present
}

pub fn have_fashion_mnist() -> bool {
    let present = Path::new(selfsup::data::source::FASHION_MNIST_DIR)
        .join("t10k-images-idx3-ubyte.gz")
        .exists();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install dataset-fashion-mnist (see .ci/run)"
        );
        eprintln!("note: dataset-fashion-mnist not installed; skipping the full-dataset check");
    }
    present
}

/// Runs `f` with one compute thread: flex's parallel reductions split work by thread
/// availability, so only a single-threaded run is bitwise repeatable while other tests compete
/// for the cores.
pub fn single_threaded<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(f)
}

/// Runs the ignored test `name` (its full path, `module::test`) alone in a fresh process of this
/// test binary. Flex draws every random number from one stream per process, so another test
/// initialising a model or applying dropout in the middle of a run would change the weights
/// that a bitwise comparison of two runs checks.
pub fn in_own_process(name: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--ignored", "--test-threads=1"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{name} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{name} did not run:\n{stdout}");
}

/// The tensors of a safetensors file by name, as raw bytes.
pub fn tensors(path: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.names()
        .into_iter()
        .map(|n| (n.to_string(), file.tensor(n).unwrap().data().to_vec()))
        .collect()
}
