//! The WAL's checkpoints, on a thread of their own.
//!
//! SQLite copies the WAL back into the database file when a commit leaves it
//! at 1,000 pages or more, inside that commit. So the append that crossed
//! the line wrote and fsynced 16 MB (tens of milliseconds) while every
//! append behind it waited in the sequencer's queue. Here the writer's
//! commit only wakes this thread, which runs a passive checkpoint on a
//! connection of its own while appends go on: WAL lets one checkpoint run
//! beside the writer, and a passive one never waits for a lock. If it falls
//! behind (a reader holding an old snapshot, a slow disk), a commit that
//! leaves the WAL at [`INLINE`] pages checkpoints there and then, as SQLite
//! would have, so the WAL cannot grow without bound.

use std::ffi::c_int;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::wal::CheckpointMode;

use super::{Result, configure, db};
use crate::store::StoreError;

/// WAL pages at which the thread is woken: SQLite's own threshold.
const WAKE: c_int = 1000;

/// WAL pages at which a commit checkpoints inline.
const INLINE: c_int = 8 * WAKE;

/// The thread, stopped and joined when the store is dropped (after the
/// writer, whose hook holds the other end of its channel).
pub(super) struct Checkpointer {
    thread: Option<JoinHandle<()>>,
    /// Checkpoints run by the thread, and inline by a commit.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests"))]
    counts: Arc<[AtomicU64; 2]>,
}

impl Checkpointer {
    /// Starts the thread for the database at `path` and hooks `writer`'s
    /// commits to it. The hook replaces SQLite's automatic checkpoint on
    /// that connection.
    pub(super) fn start(path: &Path, writer: &mut Connection) -> Result<Self> {
        let own = Connection::open(path).map_err(db)?;
        configure(&own)?;
        let (wake, woken) = sync_channel::<()>(1);
        let counts: Arc<[AtomicU64; 2]> = Arc::default();
        let (by_thread, inline) = (counts.clone(), counts.clone());
        let thread = std::thread::Builder::new()
            .name("hotline-wal".into())
            .spawn(move || run(&own, &woken, &by_thread[0]))
            .map_err(|e| {
                StoreError::Start(format!("cannot start the WAL checkpoint thread: {e}").into())
            })?;
        writer
            .wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: c_int| {
                if pages >= INLINE {
                    inline[1].fetch_add(1, Ordering::Relaxed);
                    // The commit has happened whatever this returns; an
                    // error here would only make it look as if it had not.
                    if let Err(e) = wal.checkpoint() {
                        tracing::warn!(error = %e, pages, "inline WAL checkpoint failed");
                    }
                } else if pages >= WAKE {
                    // Full means a wake-up is already waiting.
                    let _ = wake.try_send(());
                }
                Ok(())
            }))
            .map_err(db)?;
        Ok(Self {
            thread: Some(thread),
            counts,
        })
    }

    /// Checkpoints run so far: by the thread, and inline.
    #[cfg(test)]
    pub(super) fn counts(&self) -> (u64, u64) {
        let [t, i] = &*self.counts;
        (t.load(Ordering::Relaxed), i.load(Ordering::Relaxed))
    }
}

fn run(own: &Connection, woken: &Receiver<()>, done: &AtomicU64) {
    while woken.recv().is_ok() {
        if let Err(e) = own.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next one will try again");
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
