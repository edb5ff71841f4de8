//! Summaries someone else made (`[summarize] from`): any bytes as a Parquet file of a Hub
//! folder and as a JSON-lines file give rows, rejects or an error naming the file; never
//! a panic (the parquet crate's own assertions on damaged pages are contained) or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricer_summarize::from;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("hub");
    std::fs::create_dir_all(folder.join("data")).expect("mkdir");
    let parquet = folder.join("data/train-00000-of-00001.parquet");
    std::fs::write(&parquet, data).expect("write");
    let jsonl = dir.path().join("summaries.jsonl");
    std::fs::write(&jsonl, data).expect("write");
    for (source, file) in [(&folder, &parquet), (&jsonl, &jsonl)] {
        let mut rows = 0usize;
        if let Err(e) = from::read(source, |_| {
            rows += 1;
            Ok(())
        }) {
            let e = format!("{e:#}");
            assert!(e.contains(&file.display().to_string()), "{e}");
        }
    }
});
