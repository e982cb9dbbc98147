//! Agreements on a node: proposing, signing, withdrawing, and the policy that
//! lets traffic move only under an agreement both parties signed.
//!
//! The agreement list is folded from the `agreement` entries of the own log
//! and of every mirrored log (see [`hotline_proto::agreement`]): nothing about
//! an agreement's state is stored apart from the logs.

use hotline_proto::agreement::{self, Agreement, Terms, status};
use hotline_proto::entry::{Kind, Ref, SignedEntry};
use hotline_proto::party::{Office, Party};
use std::sync::Mutex;

use jiff::Timestamp;

use crate::entries::parse_leaves;
use crate::error::{InputError, NodeError, Result};
use crate::federation::Federation;
use crate::node::Node;
use crate::sequencer::{Appended, Draft};
use crate::store::{LogId, Store};

fn agreement_entries(store: &dyn Store, log: LogId) -> Result<Vec<(u64, SignedEntry)>> {
    parse_leaves(
        store.leaves_of_kind(log, Kind::Agreement.as_str())?,
        "agreement entry",
    )
}

/// The agreements last folded, under the last agreement entry of each log
/// they were folded from.
///
/// Every message, receipt and TAXII collection asks for the agreement list,
/// and folding it means reading and parsing every agreement entry of every
/// log (4 % of a node's CPU under TAXII ingest). Logs only grow, so the
/// same last agreement entry in each of the same logs is the same list: one
/// indexed look-up a log tells whether the fold still stands, whichever
/// replica appended since. A fold is stored under the marks read before
/// its entries, so an entry appended between the two makes the next marks
/// differ and is folded then, never missed.
#[derive(Default)]
pub(crate) struct Folded(Mutex<Option<(Marks, Vec<Agreement>)>>);

/// Each log's id and the index of its last agreement entry.
type Marks = Vec<(LogId, Option<u64>)>;

/// Every agreement the own log `own` and the mirrors of `peers` hold: the
/// node and federation's receipts judge traffic by the same list.
pub(crate) fn held(
    store: &dyn Store,
    own: LogId,
    peers: &Federation,
    folded: &Folded,
) -> Result<Vec<Agreement>> {
    let logs: Vec<LogId> = std::iter::once(own)
        .chain(peers.all().iter().map(|p| p.mirror))
        .collect();
    let marks = logs
        .iter()
        .map(|&l| Ok((l, store.last_of_kind(l, Kind::Agreement.as_str())?)))
        .collect::<Result<Marks>>()?;
    if let Some((m, a)) = &*folded.0.lock().unwrap_or_else(|e| e.into_inner())
        && *m == marks
    {
        return Ok(a.clone());
    }
    let mut all = Vec::new();
    for &l in &logs {
        all.extend(agreement_entries(store, l)?);
    }
    let agreements = agreement::fold(all.iter().map(|(i, e)| (*i, e)));
    *folded.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((marks, agreements.clone()));
    Ok(agreements)
}

/// The id of an agreement of `all` (read only when one is needed) in force
/// at `time` that allows `from → to` for `kind`, or why there is none: one
/// policy for what the node sends and what federation receipts.
pub(crate) fn in_force(
    from: &Office,
    to: &Office,
    kind: Kind,
    time: Timestamp,
    all: impl FnOnce() -> Result<Vec<Agreement>>,
) -> Result<Option<String>> {
    if !agreement::needs_agreement(kind) || from.party() == to.party() {
        return Ok(None);
    }
    let all = all()?;
    if let Some(a) = agreement::allowing(&all, from, to, kind, time) {
        return Ok(Some(a.id.clone()));
    }
    let in_force: Vec<String> = all
        .iter()
        .filter(|a| a.in_force(time))
        .map(|a| format!("{} ({})", a.id, a.terms.title))
        .collect();
    Err(NodeError::Forbidden(format!(
        "no agreement in force opens {from} ↔ {to} for {kind} at {time}; in force: {}. Propose one with `hotline agreement propose --file TERMS.toml`, and have {} sign it",
        if in_force.is_empty() {
            "none".to_owned()
        } else {
            in_force.join(", ")
        },
        to.party()
    )))
}

impl Node {
    /// Every agreement this node knows of, from its own log and its mirrors.
    pub fn agreements(&self) -> Result<Vec<Agreement>> {
        self.link().reads.agreements()
    }

    /// The agreement with this id.
    pub fn agreement(&self, id: &str) -> Result<Agreement> {
        self.agreements()?.into_iter().find(|a| a.id == id).ok_or_else(|| {
            NodeError::NotFound(format!(
                "no agreement {id} is known here (ids are party:index; `hotline agreements` lists them)"
            ))
        })
    }

    /// Checks that an agreement in force at `time` allows `from → to` for
    /// `kind`; returns its id. Entries between offices of this party need none.
    /// Traffic this party sends is refused, whatever the agreements, if
    /// either office was revoked in its own log.
    pub fn require_agreement(
        &self,
        from: &Office,
        to: &Office,
        kind: Kind,
        time: Timestamp,
    ) -> Result<Option<String>> {
        // Outgoing: neither end may be an office its log revoked.
        if &from.party() == self.party() {
            self.require_live(from)?;
            self.require_live(to)?;
        }
        in_force(from, to, kind, time, || self.agreements())
    }

    async fn append_agreement(
        &self,
        status: &str,
        terms: Option<Terms>,
        refs: Vec<Ref>,
    ) -> Result<Appended> {
        let mut draft = Draft::new(Kind::Agreement, self.party_signer());
        draft.status = Some(status.to_owned());
        draft.terms = terms;
        draft.refs = refs;
        Ok(self.sequencer().append(draft).await?)
    }

    /// Proposes an agreement; returns the proposal (its id is `party:index`).
    pub async fn propose_agreement(&self, terms: Terms) -> Result<Appended> {
        let (a, b) = terms.validate().map_err(InputError::Terms)?;
        if &a != self.party() && &b != self.party() {
            return Err(NodeError::BadInput(format!(
                "the terms are between {a} and {b}; this party ({}) is neither",
                self.party()
            )));
        }
        self.append_agreement(status::PROPOSED, Some(terms), vec![])
            .await
    }

    fn proposal_ref(&self, a: &Agreement) -> Result<Ref> {
        let (party, index) = agreement::parse_id(&a.id)
            .ok_or_else(|| NodeError::Internal(format!("bad agreement id {}", a.id)))?;
        let log = if &party == self.party() {
            self.log_id()
        } else {
            self.federation()
                .peer(&party)
                .map(|p| p.mirror)
                .ok_or_else(|| NodeError::NotFound(format!("{party} is not a pinned peer")))?
        };
        let leaf = self
            .store()
            .leaves(log, index, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| NodeError::NotFound(format!("entry {} is not held here", a.id)))?;
        Ok(Ref {
            log: party,
            index,
            leaf_hash: hotline_proto::b64::encode(leaf.leaf_hash.0),
        })
    }

    /// Signs the other party's proposal.
    pub async fn sign_agreement(&self, id: &str) -> Result<Appended> {
        let _one = self.act().await;
        let a = self.agreement(id)?;
        if &a.proposer == self.party() {
            return Err(NodeError::BadInput(format!(
                "{id} is this party's own proposal; {} must sign it",
                a.counterparty
            )));
        }
        if &a.counterparty != self.party() {
            return Err(NodeError::BadInput(format!(
                "{id} is between {} and {}, not this party",
                a.proposer, a.counterparty
            )));
        }
        if a.signed_at.is_some() {
            return Err(NodeError::Conflict(format!("{id} is already signed")));
        }
        if a.withdrawn.is_some() {
            return Err(NodeError::Conflict(format!(
                "{id} was withdrawn by {}; propose it again",
                a.withdrawn
                    .as_ref()
                    .map(|w| w.0.to_string())
                    .unwrap_or_default()
            )));
        }
        if a.terms.end.is_some_and(|e| e <= crate::clock::now()) {
            return Err(NodeError::Conflict(format!("{id} has already ended")));
        }
        let r = self.proposal_ref(&a)?;
        self.append_agreement(status::SIGNED, None, vec![r]).await
    }

    /// Withdraws from an agreement; it ends after the notice its terms give.
    pub async fn withdraw_agreement(&self, id: &str) -> Result<(Appended, Timestamp)> {
        let _one = self.act().await;
        let a = self.agreement(id)?;
        if &a.proposer != self.party() && &a.counterparty != self.party() {
            return Err(NodeError::BadInput(format!(
                "{id} is not an agreement of this party"
            )));
        }
        if a.withdrawn.is_some() {
            return Err(NodeError::Conflict(format!("{id} is already withdrawn")));
        }
        let r = self.proposal_ref(&a)?;
        let appended = self
            .append_agreement(status::WITHDRAWN, None, vec![r])
            .await?;
        let effective = appended
            .header
            .time
            .checked_add(jiff::SignedDuration::from_secs(
                i64::try_from(a.terms.notice_secs).unwrap_or(i64::MAX),
            ))
            .unwrap_or(Timestamp::MAX);
        Ok((appended, effective))
    }
}

/// Whether `party` is one of an agreement's two parties.
pub fn is_party(a: &Agreement, party: &Party) -> bool {
    &a.proposer == party || &a.counterparty == party
}

#[cfg(test)]
mod tests {
    use crate::node::Node;

    /// The folded list is kept between calls, and follows each agreement
    /// appended after it, and nothing else.
    #[tokio::test]
    async fn the_agreement_list_follows_every_agreement_entry() {
        let (_tmp, node) = crate::node::fresh_us();
        assert!(node.agreements().unwrap().is_empty());
        let terms = |title: &str| {
            crate::terms_file::parse(&format!(
                "title = \"{title}\"\nstart = \"2026-01-01T00:00:00Z\"\nnotice = \"30d\"\nlanguages = [\"en\"]\n\n[[channel]]\noffices = [\"us/fbi\", \"ru/fsb\"]\nkinds = [\"message\"]\n"
            ))
            .unwrap()
        };
        let titles = |node: &Node| -> Vec<String> {
            node.agreements()
                .unwrap()
                .into_iter()
                .map(|a| a.terms.title)
                .collect()
        };
        node.propose_agreement(terms("first")).await.unwrap();
        assert_eq!(titles(&node), ["first"]);
        assert_eq!(titles(&node), ["first"], "asked again, unchanged");
        // Entries of other kinds leave the fold as it was.
        node.add_office(hotline_proto::party::Office::new("us/fbi").unwrap())
            .await
            .unwrap();
        assert_eq!(titles(&node), ["first"]);
        node.propose_agreement(terms("second")).await.unwrap();
        assert_eq!(titles(&node), ["first", "second"]);
    }
}
