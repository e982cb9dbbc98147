//! `hotline verify`: checks a proof bundle offline against pinned keys.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use hotline_proto::bundle::{self, Keyring};
use hotline_proto::keys::NoteVerifier;
use hotline_proto::pinned::{self, PinError};

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
    // Each key with the number of the --key argument it came from, to name
    // both of two that clash.
    let mut out: Vec<(NoteVerifier, usize)> = Vec::new();
    for (n, a) in args.iter().enumerate() {
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
        let keys = pinned::keys_of_file(&text).map_err(|e| refusal(e, args, n))?;
        out.extend(keys.into_iter().map(|k| (k, n)));
    }
    // The argument number is unused here: a clash names both of its own.
    pinned::one_key_per_name(out).map_err(|e| refusal(e, args, 0))
}

/// A keys file's refusal in the words of `--key`, naming argument `n`
/// (or, for a clash, the two arguments the keys came from).
fn refusal(e: PinError, args: &[String], n: usize) -> anyhow::Error {
    let arg = |n: usize| args.get(n).map_or("?", String::as_str);
    match e {
        PinError::LogOfAnother { party, log, owner } => anyhow::anyhow!(
            "--key {} is the keys of party {party} but names its log {log}, which is party {owner}'s; a party's log is named after the party, so this is not a `hotline keys export` file of {party}",
            arg(n)
        ),
        PinError::WitnessMisnamed {
            party,
            witness,
            want,
        } => anyhow::anyhow!(
            "--key {} names its witness key {witness}; a party's witness key is named after its own log: {want}, so this is not a `hotline keys export` file of {party}",
            arg(n)
        ),
        PinError::Clash {
            held,
            held_from,
            other,
            other_from,
        } => anyhow::anyhow!(
            "two pinned keys are named {}: {} (from --key {}) and {} (from --key {}); a name denotes one key, so pin only the one its party's own `hotline keys export` gives",
            other.name(),
            held.to_vkey(),
            arg(held_from),
            other.to_vkey(),
            arg(other_from)
        ),
        PinError::BadKey(k) => anyhow::Error::new(k).context(format!("--key {}", arg(n))),
    }
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
