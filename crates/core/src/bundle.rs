//! Where the bundled files are: the fixture rows, the Llama 3.1 tokenizer and the audit's
//! comparison tokenizers (`fixtures/...`, relative to the bundle's root).
//!
//! In the workspace the root is the checkout this code was built in. The `pricer`
//! command and the Python package carry the files themselves and unpack them into the
//! user's cache on first use; they say so with [`set_root`]. A relative path is looked
//! for from the current folder first, then under the root ([`find`]), so
//! `fixtures/tokenizers/llama-3.1/tokenizer.json` works from the checkout's top, from a
//! subfolder, and from anywhere with the installed command.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Says where the bundled files were unpacked (once per process; later calls are
/// ignored and return false).
pub fn set_root(dir: PathBuf) -> bool {
    ROOT.set(dir).is_ok()
}

/// The folder the bundled files' relative paths start from.
pub fn root() -> PathBuf {
    ROOT.get()
        .cloned()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Whether `p` or its zstd-compressed twin (`p.zst`, as the tokenizers are stored) is
/// there.
pub fn exists(p: &Path) -> bool {
    let mut zst = p.as_os_str().to_owned();
    zst.push(".zst");
    p.exists() || Path::new(&zst).is_file()
}

/// `rel` as found: unchanged if it is absolute or there from the current folder,
/// otherwise under [`root`] when there, otherwise unchanged (so the error that follows
/// names the path the user wrote).
pub fn find(rel: &Path) -> PathBuf {
    if rel.is_absolute() || exists(rel) {
        return rel.to_owned();
    }
    let bundled = root().join(rel);
    if exists(&bundled) {
        bundled
    } else {
        rel.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_files_are_found_from_anywhere() {
        let rel = Path::new("fixtures/tokenizers/llama-3.1/tokenizer.json");
        let found = find(rel);
        assert!(exists(&found), "{}", found.display());
        let missing = Path::new("no/such/file.toml");
        assert_eq!(find(missing), missing);
    }
}
