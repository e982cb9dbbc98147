//! `hotline/absence/v2`: no entry of a kind on a channel, dated in a
//! window, in the sender's log as of a tree that covers the window.
//!
//! ```text
//! {"bundle": "hotline/absence/v2",
//!  "kind": "inquiry", "from": "us/fbi", "to": "ru/fsb",
//!  "since": "2021-07-01T00:00:00Z", "until": "2021-08-01T00:00:00Z",
//!  "log": <log>,                     // S's checkpoint C_S and key history
//!  "run": <keyed run of kind/<kind>/<from>/<to> at C_S>}
//! ```
//!
//! The run's `base` is the channel's state before the last entry dated
//! before `since`, whose leaf is the first disclosed (`base` is absent when
//! there is none, and every entry is disclosed); dates never go backwards,
//! so every entry before it is dated before the window too. No disclosed
//! entry is dated in `[since, until]`. Only this channel's entries and the
//! log's key entries are in the bundle: no header of any other channel.
//!
//! Who might lie: either side (the claim can favour either). So the end of
//! the window must be covered by S's own signatures — its own witness
//! cosigned C_S at or after `until`, or C_S holds a disclosed entry dated
//! after `until` — or by a neutral witness's cosignature at or after it.
//! The receiving party's cosignature alone never covers it: R could cosign
//! an older tree of S late (attack b). The sentence says separately what
//! S's signed state and each cosigner shows.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::history::{LogEvidence, LogJson, check_log};
use super::roles::{Role, Seen, cosigners, index_basis};
use super::{ABSENCE_V2, from_slice, malformed, mismatch, to_json};
use crate::bundle::{BundleError, Keyring};
use crate::entry::Kind;
use crate::index::{self, KeyedRun, KeyedRunJson};
use crate::party::Office;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AbsenceJson {
    bundle: String,
    kind: Kind,
    from: Office,
    to: Office,
    since: Timestamp,
    until: Timestamp,
    log: LogJson,
    run: KeyedRunJson,
}

/// What an absence bundle claims: no `kind` from `from` to `to` dated
/// between `since` and `until` in `from`'s party's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbsenceClaim {
    /// The kind of entry claimed absent.
    pub kind: Kind,
    /// The sending office (its party's log is the one searched).
    pub from: Office,
    /// The addressed office.
    pub to: Office,
    /// The window's start.
    pub since: Timestamp,
    /// The window's end.
    pub until: Timestamp,
}

impl AbsenceClaim {
    /// The index key of the claim's channel.
    pub fn key(&self) -> String {
        index::channel_key(self.kind, self.from.as_str(), Some(self.to.as_str()))
    }
}

/// Writes an absence bundle: the claim, S's checkpoint and key history, and
/// the run of the channel's key at that checkpoint.
pub fn absence_bundle(claim: &AbsenceClaim, log: &LogEvidence, run: &KeyedRun) -> String {
    to_json(&AbsenceJson {
        bundle: ABSENCE_V2.into(),
        kind: claim.kind,
        from: claim.from.clone(),
        to: claim.to.clone(),
        since: claim.since,
        until: claim.until,
        log: log.into(),
        run: run.into(),
    })
}

/// What covers the window's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cover {
    /// S's own signatures: how.
    Own(Timestamp, String),
    /// A neutral witness.
    Neutral(Seen),
}

/// An absence proved.
#[derive(Clone, Debug)]
pub struct ProvedAbsence {
    /// The claim.
    pub claim: AbsenceClaim,
    /// The log.
    pub origin: String,
    /// C_S's size.
    pub size: u64,
    /// How many entries the channel has up to C_S.
    pub count: u64,
    /// The disclosed entries: `party:index` and date.
    pub disclosed: Vec<(String, Timestamp)>,
    /// What covers the window's end.
    pub cover: Cover,
    /// Every cosignature on C_S with its role.
    pub cosigners: Vec<Seen>,
    /// On what the index rests.
    pub basis: String,
}

/// Verifies an absence bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedAbsence, BundleError> {
    let j: AbsenceJson = from_slice(bytes)?;
    if j.since > j.until {
        return Err(malformed(format!(
            "since ({}) is after until ({})",
            j.since, j.until
        )));
    }
    let claim = AbsenceClaim {
        kind: j.kind,
        from: j.from,
        to: j.to,
        since: j.since,
        until: j.until,
    };
    let mut s = check_log(&j.log, keys, "log")?;
    if s.party() != claim.from.party().as_str() {
        return Err(mismatch(format!(
            "an entry from {} can only be in the log of {}, not in {}",
            claim.from,
            claim.from.party(),
            s.origin()
        )));
    }
    let rp = claim.to.party().to_string();
    let run = s.run(&j.run, &claim.key(), false, "run")?;
    if run.base_count > 0 {
        match run.entries.first() {
            None => {
                return Err(mismatch(
                    "the run has a base but discloses no entry: it must begin with the last entry dated before the window",
                ));
            }
            Some((i, e)) if e.header().time >= claim.since => {
                return Err(mismatch(format!(
                    "the run starts after {} of the channel's entries at {}, dated {}, not before the window: the last entry dated before {} must be disclosed, with the state before it as base",
                    run.base_count,
                    s.id(*i),
                    e.header().time,
                    claim.since
                )));
            }
            Some(_) => {}
        }
    }
    for (i, e) in &run.entries {
        let t = e.header().time;
        if t >= claim.since && t <= claim.until {
            return Err(BundleError::Contradicted {
                entry: s.id(*i),
                why: format!(
                    "it is {} {} from {} to {}, dated {t} by its writer",
                    article(claim.kind),
                    claim.kind,
                    claim.from,
                    claim.to
                ),
            });
        }
    }
    s.check_times()?;
    let seen = cosigners(&s.checkpoint, &rp);
    let own = seen
        .iter()
        .filter(|c| c.role == Role::Own && c.at >= claim.until)
        .map(|c| {
            (
                c.at,
                format!("{}'s own witness cosigned it at {}", s.party(), c.at),
            )
        })
        .next();
    let dated = s
        .disclosed
        .iter()
        .rev()
        .find(|(_, e)| e.header().time > claim.until)
        .map(|(i, e)| {
            (
                e.header().time,
                format!("it holds {} dated {}", s.id(*i), e.header().time),
            )
        });
    let neutral = seen
        .iter()
        .find(|c| c.role == Role::Neutral && c.at >= claim.until);
    let cover = match (own.or(dated), neutral) {
        (Some((t, how)), _) => Cover::Own(t, how),
        (None, Some(n)) => Cover::Neutral(n.clone()),
        (None, None) => {
            let others: Vec<String> = seen
                .iter()
                .filter(|c| c.role == Role::Other && c.at >= claim.until)
                .map(Seen::describe)
                .collect();
            let why = if others.is_empty() {
                String::new()
            } else {
                format!(
                    "; only {} cosigned it after the window, and {rp}'s cosignature alone never covers it: the claim may favour {rp}, who could cosign an older tree late",
                    others.join(", ")
                )
            };
            return Err(BundleError::NotBracketed(format!(
                "nothing shows that {}'s tree of size {} covers {}: neither its own witness cosigned it then or later, nor does it hold a disclosed entry dated after it, nor did a neutral witness cosign it then or later{why}",
                s.party(),
                s.checkpoint.size,
                claim.until
            )));
        }
    };
    Ok(ProvedAbsence {
        origin: s.origin().to_owned(),
        size: s.checkpoint.size,
        count: run.state.count,
        disclosed: run
            .entries
            .iter()
            .map(|(i, e)| (s.id(*i), e.header().time))
            .collect(),
        cover,
        basis: index_basis(&s.checkpoint, &rp),
        cosigners: seen,
        claim,
    })
}

fn article(k: Kind) -> &'static str {
    if k.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

impl ProvedAbsence {
    /// The proved claim in a few sentences.
    pub fn sentence(&self) -> String {
        let c = &self.claim;
        let sp = c.from.party();
        let rp = c.to.party();
        let disclosed = match self.disclosed.len() {
            0 => "it has none".to_owned(),
            _ => {
                let l: Vec<String> = self
                    .disclosed
                    .iter()
                    .map(|(i, t)| format!("{i} dated {t}"))
                    .collect();
                format!(
                    "the ones nearest the window are disclosed, headers only: {}",
                    l.join(", ")
                )
            }
        };
        let cover = match &self.cover {
            Cover::Own(_, how) => {
                format!("on {sp}'s own signatures, that tree covers the window's end: {how}")
            }
            Cover::Neutral(n) => format!(
                "the window's end is covered by a neutral witness: {} cosigned that tree",
                n.describe()
            ),
        };
        let mut s = format!(
            "No {} from {} to {} dated (by {sp}'s clock) between {} and {} is in {} up to its tree of size {}: the channel has {} such entries there, complete by {}, and {disclosed}; {cover}.",
            c.kind, c.from, c.to, c.since, c.until, self.origin, self.size, self.count, self.basis,
        );
        for w in &self.cosigners {
            s += &match w.role {
                Role::Own => format!(
                    " {sp}'s own witness cosigned that tree at {} ({sp}'s word).",
                    w.at
                ),
                Role::Other => format!(
                    " {} cosigned that tree, so {rp} was shown it by then.",
                    w.describe()
                ),
                Role::Neutral => format!(" {} cosigned that tree.", w.describe()),
            };
        }
        s
    }
}
