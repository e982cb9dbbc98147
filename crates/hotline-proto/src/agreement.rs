//! Agreements: the bilateral legal mechanisms traffic moves under, and the
//! policy derived from them.
//!
//! Terms sit in the clear in the proposal's header: anyone checking a claim
//! about deadlines must be able to read them. An agreement's state is folded
//! from `agreement` entries of both parties' logs (proposal, the other party's
//! signature, withdrawals) — never stored separately.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::entry::{Kind, SignedEntry};
use crate::party::{Office, Party};

/// Status strings of `agreement` entries.
pub mod status {
    /// A proposal (carries the terms).
    pub const PROPOSED: &str = "proposed";
    /// The other party's signature.
    pub const SIGNED: &str = "signed";
    /// A withdrawal (takes effect after the terms' notice).
    pub const WITHDRAWN: &str = "withdrawn";
}

/// One channel an agreement opens: two counterpart offices (both directions)
/// and the kinds of entry they may exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelTerms {
    /// The two offices, one of each party.
    pub offices: [Office; 2],
    /// The kinds of entry allowed on it.
    pub kinds: Vec<Kind>,
}

/// The terms of an agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// What the agreement is.
    pub title: String,
    /// When it starts to apply.
    pub start: Timestamp,
    /// When it stops applying, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
    /// Seconds between a withdrawal and its effect.
    pub notice_secs: u64,
    /// Languages of the exchanges (BCP 47).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Inquiries must be acknowledged within this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_within_secs: Option<u64>,
    /// Inquiries must be answered within this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_within_secs: Option<u64>,
    /// The channels it opens.
    pub channels: Vec<ChannelTerms>,
}

/// Why terms are not acceptable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid agreement terms: {0}")]
pub struct TermsError(pub String);

impl Terms {
    /// Checks the terms make sense: two parties, real channels, sane dates.
    pub fn validate(&self) -> Result<(Party, Party), TermsError> {
        let bad = |s: String| Err(TermsError(s));
        if self.title.trim().is_empty() {
            return bad("the title is empty".into());
        }
        if self.end.is_some_and(|e| e <= self.start) {
            return bad("end must be after start".into());
        }
        let Some(first) = self.channels.first() else {
            return bad("no channel is opened".into());
        };
        let (a, b) = (first.offices[0].party(), first.offices[1].party());
        if a == b {
            return bad(format!(
                "channel {} ↔ {} is inside one party",
                first.offices[0], first.offices[1]
            ));
        }
        for c in &self.channels {
            let (x, y) = (c.offices[0].party(), c.offices[1].party());
            if !((x == a && y == b) || (x == b && y == a)) {
                return bad(format!(
                    "channel {} ↔ {} is not between {a} and {b}",
                    c.offices[0], c.offices[1]
                ));
            }
            if c.kinds.is_empty() {
                return bad(format!(
                    "channel {} ↔ {} allows no kind of entry",
                    c.offices[0], c.offices[1]
                ));
            }
            if let Some(k) = c.kinds.iter().find(|k| !needs_agreement(**k)) {
                return bad(format!("{k} entries need no agreement; leave them out"));
            }
        }
        Ok((a, b))
    }

    /// Whether the terms open `from → to` for `kind`.
    pub fn allows(&self, from: &Office, to: &Office, kind: Kind) -> bool {
        self.channels.iter().any(|c| {
            ((&c.offices[0] == from && &c.offices[1] == to)
                || (&c.offices[1] == from && &c.offices[0] == to))
                && c.kinds.contains(&kind)
        })
    }
}

/// Whether entries of this kind move only under an agreement.
pub fn needs_agreement(kind: Kind) -> bool {
    !matches!(kind, Kind::Key | Kind::Agreement | Kind::Receipt)
}

/// An agreement as folded from both logs.
#[derive(Clone, Debug, Serialize)]
pub struct Agreement {
    /// Its id (`party:index` of the proposal).
    pub id: String,
    /// The proposing party.
    pub proposer: Party,
    /// The other party.
    pub counterparty: Party,
    /// Its terms.
    pub terms: Terms,
    /// When it was proposed (proposer's clock).
    pub proposed_at: Timestamp,
    /// When the other party signed (its clock), if it has.
    pub signed_at: Option<Timestamp>,
    /// The first withdrawal: who, and when it takes effect.
    pub withdrawn: Option<(Party, Timestamp)>,
}

/// An agreement's state at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for the other party's signature.
    Proposed,
    /// Signed by both, but its start is still ahead.
    Pending,
    /// In force.
    InForce,
    /// Withdrawn and past its notice.
    Withdrawn,
    /// Past its end.
    Expired,
}

impl Agreement {
    /// Its state at `t`.
    pub fn state(&self, t: Timestamp) -> State {
        if self.signed_at.is_none() {
            return State::Proposed;
        }
        if self.withdrawn.as_ref().is_some_and(|(_, eff)| *eff <= t) {
            return State::Withdrawn;
        }
        if self.terms.end.is_some_and(|e| e <= t) {
            return State::Expired;
        }
        if t < self.terms.start {
            return State::Pending;
        }
        State::InForce
    }

    /// Whether it is in force at `t`.
    pub fn in_force(&self, t: Timestamp) -> bool {
        self.state(t) == State::InForce
    }
}

/// Parses `party:index`.
pub fn parse_id(id: &str) -> Option<(Party, u64)> {
    let (p, i) = id.split_once(':')?;
    if i.is_empty() || !i.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Logs are indexed by signed 64-bit integers in storage.
    let index: u64 = i.parse().ok().filter(|n| *n <= i64::MAX as u64)?;
    Some((Party::new(p).ok()?, index))
}

/// Folds `agreement` entries of any logs into agreements. Entries are
/// `(index, entry)`; their log is in their header. Signatures and
/// withdrawals must reference the proposal by id and leaf hash, and come from
/// a party of the agreement (signatures: the counterparty only).
pub fn fold<'a>(entries: impl IntoIterator<Item = (u64, &'a SignedEntry)>) -> Vec<Agreement> {
    let mut list: Vec<Agreement> = Vec::new();
    let mut hashes: Vec<String> = Vec::new();
    let mut later = Vec::new();
    for (index, e) in entries {
        let h = e.header();
        if h.kind != Kind::Agreement {
            continue;
        }
        match (h.status.as_deref(), &h.terms) {
            (Some(status::PROPOSED), Some(terms)) => {
                let Ok((a, b)) = terms.validate() else {
                    continue;
                };
                if h.from != h.log.as_str() || (h.log != a && h.log != b) {
                    continue;
                }
                let counterparty = if h.log == a { b } else { a };
                hashes.push(crate::b64::encode(e.leaf_hash().0));
                list.push(Agreement {
                    id: format!("{}:{index}", h.log),
                    proposer: h.log.clone(),
                    counterparty,
                    terms: terms.clone(),
                    proposed_at: h.time,
                    signed_at: None,
                    withdrawn: None,
                });
            }
            _ => later.push((index, e)),
        }
    }
    for (_, e) in later {
        let h = e.header();
        let Some(r) = h.refs.first() else { continue };
        if h.from != h.log.as_str() {
            continue;
        }
        let id = format!("{}:{}", r.log, r.index);
        let Some(a) = list.iter_mut().find(|a| a.id == id) else {
            continue;
        };
        match h.status.as_deref() {
            Some(status::SIGNED) if h.log == a.counterparty => {
                a.signed_at = Some(a.signed_at.map_or(h.time, |s| s.min(h.time)));
            }
            Some(status::WITHDRAWN) if h.log == a.counterparty || h.log == a.proposer => {
                let eff = h.time.checked_add(jiff::SignedDuration::from_secs(
                    i64::try_from(a.terms.notice_secs).unwrap_or(i64::MAX),
                ));
                let eff = eff.unwrap_or(Timestamp::MAX);
                if a.withdrawn.as_ref().is_none_or(|(_, w)| eff < *w) {
                    a.withdrawn = Some((h.log.clone(), eff));
                }
            }
            _ => {}
        }
    }
    list
}

/// Finds an agreement in force at `t` that allows `from → to` for `kind`.
pub fn allowing<'a>(
    agreements: &'a [Agreement],
    from: &Office,
    to: &Office,
    kind: Kind,
    t: Timestamp,
) -> Option<&'a Agreement> {
    agreements
        .iter()
        .find(|a| a.in_force(t) && a.terms.allows(from, to, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Header, Ref};
    use crate::keys::{ALG_ED25519, NoteKey, os_rng};

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn terms() -> Terms {
        Terms {
            title: "Cybercrime cooperation".into(),
            start: t("2021-06-01T00:00:00Z"),
            end: Some(t("2026-06-01T00:00:00Z")),
            notice_secs: 30 * 86400,
            languages: vec!["en".into(), "ru".into()],
            ack_within_secs: Some(86400),
            answer_within_secs: Some(30 * 86400),
            channels: vec![ChannelTerms {
                offices: [
                    Office::new("us/fbi").unwrap(),
                    Office::new("ru/fsb").unwrap(),
                ],
                kinds: vec![Kind::Inquiry, Kind::Ack, Kind::Answer],
            }],
        }
    }

    fn entry(
        log: &str,
        time: &str,
        status: &str,
        terms: Option<Terms>,
        refs: Vec<Ref>,
    ) -> SignedEntry {
        let k = NoteKey::generate(&format!("hotline/{log}"), ALG_ED25519, &mut os_rng()).unwrap();
        let mut h = Header::new(
            Party::new(log).unwrap(),
            Kind::Agreement,
            log,
            None,
            t(time),
        );
        h.refs = refs;
        h.status = Some(status.into());
        h.terms = terms;
        SignedEntry::sign(h, |m| k.sign_raw(m)).unwrap()
    }

    fn reference(e: &SignedEntry, index: u64) -> Ref {
        Ref {
            log: e.header().log.clone(),
            index,
            leaf_hash: crate::b64::encode(e.leaf_hash().0),
        }
    }

    #[test]
    fn in_force_only_once_both_signed_and_within_dates_and_notice() {
        let p = entry(
            "us",
            "2021-05-20T00:00:00Z",
            status::PROPOSED,
            Some(terms()),
            vec![],
        );
        let a = fold([(3, &p)]);
        assert_eq!(a[0].id, "us:3");
        assert_eq!(a[0].state(t("2021-07-01T00:00:00Z")), State::Proposed);
        // A signature by the proposer itself does not count.
        let own = entry(
            "us",
            "2021-05-21T00:00:00Z",
            status::SIGNED,
            None,
            vec![reference(&p, 3)],
        );
        assert_eq!(
            fold([(3, &p), (4, &own)])[0].state(t("2021-07-01T00:00:00Z")),
            State::Proposed
        );
        let s = entry(
            "ru",
            "2021-05-25T00:00:00Z",
            status::SIGNED,
            None,
            vec![reference(&p, 3)],
        );
        let a = fold([(3, &p), (9, &s)]);
        assert_eq!(a[0].state(t("2021-05-30T00:00:00Z")), State::Pending);
        assert!(a[0].in_force(t("2021-07-01T00:00:00Z")));
        assert_eq!(a[0].state(t("2026-06-01T00:00:00Z")), State::Expired);
        let fbi = Office::new("us/fbi").unwrap();
        let fsb = Office::new("ru/fsb").unwrap();
        assert!(
            a[0].terms.allows(&fsb, &fbi, Kind::Answer),
            "both directions"
        );
        assert!(
            !a[0].terms.allows(&fbi, &fsb, Kind::Message),
            "only the kinds listed"
        );
        let w = entry(
            "ru",
            "2021-08-01T00:00:00Z",
            status::WITHDRAWN,
            None,
            vec![reference(&p, 3)],
        );
        let a = fold([(3, &p), (9, &s), (12, &w)]);
        assert!(
            a[0].in_force(t("2021-08-30T00:00:00Z")),
            "within the notice"
        );
        assert_eq!(a[0].state(t("2021-09-01T00:00:00Z")), State::Withdrawn);
        assert!(allowing(&a, &fbi, &fsb, Kind::Inquiry, t("2021-08-01T00:00:00Z")).is_some());
        assert!(allowing(&a, &fbi, &fsb, Kind::Inquiry, t("2021-09-01T00:00:00Z")).is_none());
    }

    #[test]
    fn bad_terms_are_refused_with_a_reason() {
        let mut x = terms();
        x.channels[0].offices[1] = Office::new("us/state").unwrap();
        assert!(x.validate().unwrap_err().0.contains("inside one party"));
        let mut x = terms();
        x.end = Some(x.start);
        assert!(
            x.validate()
                .unwrap_err()
                .0
                .contains("end must be after start")
        );
        let mut x = terms();
        x.channels[0].kinds.push(Kind::Receipt);
        assert!(x.validate().unwrap_err().0.contains("need no agreement"));
        assert_eq!(parse_id("us:17"), Some((Party::new("us").unwrap(), 17)));
        assert_eq!(parse_id("us-17"), None);
    }
}
