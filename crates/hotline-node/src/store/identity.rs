//! Whose log a database holds: one party per database. A PostgreSQL
//! database can be reached from any directory whose `hotline.toml` names
//! it, so the first node to open it for writing records its party and
//! keys, and a node of another party (or the same name with other keys) is
//! refused at start, before it writes anything. SQLite needs no record (its
//! file is in the party's own directory) and accepts every claim.

use super::{Result, StoreError};

/// A party and its public keys, as the database records its holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The party's name.
    pub party: String,
    /// Its log's verifier key (`NoteVerifier::to_vkey`).
    pub log_key: String,
    /// Its witness's verifier key.
    pub witness_key: String,
}

/// The record of which party a database belongs to.
pub trait IdentityStore: Send + Sync {
    /// Records `who` as the database's holder when none is recorded yet,
    /// and returns the holder on record (`who` itself on an engine that
    /// keeps no record).
    fn record_holder(&self, who: &Holder) -> Result<Holder>;

    /// The holder on record, if any, without recording one.
    fn holder(&self) -> Result<Option<Holder>>;

    /// Records `who` as the holder of an unclaimed database, accepts the
    /// same party with the same keys (a replica, a restart), and refuses
    /// anyone else with [`StoreError::OtherParty`].
    fn claim(&self, who: &Holder) -> Result<()> {
        let held = self.record_holder(who)?;
        if held == *who {
            Ok(())
        } else {
            Err(StoreError::OtherParty {
                held: Box::new(held),
                here: Box::new(who.clone()),
            })
        }
    }
}

/// What [`StoreError::OtherParty`] says.
pub(super) fn refusal(held: &Holder, here: &Holder) -> String {
    if held.party == here.party {
        format!(
            "this database holds party {}'s log (log key {}, witness key {}); this directory is party {}'s with other keys (log key {}, witness key {}): restore the keys this party was created with, or give each party its own database",
            held.party, held.log_key, held.witness_key, here.party, here.log_key, here.witness_key
        )
    } else {
        format!(
            "this database holds party {}'s log (log key {}); this directory is party {}'s (log key {}): give each party its own database",
            held.party, held.log_key, here.party, here.log_key
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::sqlite::SqliteStore;

    fn who(party: &str, key: &str) -> Holder {
        Holder {
            party: party.into(),
            log_key: format!("hotline/{party}+{key}"),
            witness_key: format!("hotline/{party}/witness+{key}"),
        }
    }

    #[test]
    fn the_first_claim_is_kept_and_others_are_refused() {
        let s = MemoryStore::new();
        assert_eq!(s.holder().unwrap(), None);
        s.claim(&who("us", "a")).unwrap();
        s.claim(&who("us", "a")).unwrap();
        let e = s.claim(&who("ru", "b")).unwrap_err();
        assert!(
            e.to_string().contains("this database holds party us's log"),
            "{e}"
        );
        assert!(s.claim(&who("us", "b")).is_err());
        assert_eq!(s.holder().unwrap(), Some(who("us", "a")));
    }

    #[test]
    fn sqlite_keeps_no_record_and_accepts_every_claim() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&tmp.path().join("hotline.db")).unwrap();
        s.claim(&who("us", "a")).unwrap();
        s.claim(&who("ru", "b")).unwrap();
        assert_eq!(s.holder().unwrap(), None);
    }
}
