//! Joint statements: one office proposes a text to its counterpart (a
//! `statement` entry), and the counterpart signs exactly that text (an
//! `endorsement` entry in its own log, referencing the statement). Both
//! headers carry the digest of the text — the base64 SHA-256 of its exact
//! UTF-8 bytes — so that `hotline prove statement` can show a third party the
//! text and that both sides signed it, while the contents stay sealed in the
//! logs.

use hotline_proto::entry::{Content, Kind, text_digest};
use jiff::Timestamp;
use serde::Serialize;

use crate::entries::{Held, check_text};
use crate::error::{NodeError, Result};
use crate::node::Node;
use crate::sequencer::Appended;

use hotline_proto::party::Office;

/// A statement as both logs show it.
#[derive(Clone, Debug, Serialize)]
pub struct Statement {
    /// Its id, `party:index`.
    pub id: String,
    /// The proposing office.
    pub from: String,
    /// The office asked to endorse it.
    pub to: String,
    /// When it was proposed (the proposer's clock).
    pub time: Timestamp,
    /// The digest both sides sign: base64 SHA-256 of the text.
    pub digest: String,
    /// The endorsement, if the counterpart signed: its id and time.
    pub endorsement: Option<(String, Timestamp)>,
}

impl Node {
    /// Proposes a statement from `from` (an office of this party) to `to`:
    /// the text, sealed to both, and its digest in the clear.
    pub async fn statement(
        &self,
        from: &Office,
        to: &Office,
        content: Content,
    ) -> Result<Appended> {
        if from == to {
            return Err(NodeError::BadInput(format!(
                "{from} cannot propose a statement to itself; name the counterpart office with --to"
            )));
        }
        check_text(self, &content, "statement")?;
        let digest = text_digest(&content.text);
        let mut d = self
            .sealed(Kind::Statement, from, to, &content, vec![], None)
            .await?;
        d.digest = Some(digest);
        Ok(self.sequencer().append(d).await?)
    }

    /// Endorses statement `id` as the office it is addressed to. `text`
    /// must be exactly the proposed text (its SHA-256 is compared with the
    /// statement's digest); a statement is endorsed once.
    pub async fn endorse(&self, id: &str, text: &str) -> Result<Appended> {
        let _one = self.act().await;
        let st = self.held(id, "statement", Kind::Statement)?;
        let (from, to) = st.offices()?;
        if &to.party() != self.party() || self.office_signer(&to).is_none() {
            return Err(NodeError::Forbidden(format!(
                "statement {id} is addressed to {to}; only {to} can endorse it, and this node holds no keys for it"
            )));
        }
        let digest = st
            .entry
            .header()
            .digest
            .clone()
            .ok_or_else(|| NodeError::Internal(format!("statement {id} carries no digest")))?;
        if text_digest(text) != digest {
            return Err(NodeError::BadInput(format!(
                "the text differs from statement {id} (its SHA-256 is {digest}; this text's is {}); endorse exactly the proposed text",
                text_digest(text)
            )));
        }
        if let Some(e) = self.endorsement_of(&st)? {
            return Err(NodeError::Conflict(format!(
                "statement {id} is already endorsed by {to} in {}",
                e.id()
            )));
        }
        let lang = self.open_held(&st).and_then(|c| c.lang);
        let content = Content::text(text, lang);
        let mut d = self
            .sealed(
                Kind::Endorsement,
                &to,
                &from,
                &content,
                vec![st.reference()],
                None,
            )
            .await?;
        d.digest = Some(digest);
        Ok(self.sequencer().append(d).await?)
    }

    /// The addressed office's endorsement of a statement, if held here: the
    /// first entry in its party's log that references the statement, is an
    /// endorsement by that office, and signs the same digest.
    pub(crate) fn endorsement_of(&self, st: &Held) -> Result<Option<Held>> {
        let (_, to) = st.offices()?;
        let digest = st.entry.header().digest.clone();
        Ok(self.referring(&to.party(), st)?.into_iter().find(|e| {
            let g = e.entry.header();
            g.kind == Kind::Endorsement && g.from == to.as_str() && g.digest == digest
        }))
    }

    fn statement_of(&self, st: &Held) -> Result<Statement> {
        let h = st.entry.header();
        let (from, to) = st.offices()?;
        Ok(Statement {
            id: st.id(),
            from: from.to_string(),
            to: to.to_string(),
            time: h.time,
            digest: h.digest.clone().unwrap_or_default(),
            endorsement: self
                .endorsement_of(st)?
                .map(|e| (e.id(), e.entry.header().time)),
        })
    }

    /// Every statement this party proposed or was asked to endorse, newest first.
    pub fn statements(&self) -> Result<Vec<Statement>> {
        self.held_of_kind(Kind::Statement)?
            .iter()
            .map(|s| self.statement_of(s))
            .collect()
    }
}
