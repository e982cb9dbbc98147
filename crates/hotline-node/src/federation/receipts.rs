//! Receipts: the receiver's signed statement, in its own log, that an entry
//! addressed to one of its offices arrived — `delivered`, or `refused: why`.
//!
//! The cursor is derived from the log itself — the highest index of the
//! peer's mirrored log that the own log holds a receipt for — and receipts
//! are appended in order by one task per peer, so every entry gets exactly
//! one receipt across crashes and redeliveries. Receipts themselves are not
//! receipted (that would never end).
//!
//! Before it writes `delivered`, the receiver checks the entry against the
//! agreements both logs hold (as of the entry's own time) and opens its
//! sealed body with the addressed office's key, checking it against the
//! header's commitment ([`crate::content`]): a sender must not get a
//! receipt for content other than what it committed to.
//!
//! One refusal has no mirrored entry behind it: a backdated entry
//! ([`super::mirror::Backdated`]) refuses its whole push, so it never enters
//! the mirror, yet is owed a receipt. That receipt is written once, however
//! often the push is retried (the own log is asked first); it may lie beyond
//! the mirror, which is why the cursor only counts receipts below the
//! mirror's size.

use hotline_proto::entry::{Kind, Ref, SignedEntry};
use hotline_proto::party::{Office, Party};
use hotline_proto::{Hash, b64};

use super::mirror::Backdated;
use super::{FedError, Link, Peer, held_entry};
use crate::sequencer::{Draft, Signer};
use crate::store::LogId;

/// Most receipts issued per round.
const ROUND: u64 = 1000;

/// Issues every receipt still owed to `peer`; returns how many were written.
pub async fn issue(link: &Link, peer: &Peer) -> Result<u64, FedError> {
    let _one_at_a_time = peer.receipt_lock.lock().await;
    let mut written = 0;
    loop {
        let (l, party, mirror) = (link.clone(), peer.party.clone(), peer.mirror);
        // Opening every body is CPU work (HPKE): off the async threads.
        let drafts = tokio::task::spawn_blocking(move || owed(&l, &party, mirror)).await??;
        if drafts.is_empty() {
            return Ok(written);
        }
        written += append(link, drafts).await?;
    }
}

/// Writes the one receipt owed for a backdated entry of `peer`'s log,
/// unless the own log already holds it; returns whether it wrote one.
pub async fn refuse(link: &Link, peer: &Peer, b: &Backdated) -> Result<bool, FedError> {
    let h = b.entry.header();
    let ours = h.to.as_ref().is_some_and(|t| t.party() == link.reads.party);
    if !ours || !receipted(h.kind) {
        return Ok(false);
    }
    let _one_at_a_time = peer.receipt_lock.lock().await;
    let (l, party) = (link.clone(), peer.party.clone());
    let (index, entry, why) = (b.index, b.entry.clone(), b.why.clone());
    let draft = tokio::task::spawn_blocking(move || -> Result<_, FedError> {
        let leaf_hash = entry.leaf_hash();
        if held(&*l.reads.store, l.reads.own, &party, index)?.is_some() {
            return Ok(None);
        }
        // Whichever office it names: the entry is refused for its date.
        let status = format!("refused: {why}");
        receipt(&l, &party, index, leaf_hash, &entry, |_, _| Ok(status)).map(Some)
    })
    .await??;
    match draft {
        Some(d) => Ok(append(link, vec![d]).await? == 1),
        None => Ok(false),
    }
}

/// Appends `drafts` in order, as a chain: once one is not written, none
/// after it is (the cursor would pass the entry whose receipt failed).
/// Returns how many were written, or the first failure — only once every
/// draft has its answer, so the caller's receipt lock covers them all and
/// no other round drafts them again meanwhile.
async fn append(link: &Link, drafts: Vec<Draft>) -> Result<u64, FedError> {
    let pending = link.appends.chain(drafts);
    let mut written = 0;
    let mut failed = None;
    for p in pending {
        match p.await {
            Ok(Ok(_)) => written += 1,
            Ok(Err(e)) => {
                failed.get_or_insert(FedError::Receipt(e));
            }
            Err(_) => {
                failed.get_or_insert_with(|| FedError::Internal("the sequencer stopped".into()));
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(written),
    }
}

/// The next round of receipts owed for entries of `party`'s mirrored log.
fn owed(link: &Link, party: &Party, mirror: LogId) -> Result<Vec<Draft>, FedError> {
    let store = &link.reads.store;
    let size = store.size(mirror)?;
    let cursor = store.receipt_cursor(link.reads.own, party.as_str(), size)?;
    let owed = store.addressed_to(mirror, link.reads.party.as_str(), cursor, ROUND)?;
    let mut drafts = Vec::with_capacity(owed.len());
    for l in &owed {
        let e = held_entry(l, "mirror entry")?;
        drafts.push(receipt(
            link,
            party,
            l.index,
            l.leaf_hash,
            &e,
            |to, k| match k {
                Some(k) => verdict(link, mirror, l.index, &e, k),
                None => Ok(match link.reads.office_revoked(to) {
                    // The office cannot sign; the party says why it took nothing.
                    Some(at) => format!(
                        "refused: {to} was revoked in entry {at} of {}'s log and receives nothing any more",
                        link.reads.party
                    ),
                    None => format!("refused: {to} is not an office of this party"),
                }),
            },
        )?);
    }
    Ok(drafts)
}

/// `delivered`, or `refused: why`, for a mirrored entry addressed to an
/// office whose keys `k` this node holds.
fn verdict(
    link: &Link,
    mirror: LogId,
    index: u64,
    e: &SignedEntry,
    k: &hotline_proto::keys::OfficeKeys,
) -> Result<String, FedError> {
    let h = e.header();
    // Policy is checked as of the entry's own time, against the agreements
    // both logs hold.
    let allowed = match Office::new(&h.from) {
        Ok(f) => link
            .reads
            .require_agreement(&f, k.office(), h.kind, h.time)
            .map(|_| ()),
        Err(_) => Err(crate::error::NodeError::Forbidden(format!(
            "{} is not an office",
            h.from
        ))),
    };
    if let Err(e) = allowed {
        return Ok(format!("refused: {}", refusal(&e.to_string())));
    }
    if h.body.is_some() {
        let sealed = link.reads.store.body(mirror, index)?;
        let opened = match sealed {
            // Current keys first, then retired ones: the sender may have
            // sealed to a key this office rotated away since.
            Some(s) => {
                crate::content::check_with(h, &s, k.office(), &link.signs.openers(k.office()))
            }
            None => Err(crate::content::Unopened::NotHeld),
        };
        if let Err(u) = opened {
            return Ok(u.receipt_status());
        }
    }
    Ok("delivered".to_owned())
}

/// The receipt for entry `index` of `party`'s log, with the status `judge`
/// gives for its addressee and (if this node holds them) that office's
/// keys: signed by that office, or, if this party has no such office, by
/// the party itself.
fn receipt(
    link: &Link,
    party: &Party,
    index: u64,
    leaf_hash: Hash,
    e: &SignedEntry,
    judge: impl FnOnce(&Office, Option<&hotline_proto::keys::OfficeKeys>) -> Result<String, FedError>,
) -> Result<Draft, FedError> {
    let h = e.header();
    let to =
        h.to.clone()
            .ok_or_else(|| FedError::Internal("addressed entry without an addressee".into()))?;
    let keys = link.signs.office(&to);
    let status = judge(&to, keys.as_deref())?;
    let signer = keys.map_or_else(|| link.signs.party_signer(), Signer::Office);
    Ok(Draft {
        kind: Kind::Receipt,
        signer,
        to: Office::new(&h.from).ok(),
        agreement: h.agreement.clone(),
        refs: vec![Ref {
            log: party.clone(),
            index,
            leaf_hash: b64::encode(leaf_hash.0),
        }],
        body: None,
        key: None,
        status: Some(status),
        terms: None,
        time: None,
        digest: None,
    })
}

/// The receipt the own log `own` holds for entry `index` of `party`'s
/// log, if any, with its index there: one entry, one receipt.
pub(crate) fn held(
    store: &dyn crate::store::Store,
    own: LogId,
    party: &Party,
    index: u64,
) -> Result<Option<(u64, SignedEntry)>, FedError> {
    for l in store.referencing(own, party.as_str(), index)? {
        let r = held_entry(&l, "own entry")?;
        if r.header().kind == Kind::Receipt {
            return Ok(Some((l.index, r)));
        }
    }
    Ok(None)
}

/// The first sentence of a policy error: what a receipt's status carries.
fn refusal(msg: &str) -> &str {
    msg.split("; in force:").next().unwrap_or(msg)
}

/// Whether an entry of this kind is receipted.
pub fn receipted(kind: Kind) -> bool {
    kind != Kind::Receipt
}
