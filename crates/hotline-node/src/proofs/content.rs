//! `hotline/opening/v2` and `hotline/statement/v2`: an entry's content, or
//! a statement's text, opened with one of this party's office keys and
//! shown with the log's chosen checkpoint and complete key history.

use hotline_proto::claims::opening::opening_bundle;
use hotline_proto::claims::statement::statement_bundle;
use hotline_proto::entry::{Kind, SignedEntry};
use hotline_proto::index::ref_key;
use hotline_proto::party::{Office, Party};
use hotline_proto::seal;

use super::checkpoints::Want;
use super::evidence::parse_all;
use super::{ProofError, ProofSource};
use crate::error::{NodeError, Result};

impl ProofSource {
    /// `hotline/opening/v2`: reveals one entry's plaintext, opened with one
    /// of this party's office keys (the sender's or the recipient's).
    /// Content that does not match its commitment has no opening: one would
    /// not verify, and the receipt already says it was refused.
    pub fn opening(&self, id: &str) -> Result<String> {
        let (party, index) = Self::parse_id(id)?;
        let (_, e) = self.leaf(&party, index)?;
        let opened = self.open_own(&party, index, &e)?.ok_or_else(|| {
            let h = e.header();
            NodeError::Forbidden(format!(
                "{id} is sealed to {} and {}; this party holds neither office's key",
                h.from,
                h.to.as_ref().map(ToString::to_string).unwrap_or_default()
            ))
        })?;
        let cp = self.checkpoint_for(&party, index + 1, Want::Cosigned)?;
        self.checked(opening_bundle(
            &self.log_evidence(&cp)?,
            &self.tlog_proof(&cp, index)?,
            &opened.salt,
            &opened.plaintext,
        ))
    }

    /// Entry `party:index` opened with the key of one of its two offices
    /// that belongs to this party, and checked against its commitment;
    /// `None` if neither office is this party's.
    fn open_own(&self, party: &Party, index: u64, e: &SignedEntry) -> Result<Option<seal::Opened>> {
        let log = self.log(party)?.id;
        let h = e.header();
        let id = format!("{party}:{index}");
        let sealed = match (&h.body, self.store.body(log, index)?) {
            (Some(_), Some(s)) => s,
            _ => {
                return Err(NodeError::NotFound(format!(
                    "{id} has no sealed body held here"
                )));
            }
        };
        let mut offices: Vec<Office> = Office::new(&h.from).into_iter().collect();
        offices.extend(h.to.clone());
        let mut refused = None;
        for o in offices.into_iter().filter(|o| o.party() == self.own) {
            // The office's current key, then any it rotated away or revoked;
            // a body at fault itself is refused for every office and key.
            let keys = crate::offices::held_on_disk(&self.dir, &o);
            if keys.is_empty() {
                continue;
            }
            match crate::content::open_sealed_with(h, &sealed, &o, &keys) {
                Ok(opened) => return Ok(Some(opened)),
                Err(u) if u.is_the_entrys_fault() => {
                    refused = Some(u);
                    break;
                }
                Err(u) => {
                    refused.get_or_insert(u);
                }
            }
        }
        match refused {
            Some(u) => Err(NodeError::Conflict(format!(
                "{id} was refused: {u}; it cannot be opened to anyone"
            ))),
            None => Ok(None),
        }
    }

    /// `hotline/statement/v2` for statement `id`: its text (opened with
    /// this party's key of one of its two offices), the statement, and the
    /// counterpart's endorsement if it is held here (else the bundle proves
    /// a one-sided statement).
    pub fn statement(&self, id: &str) -> Result<String> {
        let (party, index) = Self::parse_id(id)?;
        let (_, e) = self.leaf(&party, index)?;
        let h = e.header();
        if h.kind != Kind::Statement {
            return Err(NodeError::BadInput(format!(
                "{id} is a {}, not a statement",
                h.kind
            )));
        }
        let to = Self::addressee(&e)?;
        let opened = self.open_own(&party, index, &e)?.ok_or_else(|| {
            NodeError::Forbidden(format!(
                "{id} is sealed to {} and {to}; this party holds neither office's key, so it cannot show the text",
                h.from
            ))
        })?;
        let content: hotline_proto::entry::Content =
            serde_json::from_slice(&opened.plaintext).map_err(ProofError::from)?;
        let digest = h.digest.clone().unwrap_or_default();
        if hotline_proto::entry::text_digest(&content.text) != digest {
            return Err(ProofError::Digest { id: id.to_owned() }.into());
        }
        let target = hotline_proto::claims::reference(&e, index);
        let counterpart = to.party();
        let endorsement = match self.log(&counterpart) {
            Ok(log) => {
                let held = self.store.size(log.id)?;
                let key = ref_key(party.as_str(), index);
                parse_all(&self.key_entries(&counterpart, &key, held, 0)?)?
                    .into_iter()
                    .find(|(_, r)| {
                        let g = r.header();
                        g.kind == Kind::Endorsement
                            && g.from == to.as_str()
                            && g.refs.first() == Some(&target)
                            && g.digest.as_deref() == Some(digest.as_str())
                    })
                    .map(|(j, _)| j)
            }
            Err(_) => None,
        };
        let cp = self.checkpoint_for(&party, index + 1, Want::Cosigned)?;
        let endorsed = match endorsement {
            Some(j) => {
                let c = self.checkpoint_for(&counterpart, j + 1, Want::Cosigned)?;
                Some((self.log_evidence(&c)?, self.tlog_proof(&c, j)?))
            }
            None => None,
        };
        self.checked(statement_bundle(
            &content.text,
            content.lang.as_deref(),
            &self.log_evidence(&cp)?,
            &self.tlog_proof(&cp, index)?,
            endorsed.as_ref().map(|(l, p)| (l, p)),
        ))
    }
}
