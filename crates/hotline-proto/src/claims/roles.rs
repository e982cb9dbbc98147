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
/// hotline witness of another party (or a neutral one) that cosigned it — a
/// hotline witness recomputes the index of the log it mirrors and refuses
/// to cosign a wrong one. A party's own witness recomputes nothing for
/// anyone else, and a C2SP witness named after no party holds no entries:
/// it cosigns the tree, never the index.
pub fn index_basis(cp: &VerifiedCheckpoint, other_party: &str) -> String {
    let party = origin_party(&cp.origin);
    let seen = cosigners(cp, other_party);
    let name = |s: &&Seen| describe_cosigner(&s.name);
    let checked: Vec<String> = seen
        .iter()
        .filter(|s| s.role != Role::Own && witness_party(&s.name).is_some())
        .map(|s| name(&s))
        .collect();
    let trees: Vec<String> = seen
        .iter()
        .filter(|s| witness_party(&s.name).is_none())
        .map(|s| name(&s))
        .collect();
    let tree_only = if trees.is_empty() {
        String::new()
    } else {
        format!(
            "; {} cosigned its tree, not its index (a C2SP witness holds no entries)",
            trees.join(" and ")
        )
    };
    if checked.is_empty() {
        format!(
            "{party}'s own index alone (no other party's or neutral hotline witness cosigned its tree{tree_only})"
        )
    } else {
        format!(
            "{party}'s index, recomputed and cosigned by {}{tree_only}",
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

    #[test]
    fn a_c2sp_witness_vouches_for_the_tree_and_never_for_the_index() {
        use crate::checkpoint::{self, Cosignature};
        use crate::keys::{ALG_ED25519, NoteKey, os_rng};
        let log = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        let note = checkpoint::sign(&log, 1, crate::Hash([7; 32])).unwrap();
        let mut cp = checkpoint::verify(&note, &log.verifier(), &[]).unwrap();
        cp.cosignatures = vec![Cosignature {
            name: "witness.example.org/w1".into(),
            time: 1_700_000_000,
        }];
        let alone = index_basis(&cp, "ru");
        assert!(alone.starts_with("us's own index alone"), "{alone}");
        assert!(
            alone.contains("cosigned its tree, not its index"),
            "{alone}"
        );
        cp.cosignatures.push(Cosignature {
            name: "hotline/ru/witness".into(),
            time: 1_700_000_001,
        });
        let both = index_basis(&cp, "ru");
        assert!(
            both.starts_with("us's index, recomputed and cosigned by ru's witness"),
            "{both}"
        );
        assert!(both.contains("witness.example.org/w1 (named after no party's log) cosigned its tree, not its index"), "{both}");
    }
}
