//! Whose word a cosignature is, relative to the log it cosigns and to the
//! claim: the log's own party, the other party of the claim, or a neutral
//! (third) witness.
//!
//! A hotline party's witness is named after its log (`hotline/ru` →
//! `hotline/ru/witness`, [`super::witness_of`]), and a node pins no witness
//! named otherwise, so the name is what ties a pinned cosigner to a party.
//! A party's own witness cosigning its own log adds nothing to the log's
//! signature: its time is the log's own signed statement about its tree,
//! binding on that party and proving nothing in its favour.

use jiff::Timestamp;

use super::{cosign_time, fmt_time};
use crate::bundle::{describe_cosigner, origin_party, witness_party};
use crate::checkpoint::{Cosignature, VerifiedCheckpoint};

/// A cosigner's role relative to a log and a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The log's own party's witness: the log's own word.
    Own,
    /// The witness of the claim's other party.
    Other,
    /// Any other pinned witness: a third party's, or one named after no party.
    Neutral,
}

/// The role of `cosigner` on the log of `log_party`, in a claim whose other
/// party is `other_party`.
pub fn role(cosigner: &str, log_party: &str, other_party: &str) -> Role {
    match witness_party(cosigner) {
        Some(p) if p == log_party => Role::Own,
        Some(p) if p == other_party => Role::Other,
        _ => Role::Neutral,
    }
}

/// A cosignature with a readable time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The cosigner's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it cosigned, on its clock.
    pub at: Timestamp,
}

impl Seen {
    /// "ru's witness (hotline/ru/witness) at 2021-07-05T00:00:00Z".
    pub fn describe(&self) -> String {
        format!("{} at {}", describe_cosigner(&self.name), fmt_time(self.at))
    }
}

/// The cosignatures on `cp` with their roles, earliest first; a time that is
/// no timestamp is left out (it proves no moment).
pub fn cosigners(cp: &VerifiedCheckpoint, other_party: &str) -> Vec<Seen> {
    let party = origin_party(&cp.origin);
    let mut v: Vec<Seen> = cp
        .cosignatures
        .iter()
        .filter_map(|c: &Cosignature| {
            Some(Seen {
                name: c.name.clone(),
                role: role(&c.name, party, other_party),
                at: cosign_time(c)?,
            })
        })
        .collect();
    v.sort_by_key(|s| s.at);
    v
}

/// On what a checkpoint's index line rests: the log's signature, and each
/// witness of another party (or neutral) that cosigned it — a hotline
/// witness recomputes the index of the log it mirrors and refuses to cosign
/// a wrong one. A party's own witness recomputes nothing for anyone else.
pub fn index_basis(cp: &VerifiedCheckpoint, other_party: &str) -> String {
    let party = origin_party(&cp.origin);
    let checked: Vec<String> = cosigners(cp, other_party)
        .iter()
        .filter(|s| s.role != Role::Own)
        .map(|s| describe_cosigner(&s.name))
        .collect();
    if checked.is_empty() {
        format!("{party}'s own index alone (no other party's or neutral witness cosigned its tree)")
    } else {
        format!(
            "{party}'s index, recomputed and cosigned by {}",
            checked.join(" and ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_names() {
        assert_eq!(role("hotline/us/witness", "us", "ru"), Role::Own);
        assert_eq!(role("hotline/ru/witness", "us", "ru"), Role::Other);
        assert_eq!(role("hotline/ch/witness", "us", "ru"), Role::Neutral);
        assert_eq!(role("sigsum.org/witness-1", "us", "ru"), Role::Neutral);
    }
}
