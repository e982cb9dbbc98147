//! Bundle versions this build refuses, and why their sentence could be
//! false. Each refusal names the version to ask for instead.

use super::{
    ABSENCE_V2, ANSWERED_V2, DELIVERY_V2, INCLUSION_V3, OPENING_V2, STATEMENT_V2, STATS_V2,
};
use crate::bundle::BundleError;

/// Why the bundle type `kind` is refused, if it is a superseded one.
pub fn refusal(kind: &str) -> Option<BundleError> {
    const KEYS: &str = "it carries only the key entry that announced each signing key, so it cannot show that the office had not rotated or revoked that key before the entry";
    let (why, instead, command) = match kind {
        "hotline/inclusion/v1" => (KEYS.to_owned(), INCLUSION_V3, "hotline prove entry"),
        "hotline/inclusion/v2" => (
            "its key history can start at any key entry, so a later revocation can be left out unseen".to_owned(),
            INCLUSION_V3,
            "hotline prove entry",
        ),
        "hotline/delivery/v1" => (
            format!("{KEYS}, and its times are not checked against each other"),
            DELIVERY_V2,
            "hotline prove delivery",
        ),
        "hotline/answered/v1" => (
            "its acknowledgements and answers are whatever the prover chose to include (a timely one can be left out), and a deadline counts as met on the answering party's own clock".to_owned(),
            ANSWERED_V2,
            "hotline prove answered",
        ),
        "hotline/absence/v1" => (
            "its window may be bracketed by a cosignature of the party the claim favours (its own witness, or the receiver's on an older tree), and it discloses every header of every channel in the window".to_owned(),
            ABSENCE_V2,
            "hotline prove absence",
        ),
        "hotline/stats/v1" => (
            "it counts a deadline as missed from the inquiry's own date, so inquiries written late but dated early blame the receiver, and a deadline as met on the receiver's own clock; it also discloses every header of both logs".to_owned(),
            STATS_V2,
            "hotline prove stats",
        ),
        "hotline/opening/v1" => (KEYS.to_owned(), OPENING_V2, "hotline open"),
        "hotline/statement/v1" => (KEYS.to_owned(), STATEMENT_V2, "hotline prove statement"),
        _ => return None,
    };
    Some(BundleError::Superseded {
        kind: kind.to_owned(),
        why: format!("{why}; ask for a {instead} bundle (`{command}` writes one)"),
    })
}
