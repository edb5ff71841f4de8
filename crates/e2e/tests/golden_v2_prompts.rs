//! Recipe V2 part 3 against the golden prompts (the course's 100 published test summaries
//! and 298 synthetic ones), through the binaries: `pricer-summarize --from` a JSON-lines
//! file, then `pricer-prompt --recipe v2` with the bundled Llama tokenizer; rounded
//! completions in train, `str(price)` in test; token counts against prompts-meta.

use pricer_core::artifact::ArtifactReader;
use pricer_core::PromptPair;
use pricer_e2e::{assert_same_lines, dump, golden_v2, run_ok};

#[test]
fn prompts_match_the_goldens_for_rounded_and_test_completions() {
    let dir = tempfile::tempdir().unwrap();
    // Every input row once as train (rounded) and once as test (the price as is).
    let input = String::from_utf8(golden_v2("prompts/prompts-input.jsonl")).unwrap();
    let mut rows = String::new();
    for split in ["train", "test"] {
        for line in input.lines() {
            let body = line.strip_prefix('{').unwrap();
            rows.push_str(&format!("{{\"split\": \"{split}\", {body}\n"));
        }
    }
    let from = dir.path().join("summaries.jsonl");
    std::fs::write(&from, rows).unwrap();
    let summarize = dir.path().join("summarize");
    let prompts = dir.path().join("prompts");
    run_ok(
        "pricer-summarize",
        &[&"--from", &from, &"--out", &summarize],
    );
    run_ok(
        "pricer-prompt",
        &[&"--recipe", &"v2", &summarize, &"--out", &prompts],
    );
    assert_same_lines(
        "prompts-round",
        &dump(&prompts.join("train.art")),
        &golden_v2("prompts/prompts-round.jsonl"),
    );
    assert_same_lines(
        "prompts-test",
        &dump(&prompts.join("test.art")),
        &golden_v2("prompts/prompts-test.jsonl"),
    );
    let meta = String::from_utf8(golden_v2("prompts/prompts-meta.jsonl")).unwrap();
    let pairs: Vec<PromptPair> = ArtifactReader::<PromptPair>::open(prompts.join("train.art"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(pairs.len(), meta.lines().count());
    for (i, (p, m)) in pairs.iter().zip(meta.lines()).enumerate() {
        let m: serde_json::Value = serde_json::from_str(m).unwrap();
        assert_eq!(
            u64::from(p.summary_tokens),
            m["summary_tokens"].as_u64().unwrap(),
            "row {i}"
        );
        assert_eq!(p.cut, m["cut"].as_bool().unwrap(), "row {i}");
        assert_eq!(
            u64::from(p.prompt_completion_tokens),
            m["prompt_completion_tokens"].as_u64().unwrap(),
            "row {i}"
        );
    }
}
