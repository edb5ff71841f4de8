//! The settings the Python `huggingface_hub` client reads from the environment, read the
//! same way, so both clients agree on the cache, the endpoint, the token and offline mode.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the Hub is and how to talk to it.
#[derive(Clone, PartialEq, Eq)]
pub struct HubEnv {
    /// The cache root holding `<type>s--<org>--<name>` folders.
    pub cache_dir: PathBuf,
    /// e.g. `https://huggingface.co` (no trailing slash).
    pub endpoint: String,
    pub token: Option<String>,
    /// Use the cache only; never make a request.
    pub offline: bool,
    /// Timeout of the metadata request (`HF_HUB_ETAG_TIMEOUT`).
    pub etag_timeout: Duration,
    /// Timeout of connecting and of each read while downloading (`HF_HUB_DOWNLOAD_TIMEOUT`).
    pub download_timeout: Duration,
}

impl std::fmt::Debug for HubEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubEnv")
            .field("cache_dir", &self.cache_dir)
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("offline", &self.offline)
            .finish()
    }
}

pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// `huggingface_hub`'s truthy values for boolean variables.
fn is_true(v: Option<String>) -> bool {
    v.is_some_and(|v| matches!(v.to_uppercase().as_str(), "1" | "ON" | "YES" | "TRUE"))
}

fn expand_home(p: &str, home: &Path) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None if p == "~" => home.to_owned(),
        None => PathBuf::from(p),
    }
}

/// The longest timeout taken from the environment: `1e300` (which `Duration` cannot
/// hold) or any other "forever" means a day, not a panic or an overflowing deadline.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

fn seconds(v: Option<String>, default: u64) -> Duration {
    v.and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map(|s| Duration::try_from_secs_f64(s).map_or(MAX_TIMEOUT, |d| d.min(MAX_TIMEOUT)))
        .unwrap_or(Duration::from_secs(default))
}

impl HubEnv {
    /// From this process's environment.
    pub fn from_env() -> HubEnv {
        HubEnv::from_vars(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// From any variable source (tests pass a map); empty values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> HubEnv {
        let var = |k: &str| var(k).filter(|v| !v.is_empty());
        let home = var("HOME").map(PathBuf::from).unwrap_or_default();
        let hf_home = match var("HF_HOME") {
            Some(h) => expand_home(&h, &home),
            None => match var("XDG_CACHE_HOME") {
                Some(x) => expand_home(&x, &home).join("huggingface"),
                None => home.join(".cache").join("huggingface"),
            },
        };
        let cache_dir = var("HF_HUB_CACHE")
            .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
            .map(|c| expand_home(&c, &home))
            .unwrap_or_else(|| hf_home.join("hub"));
        let token = var("HF_TOKEN")
            .or_else(|| var("HUGGING_FACE_HUB_TOKEN"))
            .or_else(|| {
                let file = var("HF_TOKEN_PATH")
                    .map(|p| expand_home(&p, &home))
                    .unwrap_or_else(|| hf_home.join("token"));
                std::fs::read_to_string(file).ok()
            })
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        HubEnv {
            cache_dir,
            endpoint: var("HF_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            token,
            offline: is_true(var("HF_HUB_OFFLINE")) || is_true(var("TRANSFORMERS_OFFLINE")),
            etag_timeout: seconds(var("HF_HUB_ETAG_TIMEOUT"), 10),
            download_timeout: seconds(var("HF_HUB_DOWNLOAD_TIMEOUT"), 10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HubEnv {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HubEnv::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn cache_dir_follows_the_python_client_order() {
        let e = env(&[("HOME", "/h")]);
        assert_eq!(e.cache_dir, PathBuf::from("/h/.cache/huggingface/hub"));
        let e = env(&[("HOME", "/h"), ("XDG_CACHE_HOME", "/x")]);
        assert_eq!(e.cache_dir, PathBuf::from("/x/huggingface/hub"));
        let e = env(&[
            ("HOME", "/h"),
            ("XDG_CACHE_HOME", "/x"),
            ("HF_HOME", "~/hf"),
        ]);
        assert_eq!(e.cache_dir, PathBuf::from("/h/hf/hub"));
        let e = env(&[("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/old")]);
        assert_eq!(e.cache_dir, PathBuf::from("/old"));
        let e = env(&[("HF_HUB_CACHE", "/new"), ("HUGGINGFACE_HUB_CACHE", "/old")]);
        assert_eq!(e.cache_dir, PathBuf::from("/new"));
    }

    #[test]
    fn endpoint_offline_and_timeouts() {
        let e = env(&[]);
        assert_eq!(e.endpoint, DEFAULT_ENDPOINT);
        assert!(!e.offline);
        assert_eq!(e.etag_timeout, Duration::from_secs(10));
        let e = env(&[
            ("HF_ENDPOINT", "http://127.0.0.1:9/"),
            ("HF_HUB_OFFLINE", "yes"),
            ("HF_HUB_DOWNLOAD_TIMEOUT", "2.5"),
        ]);
        assert_eq!(e.endpoint, "http://127.0.0.1:9");
        assert!(e.offline);
        assert_eq!(e.download_timeout, Duration::from_millis(2500));
        for off in ["0", "false", "no", ""] {
            assert!(!env(&[("HF_HUB_OFFLINE", off)]).offline, "{off}");
        }
        assert!(env(&[("TRANSFORMERS_OFFLINE", "1")]).offline);
        for (v, want) in [
            ("1e300", MAX_TIMEOUT),
            ("inf", MAX_TIMEOUT),
            ("1000000", MAX_TIMEOUT),
            ("NaN", Duration::from_secs(10)),
            ("-3", Duration::from_secs(10)),
            ("soon", Duration::from_secs(10)),
        ] {
            assert_eq!(env(&[("HF_HUB_ETAG_TIMEOUT", v)]).etag_timeout, want, "{v}");
        }
    }

    #[test]
    fn token_from_variable_else_the_login_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "hf_file\n").unwrap();
        let home = dir.path().to_str().unwrap();
        assert_eq!(env(&[("HF_HOME", home)]).token.as_deref(), Some("hf_file"));
        assert_eq!(
            env(&[("HF_HOME", home), ("HF_TOKEN", "hf_var")])
                .token
                .as_deref(),
            Some("hf_var")
        );
        assert_eq!(env(&[("HF_HOME", "/nonexistent")]).token, None);
        assert!(!format!("{:?}", env(&[("HF_TOKEN", "hf_secret")])).contains("hf_secret"));
    }
}
