//! `hotline/opening/v2`: one entry's plaintext, matched against the salted
//! commitment its header carries, and nothing else.
//!
//! ```text
//! {"bundle": "hotline/opening/v2",
//!  "log": <log>,                     // the log's checkpoint and key history (history.rs)
//!  "entry": "<tlog-proof under log.checkpoint>",
//!  "salt": "<base64, 32 bytes>",
//!  "plaintext": "<base64>"}
//! ```
//!
//! `seal::commitment(salt, plaintext)` must equal the header's
//! `body.commitment`. The salt is unique to the entry, so the opening reveals
//! this entry's content and no other's. The entry's signature is judged
//! against the log's complete key history, so an office key rotated away or
//! revoked before it does not sign it.

use serde::{Deserialize, Serialize};

use super::history::{LogEvidence, LogJson, check_log};
use super::{OPENING_V2, entry_in_tree, from_slice, id, to_json};
use crate::b64;
use crate::bundle::{BundleError, Keyring, ProvedEntry, TlogProof};
use crate::seal;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpeningJson {
    bundle: String,
    log: LogJson,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    entry: String,
    salt: String,
    plaintext: String,
}

/// Writes an opening bundle.
pub fn opening_bundle(
    log: &LogEvidence,
    entry: &TlogProof,
    salt: &[u8; 32],
    plaintext: &[u8],
) -> String {
    to_json(&OpeningJson {
        bundle: OPENING_V2.into(),
        log: log.into(),
        entry: entry.to_text(),
        salt: b64::encode(salt),
        plaintext: b64::encode(plaintext),
    })
}

/// An entry's content proved.
#[derive(Clone, Debug)]
pub struct ProvedOpening {
    /// The entry.
    pub entry: ProvedEntry,
    /// The plaintext it committed to.
    pub plaintext: Vec<u8>,
    /// The plaintext's `subject`, if it is JSON with one.
    pub subject: Option<String>,
    /// The plaintext's `text`, if it is JSON with one.
    pub text: Option<String>,
    /// The plaintext's other top-level fields, if it is a JSON object.
    pub other_fields: Vec<String>,
}

/// Most names of other fields an opening lists; the rest are counted
/// (a repeated name each time).
const MAX_OTHER_FIELDS: usize = 32;

/// What the sentence quotes from a plaintext that is a JSON object: its
/// `subject` and `text` strings and the names of its other fields (sorted,
/// the last of a repeated name winning, as a JSON object reads). The
/// values of the other fields are skipped as they are parsed: a plaintext
/// is whatever its writer committed to, and need not be a small object.
#[derive(Default)]
struct Quoted {
    subject: Option<String>,
    text: Option<String>,
    other_fields: Vec<String>,
}

impl<'de> Deserialize<'de> for Quoted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use std::collections::BTreeSet;

        use serde::de::{IgnoredAny, MapAccess, Visitor};

        /// A string value, or nothing for any other JSON value (skipped).
        struct MaybeString(Option<String>);
        impl<'de> Deserialize<'de> for MaybeString {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = MaybeString;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("any JSON value")
                    }
                    fn visit_str<E>(self, s: &str) -> Result<MaybeString, E> {
                        Ok(MaybeString(Some(s.to_owned())))
                    }
                    fn visit_string<E>(self, s: String) -> Result<MaybeString, E> {
                        Ok(MaybeString(Some(s)))
                    }
                    fn visit_bool<E>(self, _: bool) -> Result<MaybeString, E> {
                        Ok(MaybeString(None))
                    }
                    fn visit_i64<E>(self, _: i64) -> Result<MaybeString, E> {
                        Ok(MaybeString(None))
                    }
                    fn visit_u64<E>(self, _: u64) -> Result<MaybeString, E> {
                        Ok(MaybeString(None))
                    }
                    fn visit_f64<E>(self, _: f64) -> Result<MaybeString, E> {
                        Ok(MaybeString(None))
                    }
                    fn visit_unit<E>(self) -> Result<MaybeString, E> {
                        Ok(MaybeString(None))
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(
                        self,
                        mut a: A,
                    ) -> Result<MaybeString, A::Error> {
                        while a.next_element::<IgnoredAny>()?.is_some() {}
                        Ok(MaybeString(None))
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut a: A,
                    ) -> Result<MaybeString, A::Error> {
                        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                        Ok(MaybeString(None))
                    }
                }
                d.deserialize_any(V)
            }
        }

        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Quoted;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Quoted, A::Error> {
                let mut q = Quoted::default();
                let mut others = BTreeSet::new();
                let mut more = 0u64;
                while let Some(k) = a.next_key::<String>()? {
                    let slot = match k.as_str() {
                        "subject" => Some(&mut q.subject),
                        "text" => Some(&mut q.text),
                        _ => None,
                    };
                    match slot {
                        Some(slot) => {
                            *slot = a.next_value::<MaybeString>()?.0;
                            if slot.is_some() {
                                others.remove(&k);
                                continue;
                            }
                        }
                        None => {
                            a.next_value::<IgnoredAny>()?;
                        }
                    }
                    // The first names are listed; past the limit, only
                    // counted, so the list costs nothing per field.
                    if others.len() < MAX_OTHER_FIELDS || others.contains(&k) {
                        others.insert(k);
                    } else {
                        more += 1;
                    }
                }
                q.other_fields = others.into_iter().collect();
                if more > 0 {
                    q.other_fields.push(format!("and {more} more"));
                }
                Ok(q)
            }
        }
        d.deserialize_map(V)
    }
}

/// Verifies an opening bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedOpening, BundleError> {
    let j: OpeningJson = from_slice(bytes)?;
    let mut log = check_log(&j.log, keys, "log")?;
    let entry = log.entry(&j.entry, keys, "entry")?;
    log.check_times()?;
    let eid = id(&entry);
    let salt = b64::decode_array::<32>(&j.salt)
        .ok_or_else(|| BundleError::Opening("salt is not 32 bytes of base64".into()))?;
    let plaintext = b64::decode(&j.plaintext)
        .ok_or_else(|| BundleError::Opening("plaintext is not base64".into()))?;
    let body = entry
        .entry
        .header()
        .body
        .as_ref()
        .ok_or_else(|| BundleError::Opening(format!("entry {eid} has no content to open")))?;
    let logged = b64::decode_array::<32>(&body.commitment).ok_or_else(|| {
        BundleError::Opening(format!("entry {eid}'s commitment is not a base64 hash"))
    })?;
    if seal::commitment(&salt, &plaintext) != logged {
        return Err(BundleError::Opening(format!(
            "the salt and plaintext do not match entry {eid}'s commitment"
        )));
    }
    let Quoted {
        subject,
        text,
        other_fields,
    } = serde_json::from_slice(&plaintext).unwrap_or_default();
    Ok(ProvedOpening {
        entry,
        plaintext,
        subject,
        text,
        other_fields,
    })
}

impl ProvedOpening {
    /// The proved claim in one sentence.
    pub fn sentence(&self) -> String {
        let e = &self.entry;
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let content = match (&self.subject, &self.text) {
            (s, Some(t)) => {
                let mut c = String::new();
                if let Some(s) = s {
                    c += &format!("subject {}, ", quote(s));
                }
                c += &format!("text {}", quote(t));
                if !self.other_fields.is_empty() {
                    c += &format!(
                        " (its other fields, {}, are in the bundle but not quoted here)",
                        self.other_fields.join(", ")
                    );
                }
                c
            }
            _ => format!(
                "a plaintext of {} bytes without a text field to quote (it is in the bundle)",
                self.plaintext.len()
            ),
        };
        format!(
            "{}, and its content is: {content}. The salt and plaintext match the commitment in its header; nothing else about this or any other entry's content is revealed.",
            entry_in_tree(e),
        ) + &super::inclusion::signed_by(e)
    }
}
