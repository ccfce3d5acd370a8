//! The `selfsup` binary: output and exit codes.

use std::process::{Command, Output};

use crate::testutil::{class_folder, write_image};

pub fn selfsup<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_selfsup"))
        .args(args)
        .output()
        .expect("the selfsup binary runs")
}

/// Runs `selfsup args`, checks that it exits with an error (code 1, no panic) whose message
/// says `needle`, and returns the message.
pub fn fails_with(args: &[&str], needle: &str) -> String {
    let out = selfsup(args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    stderr
}

pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn data_info_on_the_bundled_sample() {
    let out = selfsup(&["data", "info", "sample"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("images:   5000"), "{stdout}");
    assert!(
        stdout.contains("1 x 28 x 28 (grey): 5000 images"),
        "{stdout}"
    );
    assert!(stdout.contains("Ankle boot"), "{stdout}");
    assert_eq!(stdout.matches("     500\n").count(), 10, "{stdout}");
}

#[test]
fn data_info_on_a_folder_and_its_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    class_folder(dir.path());
    let root = dir.path().to_str().unwrap();
    let out = selfsup(&["data", "info", root]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("images:   5"), "{stdout}");
    assert!(stdout.contains("2 classes"), "{stdout}");

    std::fs::write(dir.path().join("cat/broken.jpg"), b"\xff\xd8\xff garbage").unwrap();
    let out = selfsup(&["data", "info", root, "--verify"]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("broken.jpg"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let out = selfsup(&["data", "info", root, "--verify", "--skip-bad"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: skipped") && stderr.contains("broken.jpg"),
        "{stderr}"
    );
    assert!(stdout.contains("images:   5"), "{stdout}");
}

#[test]
fn bad_sources_exit_non_zero_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("x-images-idx3-ubyte");
    std::fs::write(
        &bogus,
        [0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3],
    )
    .unwrap();
    for (args, needle) in [
        (vec!["data", "info", "/definitely/missing"], "no such file"),
        (vec!["data", "info", bogus.to_str().unwrap()], "truncated"),
        (vec!["data", "info", "sample:dev"], "split 'dev'"),
    ] {
        let out = selfsup(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    write_image(&dir.path().join("one.png"), 2, 2, 0);
    let out = selfsup(&["data", "info", dir.path().join("one.png").to_str().unwrap()]);
    assert!(!out.status.success());
}

#[test]
fn backends_lists_what_is_compiled() {
    let out = selfsup(&["backends"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("flex     compiled in, sum([1, 2, 3]) = 6"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--features cuda") || stdout.contains("cuda     compiled in"),
        "{stdout}"
    );
}

#[test]
fn train_resume_eval_embed_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let tiny = [
        "--set",
        "train.max_images=64",
        "--set",
        "backbone.widths=[4,8]",
        "--set",
        "train.image_size=16",
        "--set",
        "train.batch_size=16",
    ];
    let mut args = vec![
        "train",
        "rotation",
        "--data",
        "sample:test",
        "--out",
        run_s,
        "--set",
        "train.epochs=1",
    ];
    args.extend(tiny);
    let out = selfsup(&args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("epoch 1/1"), "{stdout}");

    let out = selfsup(&[
        "train",
        "rotation",
        "--data",
        "sample:test",
        "--resume",
        run_s,
        "--set",
        "train.epochs=2",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("epoch 2/2"), "{stdout}");

    // k-NN as trained, then the same network read at another side, which the report names.
    for (extra, expected) in [
        (["--k", "5"], "k-NN accuracy"),
        (["--side", "20"], "read at 20 px"),
    ] {
        let args = [
            &[
                "eval",
                "knn",
                "--checkpoint",
                run_s,
                "--data",
                "sample:train",
            ][..],
            &extra,
        ];
        let out = selfsup(&args.concat());
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains(expected), "{stdout}");
    }

    let out = selfsup(&[
        "eval",
        "linear",
        "few",
        "--checkpoint",
        run_s,
        "--data",
        "sample:test",
        "--test",
        "sample:train",
        "--block",
        "1,2",
        "--pooling",
        "grid,global",
        "--dims",
        "64",
        "--per-class",
        "10",
        "--random-init",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("linear-probe accuracy") && stdout.contains("random init"),
        "{stdout}"
    );
    assert!(stdout.contains("1000 train / 5000 test"), "{stdout}");
    // Two blocks x two poolings x two protocols from one extraction.
    assert_eq!(stdout.lines().count(), 8, "{stdout}");
    for view in [
        "block 1 grid",
        "block 1 global",
        "block 2 grid",
        "block 2 global",
    ] {
        assert!(stdout.contains(view), "{view}: {stdout}");
    }
    assert!(
        stdout.contains("100 train / 5000 test images, 10 labels per class"),
        "{stdout}"
    );

    let emb = dir.path().join("emb");
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
    assert!(emb.join("features.npy").is_file() && emb.join("labels.npy").is_file());

    let show = dir.path().join("show");
    let out = selfsup(&[
        "show",
        "rotation",
        "--out",
        show.to_str().unwrap(),
        "--count",
        "3",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let png = image::open(show.join("rotation.png")).unwrap();
    assert!(png.width() > png.height(), "4 columns by 3 rows");

    for (args, needle) in [
        (
            vec![
                "train",
                "rotation",
                "--out",
                run_s,
                "--set",
                "train.epochz=1",
            ],
            "epochz",
        ),
        (vec!["train", "rotation"], "--out"),
        (
            vec!["eval", "knn", "--checkpoint", "/no/such/run"],
            "/no/such/run",
        ),
        (
            vec!["eval", "knn", "--checkpoint", run_s, "--block", "9"],
            "blocks 1 to 2",
        ),
        (
            vec!["eval", "knn", "--checkpoint", run_s, "--side", "1"],
            "--side 1: 1-pixel inputs are too small",
        ),
        (
            vec!["eval", "image", "--checkpoint", run_s, "--side", "20"],
            "--side reads features",
        ),
    ] {
        let out = selfsup(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn a_run_needs_a_folder_to_write_or_to_resume() {
    for args in [
        &["train", "rotation"][..],
        &["finetune", "--checkpoint", "nothing", "--data", "sample"],
    ] {
        let out = selfsup(args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("give --out RUN_FOLDER for a new run or --resume RUN_FOLDER"),
            "{stderr}"
        );
    }
}

#[test]
fn render_writes_whole_folders_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scenes");
    let out_s = out.to_str().unwrap();
    let run = |extra: &[&str]| selfsup(&[&["render", "--out", out_s][..], extra].concat());
    let done = run(&["--count", "3", "--size", "24", "--seed", "5"]);
    assert!(done.status.success(), "{}", text(&done).1);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 15, "{names:?}");
    assert_eq!(names[0], "000005-contours.png");
    let depth = image::open(out.join("000007-depth.png")).unwrap();
    assert_eq!(depth.color(), image::ColorType::L16);

    // Bad input: nothing written, nothing overwritten, no stray staging folder.
    let again = run(&["--count", "1"]);
    assert!(
        text(&again).1.contains("is not empty"),
        "{}",
        text(&again).1
    );
    std::fs::remove_dir_all(&out).unwrap();
    for (args, says) in [
        (&["--count", "0"][..], "nothing to render"),
        (&["--size", "0"][..], "4096"),
        (&["--size", "5000"][..], "4096"),
    ] {
        let failed = run(args);
        assert!(!failed.status.success());
        assert!(
            text(&failed).1.contains(says),
            "{args:?}: {}",
            text(&failed).1
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A destination that cannot be written (under a file; permissions do not stop root), and
    // seeds past u64::MAX.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("scenes");
    fails_with(
        &[
            "render",
            "--count",
            "1",
            "--size",
            "8",
            "--out",
            under_file.to_str().unwrap(),
        ],
        "cannot write",
    );
    fails_with(
        &[
            "render",
            "--count",
            "2",
            "--seed",
            &u64::MAX.to_string(),
            "--out",
            out_s,
        ],
        "past",
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the file"
    );
}

#[test]
fn synthetic_imagery_refuses_an_empty_real_domain() {
    let dir = tempfile::tempdir().unwrap();
    let (empty, out) = (dir.path().join("empty"), dir.path().join("run"));
    std::fs::create_dir(&empty).unwrap();
    let failed = selfsup(&[
        "train",
        "synthetic",
        "--data",
        empty.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!failed.status.success());
    assert!(
        text(&failed).1.contains("no images found"),
        "{}",
        text(&failed).1
    );
    assert!(!out.exists(), "nothing written");
}
