//! The keys a reader pins: what a keys file may lend, and what it may not.
//!
//! A claim is attributed to a party by the names of the keys that signed
//! it, and a keys file comes from somewhere the reader does not control. So
//! the checks that stop a file from lending one party's name to another's
//! signatures live here, once, for `hotline verify` and for any third
//! party's verifier alike; each caller words the refusal for its own user.

use crate::bundle::origin_party;
use crate::keys::{KeyError, NoteVerifier, PartyIdentity};

/// Why a keys file, or a set of them, cannot be pinned.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// A line or a key of an export is not a C2SP verifier key.
    #[error("not a verifier key: {0}")]
    BadKey(#[from] KeyError),
    /// A keys export names its log after another party: it would lend that
    /// party's name to these signatures.
    #[error("the keys of party {party} name their log {log}, which is party {owner}'s")]
    LogOfAnother {
        /// The party the export says it holds the keys of.
        party: String,
        /// The name of its log key.
        log: String,
        /// The party that log name belongs to.
        owner: String,
    },
    /// A keys export names its witness key otherwise than after its own log:
    /// cosignatures are told apart by their witness's name, so it would lend
    /// them another's.
    #[error("the keys of party {party} name their witness key {witness}, not {want}")]
    WitnessMisnamed {
        /// The party the export says it holds the keys of.
        party: String,
        /// The name of its witness key.
        witness: String,
        /// The name a witness key of that log must have.
        want: String,
    },
    /// Two different keys share one name: a verifier would trust whichever
    /// it met first, and a signature could be read as the other's.
    #[error("two pinned keys are named {}: {} and {}", held.name(), held.to_vkey(), other.to_vkey())]
    Clash {
        /// The key met first under the name.
        held: Box<NoteVerifier>,
        /// Which source the first came from (the caller's numbering).
        held_from: usize,
        /// The other key under the same name.
        other: Box<NoteVerifier>,
        /// Which source the other came from.
        other_from: usize,
    },
}

/// The verifier keys of one keys file: a `hotline keys export` (a party's
/// log and witness keys, as JSON, checked to be named after that party), or
/// verifier keys one a line (blank lines ignored).
pub fn keys_of_file(text: &str) -> Result<Vec<NoteVerifier>, PinError> {
    if let Ok(id) = serde_json::from_str::<PartyIdentity>(text) {
        return export_keys(&id);
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Ok(NoteVerifier::from_vkey(l)?))
        .collect()
}

/// A party's exported log and witness keys, each checked to be named after
/// the party.
pub fn export_keys(id: &PartyIdentity) -> Result<Vec<NoteVerifier>, PinError> {
    let log = NoteVerifier::from_vkey(&id.log_key)?;
    let witness = NoteVerifier::from_vkey(&id.witness_key)?;
    let owner = origin_party(log.name());
    if owner != id.party.as_str() {
        return Err(PinError::LogOfAnother {
            party: id.party.to_string(),
            log: log.name().to_owned(),
            owner: owner.to_owned(),
        });
    }
    let want = crate::claims::witness_of(log.name());
    if witness.name() != want {
        return Err(PinError::WitnessMisnamed {
            party: id.party.to_string(),
            witness: witness.name().to_owned(),
            want,
        });
    }
    Ok(vec![log, witness])
}

/// The keys of several sources, each tagged with its source's number, as
/// one set in which a name denotes one key: the same key twice is kept
/// once, two keys under one name are refused.
pub fn one_key_per_name(
    keys: impl IntoIterator<Item = (NoteVerifier, usize)>,
) -> Result<Vec<NoteVerifier>, PinError> {
    let mut kept: Vec<(NoteVerifier, usize)> = Vec::new();
    for (k, from) in keys {
        match kept.iter().find(|(held, _)| held.name() == k.name()) {
            Some((held, _)) if *held == k => {}
            Some((held, held_from)) => {
                return Err(PinError::Clash {
                    held: Box::new(held.clone()),
                    held_from: *held_from,
                    other: Box::new(k),
                    other_from: from,
                });
            }
            None => kept.push((k, from)),
        }
    }
    Ok(kept.into_iter().map(|(k, _)| k).collect())
}
