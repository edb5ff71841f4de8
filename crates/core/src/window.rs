//! The ordered parallel window every streaming stage uses: a reader thread pulls items
//! from a source, this thread works on a window of them in parallel (rayon), and a
//! writer thread hands each item and its result to a sink in source order while the next
//! window is worked on. Output order never depends on the thread count; memory is
//! bounded by two windows in flight on each side.
//!
//! Any error (from the source, the work or the sink) stops all three parts and is
//! returned; no part is left waiting on a channel.

use std::sync::mpsc::sync_channel;

use anyhow::Result;
use rayon::prelude::*;

/// Windows queued between the parts.
const QUEUE: usize = 2;

/// Runs `work` on every item of `source`, `window` items at a time in parallel, and
/// calls `sink(item, result)` in source order.
pub fn ordered<T, U, S, W, K>(source: S, window: usize, work: W, mut sink: K) -> Result<()>
where
    T: Send + Sync,
    U: Send,
    S: Iterator<Item = Result<T>> + Send,
    W: Fn(&T) -> Result<U> + Sync,
    K: FnMut(T, U) -> Result<()> + Send,
{
    let window = window.max(1);
    let (to_main, from_reader) = sync_channel::<Result<Vec<T>>>(QUEUE);
    let (to_writer, from_main) = sync_channel::<(Vec<T>, Vec<U>)>(QUEUE);
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(move || {
            let mut source = source;
            loop {
                match source.by_ref().take(window).collect::<Result<Vec<T>>>() {
                    Ok(batch) if batch.is_empty() => return,
                    Ok(batch) => {
                        if to_main.send(Ok(batch)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = to_main.send(Err(e));
                        return;
                    }
                }
            }
        });
        let writer = scope.spawn(move || -> Result<bool> {
            for (items, results) in from_main {
                for (item, result) in items.into_iter().zip(results) {
                    sink(item, result)?;
                }
            }
            Ok(true)
        });
        // Owned here so that any early return closes the channels: the writer then
        // ends, and the reader's next send fails.
        let (to_writer, from_reader) = (to_writer, from_reader);
        let mut failed = None;
        for batch in from_reader {
            let done = batch.and_then(|items| {
                crate::cancel::check()?;
                let results: Vec<U> = items.par_iter().map(&work).collect::<Result<_>>()?;
                Ok((items, results))
            });
            match done {
                Ok(pair) => {
                    if to_writer.send(pair).is_err() {
                        break; // the sink failed: its error is returned below
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(to_writer);
        let written = writer
            .join()
            .map_err(|_| anyhow::anyhow!("a writer thread panicked"))?;
        match (failed, written) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(e),
            (None, Ok(_)) => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_source_order_for_any_window() {
        for window in [1, 3, 64, 1000] {
            let mut out = Vec::new();
            ordered(
                (0..500u32).map(Ok),
                window,
                |x| Ok(x * 2),
                |x, y| {
                    out.push((x, y));
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(out, (0..500).map(|x| (x, x * 2)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn errors_anywhere_stop_without_hanging() {
        let source = (0..10_000u32).map(|x| {
            if x == 5_000 {
                Err(anyhow::anyhow!("source broke"))
            } else {
                Ok(x)
            }
        });
        let err = ordered(source, 7, |x| Ok(*x), |_, _| Ok(())).unwrap_err();
        assert_eq!(err.to_string(), "source broke");

        let err = ordered(
            (0..10_000u32).map(Ok),
            7,
            |x| {
                if *x == 77 {
                    anyhow::bail!("work broke")
                } else {
                    Ok(*x)
                }
            },
            |_, _| Ok(()),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "work broke");

        let mut seen = 0;
        let err = ordered(
            (0..100_000u32).map(Ok),
            5,
            |x| Ok(*x),
            |x, _| {
                seen += 1;
                if x == 33 {
                    anyhow::bail!("sink broke")
                }
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "sink broke");
        assert_eq!(seen, 34, "nothing reaches the sink after its error");
    }
}
