//! Hostile rows: a title of a million characters in one pre-tokenized piece goes through
//! the prompt stage faster than the recipe's own encoder (`tokenizers`, what the Python
//! recipe calls) takes for the same row, with the same item; a row whose record would be
//! too large for an artifact is a reject, not a corrupt artifact that loops on reruns.

use std::path::Path;
use std::time::Instant;

use pricer_e2e::{dump_items, run_ok};

fn row(title: &str, price: f64) -> String {
    let desc =
        "A sturdy product for everyday use, made to last, easy to clean and store. ".repeat(6);
    serde_json::json!({"title": title, "price": price, "description": [desc], "features": [], "details": {"Brand": "Acme"}}).to_string()
}

/// Ingest one row, then the prompt stage with `encoder`; its wall time and items.
fn prompt_with(dir: &Path, encoder: &str) -> (f64, String) {
    let out = dir.join(format!("prompt-{encoder}"));
    let t = Instant::now();
    run_ok(
        "pricer-prompt",
        &[&dir.join("ingest"), &"--out", &out, &"--encoder", &encoder],
    );
    (
        t.elapsed().as_secs_f64(),
        dump_items(&out.join("items.art")),
    )
}

#[test]
fn a_million_character_piece_is_faster_than_the_reference_and_the_same() {
    let letters: String = (0..1_000_000)
        .map(|i| ['q', 'u', 'a', 'x', 'e', 'l', 'r', 'o'][i * 7 % 8])
        .collect();
    let kinds = [
        ("letters", letters),
        ("emoji", "\u{1F600}\u{1F6DC}\u{2764}".repeat(333_334)),
        ("spaces", " ".repeat(1_000_000)),
        ("cjk", "\u{4e00}\u{6587}\u{5b57}\u{8a9e}".repeat(250_000)),
    ];
    for (kind, title) in kinds {
        assert!(title.chars().count() >= 1_000_000, "{kind}");
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("meta_Toys_and_Games.jsonl");
        std::fs::write(&input, row(&title, 19.99) + "\n").unwrap();
        run_ok(
            "pricer-ingest",
            &[&input, &"--out", &dir.path().join("ingest")],
        );
        let (fast, ours) = prompt_with(dir.path(), "fast");
        let (reference, theirs) = prompt_with(dir.path(), "reference");
        assert_eq!(
            ours, theirs,
            "{kind}: the same item as the reference encoder"
        );
        assert_eq!(
            ours.lines().count(),
            usize::from(kind != "spaces"),
            "{kind}: items"
        );
        eprintln!("{kind}: pricer {fast:.2} s, tokenizers {reference:.2} s");
        assert!(
            fast < reference,
            "{kind}: pricer {fast:.2} s is not faster than tokenizers {reference:.2} s"
        );
    }
}

#[test]
fn a_record_too_large_for_an_artifact_is_a_reject() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("meta_Toys_and_Games.jsonl");
    // 140 MB of title: the candidate holds it twice (title and text), past the 256 MiB
    // an artifact record may take, though the line itself is within the line limit.
    let big = "Ab".repeat(70 << 20);
    std::fs::write(
        &input,
        format!("{}\n{}\n", row(&big, 5.0), row("A small thing", 5.0)),
    )
    .unwrap();
    let ingest = dir.path().join("ingest");
    run_ok("pricer-ingest", &[&input, &"--out", &ingest]);
    let rejects = std::fs::read_to_string(ingest.join("rejects.jsonl")).unwrap();
    assert!(
        rejects.contains("\"reason\":\"record_too_large\"") && rejects.contains("\"line\":1"),
        "{rejects}"
    );
    let m = pricer_core::manifest::Manifest::read(&ingest).unwrap();
    assert_eq!((m.counts.kept, m.counts.rejected), (1, 1));
    // The next stage reads the artifact without complaint (no rerun loop).
    run_ok(
        "pricer-prompt",
        &[&ingest, &"--out", &dir.path().join("prompt")],
    );
}
