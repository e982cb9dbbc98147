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
//! keys, as JSON) or a file of verifier keys, one `name+keyid+key` per line,
//! read with the same checks as `hotline verify` (`hotline_proto::pinned`).
//! Only the keys pinned here are trusted: the bundle carries none of its own.
//! Prints the sentence the bundle proves and its checkpoint's signatures;
//! on refusal prints why and exits with status 1.

use std::process::ExitCode;

use hotline_proto::bundle::{self, Keyring, Verified, describe_signatures};
use hotline_proto::pinned;

/// Verifies a bundle's bytes against the keys files' texts.
pub fn check(bundle_bytes: &[u8], keys_files: &[String]) -> Result<Verified, String> {
    let mut keys = Vec::new();
    for (n, text) in keys_files.iter().enumerate() {
        let file = pinned::keys_of_file(text).map_err(|e| format!("keys file {}: {e}", n + 1))?;
        keys.extend(file.into_iter().map(|k| (k, n)));
    }
    let pinned = pinned::one_key_per_name(keys).map_err(|e| e.to_string())?;
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
