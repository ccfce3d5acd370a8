//! Image sources on real files: folders, IDX files, bad input.

use selfsup::data::{DataError, FolderOptions, ImageFolder, ImageSource, Summary, open_source};

use crate::testutil::{class_folder, have_fashion_mnist, have_photos, write_image};

#[test]
fn folder_labels_come_from_top_level_subfolders() {
    let dir = tempfile::tempdir().unwrap();
    class_folder(dir.path());
    let folder = ImageFolder::open(dir.path(), FolderOptions::default()).unwrap();
    assert_eq!(folder.len(), 5);
    assert_eq!(folder.class_names(), ["cat", "dog"]);
    let labels: Vec<_> = (0..5).map(|i| folder.label(i)).collect();
    // sorted paths: cat/a.bmp, cat/nested/b.jpg, dog/c.png, dog/d.png, root.png
    assert_eq!(labels, [Some(0), Some(0), Some(1), Some(1), None]);
    let b = folder.get(1).unwrap();
    assert_eq!(b.image.shape(), [3, 16, 16]);
    assert_eq!(folder.shape(3).unwrap(), [1, 7, 9]);
    assert_eq!(folder.get(3).unwrap().image.shape(), [1, 7, 9]);
    let summary = Summary::of(&folder).unwrap();
    assert_eq!(
        summary.histogram,
        [("cat".to_string(), 2), ("dog".to_string(), 2)]
    );
    assert_eq!(summary.unlabelled, 1);
}

#[test]
fn bad_files_are_errors_naming_the_file_or_skipped_on_request() {
    let dir = tempfile::tempdir().unwrap();
    write_image(&dir.path().join("a/good.png"), 4, 4, 0);
    std::fs::write(dir.path().join("a/empty.png"), b"").unwrap();
    std::fs::write(
        dir.path().join("a/notes.txt"),
        b"just some text, not pixels",
    )
    .unwrap();
    let err = ImageFolder::open(dir.path(), FolderOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::EmptyFile { .. }), "{err}");
    assert!(err.to_string().contains("empty.png"));

    let folder = ImageFolder::open(
        dir.path(),
        FolderOptions {
            skip_bad: true,
            verify: false,
        },
    )
    .unwrap();
    assert_eq!(folder.len(), 1);
    let skipped: Vec<_> = folder
        .skipped()
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(skipped, ["empty.png", "notes.txt"]);
}

#[test]
fn truncated_images_fail_on_decode_and_verify_catches_them_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.png");
    write_image(&path, 64, 64, 9);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    write_image(&dir.path().join("u.png"), 8, 8, 1);

    // The header is intact, so a plain open succeeds and the decode reports the file.
    let folder = ImageFolder::open(dir.path(), FolderOptions::default()).unwrap();
    let err = folder.get(0).unwrap_err();
    assert!(err.to_string().contains("t.png"), "{err}");

    let verify = FolderOptions {
        skip_bad: false,
        verify: true,
    };
    assert!(matches!(
        ImageFolder::open(dir.path(), verify),
        Err(DataError::Decode { .. })
    ));
    let skipping = ImageFolder::open(
        dir.path(),
        FolderOptions {
            skip_bad: true,
            ..verify
        },
    )
    .unwrap();
    assert_eq!(skipping.len(), 1);
}

#[test]
fn missing_and_empty_folders_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        ImageFolder::open(dir.path().join("nope"), FolderOptions::default()),
        Err(DataError::NotFound { .. })
    ));
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    assert!(matches!(
        ImageFolder::open(dir.path().join("empty"), FolderOptions::default()),
        Err(DataError::NoImages { .. })
    ));
}

#[test]
fn idx_files_on_disk_with_sibling_labels() {
    let dir = tempfile::tempdir().unwrap();
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
    images.extend([0, 255, 128, 64]);
    std::fs::write(dir.path().join("train-images-idx3-ubyte"), &images).unwrap();
    std::fs::write(
        dir.path().join("train-labels-idx1-ubyte"),
        [0, 0, 8, 1, 0, 0, 0, 2, 7, 3],
    )
    .unwrap();
    let spec = dir.path().join("train-images-idx3-ubyte");
    let source = open_source(spec.to_str().unwrap(), FolderOptions::default()).unwrap();
    assert_eq!(source.len(), 2);
    assert_eq!(source.label(0), Some(7));
    assert_eq!(
        source.get(1).unwrap().image.data(),
        &[128.0 / 255.0, 64.0 / 255.0]
    );

    // A truncated payload names the file and the shortfall.
    std::fs::write(&spec, &images[..images.len() - 1]).unwrap();
    let err = open_source(spec.to_str().unwrap(), FolderOptions::default()).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
}

#[test]
fn source_strings() {
    let sample = open_source("sample:test", FolderOptions::default()).unwrap();
    assert_eq!(sample.len(), 1000);
    assert!(matches!(
        open_source("sample:valid", FolderOptions::default()),
        Err(DataError::Source { .. })
    ));
    assert!(open_source("/no/such/place", FolderOptions::default()).is_err());
    if have_fashion_mnist() {
        let full = open_source("fashion-mnist:test", FolderOptions::default()).unwrap();
        assert_eq!(full.len(), 10_000);
        assert_eq!(full.class_names()[0], "T-shirt/top");
        let train = open_source("fashion-mnist", FolderOptions::default()).unwrap();
        assert_eq!(train.len(), 60_000);
    }
}

#[test]
fn the_installed_photos_split_nine_to_three() {
    if !have_photos() {
        return;
    }
    let train = open_source("photos?crops=2", FolderOptions::default()).unwrap();
    let test = open_source("photos:test?crops=2&crop=96", FolderOptions::default()).unwrap();
    assert_eq!((train.len(), test.len()), (9 * 2, 3 * 2));
    assert_eq!(test.get(5).unwrap().image.shape(), [3, 96, 96]);
    assert!(test.describe().contains("3 photos"), "{}", test.describe());
}
