//! `hotline verify`: checks a proof bundle offline against pinned keys.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use hotline_proto::bundle::{self, Keyring};
use hotline_proto::keys::{NoteVerifier, PartyIdentity};

#[derive(Args)]
pub struct VerifyArgs {
    /// The bundle file (`-` for standard input).
    pub file: PathBuf,
    /// A pinned verifier key (C2SP vkey, or a file holding one or a `hotline keys export` file). Repeat for several.
    #[arg(long = "key", required = true)]
    pub keys: Vec<String>,
    /// Print the result as JSON: the claim, the bundle type, the sentence, and each part of
    /// the claim with the signatures it rests on.
    #[arg(long)]
    pub json: bool,
}

/// Reads `--key` values: a vkey, a file with vkeys (one a line), or an export file.
pub fn read_keys(args: &[String]) -> Result<Vec<NoteVerifier>> {
    // Each key with the --key argument it came from, to name both of two
    // that clash.
    let mut out: Vec<(NoteVerifier, &str)> = Vec::new();
    for a in args {
        let text = if Path::new(a).is_file() {
            std::fs::read_to_string(a).with_context(|| format!("reading {a} (--key)"))?
        } else if !a.contains('+') {
            // Not a vkey (`name+keyid+key`), so meant as a file.
            bail!(
                "no such file: {a} (given to --key); a --key is a verifier key (`hotline key` prints one), a file of them, or a `hotline keys export` file"
            );
        } else {
            a.clone()
        };
        if let Ok(id) = serde_json::from_str::<PartyIdentity>(&text) {
            let log = NoteVerifier::from_vkey(&id.log_key).with_context(|| format!("--key {a}"))?;
            let witness =
                NoteVerifier::from_vkey(&id.witness_key).with_context(|| format!("--key {a}"))?;
            // Entries and cosignatures are attributed to a party by the name
            // of the log they sit in: a file naming another party's log
            // would lend that party its signatures.
            let owner = bundle::origin_party(log.name());
            if owner != id.party.as_str() {
                bail!(
                    "--key {a} is the keys of party {} but names its log {}, which is party {owner}'s; a party's log is named after the party, so this is not a `hotline keys export` file of {}",
                    id.party,
                    log.name(),
                    id.party
                );
            }
            // Cosignatures are told apart by their witness's name: a file
            // naming its witness otherwise would lend it another's.
            let want = hotline_proto::claims::witness_of(log.name());
            if witness.name() != want {
                bail!(
                    "--key {a} names its witness key {}; a party's witness key is named after its own log: {want}, so this is not a `hotline keys export` file of {}",
                    witness.name(),
                    id.party
                );
            }
            out.push((log, a));
            out.push((witness, a));
            continue;
        }
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            out.push((
                NoteVerifier::from_vkey(line).with_context(|| format!("--key {a}"))?,
                a,
            ));
        }
    }
    // A name denotes one key: with two, a verifier would trust whichever
    // it met first, and a signature could be read as the other's.
    let mut kept: Vec<(NoteVerifier, &str)> = Vec::with_capacity(out.len());
    for (k, a) in out {
        match kept.iter().find(|(held, _)| held.name() == k.name()) {
            Some((held, _)) if *held == k => {}
            Some((held, b)) => bail!(
                "two pinned keys are named {}: {} (from --key {b}) and {} (from --key {a}); a name denotes one key, so pin only the one its party's own `hotline keys export` gives",
                k.name(),
                held.to_vkey(),
                k.to_vkey()
            ),
            None => kept.push((k, a)),
        }
    }
    Ok(kept.into_iter().map(|(k, _)| k).collect())
}

/// Reads a bundle file, refusing one over [`bundle::MAX_BUNDLE_BYTES`] by
/// its length before reading any of it, and one whose length is not known
/// ahead (a pipe, a device) as soon as it passes the limit.
fn read_bundle(file: &Path) -> Result<Result<Vec<u8>, bundle::BundleError>> {
    let limit = bundle::MAX_BUNDLE_BYTES as u64;
    if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .context("reading the bundle from standard input")?;
        return Ok(over_limit(bytes));
    }
    crate::files::must_exist(file, "verify")?;
    let f = std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
    let len = f
        .metadata()
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if let Err(e) = bundle::check_size(len) {
        return Ok(Err(e));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", file.display()))?;
    Ok(over_limit(bytes))
}

/// The bytes read, refused if they passed the limit (read up to one more).
fn over_limit(bytes: Vec<u8>) -> Result<Vec<u8>, bundle::BundleError> {
    let limit = bundle::MAX_BUNDLE_BYTES as u64;
    if bytes.len() as u64 > limit {
        return Err(bundle::BundleError::Malformed(format!(
            "the bundle is over {limit} bytes; the limit is {}",
            hotline_proto::limits::describe_bytes(bundle::MAX_BUNDLE_BYTES)
        )));
    }
    Ok(bytes)
}

pub fn verify(file: &Path, keys: &[String], json: bool) -> Result<ExitCode> {
    let read = read_bundle(file)?;
    let keyring = Keyring::new(read_keys(keys)?);
    let mut kind = String::new();
    match read.and_then(|bytes| {
        kind = crate::verdict::bundle_type(&bytes);
        bundle::verify(&bytes, &keyring)
    }) {
        Ok(v) => {
            if json {
                println!("{}", crate::verdict::verified(&v, &kind));
            } else {
                println!("Verified. {}", v.sentence());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "verified": false, "bundle": kind, "error": e.to_string() })
                );
            }
            eprintln!("NOT verified: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
