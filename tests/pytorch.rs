//! docs/pytorch.md's code, run by scripts/check_pytorch.py on a fresh checkpoint: the strict
//! PyTorch load of the documented modules and features equal to `selfsup embed`'s (issue 7).

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

#[test]
fn the_documented_pytorch_code_loads_a_checkpoint_strictly() {
    let Some(python) = python_with_torch() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install python3-torch (see .ci/run)"
        );
        eprintln!("note: skipped the PyTorch check: no python3 with torch and numpy found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let out = selfsup(&[
        "train",
        "rotation",
        "--data",
        "sample:test",
        "--out",
        run_s,
        "--set",
        "train.epochs=1",
        "--set",
        "train.max_images=64",
        "--set",
        "backbone.widths=[4,8,8]",
        "--set",
        "train.batch_size=16",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let emb = run.join("emb");
    let out = selfsup(&[
        "embed",
        "--checkpoint",
        run_s,
        "--data",
        "sample:test",
        "--out",
        emb.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let export = run.join("backbone.safetensors");
    let out = selfsup(&[
        "export",
        "--checkpoint",
        run_s,
        "--out",
        export.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/check_pytorch.py"
        ))
        .arg(run_s)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("strict load OK") && stdout.contains("features (2, 8)"),
        "{stdout}"
    );
    assert!(stdout.contains("rotation logits (2, 4)"), "{stdout}");
    assert!(
        stdout.contains("export matches the checkpoint: True"),
        "{stdout}"
    );
}
