//! What the exactness tests share: the workspace root and the fixture texts.

use std::path::PathBuf;

use proptest::prelude::*;

/// Chars for random texts: mostly letters, digits and spaces, then `specials` (the chars
/// each suite's tokenizers treat apart), then any char at all.
pub fn alphabet(specials: Vec<char>) -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        1 => proptest::char::range('A', 'Z'),
        2 => proptest::char::range('0', '9'),
        3 => Just(' '),
        1 => prop::sample::select(specials),
        1 => any::<char>(),
    ]
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every fixture row (both fixture folders) as its raw line, and its title, description,
/// features and details fields (lists joined by newlines).
pub fn fixture_texts() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["fixtures/data/amazon-2023", "fixtures/data/edge"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("fixture folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "jsonl") {
                continue;
            }
            let raw = std::fs::read(&path).expect("read");
            for line in String::from_utf8_lossy(&raw).lines() {
                let Ok(row) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                out.push(line.to_owned());
                for key in ["title", "description", "features", "details"] {
                    match &row[key] {
                        serde_json::Value::String(s) => out.push(s.clone()),
                        serde_json::Value::Array(a) => out.push(
                            a.iter()
                                .filter_map(|v| v.as_str())
                                .collect::<Vec<_>>()
                                .join("\n"),
                        ),
                        _ => {}
                    }
                }
            }
        }
    }
    out
}
