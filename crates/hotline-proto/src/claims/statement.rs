//! `hotline/statement/v2`: a joint statement — a text one office proposed
//! and, if the bundle holds an endorsement, the counterpart office signed too.
//!
//! ```text
//! {"bundle": "hotline/statement/v2",
//!  "text": "<the statement's text>",
//!  "lang": "en",                          // optional, as the proposer stated it
//!  "proposer": <log>,                     // the proposer's checkpoint and key history
//!  "statement": "<tlog-proof under proposer.checkpoint>",
//!  "counterpart": <log>,                  // optional, with the endorsement
//!  "endorsement": "<tlog-proof under counterpart.checkpoint>"}
//! ```
//!
//! The statement's header carries `digest`, the base64 SHA-256 of the text's
//! exact UTF-8 bytes ([`crate::entry::text_digest`]); the text in the bundle
//! must hash to it. The endorsement's first reference is the statement (log,
//! index, leaf hash), its digest is the statement's, and it is signed by the
//! office the statement was addressed to, in that office's party's log. The
//! contents of both entries stay sealed: the text is shown by the bundle and
//! bound to both signatures by the digest. `lang` is not covered by either
//! signature.

use serde::{Deserialize, Serialize};

use super::history::{LogEvidence, LogJson, check_log};
use super::{
    STATEMENT_V2, from_slice, id, malformed, mismatch, reference, refers_to, require_kind, to_json,
};
use crate::bundle::{BundleError, Keyring, ProvedEntry, TlogProof, describe_signatures};
use crate::entry::{Kind, text_digest};
use crate::party::Office;

/// How much of the text a sentence quotes, in characters.
const QUOTE_CHARS: usize = 200;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatementJson {
    bundle: String,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lang: Option<String>,
    proposer: LogJson,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    statement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    counterpart: Option<LogJson>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::limits::opt_tlog_proof_text"
    )]
    endorsement: Option<String>,
}

/// Writes a statement bundle.
pub fn statement_bundle(
    text: &str,
    lang: Option<&str>,
    proposer: &LogEvidence,
    statement: &TlogProof,
    endorsement: Option<(&LogEvidence, &TlogProof)>,
) -> String {
    to_json(&StatementJson {
        bundle: STATEMENT_V2.into(),
        text: text.to_owned(),
        lang: lang.map(str::to_owned),
        proposer: proposer.into(),
        statement: statement.to_text(),
        counterpart: endorsement.map(|(l, _)| l.into()),
        endorsement: endorsement.map(|(_, e)| e.to_text()),
    })
}

/// A statement proved, jointly (with its endorsement) or one-sided.
#[derive(Clone, Debug)]
pub struct ProvedStatement {
    /// The text both (or one) signed.
    pub text: String,
    /// Its language as the bundle states it (not signed).
    pub lang: Option<String>,
    /// Its digest, base64 SHA-256.
    pub digest: String,
    /// The proposing office's statement, in its party's log.
    pub statement: ProvedEntry,
    /// The addressed office's endorsement, in its party's log, if the bundle has one.
    pub endorsement: Option<ProvedEntry>,
}

/// Verifies a statement bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedStatement, BundleError> {
    let j: StatementJson = from_slice(bytes)?;
    let mut proposer = check_log(&j.proposer, keys, "proposer")?;
    let statement = proposer.entry(&j.statement, keys, "statement")?;
    proposer.check_times()?;
    let sid = id(&statement);
    let h = statement.entry.header();
    require_kind(&statement, Kind::Statement, "statement", "a statement")?;
    Office::new(&h.from).map_err(|_| mismatch(format!("statement {sid} is not from an office")))?;
    let to =
        h.to.clone()
            .ok_or_else(|| mismatch(format!("statement {sid} is addressed to no office")))?;
    let digest = h
        .digest
        .clone()
        .ok_or_else(|| malformed(format!("statement {sid} carries no digest")))?;
    let computed = text_digest(&j.text);
    if computed != digest {
        return Err(mismatch(format!(
            "the bundle's text has SHA-256 {computed}, but statement {sid} signed {digest}: it is not the text that was signed"
        )));
    }
    let endorsement = match (&j.counterpart, &j.endorsement) {
        (None, None) => None,
        (Some(c), Some(e)) => {
            let mut c = check_log(c, keys, "counterpart")?;
            let e = c.entry(e, keys, "endorsement")?;
            c.check_times()?;
            let eid = id(&e);
            let g = e.entry.header();
            require_kind(&e, Kind::Endorsement, "endorsement", "an endorsement")?;
            if !refers_to(&e.entry, &reference(&statement.entry, statement.index)) {
                return Err(mismatch(format!(
                    "endorsement {eid} does not reference statement {sid} (its first reference must be {sid} with its leaf hash)"
                )));
            }
            if g.digest.as_deref() != Some(digest.as_str()) {
                return Err(mismatch(format!(
                    "endorsement {eid} signs digest {}, not statement {sid}'s {digest}",
                    g.digest.as_deref().unwrap_or("(none)")
                )));
            }
            if g.from != to.as_str() || g.log != to.party() {
                return Err(mismatch(format!(
                    "endorsement {eid} is by {} in the log of {}, not by the addressed office {to}",
                    g.from, g.log
                )));
            }
            Some(e)
        }
        _ => {
            return Err(mismatch(
                "counterpart and endorsement come together: the counterpart's checkpoint and key history, and the endorsement under it",
            ));
        }
    };
    Ok(ProvedStatement {
        text: j.text,
        lang: j.lang,
        digest,
        statement,
        endorsement,
    })
}

/// The first [`QUOTE_CHARS`] characters of `text`, with `…` if cut, and
/// control characters (line breaks, tabs) escaped as `\n`, `\t`, … so that
/// the sentence stays one line and shows exactly what was signed.
fn quote(text: &str) -> String {
    let mut q = String::new();
    for c in text.chars().take(QUOTE_CHARS) {
        if c.is_control() {
            q.extend(c.escape_default());
        } else {
            q.push(c);
        }
    }
    if text.chars().nth(QUOTE_CHARS).is_some() {
        q.push('…');
    }
    q
}

impl ProvedStatement {
    /// The proved claim in a few sentences.
    pub fn sentence(&self) -> String {
        let s = &self.statement;
        let h = s.entry.header();
        let to = h.to.as_ref().map(ToString::to_string).unwrap_or_default();
        let statement_in = format!(
            "Statement {} is in {} (tree of size {}, {}).{}",
            id(s),
            s.checkpoint.origin,
            s.checkpoint.size,
            describe_signatures(&s.checkpoint),
            super::inclusion::signed_by(s)
        );
        match &self.endorsement {
            Some(e) => {
                let g = e.entry.header();
                format!(
                    "Joint statement: {} ({}, dated {}) and {} ({}, dated {}) signed the same text (SHA-256 {}): «{}». {statement_in} Endorsement {} is in {} (tree of size {}, {}).{}",
                    h.from,
                    id(s),
                    h.time,
                    g.from,
                    id(e),
                    g.time,
                    self.digest,
                    quote(&self.text),
                    id(e),
                    e.checkpoint.origin,
                    e.checkpoint.size,
                    describe_signatures(&e.checkpoint),
                    super::inclusion::signed_by(e)
                )
            }
            None => format!(
                "One-sided statement: only {} signed the text (SHA-256 {}) in {} dated {}, addressed to {to}: «{}»; the bundle holds no endorsement by {to}. {statement_in}",
                h.from,
                self.digest,
                id(s),
                h.time,
                quote(&self.text),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_are_cut_on_characters() {
        assert_eq!(quote("short"), "short");
        let long = "я".repeat(250);
        let q = quote(&long);
        assert_eq!(q.chars().count(), 201);
        assert!(q.ends_with("я…"));
        assert_eq!(quote(&"x".repeat(200)), "x".repeat(200));
        assert_eq!(quote("One.\nTwo.\t\u{7}\n"), "One.\\nTwo.\\t\\u{7}\\n");
    }
}
