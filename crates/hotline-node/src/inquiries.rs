//! Inquiries: a request from one office to its counterpart under an
//! agreement, with a tracked life — sent, delivered (the receipt),
//! acknowledged, answered, closed, or overdue — derived from both logs.

use hotline_proto::agreement;
use hotline_proto::entry::{Content, Kind, Ref, SignedEntry};
use hotline_proto::party::{Office, Party};
use hotline_proto::{b64, seal};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::entries::parse_leaves;
use crate::error::{Corrupt, NodeError, Result};
use crate::node::Node;
use crate::sequencer::{Appended, Draft, SealedBody, Signer};

/// Status strings.
pub mod status {
    /// The `ack` status that closes an inquiry (written by its sender).
    pub const CLOSED: &str = "closed";
}

/// An inquiry as the logs show it.
#[derive(Clone, Debug, Serialize)]
pub struct Inquiry {
    /// `party:index`.
    pub id: String,
    /// Sending office.
    pub from: String,
    /// Receiving office.
    pub to: String,
    /// The agreement it was sent under.
    pub agreement: Option<String>,
    /// When it was sent (sender's clock).
    pub sent: Timestamp,
    /// When the receiver's receipt says it arrived, and its status.
    pub delivered: Option<(Timestamp, String)>,
    /// First acknowledgement (receiver's clock).
    pub acknowledged: Option<Timestamp>,
    /// Answers (receiver's clock), as `party:index` and time.
    pub answers: Vec<(String, Timestamp)>,
    /// When the sender closed it.
    pub closed: Option<Timestamp>,
    /// Acknowledgement deadline, from the agreement.
    pub ack_due: Option<Timestamp>,
    /// Answer deadline, from the agreement.
    pub answer_due: Option<Timestamp>,
    /// sent, delivered, refused, acknowledged, answered or closed.
    pub status: String,
    /// A deadline passed without the step it asks for.
    pub overdue: bool,
}

fn due(from: Timestamp, secs: Option<u64>) -> Option<Timestamp> {
    secs.and_then(|s| {
        from.checked_add(SignedDuration::from_secs(i64::try_from(s).ok()?))
            .ok()
    })
}

impl Node {
    /// The inquiry with this id, with the entry itself.
    fn inquiry_entry(
        &self,
        id: &str,
    ) -> Result<(Party, u64, SignedEntry, crate::store::StoredLeaf)> {
        let (party, index) = agreement::parse_id(id).ok_or_else(|| {
            NodeError::BadInput(format!(
                "{id:?} is not an inquiry id (party:index, e.g. us:12)"
            ))
        })?;
        let log = self.log_of(&party)?;
        let leaf = self
            .store()
            .leaves(log, index, 1)?
            .into_iter()
            .find(|l| l.index == index)
            .ok_or_else(|| NodeError::NotFound(format!("no entry {id} is held here")))?;
        let e = SignedEntry::from_leaf(&leaf.leaf).map_err(Corrupt::Entry)?;
        if e.header().kind != Kind::Inquiry {
            return Err(NodeError::BadInput(format!(
                "{id} is a {}, not an inquiry",
                e.header().kind
            )));
        }
        Ok((party, index, e, leaf))
    }

    /// Derives an inquiry's life from both logs.
    pub fn inquiry(&self, id: &str) -> Result<Inquiry> {
        let (party, index, e, _) = self.inquiry_entry(id)?;
        let h = e.header();
        let to =
            h.to.clone()
                .ok_or_else(|| NodeError::Internal("an inquiry without an addressee".into()))?;
        let other = self.log_of(&to.party()).ok();
        let sender_log = self.log_of(&party)?;
        let replies = match other {
            Some(log) => parse_leaves(
                self.store().referencing(log, party.as_str(), index)?,
                "entry",
            )?,
            None => vec![],
        };
        let own_refs = parse_leaves(
            self.store()
                .referencing(sender_log, party.as_str(), index)?,
            "entry",
        )?;
        let by_to = |r: &SignedEntry| r.header().from == to.as_str();
        let delivered = replies
            .iter()
            .find(|(_, r)| r.header().kind == Kind::Receipt)
            .map(|(_, r)| {
                (
                    r.header().time,
                    r.header().status.clone().unwrap_or_default(),
                )
            });
        let acknowledged = replies
            .iter()
            .filter(|(_, r)| r.header().kind == Kind::Ack && by_to(r))
            .map(|(_, r)| r.header().time)
            .min();
        let answers: Vec<(String, Timestamp)> = replies
            .iter()
            .filter(|(_, r)| r.header().kind == Kind::Answer && by_to(r))
            .map(|(i, r)| (format!("{}:{i}", r.header().log), r.header().time))
            .collect();
        let closed = own_refs
            .iter()
            .find(|(_, r)| {
                r.header().kind == Kind::Ack
                    && r.header().status.as_deref() == Some(status::CLOSED)
                    && r.header().from == h.from
            })
            .map(|(_, r)| r.header().time);
        let terms = h
            .agreement
            .as_deref()
            .and_then(|a| self.agreement(a).ok())
            .map(|a| a.terms);
        let ack_due = due(h.time, terms.as_ref().and_then(|t| t.ack_within_secs));
        let answer_due = due(h.time, terms.as_ref().and_then(|t| t.answer_within_secs));
        let now = crate::clock::now();
        let refused = delivered
            .as_ref()
            .is_some_and(|(_, s)| s.starts_with("refused"));
        let status = if closed.is_some() {
            "closed"
        } else if !answers.is_empty() {
            "answered"
        } else if acknowledged.is_some() {
            "acknowledged"
        } else if refused {
            "refused"
        } else if delivered.is_some() {
            "delivered"
        } else {
            "sent"
        };
        let overdue = closed.is_none()
            && !refused
            && ((acknowledged.is_none() && ack_due.is_some_and(|d| d < now))
                || (answers.is_empty() && answer_due.is_some_and(|d| d < now)));
        Ok(Inquiry {
            id: format!("{party}:{index}"),
            from: h.from.clone(),
            to: to.to_string(),
            agreement: h.agreement.clone(),
            sent: h.time,
            delivered,
            acknowledged,
            answers,
            closed,
            ack_due,
            answer_due,
            status: status.into(),
            overdue,
        })
    }

    /// Every inquiry this party sent or received.
    pub fn inquiries(&self) -> Result<Vec<Inquiry>> {
        let mut ids = Vec::new();
        for l in self
            .store()
            .leaves_of_kind(self.log_id(), Kind::Inquiry.as_str())?
        {
            ids.push(format!("{}:{}", self.party(), l.index));
        }
        let prefix = format!("{}/", self.party());
        for peer in self.federation().all() {
            for l in self
                .store()
                .leaves_of_kind(peer.mirror, Kind::Inquiry.as_str())?
            {
                let e = SignedEntry::from_leaf(&l.leaf).map_err(Corrupt::Entry)?;
                if e.header()
                    .to
                    .as_ref()
                    .is_some_and(|t| t.as_str().starts_with(&prefix))
                {
                    ids.push(format!("{}:{}", peer.party, l.index));
                }
            }
        }
        ids.iter().map(|id| self.inquiry(id)).collect()
    }

    /// Seals `content` to `to` and to `from` itself and appends it as an
    /// entry of `kind`, under the agreement in force that allows it.
    pub(crate) async fn sealed_draft(
        &self,
        kind: Kind,
        from: &Office,
        to: &Office,
        content: &Content,
        refs: Vec<Ref>,
        status: Option<String>,
    ) -> Result<Appended> {
        let d = self.sealed(kind, from, to, content, refs, status).await?;
        Ok(self.sequencer().append(d).await?)
    }

    /// The draft [`Node::sealed_draft`] appends, for callers that add to it.
    pub(crate) async fn sealed(
        &self,
        kind: Kind,
        from: &Office,
        to: &Office,
        content: &Content,
        refs: Vec<Ref>,
        status: Option<String>,
    ) -> Result<Draft> {
        let keys = self.office_keys_pub(from)?;
        let to_key = self.seal_key_pub(to)?;
        let agreement = self.require_agreement(from, to, kind, crate::clock::now())?;
        let size = content.to_bytes().len();
        let limit = self.config().limits.max_request_bytes;
        if size > limit {
            return Err(NodeError::TooLarge(format!(
                "the content is {size} bytes with its attachments; the limit is {limit} bytes"
            )));
        }
        let own_key = keys.public().seal_key().map_err(Corrupt::Key)?;
        let (plain, f2, t2) = (content.to_bytes(), from.clone(), to.clone());
        let sealed = tokio::task::spawn_blocking(move || {
            seal::seal(
                &plain,
                &[(&t2, &to_key), (&f2, &own_key)],
                &mut hotline_proto::keys::os_rng(),
            )
            .map(SealedBody::from)
        })
        .await??;
        let mut d = Draft::new(kind, Signer::Office(keys));
        d.to = Some(to.clone());
        d.agreement = agreement;
        d.refs = refs;
        d.status = status;
        d.body = Some(sealed);
        Ok(d)
    }

    /// Sends an inquiry. The STIX bundle, if any, must be valid STIX 2.1.
    pub async fn inquire(&self, from: &Office, to: &Office, content: Content) -> Result<Appended> {
        if content
            .subject
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(NodeError::BadInput("an inquiry needs a subject".into()));
        }
        if let Some(stix) = &content.stix {
            hotline_proto::stix::validate(stix)
                .map_err(|e| NodeError::BadInput(format!("STIX bundle: {e}")))?;
        }
        self.sealed_draft(Kind::Inquiry, from, to, &content, vec![], None)
            .await
    }

    fn reply_check(&self, id: &str, by_receiver: bool) -> Result<(Inquiry, Ref, Office)> {
        let (party, index, e, leaf) = self.inquiry_entry(id)?;
        let q = self.inquiry(id)?;
        if q.closed.is_some() {
            return Err(NodeError::Conflict(format!(
                "{id} was closed by {} at {}; nothing more can be added",
                q.from,
                q.closed.map(|t| t.to_string()).unwrap_or_default()
            )));
        }
        let acting = if by_receiver { &q.to } else { &q.from };
        let office = Office::new(acting).map_err(Corrupt::Name)?;
        if self.office_signer(&office).is_none() {
            return Err(NodeError::Forbidden(format!(
                "only {acting} may do this for {id}; this node holds no keys for it"
            )));
        }
        let _ = e;
        Ok((
            q,
            Ref {
                log: party,
                index,
                leaf_hash: b64::encode(leaf.leaf_hash.0),
            },
            office,
        ))
    }

    /// The receiving office acknowledges an inquiry.
    pub async fn ack(&self, id: &str) -> Result<Appended> {
        let _one = self.act().await;
        let (q, r, office) = self.reply_check(id, true)?;
        if q.acknowledged.is_some() {
            return Err(NodeError::Conflict(format!("{id} is already acknowledged")));
        }
        let to = Office::new(&q.from).map_err(Corrupt::Name)?;
        let keys = self.office_keys_pub(&office)?;
        let agreement = self.require_agreement(&office, &to, Kind::Ack, crate::clock::now())?;
        let mut d = Draft::new(Kind::Ack, Signer::Office(keys));
        d.to = Some(to);
        d.agreement = agreement;
        d.refs = vec![r];
        Ok(self.sequencer().append(d).await?)
    }

    /// The receiving office answers an inquiry (as often as it needs to).
    pub async fn answer(&self, id: &str, content: Content) -> Result<Appended> {
        let (q, r, office) = self.reply_check(id, true)?;
        if let Some(stix) = &content.stix {
            hotline_proto::stix::validate(stix)
                .map_err(|e| NodeError::BadInput(format!("STIX bundle: {e}")))?;
        }
        let to = Office::new(&q.from).map_err(Corrupt::Name)?;
        self.sealed_draft(Kind::Answer, &office, &to, &content, vec![r], None)
            .await
    }

    /// The sending office closes its inquiry.
    pub async fn close(&self, id: &str) -> Result<Appended> {
        let _one = self.act().await;
        let (q, r, office) = self.reply_check(id, false)?;
        let to = Office::new(&q.to).map_err(Corrupt::Name)?;
        let keys = self.office_keys_pub(&office)?;
        // Closing is the sender's own bookkeeping: it needs no agreement in
        // force (one withdrawn since must not leave the inquiry open forever).
        let agreement = q.agreement.clone();
        let mut d = Draft::new(Kind::Ack, Signer::Office(keys));
        d.to = Some(to);
        d.agreement = agreement;
        d.refs = vec![r];
        d.status = Some(status::CLOSED.into());
        Ok(self.sequencer().append(d).await?)
    }
}
