//! Equivocation on record: a peer's log that cannot be trusted until an
//! operator resolves it, so every page shows it.

use super::Records;
use crate::error::Result;

/// What a log was caught doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmKind {
    /// It signed two different trees for one size.
    TwoHistories,
    /// It signed a checkpoint whose index root is not its entries' index.
    IndexMismatch,
}

/// One piece of equivocation evidence kept here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alarm {
    /// The evidence's number.
    pub id: i64,
    /// The origin of the log that equivocated.
    pub origin: String,
    /// When it was detected (Unix seconds).
    pub detected: i64,
    /// What it shows.
    pub kind: AlarmKind,
}

impl AlarmKind {
    /// Reads the kind from the kept bundle.
    fn of(bundle: &[u8]) -> Self {
        if crate::federation::evidence::is_index_mismatch(bundle) {
            Self::IndexMismatch
        } else {
            Self::TwoHistories
        }
    }
}

impl Records {
    /// Every equivocation on record, oldest first.
    pub fn alarms(&self) -> Result<Vec<Alarm>> {
        Ok(self
            .node
            .store()
            .equivocations()?
            .into_iter()
            .map(|e| Alarm {
                kind: AlarmKind::of(&e.bundle),
                id: e.id,
                origin: e.origin,
                detected: e.detected,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_line_bundle_is_told_from_two_histories() {
        let index = format!(
            r#"{{"bundle":{}}}"#,
            serde_json::to_string(crate::federation::evidence::INDEX_MISMATCH).unwrap()
        );
        assert_eq!(AlarmKind::of(index.as_bytes()), AlarmKind::IndexMismatch);
        let two = br#"{"bundle":"hotline/equivocation/v1"}"#;
        assert_eq!(AlarmKind::of(two), AlarmKind::TwoHistories);
        assert_eq!(AlarmKind::of(b"not json"), AlarmKind::TwoHistories);
    }
}
