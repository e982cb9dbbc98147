//! The log's own clock on its trees.
//!
//! A claim against this party — "ru did not answer us:12 within its
//! deadline" — may rest on this party's own signed statements alone: its
//! tree at the deadline, dated by itself, shows no answer. Entry dates are
//! such statements, but only where an entry was written. So the node also
//! cosigns its own latest checkpoint with its own witness key, at every
//! cosignature round: "at time T my log was this tree". The line travels
//! with the checkpoint to every witness, which keeps the note it cosigned,
//! so the other party holds it too. It proves nothing in this party's
//! favour (`hotline verify` never counts a party's own witness for it).

use hotline_proto::checkpoint;

use super::{FedError, Link};

/// Cosigns the own latest checkpoint with the own witness key, unless that
/// tree already carries an own cosignature younger than `every` seconds.
pub fn stamp(link: &Link, every: u64) -> Result<(), FedError> {
    let (size, note) = link.reads.own_checkpoint()?;
    let key = &link.signs.witness;
    let now = u64::try_from(crate::clock::now().as_second()).unwrap_or(0);
    if let Some((s, t)) = link
        .reads
        .store
        .last_cosignature(link.reads.own, key.name())?
        && s == size
        && now.saturating_sub(t) < every
    {
        return Ok(());
    }
    let (text, _) = checkpoint::split(&note)?;
    let line = checkpoint::cosign_line(key, text, now)?;
    let name = key.name().to_owned();
    let merge = |current: &[u8]| {
        checkpoint::filter_lines(current, |l| !checkpoint::signed_by(l, &name), &line)
            .unwrap_or_else(|_| current.to_vec())
    };
    link.reads.store.add_cosignature(
        link.reads.own,
        size,
        key.name(),
        now,
        line.trim_end(),
        &merge,
    )?;
    Ok(())
}
