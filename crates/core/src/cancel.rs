//! Stopping a run from outside, between records: a notebook's stop button (the Python
//! package turns KeyboardInterrupt into [`request`]). Artifact readers and writers and
//! the parallel window check it, so every stage stops within a batch of records, with
//! [`Cancelled`], leaving only what a killed run leaves (temporary files, no manifest):
//! the next run resumes to the same bytes.
//!
//! One flag per process: a process runs one pipeline at a time on a folder (the run
//! folder's lock), and the Python package runs one at a time.

use std::sync::atomic::{AtomicBool, Ordering};

static CANCELLED: AtomicBool = AtomicBool::new(false);

/// The run was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted: the run was asked to stop (run it again to resume)")]
pub struct Cancelled;

/// Asks the running stage to stop at its next record.
pub fn request() {
    CANCELLED.store(true, Ordering::Relaxed);
}

/// Clears a request, before a new run.
pub fn reset() {
    CANCELLED.store(false, Ordering::Relaxed);
}

/// Err once a stop was asked for.
pub fn check() -> Result<(), Cancelled> {
    if CANCELLED.load(Ordering::Relaxed) {
        Err(Cancelled)
    } else {
        Ok(())
    }
}

/// Whether `e` (or a cause of it) is a [`Cancelled`].
pub fn is_cancelled(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<Cancelled>()
            || c.downcast_ref::<crate::ArtifactError>()
                .is_some_and(|a| matches!(a, crate::ArtifactError::Cancelled(_)))
    })
}
