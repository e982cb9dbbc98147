//! Who may read the tiles: anyone with `[tiles] public = true`; otherwise a
//! bearer token that is a read token (its SHA-256 in `DIR/tiles.tokens`,
//! written by `hotline tiles token`), the contents of `[tiles] token_file`,
//! or the API token.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;

use axum::http::{HeaderMap, header};
use rand_core::{OsRng, TryRngCore as _};
use sha2::{Digest, Sha256};

use crate::dir::{Config, NodeDir};

/// The file of read-token hashes, one lowercase hex SHA-256 a line.
pub fn tokens_file(dir: &NodeDir) -> PathBuf {
    dir.root().join("tiles.tokens")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Makes a new read token, keeps only its hash, and returns it (the one
/// time it is seen).
pub fn create_token(dir: &NodeDir) -> std::io::Result<String> {
    let mut raw = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut raw)
        .map_err(|e| std::io::Error::other(format!("the system's random source: {e}")))?;
    let token = format!("hlt_{}", hex(&raw));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(tokens_file(dir))?;
    writeln!(f, "{}", hex(&Sha256::digest(token.as_bytes())))?;
    f.sync_all()?;
    Ok(token)
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
}

/// Whether the request may read the tiles.
pub fn allowed(
    dir: &NodeDir,
    config: &Config,
    api_token_hash: &[u8; 32],
    headers: &HeaderMap,
) -> bool {
    if config.tiles.public {
        return true;
    }
    let Some(given) = bearer(headers) else {
        return false;
    };
    let h: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    if h == *api_token_hash {
        return true;
    }
    if let Some(f) = &config.tiles.token_file {
        let path = dir.root().join(f);
        if let Ok(t) = std::fs::read_to_string(path) {
            let t = t.trim();
            if !t.is_empty() && Sha256::digest(t.as_bytes())[..] == h[..] {
                return true;
            }
        }
    }
    let want = hex(&h);
    std::fs::read_to_string(tokens_file(dir))
        .map(|s| s.lines().any(|l| l.trim() == want))
        .unwrap_or(false)
}
