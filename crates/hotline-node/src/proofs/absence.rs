//! `hotline/absence/v2`: no entry of a kind on a channel dated in a window,
//! in the sender's log up to a tree that covers the window — the channel's
//! keyed run from its last entry before the window, and nothing of any
//! other channel.

use hotline_proto::claims::absence::{AbsenceClaim, absence_bundle};
use hotline_proto::entry::Kind;
use hotline_proto::party::{Office, Party};
use jiff::Timestamp;

use super::ProofSource;
use super::checkpoints::Want;
use super::evidence::{last_before, parse_all};
use crate::error::{NodeError, Result};

impl ProofSource {
    /// `hotline/absence/v2`: no entry of `kind` from `from` to `to` in
    /// `party`'s log in the window. Refuses to write a false bundle, naming
    /// the entry that contradicts the claim.
    pub fn absence(
        &self,
        party: &Party,
        kind: Kind,
        from: &Office,
        to: &Office,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<String> {
        if until <= since {
            return Err(NodeError::BadInput("--until must be after --since".into()));
        }
        if &from.party() != party {
            return Err(NodeError::BadInput(format!(
                "{from} writes to {}'s log, not {party}'s: a claim about {from}'s entries is about --log {}",
                from.party(),
                from.party()
            )));
        }
        let claim = AbsenceClaim {
            kind,
            from: from.clone(),
            to: to.clone(),
            since,
            until,
        };
        let key = claim.key();
        let log = self.log(party)?;
        // Every entry of the channel held, even past the checkpoint shown:
        // a claim that a later tree contradicts is not written.
        let held = self.store.size(log.id)?;
        for (i, e) in parse_all(&self.key_entries(party, &key, held, 0)?)? {
            let t = e.header().time;
            if t >= since && t <= until {
                let article = if kind.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                return Err(NodeError::Conflict(format!(
                    "the claim is false: {party}:{i} is {article} {kind} from {from} to {to} dated {t} — no bundle written"
                )));
            }
        }
        if until >= crate::clock::now() {
            return Err(NodeError::NotFound(format!(
                "no checkpoint of {} has been cosigned at or after {until} yet (the window has not ended); wait for the next cosignature (cosign_interval_secs) and try again",
                log.origin
            )));
        }
        let cp = self.checkpoint_for(party, 0, Want::DatedAfter(until))?;
        let all = self.run_entries(&cp, &key)?;
        let parsed = parse_all(&all)?;
        let run = self.keyed_run_of(&cp, &key, &all, last_before(&parsed, since))?;
        self.checked(absence_bundle(&claim, &self.log_evidence(&cp)?, &run))
    }
}
