//! Whether an inquiry's deadline was kept, on whose signatures.
//!
//! Inquiry I from S to R, a limit `w` (seconds) from the agreement:
//!
//! - **Met** is in R's favour, so it rests on S's observation: S's receipt
//!   of an ack or answer dated at most `I.time + w` (S's clock, like I's
//!   date), or a cosignature by S's witness or a neutral one of a tree of
//!   R's log holding it, by then. R's own date on its answer counts for
//!   nothing here.
//! - **Missed** is against R, so R's own signatures suffice: R receipted I
//!   at `start` (R's clock), R's own signed state reaches `start + w` (its
//!   own witness cosigned its tree then or later, or the tree holds an R
//!   entry dated then or later), and that tree's complete run of the
//!   entries referring to I holds no ack or answer dated by then.
//! - Otherwise **undetermined**, and the sentence says what each side's
//!   signatures do show (attack d: an answer R dated inside its deadline
//!   but S received after it is not "within").

use jiff::Timestamp;

use super::delivery::ReceiptStatus;
use super::{fmt_duration, plus};

/// An ack or answer by R, and S's earliest observation of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// `ru:4`.
    pub id: String,
    /// Its writer's date (R's clock).
    pub dated: Timestamp,
    /// Whether it is an answer (else an ack).
    pub answer: bool,
    /// S's earliest observation of it: when, how ("us's receipt us:9"),
    /// and whether a neutral witness made it (else S itself or its witness).
    pub observed: Option<(Timestamp, String, bool)>,
}

impl Response {
    /// Takes in an observation, keeping the earliest.
    pub fn observe(&mut self, at: Timestamp, how: String, neutral: bool) {
        if self.observed.as_ref().is_none_or(|(t, _, _)| at < *t) {
            self.observed = Some((at, how, neutral));
        }
    }
}

/// How one deadline stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The agreement sets no such deadline.
    NoLimit,
    /// Kept, on S's observation (or a neutral witness's).
    Met {
        /// The response S observed in time.
        by: String,
        /// When S (or the witness) observed it.
        observed: Timestamp,
        /// How.
        how: String,
        /// Whether a neutral witness observed it (else S or S's witness).
        neutral: bool,
    },
    /// Missed, on R's own signatures.
    Missed {
        /// R's receipt of the inquiry (R's clock).
        start: Timestamp,
        /// `start` + the limit.
        due: Timestamp,
        /// How R's own signed state reaches `due`.
        how: String,
    },
    /// Neither side's signatures settle it; why.
    Undetermined(String),
}

/// One deadline of one inquiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The limit in seconds, if the agreement sets one.
    pub limit: Option<u64>,
    /// The first response by its writer's date.
    pub first: Option<(String, Timestamp)>,
    /// The verdict.
    pub verdict: Verdict,
}

/// What the receiver's log shows about the inquiry, for [`assess`].
pub struct Receiver<'a> {
    /// R's party.
    pub party: &'a str,
    /// R's first receipt of the inquiry: date and status.
    pub receipt: Option<(Timestamp, &'a ReceiptStatus)>,
    /// How far R's own signed state reaches.
    pub covers: Option<(Timestamp, String)>,
}

/// Assesses one deadline: `limit` from the inquiry dated `sent` by S, over
/// `candidates` (every ack and answer for the ack deadline, answers only
/// for the answer deadline).
pub fn assess(
    sent: Timestamp,
    sender: &str,
    limit: Option<u64>,
    candidates: &[&Response],
    r: &Receiver<'_>,
) -> Deadline {
    let first = candidates
        .iter()
        .min_by_key(|c| c.dated)
        .map(|c| (c.id.clone(), c.dated));
    let Some(w) = limit else {
        return Deadline {
            limit,
            first,
            verdict: Verdict::NoLimit,
        };
    };
    let due_s = plus(sent, w);
    let observed = candidates
        .iter()
        .filter_map(|c| {
            c.observed
                .as_ref()
                .map(|(t, how, neutral)| (*t, how, *neutral, &c.id))
        })
        .min_by_key(|(t, _, _, _)| *t);
    if let Some((t, how, neutral, by)) = observed
        && t <= due_s
    {
        return Deadline {
            limit,
            first,
            verdict: Verdict::Met {
                by: by.clone(),
                observed: t,
                how: how.clone(),
                neutral,
            },
        };
    }
    let rp = r.party;
    let seen_late = match observed {
        Some((t, how, false, by)) => format!(
            "{sender}'s signatures show {by} only at {t} ({how}), after {due_s}, the deadline on {sender}'s clock"
        ),
        Some((t, how, true, by)) => format!(
            "the earliest observation that rests on neither side's own word shows {by} only at {t} ({how}), after {due_s}, the deadline on {sender}'s clock; {sender}'s own signatures show it no earlier"
        ),
        None => format!(
            "{sender}'s signatures show no response by {due_s}, the deadline on {sender}'s clock"
        ),
    };
    let undetermined = |why: String| Deadline {
        limit,
        first: first.clone(),
        verdict: Verdict::Undetermined(format!("{seen_late}; {why}")),
    };
    let Some((start, status)) = r.receipt else {
        return undetermined(format!(
            "{rp}'s log holds no receipt of the inquiry, so nothing signed by {rp} starts its deadline"
        ));
    };
    if let ReceiptStatus::Refused(s) = status {
        return undetermined(format!("{rp} receipted it as refused ({s})"));
    }
    let due_r = plus(start, w);
    if let Some(c) = candidates
        .iter()
        .filter(|c| c.dated <= due_r)
        .min_by_key(|c| c.dated)
    {
        return undetermined(format!(
            "{rp} dated {} {} by its own clock, within {} of its receipt of the inquiry ({start}), which only {rp}'s clock says",
            c.id,
            c.dated,
            fmt_duration(i64::try_from(w).unwrap_or(i64::MAX))
        ));
    }
    match &r.covers {
        Some((t, how)) if *t >= due_r => Deadline {
            limit,
            first,
            verdict: Verdict::Missed {
                start,
                due: due_r,
                how: how.clone(),
            },
        },
        Some((t, how)) => undetermined(format!(
            "{rp}'s own signed state reaches only {t} ({how}), before {due_r}, when {rp}'s deadline fell (its receipt at {start} plus the limit)"
        )),
        None => undetermined(format!(
            "nothing signed by {rp} shows its tree at or after {due_r}, when its deadline fell"
        )),
    }
}

impl Deadline {
    /// "acknowledged within the agreed 1d: …" and its kin.
    pub fn sentence(&self, verb: &str, sender: &str, receiver: &str) -> String {
        let limit = self
            .limit
            .map(|w| fmt_duration(i64::try_from(w).unwrap_or(i64::MAX)));
        let first = self
            .first
            .as_ref()
            .map(|(id, t)| format!("{id}, dated {t} by {receiver}"))
            .unwrap_or_else(|| "none".into());
        match (&self.verdict, limit) {
            (Verdict::NoLimit, _) => format!(
                "The agreement sets no deadline to be {verb}; the first response is {first}."
            ),
            (
                Verdict::Met {
                    by,
                    observed,
                    how,
                    neutral,
                },
                Some(l),
            ) => format!(
                "It was {verb} within the agreed {l}, on {}'s observation: {by} was seen at {observed} ({how}).",
                if *neutral {
                    "a neutral witness"
                } else {
                    sender
                }
            ),
            (Verdict::Missed { start, due, how }, Some(l)) => format!(
                "It was not {verb} within the agreed {l}, on {receiver}'s own signatures: {receiver} receipted it at {start}, its own signed state reaches {due} ({how}), and the complete run of its entries referring to the inquiry holds none dated by then (first: {first})."
            ),
            (Verdict::Undetermined(why), Some(l)) => format!(
                "Whether it was {verb} within the agreed {l} is not settled by either side's signatures: {why} (first response: {first})."
            ),
            (_, None) => String::new(),
        }
    }
}
