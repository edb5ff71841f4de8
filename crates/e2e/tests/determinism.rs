//! Output bytes do not depend on the thread count or the chunk size.

use pricer_e2e::{fixture, ingest_and_prompt};

#[test]
fn one_and_two_threads_give_identical_artifacts() {
    let inputs = [fixture("data/edge"), fixture("data/amazon-2023")];
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    // Small chunks for the 2-thread run so that many chunks are in flight at once.
    ingest_and_prompt(&inputs, a.path(), 1, 1 << 20);
    ingest_and_prompt(&inputs, b.path(), 2, 4096);
    for file in [
        "ingest/candidates.art",
        "ingest/rejects.jsonl",
        "prompt/items.art",
        "prompt/rejects.jsonl",
    ] {
        let x = std::fs::read(a.path().join(file)).unwrap();
        let y = std::fs::read(b.path().join(file)).unwrap();
        assert!(x == y, "{file} differs between 1 and 2 threads");
    }
}
