//! docs/pytorch.md's code, run by scripts/check_pytorch.py on a fresh checkpoint: the strict
//! PyTorch load of the documented modules and features equal to `selfsup embed`'s (issue 7).

use std::path::Path;
use std::process::Command;

use crate::cli::{selfsup, text};

/// A Python interpreter that has PyTorch and NumPy, if any: the one on PATH, or Debian's
/// (`apt-get install python3-torch`, which CI does).
fn python_with_torch() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import torch, numpy"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Python with PyTorch, or `None` (with a note) off CI, where its absence skips the check.
fn python_or_skip() -> Option<&'static str> {
    let python = python_with_torch();
    if python.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install python3-torch (see .ci/run)"
        );
        eprintln!("note: skipped the PyTorch check: no python3 with torch and numpy found");
    }
    python
}

/// Trains `args` into `run`, then embeds and exports `network` (the first when `None`) and runs
/// scripts/check_pytorch.py on it; its output.
fn train_and_check(python: &str, run: &Path, args: &[&str], network: Option<&str>) -> String {
    let run_s = run.to_str().unwrap();
    if !run.exists() {
        let out = selfsup(&[args, &["--data", "sample:test", "--out", run_s]].concat());
        assert!(out.status.success(), "{}", text(&out).1);
    }
    let (emb, export) = match network {
        None => ("emb".to_string(), "backbone.safetensors".to_string()),
        Some(n) => (format!("emb-{n}"), format!("{n}.safetensors")),
    };
    let named: Vec<&str> = network.map_or(vec![], |n| vec!["--network", n]);
    for (command, out_arg, data) in [
        ("embed", run.join(emb), &["--data", "sample:test"][..]),
        ("export", run.join(export), &[][..]),
    ] {
        let args = [
            &[
                command,
                "--checkpoint",
                run_s,
                "--out",
                out_arg.to_str().unwrap(),
            ][..],
            data,
            &named,
        ]
        .concat();
        let out = selfsup(&args);
        assert!(out.status.success(), "{}", text(&out).1);
    }
    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/check_pytorch.py"
        ))
        .arg(run_s)
        .args(network)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("strict load OK") && stdout.contains("export matches the checkpoint: True"),
        "{stdout}"
    );
    stdout
}

#[test]
fn the_documented_pytorch_code_loads_a_checkpoint_strictly() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let stdout = train_and_check(
        python,
        &dir.path().join("run"),
        &[
            "train",
            "rotation",
            "--set",
            "train.epochs=1",
            "--set",
            "train.max_images=64",
            "--set",
            "backbone.widths=[4,8,8]",
            "--set",
            "train.batch_size=16",
        ],
        None,
    );
    assert!(stdout.contains("features (2, 8)"), "{stdout}");
    assert!(stdout.contains("rotation logits (2, 4)"), "{stdout}");
}

/// SRGAN's two probed networks are the backbone kinds `residual` (with PReLU) and `strided`
/// (BatchNorm on all layers but the first, asymmetric padding where the kernel is even). The
/// check reads 28-pixel images: the trunk reads the crops' side over the scale (4), so its run
/// trains on 112-pixel crops, the discriminator's on 28.
#[test]
fn the_documented_pytorch_code_loads_srgan_networks() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let args = |image_size: &'static str| {
        [
            "train",
            "superres",
            "--set",
            image_size,
            "--set",
            "train.channels=1",
            "--set",
            "train.epochs=1",
            "--set",
            "train.max_images=32",
            "--set",
            "train.batch_size=8",
            "--set",
            "superres.channels=4",
            "--set",
            "superres.blocks=2",
            "--set",
            "superres.discriminator_width=4",
            "--set",
            "superres.discriminator_pairs=2",
            "--set",
            "superres.discriminator_hidden=8",
            "--set",
            "superres.gan.warmup_epochs=0",
        ]
    };
    let trunk = train_and_check(
        python,
        &dir.path().join("sr-112"),
        &args("train.image_size=112"),
        Some("trunk"),
    );
    assert!(trunk.contains("(trunk, residual)"), "{trunk}");
    let discriminator = train_and_check(
        python,
        &dir.path().join("sr-28"),
        &args("train.image_size=28"),
        Some("discriminator"),
    );
    assert!(
        discriminator.contains("(discriminator, strided)"),
        "{discriminator}"
    );
}
