//! `hotline/opening/v1`: one entry's plaintext, matched against the salted
//! commitment its header carries, and nothing else.
//!
//! ```text
//! {"bundle": "hotline/opening/v1",
//!  "entry": <EntryProof>,
//!  "salt": "<base64, 32 bytes>",
//!  "plaintext": "<base64>"}
//! ```
//!
//! `seal::commitment(salt, plaintext)` must equal the header's
//! `body.commitment`. The salt is unique to the entry, so the opening reveals
//! this entry's content and no other's.

use serde::{Deserialize, Serialize};

use super::{EntryProof, EntryProofJson, OPENING_V1, describe, from_value, id, to_json};
use crate::b64;
use crate::bundle::{BundleError, Keyring, ProvedEntry, describe_signatures};
use crate::seal;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpeningJson {
    bundle: String,
    entry: EntryProofJson,
    salt: String,
    plaintext: String,
}

/// Writes an opening bundle.
pub fn opening_bundle(entry: &EntryProof, salt: &[u8; 32], plaintext: &[u8]) -> String {
    to_json(&OpeningJson {
        bundle: OPENING_V1.into(),
        entry: entry.into(),
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

/// Verifies an opening bundle (already parsed as JSON).
pub fn verify(v: serde_json::Value, keys: &Keyring) -> Result<ProvedOpening, BundleError> {
    let j: OpeningJson = from_value(v)?;
    let entry = j.entry.check(keys, "entry")?;
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
    let (mut subject, mut text, mut other_fields) = (None, None, vec![]);
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(&plaintext) {
        for (k, v) in m {
            match (k.as_str(), v) {
                ("subject", serde_json::Value::String(s)) => subject = Some(s),
                ("text", serde_json::Value::String(s)) => text = Some(s),
                _ => other_fields.push(k),
            }
        }
    }
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
            "Entry {} — {}, dated {} by its writer — is in {} (tree of size {}, {}), and its content is: {content}. The salt and plaintext match the commitment in its header; nothing else about this or any other entry's content is revealed.",
            id(e),
            describe(&e.entry),
            e.entry.header().time,
            e.checkpoint.origin,
            e.checkpoint.size,
            describe_signatures(&e.checkpoint),
        )
    }
}
