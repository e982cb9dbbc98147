//! Entries held here, own or mirrored, as the kinds built on them read them:
//! the store id of a party's log, an entry by its id (`party:index`) checked
//! for its kind, the entries that refer to one, and a sealed body opened with
//! whichever of its two offices this node holds, the entries of one kind
//! both sides see. Calls, statements, inquiries and agreements all read
//! through these.

use hotline_proto::agreement;
use hotline_proto::b64;
use hotline_proto::entry::{Content, Kind, Ref, SignedEntry};
use hotline_proto::party::{Office, Party};

use crate::error::{Corrupt, NodeError, Result};
use crate::node::{Node, valid_lang};
use crate::store::{LogId, StoredLeaf};

/// An entry held here (own log or a verified mirror), with its place.
pub(crate) struct Held {
    pub party: Party,
    pub index: u64,
    pub entry: SignedEntry,
}

impl Held {
    pub(crate) fn id(&self) -> String {
        format!("{}:{}", self.party, self.index)
    }

    /// The reference another entry makes to this one.
    pub(crate) fn reference(&self) -> Ref {
        Ref {
            log: self.party.clone(),
            index: self.index,
            leaf_hash: b64::encode(self.entry.leaf_hash().0),
        }
    }

    /// The sending and the addressed office.
    pub(crate) fn offices(&self) -> Result<(Office, Office)> {
        let h = self.entry.header();
        let from = Office::new(&h.from).map_err(Corrupt::Name)?;
        let to =
            h.to.clone()
                .ok_or_else(|| NodeError::Internal(format!("{} has no addressee", self.id())))?;
        Ok((from, to))
    }
}

/// The entries of `leaves` with their indexes; a leaf that does not parse
/// is corrupt, named `what` ("agreement entry") at its place in the log.
pub(crate) fn parse_leaves(
    leaves: Vec<StoredLeaf>,
    what: &'static str,
) -> Result<Vec<(u64, SignedEntry)>> {
    leaves
        .into_iter()
        .map(|l| {
            SignedEntry::from_leaf(&l.leaf)
                .map(|e| (l.index, e))
                .map_err(|source| {
                    Corrupt::EntryAt {
                        what,
                        index: l.index,
                        source,
                    }
                    .into()
                })
        })
        .collect()
}

/// "a message", "an inquiry".
pub(crate) fn a(kind: Kind) -> String {
    let k = kind.as_str();
    if k.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {k}")
    } else {
        format!("a {k}")
    }
}

/// Checks a readout's or statement's text: not empty, within the limit, a
/// language tag if one is given, and no call fields.
pub(crate) fn check_text(node: &Node, content: &Content, what: &str) -> Result<()> {
    let limit = node.config().limits.max_text_bytes;
    if content.text.trim().is_empty() {
        return Err(NodeError::BadInput(format!(
            "the {what} is empty; write its text"
        )));
    }
    if content.text.len() > limit {
        return Err(NodeError::TooLarge(format!(
            "the {what} is {} bytes; the limit is {limit} bytes (limits.max_text_bytes in hotline.toml)",
            content.text.len()
        )));
    }
    if let Some(lang) = &content.lang
        && !valid_lang(lang)
    {
        return Err(NodeError::BadInput(format!(
            "lang {lang:?} is not a language tag (BCP 47, e.g. en, ru, pt-BR)"
        )));
    }
    if content.call.is_some() {
        return Err(NodeError::BadInput(format!(
            "a {what}'s content carries no call fields (those belong to call requests, acceptances, refusals and records)"
        )));
    }
    Ok(())
}

impl Node {
    /// The store id of a party's log: the own log or a pinned peer's mirror.
    pub(crate) fn log_of(&self, party: &Party) -> Result<LogId> {
        self.link().reads.log_of(party)
    }

    /// Every entry of `kind` in the own log, and those of the peers' mirrors
    /// addressed to an office of this party, newest first: the list of
    /// calls and of statements both sides see.
    pub(crate) fn held_of_kind(&self, kind: Kind) -> Result<Vec<Held>> {
        let parse = |leaf: &[u8]| {
            SignedEntry::from_leaf(leaf).map_err(|e| NodeError::from(Corrupt::Entry(e)))
        };
        let mut held = Vec::new();
        for l in self.store().leaves_of_kind(self.log_id(), kind.as_str())? {
            held.push(Held {
                party: self.party().clone(),
                index: l.index,
                entry: parse(&l.leaf)?,
            });
        }
        for peer in self.federation().all() {
            for l in self.store().leaves_of_kind(peer.mirror, kind.as_str())? {
                let entry = parse(&l.leaf)?;
                if entry
                    .header()
                    .to
                    .as_ref()
                    .is_some_and(|t| &t.party() == self.party())
                {
                    held.push(Held {
                        party: peer.party.clone(),
                        index: l.index,
                        entry,
                    });
                }
            }
        }
        held.sort_by(|x, y| {
            (y.entry.header().time, &y.party, y.index).cmp(&(
                x.entry.header().time,
                &x.party,
                x.index,
            ))
        });
        Ok(held)
    }

    /// The entry `id` (`party:index`) held here, which must be of `kind`;
    /// `what` names it in errors ("call request", "statement").
    pub(crate) fn held(&self, id: &str, what: &str, kind: Kind) -> Result<Held> {
        let (party, index) = agreement::parse_id(id).ok_or_else(|| {
            NodeError::BadInput(format!(
                "{id:?} is not a {what} id (party:index, e.g. us:12)"
            ))
        })?;
        let not_held = || NodeError::NotFound(format!("no {what} {id} is held here"));
        let log = self.log_of(&party).map_err(|_| not_held())?;
        let leaf = self
            .store()
            .leaves(log, index, 1)?
            .into_iter()
            .find(|l| l.index == index)
            .ok_or_else(not_held)?;
        let entry = SignedEntry::from_leaf(&leaf.leaf).map_err(Corrupt::Entry)?;
        if entry.header().kind != kind {
            let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            return Err(NodeError::BadInput(format!(
                "{id} is {}, not {article} {what}",
                a(entry.header().kind)
            )));
        }
        Ok(Held {
            party,
            index,
            entry,
        })
    }

    /// The sealed content of entry `index` of `party`'s log, opened with the
    /// key of whichever of its two offices this node holds; `None` when it
    /// has no content, is not held, is sealed to offices of others only, or
    /// was refused (it does not match its commitment).
    pub fn open_entry(&self, party: &Party, index: u64) -> Option<Content> {
        let log = self.log_of(party).ok()?;
        let leaf = self
            .store()
            .leaves(log, index, 1)
            .ok()?
            .into_iter()
            .find(|l| l.index == index)?;
        let e = SignedEntry::from_leaf(&leaf.leaf).ok()?;
        self.open_signed(party, index, &e)
    }

    fn open_signed(&self, party: &Party, index: u64, e: &SignedEntry) -> Option<Content> {
        self.open_checked(party, index, e, &|_| true).into_content()
    }

    pub(crate) fn open_held(&self, h: &Held) -> Option<Content> {
        self.open_signed(&h.party, h.index, &h.entry)
    }

    /// Entries of `party`'s log (own or mirrored) whose first reference is
    /// exactly `to` (log, index and leaf hash), in log order.
    pub(crate) fn referring(&self, party: &Party, to: &Held) -> Result<Vec<Held>> {
        let Ok(log) = self.log_of(party) else {
            return Ok(vec![]);
        };
        let target = to.reference();
        let mut out = Vec::new();
        for l in self.store().referencing(log, to.party.as_str(), to.index)? {
            let entry = SignedEntry::from_leaf(&l.leaf).map_err(Corrupt::Entry)?;
            if entry.header().refs.first() == Some(&target) {
                out.push(Held {
                    party: party.clone(),
                    index: l.index,
                    entry,
                });
            }
        }
        Ok(out)
    }
}
