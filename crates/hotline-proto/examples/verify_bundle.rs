//! Verifying a hotline proof bundle without hotline: what a third party
//! (a court, an auditor, another government) embeds, built with
//! `hotline-proto` and only its `verify` feature.
//!
//! ```text
//! cargo run -p hotline-proto --no-default-features --features verify \
//!     --example verify_bundle -- BUNDLE KEYS...
//! ```
//!
//! Each KEYS is a `hotline keys export` file (a party's log and witness
//! keys, as JSON) or a file of verifier keys, one `name+keyid+key` per line.
//! Only the keys pinned here are trusted: the bundle carries none of its own.
//! Prints the sentence the bundle proves and its checkpoint's signatures;
//! on refusal prints why and exits with status 1.

use std::process::ExitCode;

use hotline_proto::bundle::{self, Keyring, Verified, describe_signatures, origin_party};
use hotline_proto::keys::{NoteVerifier, PartyIdentity};

/// The pinned verifier keys in one keys file's text.
///
/// A keys export names its party; its log must be named after that party,
/// or the file would lend another party's name to these signatures.
pub fn pinned_keys(text: &str) -> Result<Vec<NoteVerifier>, String> {
    if let Ok(id) = serde_json::from_str::<PartyIdentity>(text) {
        let log = NoteVerifier::from_vkey(&id.log_key).map_err(|e| e.to_string())?;
        let witness = NoteVerifier::from_vkey(&id.witness_key).map_err(|e| e.to_string())?;
        if origin_party(log.name()) != id.party.as_str() {
            return Err(format!(
                "the keys of party {} name their log {}, another party's",
                id.party,
                log.name()
            ));
        }
        return Ok(vec![log, witness]);
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| NoteVerifier::from_vkey(l).map_err(|e| format!("{l}: {e}")))
        .collect()
}

/// Verifies a bundle's bytes against the keys files' texts.
pub fn check(bundle_bytes: &[u8], keys_files: &[String]) -> Result<Verified, String> {
    let mut pinned = Vec::new();
    for text in keys_files {
        pinned.extend(pinned_keys(text)?);
    }
    bundle::check_size(bundle_bytes.len() as u64).map_err(|e| e.to_string())?;
    bundle::verify(bundle_bytes, &Keyring::new(pinned)).map_err(|e| e.to_string())
}

/// The verdict as printed: the sentence, then the checkpoints it rests on
/// and who signed them (a fuller account per claim is in `hotline verify --json`).
pub fn report(v: &Verified) -> String {
    let rests_on = match v {
        Verified::Inclusion(e) => vec![("entry", &e.checkpoint)],
        Verified::Delivery(d) => vec![("entry", &d.entry.checkpoint)],
        Verified::Equivocation(f) => vec![("a", &f.a), ("b", &f.b)],
        Verified::IndexMismatch(m) => vec![("index", &m.checkpoint)],
        _ => vec![],
    };
    let mut out = format!("Verified. {}", v.sentence());
    for (part, cp) in rests_on {
        out += &format!("\n  {part}: {}", describe_signatures(cp));
    }
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((bundle_path, keys_paths)) = args.split_first().filter(|(_, k)| !k.is_empty()) else {
        eprintln!("usage: verify_bundle BUNDLE KEYS...");
        return ExitCode::from(2);
    };
    let read = |p: &String| std::fs::read(p).map_err(|e| format!("reading {p}: {e}"));
    let outcome = read(bundle_path).and_then(|bytes| {
        let keys = keys_paths
            .iter()
            .map(|p| read(p).map(|b| String::from_utf8_lossy(&b).into_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        check(&bytes, &keys)
    });
    match outcome {
        Ok(v) => {
            println!("{}", report(&v));
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("NOT verified: {why}");
            ExitCode::from(1)
        }
    }
}
