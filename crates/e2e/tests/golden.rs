//! The recipe's items, through the stage binaries, equal the golden files byte for byte.

use pricer_e2e::{dump_items, fixture, ingest_and_prompt};

fn check(folder: &str, golden: &str) {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ingest_and_prompt(&[fixture(folder)], dir.path(), 2, 1 << 20);
    let got = dump_items(&prompt.join("items.art"));
    let want = std::fs::read_to_string(fixture(golden)).unwrap();
    if got != want {
        let (g, w): (Vec<_>, Vec<_>) = (got.lines().collect(), want.lines().collect());
        let first = g
            .iter()
            .zip(&w)
            .position(|(a, b)| a != b)
            .unwrap_or(g.len().min(w.len()));
        panic!(
            "{folder}: {} items, golden has {}; first difference at item {first}:\n got: {}\nwant: {}",
            g.len(),
            w.len(),
            g.get(first).unwrap_or(&"<none>"),
            w.get(first).unwrap_or(&"<none>")
        );
    }
}

#[test]
fn edge_rows_match_golden() {
    check("data/edge", "golden/items/edge.jsonl");
}

#[test]
fn amazon_2023_rows_match_golden() {
    check("data/amazon-2023", "golden/items/amazon-2023.jsonl");
}
