//! One subscription to what happens in the records: the logs grew, or a
//! call signal arrived. A live view waits on [`Events::changed`] and then
//! reads what is new with [`Events::arrived`], which keeps its own place in
//! every log, so it sees each entry once.

use hotline_proto::party::Party;
use tokio::sync::{broadcast, watch};

use super::{Entry, Records};
use crate::federation::signal::Signal;
use crate::store::LogId;

/// How far the logs have come: the own log's size and a count of mirror
/// arrivals. Equal progress means nothing was written in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    own: u64,
    mirrored: u64,
}

/// What woke a subscriber.
#[derive(Debug)]
pub enum Change {
    /// The own log or a mirror took entries: read them with
    /// [`Events::arrived`].
    Logs,
    /// A call signal from a peer, for whichever office it names.
    Signal(Signal),
}

/// A subscription to the records' changes (see [`Records::events`]).
pub struct Events {
    records: Records,
    /// Per log: its party, its id and how much of it was read.
    cursors: Vec<(Party, LogId, u64)>,
    own: watch::Receiver<u64>,
    mirrored: watch::Receiver<u64>,
    signals: broadcast::Receiver<Signal>,
    stop: Option<watch::Receiver<bool>>,
}

/// Entries read from one log at a time.
const BATCH: u64 = 500;

impl Records {
    /// How far the logs have come now.
    pub fn progress(&self) -> Progress {
        Progress {
            own: *self.node.size_watch().borrow(),
            mirrored: *self.node.mirrored_watch().borrow(),
        }
    }

    /// Subscribes from now on: entries already held are not reported.
    /// Reads each log's size (a short store read).
    pub fn events(&self) -> Events {
        let store = self.node.store();
        let own = self.node.log_id();
        let mut cursors = vec![(self.node.party().clone(), own, store.size(own).unwrap_or(0))];
        for p in self.node.federation().all() {
            cursors.push((p.party.clone(), p.mirror, store.size(p.mirror).unwrap_or(0)));
        }
        Events {
            own: self.node.size_watch(),
            mirrored: self.node.mirrored_watch(),
            signals: self.node.signals().subscribe(),
            stop: self.node.stopping(),
            records: self.clone(),
            cursors,
        }
    }
}

impl Events {
    /// Waits for the next change. `None` once the node is stopping (or
    /// gone): a stream built on this ends with it.
    pub async fn changed(&mut self) -> Option<Change> {
        let Self {
            own,
            mirrored,
            signals,
            stop,
            ..
        } = self;
        loop {
            let stopping = async {
                match stop.as_mut() {
                    Some(rx) => {
                        while !*rx.borrow() {
                            if rx.changed().await.is_err() {
                                return;
                            }
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = stopping => return None,
                r = own.changed() => return r.ok().map(|()| Change::Logs),
                r = mirrored.changed() => return r.ok().map(|()| Change::Logs),
                s = signals.recv() => match s {
                    Ok(s) => return Some(Change::Signal(s)),
                    // Signals are only a nudge to look sooner; a missed one
                    // is not worth ending the stream for.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }

    /// The entries written since the last call (or the subscription), own
    /// log first, each log in order. Blocking (store reads). An entry that
    /// cannot be read is skipped, not retried.
    pub fn arrived(&mut self) -> Vec<Entry> {
        let store = self.records.node.store().clone();
        let mut out = Vec::new();
        for (party, log, seen) in &mut self.cursors {
            let size = store.size(*log).unwrap_or(*seen);
            while *seen < size {
                let Ok(leaves) = store.leaves(*log, *seen, BATCH) else {
                    break;
                };
                if leaves.is_empty() {
                    break;
                }
                for l in &leaves {
                    *seen = l.index + 1;
                    if let Ok(e) = Entry::from_stored(party, l) {
                        out.push(e);
                    }
                }
            }
        }
        out
    }
}
