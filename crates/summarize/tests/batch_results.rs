//! Batch API result files as they come back: a torn or endless line costs only its own
//! request; a file naming only another cache's requests is refused by name.

use std::path::Path;

use pricer_llm::Cache;
use pricer_summarize::batch::ingest_results;
use pricer_summarize::request::Key;
use pricer_summarize::SummarizeConfig;
use serde_json::json;

fn answer(key: &Key, text: &str) -> String {
    let body = json!({"choices": [{"message": {"content": text}}], "usage": {"prompt_tokens": 3, "completion_tokens": 2}});
    json!({"custom_id": key.hex(), "response": {"status_code": 200, "body": body}}).to_string()
}

fn ingest(dir: &Path, text: &str) -> (anyhow::Result<usize>, Cache) {
    let path = dir.join("output.jsonl");
    std::fs::write(&path, text).unwrap();
    let mut cache = Cache::open(&dir.join("cache")).unwrap();
    let failures = ingest_results(&path, &mut cache).map(|f| f.failures.len());
    (failures, cache)
}

#[test]
fn torn_lines_are_skipped_and_the_rest_is_cached() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SummarizeConfig::default();
    let [a, b, c] = ["a", "b", "c"].map(|t| pricer_summarize::request::key(&cfg, t));
    let error = json!({"custom_id": c.hex(), "response": {"status_code": 500, "body": {"error": {"message": "busy"}}}});
    let torn = answer(&b, "B");
    let text = format!(
        "{}\n{}\n\n{}\n",
        answer(&a, "A"),
        &torn[..torn.len() / 2],
        error
    );
    let (failures, cache) = ingest(dir.path(), &text);
    assert_eq!(failures.unwrap(), 1, "the error line is a failure");
    assert_eq!(cache.get(&a).unwrap().unwrap().text, "A");
    assert!(
        cache.get(&b).unwrap().is_none(),
        "the torn line's request stays open"
    );
}

#[test]
fn a_file_of_only_torn_lines_is_skipped_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = pricer_summarize::request::key(&SummarizeConfig::default(), "a");
    let line = answer(&key, "A");
    let (failures, cache) = ingest(dir.path(), &line[..line.len() - 3]);
    assert_eq!(failures.unwrap(), 0);
    assert!(cache.get(&key).unwrap().is_none());
}

#[test]
fn a_file_of_another_caches_requests_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = "{\"custom_id\": \"request-1\", \"response\": {\"status_code\": 200}}\nnot json\n";
    let (failures, _) = ingest(dir.path(), text);
    let e = failures.unwrap_err().to_string();
    assert!(
        e.ends_with("output.jsonl: not a batch results file of this cache (line 1: no custom_id of this cache's form)"),
        "{e}"
    );
}
