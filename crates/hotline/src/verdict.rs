//! What `hotline verify --json` prints: the claim, the bundle's type, the
//! sentence, and per claim its parts and whose signatures each rests on
//! (docs/claims.md) — so that a script can tell a part resting on a
//! party's own word from one resting on the other party's or a neutral
//! witness's.

use hotline_proto::bundle::{ProvedEntry, Verified, describe_cosigner, origin_party};
use hotline_proto::checkpoint::VerifiedCheckpoint;
use hotline_proto::claims::absence::Cover;
use hotline_proto::claims::deadline::{Deadline, Verdict};
use hotline_proto::claims::{entry_id, id};
use serde::Serialize;
use serde_json::{Value, json};

/// One part of a claim and the signatures it rests on.
#[derive(Serialize)]
struct Part {
    part: &'static str,
    says: String,
    rests_on: Vec<String>,
}

fn part(part: &'static str, says: impl Into<String>, rests_on: Vec<String>) -> Part {
    Part {
        part,
        says: says.into(),
        rests_on,
    }
}

fn when(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map_or_else(|| t.to_string(), |t| t.to_string())
}

/// The log's signature and every pinned cosignature of a checkpoint.
fn signatures(cp: &VerifiedCheckpoint) -> Vec<String> {
    let mut v = vec![format!(
        "{}'s log signature ({})",
        origin_party(&cp.origin),
        cp.origin
    )];
    v.extend(
        cp.cosignatures
            .iter()
            .map(|c| format!("{} at {}", describe_cosigner(&c.name), when(c.time))),
    );
    v
}

fn entry_part(name: &'static str, e: &ProvedEntry) -> Part {
    let h = e.entry.header();
    let mut rests = vec![match e.key_index {
        Some(k) => format!(
            "{}'s signature with the key announced in {}:{k}",
            h.from, h.log
        ),
        None => format!("party {}'s log key", h.from),
    }];
    rests.extend(signatures(&e.checkpoint));
    part(
        name,
        format!(
            "{} ({} from {}, dated {}) is in {} up to size {}",
            id(e),
            h.kind,
            h.from,
            h.time,
            e.checkpoint.origin,
            e.checkpoint.size
        ),
        rests,
    )
}

fn deadline_part(name: &'static str, d: &Deadline, sender: &str, receiver: &str) -> Part {
    match &d.verdict {
        Verdict::NoLimit => part(name, "no such deadline in the agreement", vec![]),
        Verdict::Met {
            by,
            observed,
            how,
            neutral,
        } => part(
            name,
            format!("met: {by} observed by {observed}"),
            vec![if *neutral {
                format!("a neutral witness's observation: {how}")
            } else {
                format!("{sender}'s observation: {how}")
            }],
        ),
        Verdict::Missed { start, due, how } => part(
            name,
            format!("missed: nothing by {due} (received {start})"),
            vec![format!("{receiver}'s own signatures: {how}")],
        ),
        Verdict::Undetermined(why) => part(name, format!("not settled: {why}"), vec![]),
    }
}

fn parts(v: &Verified) -> (&'static str, Vec<Part>) {
    match v {
        Verified::Inclusion(e) => ("inclusion", vec![entry_part("entry", e)]),
        Verified::Equivocation(f) => (
            "equivocation",
            vec![
                part(
                    "a",
                    format!("{} at size {}", f.origin, f.a.size),
                    signatures(&f.a),
                ),
                part(
                    "b",
                    format!("{} at size {}", f.origin, f.b.size),
                    signatures(&f.b),
                ),
            ],
        ),
        Verified::IndexMismatch(m) => (
            "index-mismatch",
            vec![part(
                "index",
                format!("{}: {}", m.key, m.why),
                signatures(&m.checkpoint),
            )],
        ),
        Verified::Delivery(d) => {
            let mut p = vec![entry_part("entry", &d.entry)];
            if let Some(r) = &d.receipt {
                p.push(part(
                    "receipt",
                    format!("{} received it by {} ({})", d.receiver, r.dated, r.id),
                    vec![
                        format!("{}'s receipt {} signed by {}", d.receiver, r.id, r.by),
                        format!(
                            "complete by {}",
                            d.receipts_basis.as_deref().unwrap_or("its index")
                        ),
                    ],
                ));
            }
            for s in &d.shown {
                p.push(part(
                    "shown",
                    format!("{} was shown a tree holding it by {}", d.receiver, s.at),
                    vec![s.describe()],
                ));
            }
            for s in &d.neutral {
                p.push(part(
                    "neutral",
                    "a neutral witness cosigned that tree",
                    vec![s.describe()],
                ));
            }
            ("delivery", p)
        }
        Verified::Answered(a) => {
            let sender = origin_party(&a.inquiry.checkpoint.origin).to_owned();
            let mut p = vec![entry_part("inquiry", &a.inquiry)];
            p.push(part(
                "replies",
                format!(
                    "{} entries of {}'s log refer to {}",
                    a.thread.acks.len()
                        + a.thread.answers.len()
                        + usize::from(a.thread.receipt.is_some()),
                    a.receiver,
                    id(&a.inquiry)
                ),
                vec![format!("complete by {}", a.replies_basis)],
            ));
            p.push(deadline_part("acknowledge", &a.ack, &sender, &a.receiver));
            p.push(deadline_part("answer", &a.answer, &sender, &a.receiver));
            ("answered", p)
        }
        Verified::Absence(a) => {
            let sp = a.claim.from.party().to_string();
            let mut p = vec![part(
                "run",
                format!(
                    "{} entries of the channel in {} up to size {}, {} disclosed, none dated in the window",
                    a.count,
                    a.origin,
                    a.size,
                    a.disclosed.len()
                ),
                vec![format!("complete by {}", a.basis)],
            )];
            p.push(match &a.cover {
                Cover::Own(t, how) => part(
                    "cover",
                    format!("the tree covers the window's end ({t})"),
                    vec![format!("{sp}'s own signatures: {how}")],
                ),
                Cover::Neutral(s) => part(
                    "cover",
                    format!("the tree covers the window's end ({})", s.at),
                    vec![s.describe()],
                ),
            });
            for s in &a.cosigners {
                p.push(part(
                    "cosigned",
                    format!("{:?} witness", s.role).to_lowercase(),
                    vec![s.describe()],
                ));
            }
            ("absence", p)
        }
        Verified::Stats(s) => {
            let (ack, ans) = (s.ack(), s.answer());
            // Met is what the sender saw in time; missed, what the receiver signed late.
            let deadline = |name, met, missed, undetermined| {
                part(
                    name,
                    format!("{met} met, {missed} missed, {undetermined} not settled"),
                    vec![
                        format!("met: on {}'s observation", s.channel.from.party()),
                        format!("missed: on {}'s own signatures", s.channel.to.party()),
                    ],
                )
            };
            (
                "stats",
                vec![
                    part(
                        "inquiries",
                        format!("{} sent, {} delivered", s.sent(), s.delivered()),
                        vec![format!("complete by {}", s.basis.0), s.cover.clone()],
                    ),
                    part(
                        "replies",
                        "every reply to each inquiry of the month",
                        vec![format!("complete by {}", s.basis.1)],
                    ),
                    deadline("acknowledge", ack.met, ack.missed, ack.undetermined),
                    deadline("answer", ans.met, ans.missed, ans.undetermined),
                ],
            )
        }
        Verified::Opening(o) => (
            "opening",
            vec![
                entry_part("entry", &o.entry),
                part(
                    "content",
                    "the plaintext matches the entry's salted commitment",
                    vec![format!("the signature on {}", id(&o.entry))],
                ),
            ],
        ),
        Verified::Statement(s) => {
            let mut p = vec![entry_part("statement", &s.statement)];
            if let Some(e) = &s.endorsement {
                p.push(entry_part("endorsement", e));
            }
            p.push(part(
                "text",
                format!("the text hashes to the digest {}", s.digest),
                std::iter::once(&s.statement)
                    .chain(&s.endorsement)
                    .map(|e| format!("the signature on {}", entry_id(&e.entry, e.index)))
                    .collect(),
            ));
            ("statement", p)
        }
    }
}

/// The JSON `hotline verify --json` prints for a verified bundle.
pub fn verified(v: &Verified, bundle_type: &str) -> Value {
    let (claim, parts) = parts(v);
    json!({
        "verified": true,
        "claim": claim,
        "bundle": bundle_type,
        "sentence": v.sentence(),
        "parts": parts,
    })
}

/// The `bundle` field of a bundle's JSON, if it has one.
pub fn bundle_type(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct T {
        bundle: Option<String>,
    }
    serde_json::from_slice::<T>(bytes)
        .ok()
        .and_then(|t| t.bundle)
        .unwrap_or_default()
}
