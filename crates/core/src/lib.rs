//! pricer's shared vocabulary: the recipe's constants, the typed records that stages pass
//! to each other, the artifact format they are stored in, and stage manifests.
//!
//! A stage crate knows these types and nothing of the other stages.

pub mod ahead;
pub mod artifact;
/// Files that appear whole or not at all (the crate pricer-fs, which pricer-hub shares).
pub use pricer_fs as atomic;
pub mod bundle;
pub mod cache;
pub mod cancel;
pub mod cli;
pub mod contain;
pub mod digest;
pub mod dump;
pub mod jsonl;
pub mod knobs;
pub mod manifest;
pub mod obs;
pub mod recipe;
pub mod recipe_v2;
pub mod records;
pub mod reorder;
pub mod rng;
pub mod shard;
pub mod stage;
pub mod stamp;
pub mod window;

pub use artifact::{ArtifactError, ArtifactInfo, ArtifactReader, ArtifactWriter, Record};
pub use records::{Candidate, Item, PromptPair, RawItem, SummarizedItem};

#[doc(hidden)]
pub use mimalloc;

/// Declares the binary's global allocator, once in each binary's `main.rs`: mimalloc
/// without transparent huge pages (why: docs/architecture.md, "Determinism and memory").
#[macro_export]
macro_rules! global_allocator {
    () => {
        #[global_allocator]
        static ALLOC: $crate::mimalloc::MiMalloc = $crate::mimalloc::MiMalloc;
    };
}

/// The code version that goes into every fingerprint: a change of the recipe's code makes
/// cached stage outputs stale.
pub const CODE_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+recipe-v1");
