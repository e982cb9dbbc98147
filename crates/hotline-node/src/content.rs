//! Sealed content, opened only together with the check that it is what its
//! entry commits to.
//!
//! The sender writes both the sealed body and the header's salted commitment
//! to the plaintext, so a body that opens proves nothing by itself: a hostile
//! sender can seal one text to the receiver and commit to another, then show
//! the receiver the first and later "open" the second to a third party with
//! an opening that verifies. So the receiver opens every body addressed to
//! one of its offices when it writes the receipt, and refuses (in the
//! receipt, where the refusal is provable too) one that does not match; and
//! every place that shows, uses or discloses content — console pages, call
//! summaries, openings, statement bundles — opens it through [`open`], so no
//! text reaches anyone that the log does not commit to.

use std::sync::Arc;

use hotline_proto::entry::{Content, ContentShape, Header, SignedEntry};
use hotline_proto::keys::{OfficeKeys, SealSecret};
use hotline_proto::party::{Office, Party};
use hotline_proto::{b64, seal};

use crate::node::Node;

/// Why content was not opened. Each message completes `refused: …` in a
/// receipt and on the console.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unopened {
    /// The entry commits to no content.
    #[error("the entry has no content")]
    NoBody,
    /// The entry commits to content that is not held here.
    #[error("content is not held here")]
    NotHeld,
    /// The held bytes are not the sealed body the header commits to.
    #[error("content is not the sealed body its entry commits to")]
    NotItsBody,
    /// The body names no recipient of this office.
    #[error("content is not sealed to {0}")]
    NotSealedTo(Office),
    /// The office is a recipient, but its key does not open the body
    /// (malformed, wrong key, altered ciphertext).
    #[error("content cannot be opened by {0}")]
    CannotOpen(Office),
    /// It opens, but the salted hash of what it holds is not the header's
    /// commitment: the sender committed to something else.
    #[error("content does not match its commitment")]
    Mismatch,
    /// It opens and matches, but the plaintext is not hotline content.
    #[error("content is not in hotline's content format")]
    NotContent,
}

impl Unopened {
    /// Whether the content itself is at fault (the entry is refused), rather
    /// than merely not readable here.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, Unopened::NoBody | Unopened::NotHeld)
    }

    /// The status of a receipt that refuses the entry for it.
    pub fn receipt_status(&self) -> String {
        format!("refused: {self}")
    }
}

/// Opens `sealed` as `office` and checks it against `h`: the bytes are the
/// body the header commits to, the office is a recipient and its key opens
/// it, and the salted hash of what it holds is the header's commitment.
pub fn open(
    h: &Header,
    sealed: &[u8],
    office: &Office,
    secret: &SealSecret,
) -> Result<seal::Opened, Unopened> {
    let body = h.body.as_ref().ok_or(Unopened::NoBody)?;
    if b64::encode(seal::sealed_hash(sealed)) != body.sealed || body.size != sealed.len() as u64 {
        return Err(Unopened::NotItsBody);
    }
    let opened = seal::open(sealed, office, secret).map_err(|e| match e {
        seal::SealError::NotARecipient(_) => Unopened::NotSealedTo(office.clone()),
        _ => Unopened::CannotOpen(office.clone()),
    })?;
    let committed = b64::decode_array::<32>(&body.commitment);
    if committed != Some(seal::commitment(&opened.salt, &opened.plaintext)) {
        return Err(Unopened::Mismatch);
    }
    Ok(opened)
}

/// [`open`], then the plaintext as hotline content.
pub fn open_content(
    h: &Header,
    sealed: &[u8],
    office: &Office,
    secret: &SealSecret,
) -> Result<Content, Unopened> {
    parse(&open(h, sealed, office, secret)?)
}

/// An opened body's plaintext as a content, held as `T` is.
fn parse<T: serde::de::DeserializeOwned>(opened: &seal::Opened) -> Result<T, Unopened> {
    serde_json::from_slice(&opened.plaintext).map_err(|_| Unopened::NotContent)
}

/// An entry's content as this node may show it.
#[derive(Debug)]
pub enum Shown {
    /// Opened, and it is what the entry commits to.
    Content(Content),
    /// Refused: never shown (the receipt says the same).
    Refused(Unopened),
    /// No content, or none that this node (or this reader) can open.
    Sealed,
}

impl Shown {
    /// The content, if it may be shown.
    pub fn content(&self) -> Option<&Content> {
        match self {
            Shown::Content(c) => Some(c),
            _ => None,
        }
    }

    /// The content, if it may be shown.
    pub fn into_content(self) -> Option<Content> {
        match self {
            Shown::Content(c) => Some(c),
            _ => None,
        }
    }

    /// `refused: …`, when the content was refused.
    pub fn refusal(&self) -> Option<String> {
        match self {
            Shown::Refused(u) => Some(u.receipt_status()),
            _ => None,
        }
    }
}

impl Node {
    /// The content of entry `index` of `party`'s log, opened with the key of
    /// the first of its two offices (sender, addressee) that this node holds
    /// and `may` allows. Content that does not match its commitment, or
    /// that the addressed office cannot open, comes back refused.
    pub fn open_checked(
        &self,
        party: &Party,
        index: u64,
        e: &SignedEntry,
        may: &dyn Fn(&Office) -> bool,
    ) -> Shown {
        let h = e.header();
        if h.body.is_none() {
            return Shown::Sealed;
        }
        let ours: Vec<_> = Office::new(&h.from)
            .ok()
            .into_iter()
            .chain(h.to.clone())
            .filter(|o| may(o))
            .map(|o| {
                let keys = self.openers(&o);
                (o, keys)
            })
            .filter(|(_, keys)| !keys.is_empty())
            .collect();
        if ours.is_empty() {
            return Shown::Sealed;
        }
        let Some(sealed) = self
            .log_of(party)
            .ok()
            .and_then(|log| self.store().body(log, index).ok().flatten())
        else {
            return Shown::Sealed;
        };
        let mut first = None;
        for (o, keys) in ours {
            match open_with(h, &sealed, &o, &keys) {
                Ok(c) => return Shown::Content(c),
                Err(u) if u.is_the_entrys_fault() => return Shown::Refused(u),
                Err(u) => {
                    first.get_or_insert(u);
                }
            }
        }
        first.map_or(Shown::Sealed, Shown::Refused)
    }
}

/// [`open_content`] with each of `keys` in turn (an office's current key,
/// then the ones it rotated away: a sender may have sealed to an older key).
/// A fault of the entry itself (its body, its commitment) ends the search:
/// no other key can mend it.
pub fn open_with(
    h: &Header,
    sealed: &[u8],
    office: &Office,
    keys: &[Arc<OfficeKeys>],
) -> Result<Content, Unopened> {
    parse(&open_sealed_with(h, sealed, office, keys)?)
}

/// Whether the body opens, as [`open_with`] opens it, to a content; its
/// STIX bundle is checked but not built ([`ContentShape`]): a receipt
/// needs the verdict, not the objects.
pub fn check_with(
    h: &Header,
    sealed: &[u8],
    office: &Office,
    keys: &[Arc<OfficeKeys>],
) -> Result<(), Unopened> {
    parse::<ContentShape>(&open_sealed_with(h, sealed, office, keys)?).map(|_| ())
}

/// [`open`] with each of `keys` in turn, as [`open_with`] does: the first
/// key that opens a body matching its commitment wins, and a fault of the
/// entry itself ends the search — a body the office opened and found not to
/// be what its header commits to is refused, whatever another key would make
/// of it.
pub fn open_sealed_with<K: std::borrow::Borrow<OfficeKeys>>(
    h: &Header,
    sealed: &[u8],
    office: &Office,
    keys: &[K],
) -> Result<seal::Opened, Unopened> {
    let mut first = None;
    for k in keys {
        match open(h, sealed, office, k.borrow().seal_secret()) {
            Ok(o) => return Ok(o),
            Err(u) if u.is_the_entrys_fault() => return Err(u),
            Err(u) => {
                first.get_or_insert(u);
            }
        }
    }
    Err(first.unwrap_or(Unopened::NotHeld))
}

impl Unopened {
    /// The same for every recipient and every key: the entry's fault.
    pub(crate) fn is_the_entrys_fault(&self) -> bool {
        matches!(
            self,
            Unopened::Mismatch | Unopened::NotContent | Unopened::NotItsBody
        )
    }
}

#[cfg(test)]
mod tests {
    use hotline_proto::entry::{BodyCommitment, Kind};
    use hotline_proto::keys::{OfficeKeys, os_rng};

    use super::*;

    fn header(body: Option<BodyCommitment>) -> Header {
        let mut h = Header::new(
            Party::new("us").unwrap(),
            Kind::Message,
            "us/fbi",
            Some(Office::new("ru/fsb").unwrap()),
            "2025-01-01T00:00:00Z".parse().unwrap(),
        );
        h.body = body;
        h
    }

    /// Seals `text` to ru/fsb, committing to `committed`.
    fn sealed(to: &OfficeKeys, text: &[u8], committed: &[u8]) -> (Vec<u8>, Header) {
        let o = to.public();
        let s = seal::seal(text, &[(&o.office, &o.seal_key().unwrap())], &mut os_rng()).unwrap();
        let body = BodyCommitment {
            sealed: b64::encode(seal::sealed_hash(&s.bytes)),
            size: s.bytes.len() as u64,
            commitment: b64::encode(seal::commitment(&s.salt, committed)),
        };
        (s.bytes, header(Some(body)))
    }

    /// The receipt's check judges each body as opening it in full does:
    /// a content with a bundle, one whose bundle holds a number no double
    /// can hold, and a body that is not content.
    #[test]
    fn the_receipts_check_agrees_with_opening() {
        let fsb = Arc::new(OfficeKeys::generate(
            Office::new("ru/fsb").unwrap(),
            &mut os_rng(),
        ));
        let keys = [fsb.clone()];
        let o = fsb.office().clone();
        let mut c = Content::text("two objects", None);
        c.stix =
            Some(serde_json::json!({"type": "bundle", "objects": [{"a": 1}, {"b": [2.5, "x"]}]}));
        let good = c.to_bytes();
        let huge = br#"{"stix":{"objects":[1e400]},"text":"t"}"#.to_vec();
        for (plain, ok) in [(good, true), (huge, false), (b"not json".to_vec(), false)] {
            let (bytes, h) = sealed(&fsb, &plain, &plain);
            let full = open_with(&h, &bytes, &o, &keys).map(|_| ());
            let check = check_with(&h, &bytes, &o, &keys);
            assert_eq!(full, check, "{}", String::from_utf8_lossy(&plain));
            assert_eq!(check.is_ok(), ok);
            if !ok {
                assert_eq!(check, Err(Unopened::NotContent));
            }
        }
    }

    #[test]
    fn only_content_that_matches_its_commitment_opens() {
        let fsb = OfficeKeys::generate(Office::new("ru/fsb").unwrap(), &mut os_rng());
        let svr = OfficeKeys::generate(Office::new("ru/svr").unwrap(), &mut os_rng());
        let text = Content::text("hello", None).to_bytes();
        let (bytes, h) = sealed(&fsb, &text, &text);
        let fsb_o = fsb.office().clone();
        assert_eq!(
            open_content(&h, &bytes, &fsb_o, fsb.seal_secret()).unwrap(),
            Content::text("hello", None)
        );

        let other = Content::text("goodbye", None).to_bytes();
        let (bytes2, h2) = sealed(&fsb, &text, &other);
        let e = open(&h2, &bytes2, &fsb_o, fsb.seal_secret()).err().unwrap();
        assert_eq!(e, Unopened::Mismatch);
        assert_eq!(
            e.receipt_status(),
            "refused: content does not match its commitment"
        );
        // The bytes of another body under this header.
        assert_eq!(
            open(&h, &bytes2, &fsb_o, fsb.seal_secret()).err().unwrap(),
            Unopened::NotItsBody
        );
        assert_eq!(
            open(&h, &bytes, svr.office(), svr.seal_secret())
                .err()
                .unwrap(),
            Unopened::NotSealedTo(svr.office().clone())
        );
        // A recipient whose key does not open it.
        assert_eq!(
            open(&h, &bytes, &fsb_o, svr.seal_secret()).err().unwrap(),
            Unopened::CannotOpen(fsb_o.clone())
        );
        assert_eq!(
            open(&header(None), &bytes, &fsb_o, fsb.seal_secret())
                .err()
                .unwrap(),
            Unopened::NoBody
        );
        // Opens and matches, but is not content.
        let (bytes3, h3) = sealed(&fsb, b"not json", b"not json");
        assert_eq!(
            open_content(&h3, &bytes3, &fsb_o, fsb.seal_secret()).unwrap_err(),
            Unopened::NotContent
        );
        assert!(!Unopened::NotHeld.is_refusal() && Unopened::Mismatch.is_refusal());
    }

    /// With an office's keys in turn (current, then retired), a key that
    /// cannot open the body passes to the next, and a body that opens but is
    /// not what its header commits to is refused as such, however many keys
    /// remain: that is the entry's fault, not the key's.
    #[test]
    fn trying_keys_in_turn_stops_at_the_entrys_fault() {
        let o = Office::new("ru/fsb").unwrap();
        let key = || Arc::new(OfficeKeys::generate(o.clone(), &mut os_rng()));
        let (old, new, other) = (key(), key(), key());
        let text = Content::text("hello", None).to_bytes();
        let (bytes, h) = sealed(&old, &text, &text);
        let opened = open_sealed_with(&h, &bytes, &o, &[new.clone(), old.clone()]).unwrap();
        assert_eq!(&opened.plaintext[..], &text[..]);
        assert_eq!(
            open_with(&h, &bytes, &o, &[new.clone(), old.clone()]).unwrap(),
            Content::text("hello", None)
        );
        assert_eq!(
            open_sealed_with(&h, &bytes, &o, &[new.clone(), other.clone()])
                .err()
                .unwrap(),
            Unopened::CannotOpen(o.clone())
        );

        let lie = Content::text("goodbye", None).to_bytes();
        let (bytes, h) = sealed(&old, &text, &lie);
        assert_eq!(
            open_sealed_with(&h, &bytes, &o, &[new.clone(), old.clone(), other.clone()])
                .err()
                .unwrap(),
            Unopened::Mismatch,
            "the key that opened it says why, not the first that did not"
        );
        let none: [&OfficeKeys; 0] = [];
        assert_eq!(
            open_sealed_with(&h, &bytes, &o, &none).err().unwrap(),
            Unopened::NotHeld
        );
    }
}
