//! A reader dropped before its last record (after a corrupt record, or by a caller that
//! needs only the first few) leaves nothing behind: its inflating thread has ended and its
//! file is closed when `drop` returns. Its own test binary, so that no other test's
//! readers share the process's thread and file lists.

use std::path::Path;

use pricer_core::{ArtifactReader, ArtifactWriter, Item};

fn write(path: &Path, n: u32) {
    let mut w = ArtifactWriter::<Item>::create(path).unwrap();
    for i in 0..n {
        // Text that does not compress to nothing, so the body is many batches long.
        let prompt: String = (0..40)
            .map(|k| format!("{} ", i * 7919 + k * 104_729))
            .collect();
        w.write(&Item {
            category: "Automotive".into(),
            title: format!("title {i}"),
            price: f64::from(i) + 0.99,
            prompt,
            token_count: 170,
            details: None,
        })
        .unwrap();
    }
    w.finish().unwrap();
}

fn inflating_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|t| {
            let comm = t.as_ref().unwrap().path().join("comm");
            std::fs::read_to_string(comm).is_ok_and(|c| c.trim() == "artifact-unzstd")
        })
        .count()
}

fn open_fds_to(path: &Path) -> usize {
    let path = path.canonicalize().unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter(|fd| std::fs::read_link(fd.as_ref().unwrap().path()).is_ok_and(|p| p == path))
        .count()
}

#[test]
fn a_reader_dropped_early_has_ended_its_thread_and_closed_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.art");
    write(&path, 50_000);
    for _ in 0..20 {
        let mut reader = ArtifactReader::<Item>::open(&path).unwrap();
        reader.next().unwrap().unwrap();
        assert_eq!(inflating_threads(), 1);
        assert_eq!(open_fds_to(&path), 1);
        drop(reader);
        assert_eq!(
            inflating_threads(),
            0,
            "the inflating thread outlived its reader"
        );
        assert_eq!(open_fds_to(&path), 0, "the file outlived its reader");
    }
}
