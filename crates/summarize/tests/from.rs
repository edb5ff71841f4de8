//! Summaries someone else made are input we did not write: a bad row is a reject with its
//! place and reason and the file goes on; a damaged file stops with its path; nothing
//! panics (the parquet crate asserts on some damaged files: `from` contains that).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, DictionaryArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::Int32Type;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use pricer_summarize::from::{self, Reject, Row};

fn rows(from: &Path) -> anyhow::Result<Vec<Row>> {
    let mut out = Vec::new();
    from::read(from, |row| {
        out.push(row);
        Ok(())
    })?;
    Ok(out)
}

fn reasons(rows: &[Row]) -> Vec<(u64, &'static str)> {
    rows.iter()
        .filter_map(|r| r.as_ref().err().map(|r| (r.at, r.reason)))
        .collect()
}

#[test]
fn bad_json_lines_are_rejects_with_line_and_reason_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    let mut text = [
        r#"{"split": "train", "price": 12.5, "summary": "kept"}"#,
        r#"{"split": "train", "price": NaN, "summary": "a"}"#,
        r#"{"split": "test", "price": -Infinity, "summary": "b"}"#,
        r#"{"split": "dev", "price": 1, "summary": "c"}"#,
        r#"[1, 2]"#,
        r#"{"price": 2"#,
        r#"{"split": "val", "price": "3", "summary": "d"}"#,
        r#"{"split": "val", "price": 3, "summary": null}"#,
        "",
        r#"{"split": "test", "price": 1e400, "summary": "e"}"#,
        r#"{"split": "valid", "price": 3, "summary": ""}"#,
    ]
    .join("\n")
    .into_bytes();
    text.extend_from_slice(b"\n\xff{\"split\": \"train\"}\r\n");
    text.extend_from_slice(br#"{"split": "test", "price": 7, "summary": "last"}"#);
    std::fs::write(&path, text).unwrap();

    let rows = rows(&path).unwrap();
    assert_eq!(
        reasons(&rows),
        [
            (2, "price_not_finite"),
            (3, "price_not_finite"),
            (4, "split_missing"),
            (5, "not_an_object"),
            (6, "not_json"),
            (7, "price_missing"),
            (8, "summary_missing"),
            (10, "price_not_finite"),
            (12, "not_utf8"),
        ]
    );
    let items: Vec<(usize, f64, &str)> = rows
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|(s, i, _)| (*s, i.price, i.summary.as_str()))
        .collect();
    // Columns a line lacks are told, not made up.
    let has: Vec<Vec<&str>> = rows
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|(_, _, h)| h.names())
        .collect();
    assert!(has.iter().all(|h| h.is_empty()), "{has:?}");
    // An empty summary is kept: the course's prompts accept it (a golden case).
    assert_eq!(items, [(0, 12.5, "kept"), (1, 3.0, ""), (2, 7.0, "last")]);

    let first = rows[1].as_ref().unwrap_err();
    assert_eq!(
        first.json().to_string(),
        format!(
            r#"{{"detail":"price NaN","file":{:?},"line":2,"reason":"price_not_finite"}}"#,
            path.display().to_string()
        )
    );
    let dev: &Reject = rows[3].as_ref().unwrap_err();
    assert_eq!(dev.detail, r#"split "dev""#);
}

#[test]
fn a_line_longer_than_the_bound_is_a_reject_and_the_next_line_is_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(
        f,
        r#"{{"split": "train", "price": 1, "summary": "before"}}"#
    )
    .unwrap();
    // A summary one byte past the bound, in 1 MiB pieces: it is measured, never held.
    let long = pricer_core::jsonl::MAX_LINE_BYTES + 1;
    write!(f, r#"{{"split": "train", "price": 2, "summary": ""#).unwrap();
    let piece = vec![b'x'; 1 << 20];
    for _ in 0..long.div_ceil(piece.len()) {
        f.write_all(&piece).unwrap();
    }
    writeln!(f, "\"}}").unwrap();
    writeln!(f, r#"{{"split": "test", "price": 3, "summary": "after"}}"#).unwrap();
    f.into_inner().unwrap().sync_all().unwrap();

    let rows = rows(&path).unwrap();
    assert_eq!(reasons(&rows), [(2, "line_too_long")]);
    let detail = &rows[1].as_ref().unwrap_err().detail;
    assert!(
        detail.ends_with("bytes exceeds 268435456 bytes"),
        "{detail}"
    );
    let kept: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(_, i, _)| i.summary.as_str()))
        .collect();
    assert_eq!(kept, ["before", "after"]);
}

/// `n` rows with a null summary at `null_summary` and a NaN price at `nan`, written in
/// row groups of 300 (the reader hands out batches of 1,024 across them).
fn write_parquet(path: &Path, n: usize, null_summary: usize, nan: usize) {
    let summary: Vec<Option<String>> = (0..n)
        .map(|i| (i != null_summary).then(|| format!("summary {i}")))
        .collect();
    let price: Vec<f64> = (0..n)
        .map(|i| if i == nan { f64::NAN } else { i as f64 + 0.25 })
        .collect();
    let title: Vec<String> = (0..n).map(|i| format!("Item {i}")).collect();
    // A categorical column, as pandas writes one: dictionary-encoded strings.
    let category: DictionaryArray<Int32Type> = (0..n)
        .map(|i| ["Electronics", "Appliances"][i % 2])
        .collect();
    let batch = RecordBatch::try_from_iter([
        ("title", Arc::new(StringArray::from(title)) as ArrayRef),
        ("category", Arc::new(category) as ArrayRef),
        ("price", Arc::new(Float64Array::from(price)) as ArrayRef),
        ("summary", Arc::new(StringArray::from(summary)) as ArrayRef),
    ])
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_size(300)
        .build();
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(path).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn null_and_non_finite_parquet_rows_are_rejects_numbered_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    write_parquet(
        &dir.path().join("data/validation-00000-of-00001.parquet"),
        2500,
        1200,
        2100,
    );
    let rows = rows(dir.path()).unwrap();
    assert_eq!(rows.len(), 2500);
    assert_eq!(
        reasons(&rows),
        [(1201, "summary_missing"), (2101, "price_not_finite")]
    );
    let r = rows[1200].as_ref().unwrap_err();
    assert_eq!(r.place, "row");
    let (split, item, has) = rows[2499].as_ref().unwrap();
    // The file has title and category, not full or weight.
    assert_eq!(has.names(), ["title", "category"]);
    assert_eq!(
        (
            *split,
            item.title.as_str(),
            item.category.as_str(),
            item.price
        ),
        (1, "Item 2499", "Appliances", 2499.25)
    );
}

#[test]
fn a_column_of_the_wrong_type_stops_the_file_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test-00000-of-00001.parquet");
    let batch = RecordBatch::try_from_iter([
        (
            "summary",
            Arc::new(Float64Array::from(vec![1.0])) as ArrayRef,
        ),
        ("price", Arc::new(Float64Array::from(vec![2.0])) as ArrayRef),
    ])
    .unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let err = format!("{:#}", rows(&path).unwrap_err());
    assert!(
        err.contains("test-00000-of-00001.parquet: column summary is Float64, not a string"),
        "{err}"
    );
}

/// A seeded xorshift: the same damaged files on every run.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn damaged_parquet_files_stop_with_their_path_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.parquet");
    write_parquet(&good, 200, 7, 9);
    let bytes = std::fs::read(&good).unwrap();
    let data = dir.path().join("damaged/data");
    std::fs::create_dir_all(&data).unwrap();
    let file = data.join("train-00000-of-00001.parquet");
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let (mut read, mut refused, mut contained) = (0, 0, 0);
    let mut first_contained = None;
    for _ in 0..1500 {
        let mut b = bytes.clone();
        if rng.below(5) == 0 {
            b.truncate(rng.below(b.len()));
        } else {
            for _ in 0..[1, 1, 2, 4, 16][rng.below(5)] {
                let at = rng.below(b.len());
                b[at] = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    2 => rng.below(256) as u8,
                    _ => b[at] ^ (1 << rng.below(8)),
                };
            }
        }
        std::fs::write(&file, &b).unwrap();
        // A panic escaping `read` fails this test.
        match rows(&dir.path().join("damaged")) {
            Ok(_) => read += 1,
            Err(e) => {
                let e = format!("{e:#}");
                assert!(e.contains(&file.display().to_string()), "{e}");
                refused += 1;
                if e.contains("damaged Parquet file (the reader failed") {
                    contained += 1;
                    first_contained.get_or_insert(b);
                }
            }
        }
    }
    eprintln!("1,500 damaged files: {read} read, {refused} refused ({contained} of them panics contained)");
    assert!(refused > 0);

    // The binary: an error naming the file, and the contained panic is not printed.
    if let Some(b) = first_contained {
        std::fs::write(&file, b).unwrap();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_pricer-summarize"))
            .arg("--from")
            .arg(dir.path().join("damaged"))
            .arg("--out")
            .arg(dir.path().join("out"))
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(err.contains("damaged Parquet file"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
