//! Which checkpoint of a log a bundle shows — one per log, shared by every
//! part of the bundle about that log.
//!
//! - The own log: the latest checkpoint another party's (or a neutral)
//!   witness cosigned, with every line it carries; when that is the latest
//!   own tree, a fresh own-witness line is added, made now with
//!   `keys/witness.key`: the node's own statement "at now my tree is this",
//!   which binds this party and proves nothing in its favour. When no such
//!   checkpoint holds what the claim needs, the latest own checkpoint with a
//!   fresh own line (the claim then rests on this party's word alone, and
//!   the sentence says so).
//! - A mirrored log: the latest checkpoint held, as its log pushed it (its
//!   own witness's line travels with it), with this node's witness line
//!   from the cosignature rows when it cosigned that same tree.

use hotline_proto::b64;
use hotline_proto::checkpoint;
use hotline_proto::party::Party;
use jiff::Timestamp;

use super::{ProofError, ProofSource};
use crate::error::{NodeError, Result};

/// The checkpoint chosen for one log.
#[derive(Clone, Debug)]
pub struct Chosen {
    /// The log's party.
    pub party: Party,
    /// The tree size.
    pub size: u64,
    /// The signed note with its cosignature lines.
    pub note: Vec<u8>,
}

/// What a claim would like its checkpoint of a log to show, beyond holding
/// the entries it needs.
#[derive(Clone, Copy, Debug, Default)]
pub enum Want {
    /// Nothing more: the most widely cosigned tree.
    #[default]
    Cosigned,
    /// The log's own signed time on its tree at or after this moment (the
    /// end of a window, a deadline), even if the tree is cosigned by fewer.
    DatedAfter(Timestamp),
}

/// The time of the `cosignature/v1` line by `name` in `note`, if any.
pub fn line_time(note: &[u8], name: &str) -> Option<u64> {
    let (_, sigs) = checkpoint::split(note).ok()?;
    String::from_utf8_lossy(sigs).lines().find_map(|l| {
        if !checkpoint::signed_by(l, name) {
            return None;
        }
        let sig = b64::decode(l.rsplit(' ').next()?)?;
        Some(u64::from_be_bytes(sig.get(4..12)?.try_into().ok()?))
    })
}

/// `note` with the line by `name` replaced by `line` (which ends in a newline).
fn replace_line(note: &[u8], name: &str, line: &str) -> Result<Vec<u8>> {
    let line = if line.ends_with('\n') {
        line.to_owned()
    } else {
        format!("{line}\n")
    };
    checkpoint::filter_lines(note, |l| !checkpoint::signed_by(l, name), &line)
        .map_err(|e| ProofError::from(e).into())
}

fn secs(t: Timestamp) -> u64 {
    // Cosignature times are whole seconds: a moment to reach rounds up.
    u64::try_from(t.as_second()).unwrap_or(0) + u64::from(t.subsec_nanosecond() > 0)
}

impl ProofSource {
    /// The checkpoint of `party`'s log a bundle shows: it holds at least
    /// `need` entries.
    pub fn checkpoint_for(&self, party: &Party, need: u64, want: Want) -> Result<Chosen> {
        if *party == self.own {
            self.own_checkpoint(need, want)
        } else {
            self.mirrored_checkpoint(party, need, want)
        }
    }

    fn own_checkpoint(&self, need: u64, want: Want) -> Result<Chosen> {
        let log = self.log(&self.own)?.clone();
        let (latest, latest_note) = self.store.latest_checkpoint(log.id)?.ok_or_else(|| {
            NodeError::NotFound(format!("{} has signed no checkpoint yet", log.origin))
        })?;
        if latest < need {
            return Err(NodeError::NotFound(format!(
                "no checkpoint of {} holds entry {} yet; wait a moment and try again",
                log.origin,
                need.saturating_sub(1)
            )));
        }
        let mut cosigned = None;
        for w in &self.peer_witnesses {
            if let Some((size, _)) = self.store.last_cosignature(log.id, w)?
                && size >= need
                && cosigned.is_none_or(|s| size > s)
            {
                cosigned = Some(size);
            }
        }
        let fresh = |note: &[u8]| -> Result<Vec<u8>> {
            let key = self.witness_key()?;
            let (text, _) = checkpoint::split(note).map_err(ProofError::from)?;
            let now = u64::try_from(crate::clock::now().as_second()).unwrap_or(0);
            let line = checkpoint::cosign_line(&key, text, now).map_err(ProofError::from)?;
            replace_line(note, key.name(), &line)
        };
        if let Some(size) = cosigned {
            let note = self.store.checkpoint_at(log.id, size)?.ok_or_else(|| {
                ProofError::CheckpointMissing {
                    size,
                    origin: log.origin.clone(),
                }
            })?;
            if size == latest {
                return Ok(Chosen {
                    party: self.own.clone(),
                    size,
                    note: fresh(&note)?,
                });
            }
            let dated = line_time(&note, &self.witness_name);
            let enough = match want {
                Want::Cosigned => true,
                Want::DatedAfter(t) => dated.is_some_and(|d| d >= secs(t)),
            };
            if enough {
                return Ok(Chosen {
                    party: self.own.clone(),
                    size,
                    note,
                });
            }
        }
        Ok(Chosen {
            party: self.own.clone(),
            size: latest,
            note: fresh(&latest_note)?,
        })
    }

    fn mirrored_checkpoint(&self, party: &Party, need: u64, want: Want) -> Result<Chosen> {
        let log = self.log(party)?.clone();
        let (size, mut note) = self.store.latest_checkpoint(log.id)?.ok_or_else(|| {
            NodeError::NotFound(format!("no checkpoint of {} is held here yet", log.origin))
        })?;
        if size < need {
            return Err(NodeError::NotFound(format!(
                "the mirror of {} holds {size} entries, not entry {} yet; let {party}'s node push and try again",
                log.origin,
                need.saturating_sub(1)
            )));
        }
        // This node's latest cosignature of the log, with the note it was
        // asked to cosign: that note carries the log's own witness line of
        // the moment, which a push made before it did not.
        let mut earlier = None;
        if let Some(r) = self.store.cosignature_near(log.id, u64::MAX >> 1, true)?
            && r.witness == self.witness_name
        {
            let asked = match r.note {
                Some(n) => n,
                None => self
                    .store
                    .checkpoint_at(log.id, r.size)?
                    .unwrap_or_default(),
            };
            if !asked.is_empty() {
                let cosigned = replace_line(&asked, &r.witness, &r.line)?;
                if r.size == size {
                    note = merge_lines(&note, &cosigned)?;
                } else if r.size >= need {
                    earlier = Some((r.size, cosigned));
                }
            }
        }
        let own = hotline_proto::claims::witness_of(&log.origin);
        if let (Want::DatedAfter(t), Some((s, n))) = (want, earlier) {
            let dated = |n: &[u8]| line_time(n, &own).is_some_and(|d| d >= secs(t));
            if !dated(&note) && dated(&n) {
                return Ok(Chosen {
                    party: party.clone(),
                    size: s,
                    note: n,
                });
            }
        }
        Ok(Chosen {
            party: party.clone(),
            size,
            note,
        })
    }
}

/// The cosigner a signature line names.
fn line_name(line: &str) -> Option<&str> {
    line.strip_prefix("\u{2014} ")?.split(' ').next()
}

/// `a`'s signed note with the cosignature lines of `b` (a note of the same
/// checkpoint) it lacks, and for a cosigner in both, its later line.
fn merge_lines(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let (origin, _, _) = checkpoint::peek(a).map_err(ProofError::from)?;
    let (_, sigs) = checkpoint::split(b).map_err(ProofError::from)?;
    let mut out = a.to_vec();
    for l in String::from_utf8_lossy(sigs).lines() {
        // The log's own signature is the same in both (one text, one key).
        let Some(name) = line_name(l).filter(|n| *n != origin) else {
            continue;
        };
        let mine = line_time(&out, name);
        let theirs = line_time(b, name);
        if mine.is_none_or(|m| theirs.is_some_and(|t| t > m)) {
            out = replace_line(&out, name, l)?;
        }
    }
    Ok(out)
}

impl ProofSource {
    /// The earliest tree of `party`'s log holding entry `index` that a
    /// witness other than `party`'s own cosigned (this node's, for a
    /// mirrored log; another party's or a neutral one, for the own log) at
    /// or after `from` and by `by` (Unix seconds), with that line: the other
    /// side's observation of the entry.
    pub fn observed(
        &self,
        party: &Party,
        index: u64,
        from: u64,
        by: u64,
    ) -> Result<Option<Chosen>> {
        let log = self.log(party)?.clone();
        let own = hotline_proto::claims::witness_of(&log.origin);
        let mut t = from;
        // Cosignatures come once per round; a few dozen steps reach far.
        for _ in 0..64 {
            let Some(r) = self.store.cosignature_near(log.id, t, false)? else {
                return Ok(None);
            };
            if r.time > by {
                return Ok(None);
            }
            if r.size > index && r.witness != own {
                let note = match r.note {
                    Some(n) => n,
                    None => match self.store.checkpoint_at(log.id, r.size)? {
                        Some(n) => n,
                        None => return Ok(None),
                    },
                };
                return Ok(Some(Chosen {
                    party: party.clone(),
                    size: r.size,
                    note: replace_line(&note, &r.witness, &r.line)?,
                }));
            }
            t = r.time + 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use hotline_proto::Hash;
    use hotline_proto::keys::{ALG_COSIGNATURE_V1, ALG_ED25519, NoteKey, os_rng};

    use super::*;

    fn key(name: &str, alg: u8) -> NoteKey {
        NoteKey::generate(name, alg, &mut os_rng()).unwrap()
    }

    fn cosigned(note: &[u8], w: &NoteKey, time: u64) -> Vec<u8> {
        let (text, _) = checkpoint::split(note).unwrap();
        let line = checkpoint::cosign_line(w, text, time).unwrap();
        replace_line(note, w.name(), &line).unwrap()
    }

    #[test]
    fn lines_are_dated_replaced_and_merged_keeping_each_cosigners_latest() {
        let log = key("hotline/us", ALG_ED25519);
        let own = key("hotline/us/witness", ALG_COSIGNATURE_V1);
        let ru = key("hotline/ru/witness", ALG_COSIGNATURE_V1);
        let note = checkpoint::sign_indexed(&log, 3, Hash([1; 32]), Hash([2; 32])).unwrap();
        assert_eq!(line_time(&note, own.name()), None);

        // As pushed: the log's own witness at 100. As cosigned here later:
        // the own witness at 200 (a later round) and ru's at 150.
        let pushed = cosigned(&note, &own, 100);
        let asked = cosigned(&cosigned(&note, &own, 200), &ru, 150);
        assert_eq!(line_time(&pushed, own.name()), Some(100));
        assert_eq!(
            line_time(&cosigned(&pushed, &own, 300), own.name()),
            Some(300)
        );

        let merged = merge_lines(&pushed, &asked).unwrap();
        assert_eq!(line_time(&merged, own.name()), Some(200));
        assert_eq!(line_time(&merged, ru.name()), Some(150));
        let v =
            checkpoint::verify(&merged, &log.verifier(), &[own.verifier(), ru.verifier()]).unwrap();
        assert_eq!(v.cosignatures.len(), 2, "one line per cosigner");
        let text = String::from_utf8(merged.clone()).unwrap();
        assert_eq!(
            text.matches("\u{2014} hotline/us ").count(),
            1,
            "the log's own signature once: {text}"
        );
        // An older line never replaces a newer one.
        let back = merge_lines(&merged, &pushed).unwrap();
        assert_eq!(line_time(&back, own.name()), Some(200));
    }
}
