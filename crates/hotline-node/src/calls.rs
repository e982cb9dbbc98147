//! Calls: a request from one office to its counterpart (voice or video,
//! proposed times, topics), accepted with the chosen time or declined with a
//! reason, the record each side writes once the call took place, and each
//! side's readout — every step an entry, sealed to the two offices of the
//! call, under an agreement in force that opens the channel for its kind.
//!
//! A call's state is derived from both logs: the request in the requester's
//! log; the acceptance or refusal in the addressee's; the records and the
//! readouts in each side's own. The second record references the first (its
//! `refs` are the request, then the other side's record), so the two records
//! of one call are tied together in the logs themselves.

use hotline_proto::entry::{CallContent, Content, Kind, Media};
use hotline_proto::party::Office;
use jiff::Timestamp;
use serde::Serialize;

use crate::entries::{Held, check_text};
use crate::error::{NodeError, Result};
use crate::node::Node;
use crate::sequencer::Appended;

/// Most proposed times in a call request.
pub const MAX_TIMES: usize = 10;
/// Most topics in a call request.
pub const MAX_TOPICS: usize = 20;
/// Longest topic, and longest participant name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Most participants named in a call record.
pub const MAX_PARTICIPANTS: usize = 50;

/// What a call request asks for.
#[derive(Clone, Debug)]
pub struct CallRequest {
    /// Voice or video.
    pub media: Media,
    /// Proposed times, the requester's preference first (1 to [`MAX_TIMES`]).
    pub times: Vec<Timestamp>,
    /// Topics to raise (at most [`MAX_TOPICS`], each at most [`MAX_NAME_CHARS`]).
    pub topics: Vec<String>,
    /// A note to the other side (may be empty).
    pub note: String,
}

/// A call as both logs show it.
#[derive(Clone, Debug, Serialize)]
pub struct Call {
    /// The request's id, `party:index`: the call's id.
    pub id: String,
    /// The requesting office.
    pub from: String,
    /// The addressed office.
    pub to: String,
    /// When the request was written (requester's clock).
    pub requested_at: Timestamp,
    /// Voice or video; `None` when this node cannot open the request.
    pub media: Option<Media>,
    /// The proposed times (empty when it cannot be opened).
    pub times: Vec<Timestamp>,
    /// The topics (empty when it cannot be opened).
    pub topics: Vec<String>,
    /// The requester's note (`None` when it cannot be opened).
    pub note: Option<String>,
    /// requested, accepted, declined or held (a record exists).
    pub state: String,
    /// The acceptance: its id and the chosen time.
    pub accepted: Option<(String, Timestamp)>,
    /// The refusal: its id and the reason.
    pub declined: Option<(String, String)>,
    /// Each side's record of the call, in log order per side.
    pub records: Vec<CallRecordView>,
    /// Each side's readouts, oldest first per side.
    pub readouts: Vec<ReadoutView>,
}

/// One side's record of a call.
#[derive(Clone, Debug, Serialize)]
pub struct CallRecordView {
    /// Its id, `party:index`.
    pub id: String,
    /// The office that wrote it.
    pub office: String,
    /// When the call started (the writer's statement; its entry time if sealed from this node).
    pub start: Timestamp,
    /// When it ended.
    pub end: Timestamp,
    /// `end - start` in seconds.
    pub duration_secs: u64,
    /// Who took part, as that side names them.
    pub participants: Vec<String>,
    /// The other side's record of the same call, if held here.
    pub other_record: Option<String>,
}

/// One side's readout of a call.
#[derive(Clone, Debug, Serialize)]
pub struct ReadoutView {
    /// Its id, `party:index`.
    pub id: String,
    /// The office that wrote it.
    pub office: String,
    /// When it was written (its writer's clock).
    pub time: Timestamp,
}

fn note_check(node: &Node, note: &str, what: &str) -> Result<()> {
    let limit = node.config().limits.max_text_bytes;
    if note.len() > limit {
        return Err(NodeError::TooLarge(format!(
            "the {what} is {} bytes; the limit is {limit} bytes (limits.max_text_bytes in hotline.toml)",
            note.len()
        )));
    }
    Ok(())
}

fn names_check(list: &[String], what: &str, most: usize) -> Result<()> {
    if list.len() > most {
        return Err(NodeError::BadInput(format!(
            "{} {what}s; at most {most} may be given",
            list.len()
        )));
    }
    for n in list {
        if n.trim().is_empty() {
            return Err(NodeError::BadInput(format!("a {what} is empty")));
        }
        let chars = n.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(NodeError::BadInput(format!(
                "a {what} is {chars} characters; the limit is {MAX_NAME_CHARS}"
            )));
        }
    }
    Ok(())
}

fn call_content(text: impl Into<String>, lang: Option<String>, call: CallContent) -> Content {
    let mut c = Content::text(text, lang);
    c.call = Some(call);
    c
}

impl Node {
    /// This party's office on a call and the other side's: (ours, theirs).
    fn sides(&self, req: &Held) -> Result<(Office, Office)> {
        let (from, to) = req.offices()?;
        if &from.party() == self.party() {
            Ok((from, to))
        } else if &to.party() == self.party() {
            Ok((to, from))
        } else {
            Err(NodeError::Forbidden(format!(
                "call {} is between {from} and {to}; neither is an office of {}",
                req.id(),
                self.party()
            )))
        }
    }

    /// Derives a call's life from both logs.
    fn call_of(&self, req: &Held) -> Result<Call> {
        let h = req.entry.header();
        let (from, to) = req.offices()?;
        let (mut media, mut times, mut topics, mut note) = (None, vec![], vec![], None);
        if let Some(c) = self.open_held(req) {
            if let Some(CallContent::Request {
                media: m,
                times: t,
                topics: p,
            }) = c.call
            {
                (media, times, topics) = (Some(m), t, p);
            }
            note = Some(c.text);
        }
        let answers = self.referring(&to.party(), req)?;
        let mut accepted = None;
        let mut declined = None;
        if let Some(r) = answers.iter().find(|r| {
            let g = r.entry.header();
            g.from == to.as_str() && matches!(g.kind, Kind::CallAccept | Kind::CallDecline)
        }) {
            let g = r.entry.header();
            let call = self.open_held(r).and_then(|c| c.call);
            if g.kind == Kind::CallAccept {
                let at = match call {
                    Some(CallContent::Accept { at }) => at,
                    _ => g.time,
                };
                accepted = Some((r.id(), at));
            } else {
                let reason = match call {
                    Some(CallContent::Decline { reason }) => reason,
                    _ => String::new(),
                };
                declined = Some((r.id(), reason));
            }
        }
        // The requester's side first, then the addressee's (one log if both
        // offices are of one party).
        let mut entries = Vec::new();
        if from.party() != to.party() {
            entries = self.referring(&from.party(), req)?;
        }
        entries.extend(answers);
        let mut records = Vec::new();
        let mut readouts = Vec::new();
        for r in &entries {
            let g = r.entry.header();
            let on_call = [&from, &to]
                .iter()
                .any(|o| g.from == o.as_str() && g.log == o.party());
            if on_call {
                match g.kind {
                    Kind::CallRecord => {
                        let (start, end, duration_secs, participants) =
                            match self.open_held(r).and_then(|c| c.call) {
                                Some(CallContent::Record {
                                    start,
                                    end,
                                    duration_secs,
                                    participants,
                                }) => (start, end, duration_secs, participants),
                                _ => (g.time, g.time, 0, vec![]),
                            };
                        records.push(CallRecordView {
                            id: r.id(),
                            office: g.from.clone(),
                            start,
                            end,
                            duration_secs,
                            participants,
                            other_record: None,
                        });
                    }
                    Kind::Readout => readouts.push(ReadoutView {
                        id: r.id(),
                        office: g.from.clone(),
                        time: g.time,
                    }),
                    _ => {}
                }
            }
        }
        let ids: Vec<(String, String)> = records
            .iter()
            .map(|r| (r.office.clone(), r.id.clone()))
            .collect();
        for r in &mut records {
            r.other_record = ids
                .iter()
                .find(|(o, _)| *o != r.office)
                .map(|(_, id)| id.clone());
        }
        readouts.sort_by(|x, y| (x.time, &x.id).cmp(&(y.time, &y.id)));
        let state = if !records.is_empty() {
            "held"
        } else if accepted.is_some() {
            "accepted"
        } else if declined.is_some() {
            "declined"
        } else {
            "requested"
        };
        Ok(Call {
            id: req.id(),
            from: from.to_string(),
            to: to.to_string(),
            requested_at: h.time,
            media,
            times,
            topics,
            note,
            state: state.into(),
            accepted,
            declined,
            records,
            readouts,
        })
    }

    /// The call whose request is `id`.
    pub fn call(&self, id: &str) -> Result<Call> {
        self.call_of(&self.held(id, "call request", Kind::CallRequest)?)
    }

    /// Every call involving an office of this party, newest request first.
    pub fn calls(&self) -> Result<Vec<Call>> {
        self.held_of_kind(Kind::CallRequest)?
            .iter()
            .map(|h| self.call_of(h))
            .collect()
    }

    /// Requests a call from `from` (an office of this party) to `to`.
    pub async fn call_request(
        &self,
        from: &Office,
        to: &Office,
        req: CallRequest,
    ) -> Result<Appended> {
        if from == to {
            return Err(NodeError::BadInput(format!(
                "{from} cannot call itself; name the counterpart office with --to"
            )));
        }
        if req.times.is_empty() {
            return Err(NodeError::BadInput(
                "propose at least one time for the call (--at TIME, RFC 3339)".into(),
            ));
        }
        if req.times.len() > MAX_TIMES {
            return Err(NodeError::BadInput(format!(
                "{} proposed times; propose at most {MAX_TIMES}",
                req.times.len()
            )));
        }
        names_check(&req.topics, "topic", MAX_TOPICS)?;
        note_check(self, &req.note, "note")?;
        let content = call_content(
            req.note,
            None,
            CallContent::Request {
                media: req.media,
                times: req.times,
                topics: req.topics,
            },
        );
        self.sealed_draft(Kind::CallRequest, from, to, &content, vec![], None)
            .await
    }

    /// Checks that `id` is a call request addressed to this party, not yet
    /// answered; returns it with (the addressed office, the requester).
    fn answerable(&self, id: &str) -> Result<(Held, Office, Office)> {
        let req = self.held(id, "call request", Kind::CallRequest)?;
        let (from, to) = req.offices()?;
        if &to.party() != self.party() {
            return Err(NodeError::Forbidden(format!(
                "call request {id} is addressed to {to}; only {}'s node can accept or decline it",
                to.party()
            )));
        }
        if self.office_signer(&to).is_none() {
            return Err(NodeError::Forbidden(format!(
                "call request {id} is addressed to {to}, and this node holds no keys for it"
            )));
        }
        let call = self.call_of(&req)?;
        if let Some((aid, at)) = &call.accepted {
            return Err(NodeError::Conflict(format!(
                "call {id} was already accepted in {aid}, for {at}"
            )));
        }
        if let Some((did, reason)) = &call.declined {
            return Err(NodeError::Conflict(format!(
                "call {id} was already declined in {did} ({reason:?}); ask {from} to request a new call"
            )));
        }
        Ok((req, to, from))
    }

    /// Accepts a call, as the request's addressed office, for time `at`
    /// (one of the proposed times, or another).
    pub async fn call_accept(&self, id: &str, at: Timestamp, note: String) -> Result<Appended> {
        let _one = self.act().await;
        note_check(self, &note, "note")?;
        let (req, ours, theirs) = self.answerable(id)?;
        let content = call_content(note, None, CallContent::Accept { at });
        self.sealed_draft(
            Kind::CallAccept,
            &ours,
            &theirs,
            &content,
            vec![req.reference()],
            None,
        )
        .await
    }

    /// Declines a call, as the request's addressed office, giving a reason.
    pub async fn call_decline(&self, id: &str, reason: String) -> Result<Appended> {
        let _one = self.act().await;
        if reason.trim().is_empty() {
            return Err(NodeError::BadInput(
                "give the reason for declining (--reason TEXT)".into(),
            ));
        }
        note_check(self, &reason, "reason")?;
        let (req, ours, theirs) = self.answerable(id)?;
        let content = call_content(reason.clone(), None, CallContent::Decline { reason });
        self.sealed_draft(
            Kind::CallDecline,
            &ours,
            &theirs,
            &content,
            vec![req.reference()],
            None,
        )
        .await
    }

    /// Records, as this party's office on the call, that an accepted call
    /// took place from `start` to `end`. Each side records a call once; the
    /// later record references the earlier one.
    pub async fn call_record(
        &self,
        id: &str,
        start: Timestamp,
        end: Timestamp,
        participants: Vec<String>,
    ) -> Result<Appended> {
        let _one = self.act().await;
        let req = self.held(id, "call request", Kind::CallRequest)?;
        let (ours, theirs) = self.sides(&req)?;
        if self.office_signer(&ours).is_none() {
            return Err(NodeError::Forbidden(format!(
                "call {id} is {ours}'s, and this node holds no keys for it"
            )));
        }
        if end < start {
            return Err(NodeError::BadInput(format!(
                "the call cannot end ({end}) before it starts ({start})"
            )));
        }
        // A record says a call took place: one that has not ended yet cannot
        // be recorded (the clock skew allowed between nodes aside).
        let now = crate::clock::now();
        let skew = i64::try_from(self.config().max_clock_skew_secs).unwrap_or(i64::MAX);
        if end.as_second() > now.as_second().saturating_add(skew) {
            return Err(NodeError::BadInput(format!(
                "the call cannot be recorded as ending at {end}, after now ({now}): a record is written once the call is over; give the times it took place (and check this node's clock)"
            )));
        }
        names_check(&participants, "participant", MAX_PARTICIPANTS)?;
        let call = self.call_of(&req)?;
        if call.accepted.is_none() {
            return Err(NodeError::Conflict(match &call.declined {
                Some((did, _)) => {
                    format!("call {id} was declined in {did}; there is no call to record")
                }
                None => format!(
                    "call {id} has not been accepted; a record follows an accepted call (`hotline call accept {id} --at TIME` on {}'s node)",
                    call.to.split('/').next().unwrap_or_default()
                ),
            }));
        }
        if let Some(r) = call.records.iter().find(|r| r.office == ours.as_str()) {
            return Err(NodeError::Conflict(format!(
                "{ours} already recorded call {id} in {}; each side records a call once",
                r.id
            )));
        }
        let mut refs = vec![req.reference()];
        if let Some(other) = self
            .referring(&theirs.party(), &req)?
            .into_iter()
            .find(|r| {
                let g = r.entry.header();
                g.kind == Kind::CallRecord && g.from == theirs.as_str()
            })
        {
            refs.push(other.reference());
        }
        let duration_secs = u64::try_from(end.duration_since(start).as_secs()).unwrap_or(0);
        let text = format!(
            "Call {id} between {ours} and {theirs}, {start} to {end} ({}).",
            hotline_proto::claims::fmt_duration(i64::try_from(duration_secs).unwrap_or(i64::MAX))
        );
        let content = call_content(
            text,
            Some("en".into()),
            CallContent::Record {
                start,
                end,
                duration_secs,
                participants,
            },
        );
        self.sealed_draft(Kind::CallRecord, &ours, &theirs, &content, refs, None)
            .await
    }

    /// Publishes `from`'s readout of call `id` (its request's id): this
    /// side's own account, addressed to the other side's office on the call.
    /// A side may publish several; later ones amend earlier ones.
    pub async fn readout(&self, id: &str, from: &Office, content: Content) -> Result<Appended> {
        let req = self.held(id, "call request", Kind::CallRequest)?;
        let (a, b) = req.offices()?;
        if from != &a && from != &b {
            return Err(NodeError::Forbidden(format!(
                "call {id} is between {a} and {b}; a readout from {from} belongs to another channel"
            )));
        }
        if &from.party() != self.party() {
            return Err(NodeError::BadInput(format!(
                "{from} is not an office of this party ({}); each side publishes its own readout",
                self.party()
            )));
        }
        let to = if from == &a { &b } else { &a };
        check_text(self, &content, "readout")?;
        let call = self.call_of(&req)?;
        if call.accepted.is_none() {
            return Err(NodeError::Conflict(match &call.declined {
                Some((did, _)) => format!(
                    "call {id} was declined in {did}; a readout is an account of a call that took place"
                ),
                None => format!(
                    "call {id} has not been accepted yet; a readout is an account of a call that took place"
                ),
            }));
        }
        self.sealed_draft(
            Kind::Readout,
            from,
            to,
            &content,
            vec![req.reference()],
            None,
        )
        .await
    }
}
