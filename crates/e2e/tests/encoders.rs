//! The fast encoder (pricer-bpe) and the reference (`tokenizers` alone) give the prompt
//! stage identical output, including texts that hold added tokens (which the fast path
//! hands to `tokenizers`).

use std::path::Path;

use pricer_e2e::{fixture, run_ok};

fn rows_with_added_tokens(dir: &Path) {
    let long = "Solid aluminium housing with a matte finish that resists scratches. ".repeat(20);
    let rows = [
        format!(
            r#"{{"title": "Router <|begin_of_text|> edition", "price": 49.99, "description": ["{long}"], "features": []}}"#
        ),
        format!(
            r#"{{"title": "Cable", "price": "12.5", "description": ["<|eot_id|> then <|reserved_special_token_7|> {long}"], "features": ["a < | b"]}}"#
        ),
        format!(
            r#"{{"title": "Plain lamp", "price": 20, "description": ["{long}"], "features": ["<|"]}}"#
        ),
    ];
    std::fs::write(dir.join("meta_Electronics.jsonl"), rows.join("\n") + "\n").unwrap();
}

#[test]
fn fast_and_reference_encoders_give_identical_items() {
    let tmp = tempfile::tempdir().unwrap();
    let extra = tmp.path().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    rows_with_added_tokens(&extra);
    let ingest = tmp.path().join("ingest");
    run_ok(
        "pricer-ingest",
        &[
            &fixture("data/edge"),
            &fixture("data/amazon-2023"),
            &extra,
            &"--out",
            &ingest,
        ],
    );
    let mut outputs = Vec::new();
    for encoder in ["fast", "reference"] {
        let out = tmp.path().join(encoder);
        let o = run_ok(
            "pricer-prompt",
            &[&ingest, &"--out", &out, &"--encoder", &encoder],
        );
        assert!(o.status.success());
        outputs.push(out);
    }
    for file in ["items.art", "rejects.jsonl"] {
        let a = std::fs::read(outputs[0].join(file)).unwrap();
        let b = std::fs::read(outputs[1].join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between the fast and the reference encoder"
        );
    }
    let items = pricer_e2e::dump_items(&outputs[0].join("items.art"));
    assert!(
        items.contains("<|begin_of_text|>"),
        "the added-token rows were kept"
    );
    assert!(items.contains("<|eot_id|>"));
}
