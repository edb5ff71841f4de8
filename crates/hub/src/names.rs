//! Which repo ids, revisions and file paths the cache can hold: each becomes part of a
//! path under the cache (`datasets--<org>--<name>`, `refs/<revision>`,
//! `snapshots/<commit>/<path>`), so a `..` or an absolute part would write outside it.
//! The Python client refuses the same names (`validate_repo_id`, its pointer-path check).

use crate::RepoFile;

/// Why `file` cannot be fetched into a cache, if it cannot.
pub fn problem(file: &RepoFile) -> Option<String> {
    repo_problem(&file.repo)
        .map(|why| format!("repo id {:?} {why}", file.repo))
        .or_else(|| path_problem(&file.revision).map(|why| format!("revision {why}")))
        .or_else(|| path_problem(&file.path).map(|why| format!("file path {why}")))
}

/// `name` or `org/name`, of letters, digits, `-`, `_` and `.` (as the Hub allows).
fn repo_problem(repo: &str) -> Option<&'static str> {
    let parts: Vec<&str> = repo.split('/').collect();
    if parts.len() > 2 {
        return Some("has more than one '/' (expected org/name)");
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Some("has an empty part (expected org/name)");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if !repo.chars().all(|c| allowed(c) || c == '/') {
        return Some("may hold only letters, digits, '-', '_', '.' and one '/'");
    }
    if repo.contains("--") || repo.contains("..") {
        return Some("may not contain '--' or '..'");
    }
    None
}

/// A `/`-separated relative path with no empty, `.` or `..` part.
fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("is empty");
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return Some("may not contain '\\' or control characters");
    }
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Some("may not start with '/' or hold an empty, '.' or '..' part");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RepoKind;

    fn file(repo: &str, revision: &str, path: &str) -> Option<String> {
        problem(&RepoFile::new(RepoKind::Dataset, repo, revision, path))
    }

    #[test]
    fn real_names_pass() {
        for (repo, rev, path) in [
            (
                "McAuley-Lab/Amazon-Reviews-2023",
                "main",
                "raw/meta_categories/meta_All_Beauty.jsonl",
            ),
            ("gpt2", "refs/pr/10", "tokenizer.json"),
            (
                "meta-llama/Llama-3.2-1B",
                "0123456789abcdef0123456789abcdef01234567",
                "original/tokenizer.model",
            ),
            ("a.b/c_d", "v1.0", "dir/meta_All Beauty.jsonl"),
        ] {
            assert_eq!(file(repo, rev, path), None, "{repo} {rev} {path}");
        }
    }

    #[test]
    fn names_that_would_leave_the_cache_are_refused() {
        for (repo, rev, path, why) in [
            (
                "a/b",
                "main",
                "../../../etc/x.jsonl",
                "file path may not start",
            ),
            (
                "a/b",
                "main",
                "raw/../../x.jsonl",
                "file path may not start",
            ),
            ("a/b", "main", "/abs/x.jsonl", "file path may not start"),
            ("a/b", "main", "raw//x.jsonl", "file path may not start"),
            (
                "a/b",
                "main",
                "raw\\..\\x.jsonl",
                "file path may not contain",
            ),
            ("a/b", "main", "", "file path is empty"),
            (
                "a/b",
                "../../../../tmp/x",
                "f.jsonl",
                "revision may not start",
            ),
            ("a/b", "refs/pr/", "f.jsonl", "revision may not start"),
            ("a/b", "main\n", "f.jsonl", "revision may not contain"),
            (
                "../b",
                "main",
                "f.jsonl",
                "repo id \"../b\" may not contain",
            ),
            ("a/b/c", "main", "f.jsonl", "more than one '/'"),
            ("a/", "main", "f.jsonl", "an empty part"),
            ("a b/c", "main", "f.jsonl", "may hold only"),
            ("a--b/c", "main", "f.jsonl", "may not contain '--'"),
        ] {
            let got = file(repo, rev, path).unwrap_or_default();
            assert!(got.contains(why), "{repo:?} {rev:?} {path:?}: {got:?}");
        }
    }
}
