//! "Did you mean …?" for a mistyped office, and the list of kinds for a
//! mistyped kind: a typo at 3 a.m. should cost one more try, not a search
//! through the docs.

use anyhow::{Result, bail};
use hotline_node::dir::{Mode, NodeDir};
use hotline_proto::entry::{Kind, SignedEntry};
use hotline_proto::keys::OfficeKeys;
use hotline_proto::party::Office;

/// Checks `office` (given to `flag`) against the offices this node knows:
/// its own, and those of its pinned peers (from their export and from the
/// `key` entries of every log it holds). An office it does not know that is
/// a short edit away from one it does is refused with "did you mean …?";
/// anything else goes on to the node, which has the last word.
/// `--from` and `--to` of a command that writes from one office to another,
/// each checked as `office` checks it.
pub fn from_to(dir: &NodeDir, from: &str, to: &str) -> Result<(Office, Office)> {
    Ok((office(dir, from, "--from")?, office(dir, to, "--to")?))
}

pub fn office(dir: &NodeDir, office: &str, flag: &str) -> Result<Office> {
    let parsed = Office::new(office).map_err(|e| anyhow::anyhow!("{flag} {office:?}: {e}"))?;
    let known = known_offices(dir);
    if known.iter().any(|k| k == office) {
        return Ok(parsed);
    }
    if let Some(near) = nearest(office, &known) {
        let own = dir
            .read_config()
            .is_ok_and(|c| parsed.party().as_str() == c.party);
        let create = if own {
            format!(
                "; if it is a new office of this party, create it with `hotline office add {office}`"
            )
        } else {
            String::new()
        };
        bail!(
            "{flag} {office}: unknown office {office}; did you mean {near}? (known: {}){create}",
            known.join(", ")
        );
    }
    Ok(parsed)
}

/// The kind named `kind`, or the list of kinds there are.
pub fn kind(kind: &str) -> Result<Kind> {
    Kind::parse(kind).ok_or_else(|| {
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let hint = nearest(kind, &all)
            .map(|n| format!("did you mean {n}? "))
            .unwrap_or_default();
        anyhow::anyhow!(
            "unknown kind {kind:?} (--kind); {hint}the kinds are: {}",
            all.join(", ")
        )
    })
}

/// The one candidate closest to `typed` if it is close enough to be a typo
/// (at most a third of its length, and at most 3 edits, away).
pub fn nearest<S: AsRef<str>>(typed: &str, candidates: &[S]) -> Option<String> {
    let limit = (typed.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (distance(typed, c.as_ref()), c.as_ref()))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_owned())
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Every office this node knows, sorted, each once. Best effort: what
/// cannot be read is left out (the node still checks what it is sent).
pub fn known_offices(dir: &NodeDir) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir.offices()) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json")
                && let Ok(t) = std::fs::read_to_string(&p)
                && let Ok(k) = OfficeKeys::from_secret_json(&t)
            {
                out.push(k.office().to_string());
            }
        }
    }
    for id in dir.pinned() {
        out.extend(id.offices.iter().map(|o| o.office.to_string()));
    }
    if let Ok(opened) = dir.open(Mode::ReadOnly) {
        let logs = opened
            .own_log()
            .ok()
            .into_iter()
            .chain(opened.mirrors().into_iter().map(|m| m.log));
        for log in logs {
            for l in opened.store.leaves_of_kind(log, "key").unwrap_or_default() {
                if let Ok(e) = SignedEntry::from_leaf(&l.leaf)
                    && let Some(k) = &e.header().key
                {
                    out.push(k.keys.office.to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_finds_its_office_and_a_stranger_finds_none() {
        let known = ["us/fbi", "us/president", "ru/fsb"];
        assert_eq!(nearest("us/fib", &known).as_deref(), Some("us/fbi"));
        assert_eq!(nearest("us/fb", &known).as_deref(), Some("us/fbi"));
        assert_eq!(nearest("ru/fbs", &known).as_deref(), Some("ru/fsb"));
        assert_eq!(nearest("us/treasury", &known), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
