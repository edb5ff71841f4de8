//! [`Ahead`]: a value a stage computes ahead of its run (`Stage::warm_up`, on a runner's
//! thread) or in it, whichever comes first.

use std::sync::Mutex;

/// A value a stage may compute ahead of its run
/// ([`Stage::warm_up`](crate::stage::Stage::warm_up)) or in it, whichever comes first:
/// the run never waits for a second computation of it.
pub struct Ahead<T> {
    slot: Mutex<AheadState<T>>,
}

enum AheadState<T> {
    Empty,
    Ready(T),
    /// The run took it (or computed it itself): a late warm-up does nothing.
    Taken,
}

impl<T> Default for Ahead<T> {
    fn default() -> Self {
        Ahead {
            slot: Mutex::new(AheadState::Empty),
        }
    }
}

impl<T> std::fmt::Debug for Ahead<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*self.lock() {
            AheadState::Empty => "empty",
            AheadState::Ready(_) => "ready",
            AheadState::Taken => "taken",
        };
        write!(f, "Ahead({state})")
    }
}

impl<T> Ahead<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, AheadState<T>> {
        // A panic in a warm-up leaves no half-made value (it is stored whole), so the
        // state behind a poisoned lock is still one of the three.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The warm-up: computes the value unless the run already took its place. Holds the
    /// lock meanwhile, so a run that asks now waits for this value instead of redoing it.
    pub fn warm(&self, make: impl FnOnce() -> T) {
        let mut slot = self.lock();
        if matches!(*slot, AheadState::Empty) {
            *slot = AheadState::Ready(make());
        }
    }

    /// The run: the value the warm-up made (waiting for it if it is being made), else
    /// `make()`'s.
    pub fn take_or(&self, make: impl FnOnce() -> T) -> T {
        let mut slot = self.lock();
        match std::mem::replace(&mut *slot, AheadState::Taken) {
            AheadState::Ready(v) => v,
            AheadState::Empty | AheadState::Taken => {
                drop(slot);
                make()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ahead;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    #[test]
    fn the_run_takes_what_the_warm_up_made() {
        let ahead = Ahead::default();
        ahead.warm(|| 7);
        assert_eq!(ahead.take_or(|| panic!("made again")), 7);
    }

    #[test]
    fn without_a_warm_up_the_run_makes_it_and_a_late_warm_up_does_nothing() {
        let ahead = Ahead::default();
        assert_eq!(ahead.take_or(|| 3), 3);
        ahead.warm(|| panic!("a warm-up after the run"));
        // A second take (not something a run does) makes it again rather than hang.
        assert_eq!(ahead.take_or(|| 4), 4);
    }

    #[test]
    fn a_run_that_asks_during_the_warm_up_waits_for_its_value() {
        let ahead = Ahead::default();
        let made = AtomicUsize::new(0);
        let inside = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                ahead.warm(|| {
                    inside.wait();
                    // The run is now blocked on the lock or about to be.
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    made.fetch_add(1, Ordering::SeqCst);
                    "warmed"
                })
            });
            inside.wait();
            let got = ahead.take_or(|| {
                made.fetch_add(1, Ordering::SeqCst);
                "made by the run"
            });
            assert_eq!(got, "warmed");
        });
        assert_eq!(made.load(Ordering::SeqCst), 1);
        assert_eq!(format!("{ahead:?}"), "Ahead(taken)");
    }
}
