//! The parts every bundle is made of, under one chosen checkpoint of a log:
//! single entries as tlog-proofs, the log's complete key history, and keyed
//! runs, all read by key from the stored index rows.

use hotline_proto::bundle::TlogProof;
use hotline_proto::claims::LogEvidence;
use hotline_proto::claims::history::key_history_key;
use hotline_proto::entry::SignedEntry;
use hotline_proto::index::{KeyState, KeyedRun};
use hotline_proto::tree::leaf_hash;

use super::checkpoints::Chosen;
use super::index::IndexCache;
use super::tlog::tlog_proof_under;
use super::{ProofError, ProofSource};
use crate::error::{NodeError, Result};
use crate::store::{LogId, Store};

impl ProofSource {
    /// A tlog-proof of entry `index` under the chosen checkpoint.
    pub fn tlog_proof(&self, cp: &Chosen, index: u64) -> Result<TlogProof> {
        if index >= cp.size {
            return Err(NodeError::NotFound(format!(
                "entry {}:{index} is beyond the checkpoint of size {}",
                cp.party, cp.size
            )));
        }
        let log = self.log(&cp.party)?;
        let (l, _) = self.leaf(&cp.party, index)?;
        Ok(tlog_proof_under(
            &*self.store,
            log.id,
            index,
            &l.leaf,
            cp.size,
            cp.note.clone(),
        )?)
    }

    /// Every entry of `key` under the chosen checkpoint: (index, leaf).
    pub fn run_entries(&self, cp: &Chosen, key: &str) -> Result<Vec<(u64, Vec<u8>)>> {
        self.key_entries(&cp.party, key, cp.size, 0)
    }

    /// The keyed run of `key` under the chosen checkpoint, disclosing its
    /// entries from the `from`-th on (counting from 0; 0: all of them).
    pub fn keyed_run(&self, cp: &Chosen, key: &str, from: u64) -> Result<KeyedRun> {
        if from == 0 {
            let log = self.log(&cp.party)?;
            return whole_run(&self.indexes, &*self.store, log.id, key, cp.size);
        }
        let (state, proof) = self.index_proof_at(&cp.party, key, cp.size)?;
        if from >= state.count {
            return Ok(run_of(key, state, proof, Some(state), vec![]));
        }
        let leaves = self.key_entries(&cp.party, key, cp.size, from)?;
        // The state before the first disclosed entry: after every entry below it.
        let first = leaves.first().map_or(cp.size, |(i, _)| *i);
        let base = self.key_state_at(&cp.party, key, first)?;
        Ok(run_of(key, state, proof, Some(base), leaves))
    }

    /// The keyed run of `key` from entries already read (every entry of the
    /// key below the checkpoint, in order), disclosing those from the
    /// `from`-th on.
    pub fn keyed_run_of(
        &self,
        cp: &Chosen,
        key: &str,
        all: &[(u64, Vec<u8>)],
        from: u64,
    ) -> Result<KeyedRun> {
        let (state, proof) = self.index_proof_at(&cp.party, key, cp.size)?;
        if state.count != all.len() as u64 {
            return Err(ProofError::IndexRows {
                party: cp.party.clone(),
                key: key.to_owned(),
                size: cp.size,
                indexed: state.count,
                rows: all.len(),
            }
            .into());
        }
        let from_usize = usize::try_from(from).unwrap_or(usize::MAX).min(all.len());
        let base = (from_usize > 0).then(|| state_after(all, from_usize));
        Ok(run_of(key, state, proof, base, all[from_usize..].to_vec()))
    }

    /// The log part of a bundle: the chosen checkpoint and the log's
    /// complete key history under it.
    pub fn log_evidence(&self, cp: &Chosen) -> Result<LogEvidence> {
        let key = key_history_key(cp.party.as_str());
        Ok(LogEvidence {
            checkpoint: cp.note.clone(),
            key_history: self.keyed_run(cp, &key, 0)?,
        })
    }
}

/// The keyed run of `key` in `log` at `size` with every entry of the key
/// disclosed: what a key history is, and what a claim about a whole key
/// shows.
pub fn whole_run(
    indexes: &IndexCache,
    store: &dyn Store,
    log: LogId,
    key: &str,
    size: u64,
) -> Result<KeyedRun> {
    let (state, proof) = indexes.index_proof_at(store, log, key, size)?;
    let leaves = indexes.key_entries(store, log, key, size, 0)?;
    Ok(run_of(key, state, proof, None, leaves))
}

fn run_of(
    key: &str,
    state: KeyState,
    proof: hotline_proto::index::IndexProof,
    base: Option<KeyState>,
    leaves: Vec<(u64, Vec<u8>)>,
) -> KeyedRun {
    KeyedRun {
        key: key.to_owned(),
        state,
        proof,
        base,
        leaves,
    }
}

/// The state of a key after its first `n` entries, folded from its entries.
pub fn state_after(all: &[(u64, Vec<u8>)], n: usize) -> KeyState {
    all.iter()
        .take(n)
        .fold(KeyState::default(), |st, (i, leaf)| {
            st.push(*i, leaf_hash(leaf))
        })
}

/// Where a run disclosed for a window from `since` starts: at its last
/// entry dated before `since` (dates never go backwards, so every earlier
/// one is before it too), or at its first.
pub fn last_before(parsed: &[(u64, SignedEntry)], since: jiff::Timestamp) -> u64 {
    parsed
        .iter()
        .rposition(|(_, e)| e.header().time < since)
        .unwrap_or(0) as u64
}

/// The entries of a run, parsed.
pub fn parse_all(all: &[(u64, Vec<u8>)]) -> Result<Vec<(u64, SignedEntry)>> {
    all.iter()
        .map(|(i, l)| Ok((*i, SignedEntry::from_leaf(l).map_err(ProofError::from)?)))
        .collect()
}
