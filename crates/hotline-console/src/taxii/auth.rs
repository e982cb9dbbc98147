//! Who is asking: HTTP Basic with a console operator's name and password,
//! or `Authorization: Bearer TOKEN` with a token from
//! `hotline operator token NAME`.
//!
//! A password is checked with Argon2id exactly as at the console's sign-in,
//! through the console's throttle (per client address, a few checks at a
//! time) and counting a wrong password under the name as the console does
//! (a count for admins to see, never a lock). A successful check is
//! remembered for [`CACHE_SECS`] under the SHA-256 of the name and password,
//! so that a client polling every few seconds pays Argon2 about once a
//! minute; a wrong password is never remembered. Tokens are 32 random bytes
//! and only their SHA-256 is kept, so checking one needs no slow hash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use hotline_proto::party::Office;
use sha2::Digest as _;

use super::errors::TaxiiError;
use crate::Console;
use crate::operators::{Operator, Refusal};

/// How long a successful password check is remembered.
pub(crate) const CACHE_SECS: u64 = 60;
/// Most remembered checks (the oldest go first).
const CACHE_MAX: usize = 1024;

/// Successful password checks, by the SHA-256 of name and password.
#[derive(Clone, Default)]
pub(crate) struct Verified(Arc<Mutex<HashMap<[u8; 32], Instant>>>);

impl Verified {
    fn fresh(&self, key: &[u8; 32], now: Instant) -> bool {
        let Ok(mut m) = self.0.lock() else {
            return false;
        };
        match m.get(key) {
            Some(at) if now.duration_since(*at) < Duration::from_secs(CACHE_SECS) => true,
            Some(_) => {
                m.remove(key);
                false
            }
            None => false,
        }
    }
    fn remember(&self, key: [u8; 32], now: Instant) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= CACHE_MAX {
                m.retain(|_, at| now.duration_since(*at) < Duration::from_secs(CACHE_SECS));
                if m.len() >= CACHE_MAX
                    && let Some(oldest) = m.iter().min_by_key(|(_, at)| **at).map(|(k, _)| *k)
                {
                    m.remove(&oldest);
                }
            }
            m.insert(key, now);
        }
    }
}

/// A signed-in TAXII account: a console operator.
pub(crate) struct Account {
    pub operator: Operator,
}

impl Account {
    pub fn acts_for(&self, office: &Office) -> bool {
        self.operator.offices.contains(office)
    }
}

fn credentials_key(name: &str, password: &str) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(b"hotline taxii basic\0");
    h.update(name.as_bytes());
    h.update([0]);
    h.update(password.as_bytes());
    h.finalize().into()
}

fn refused() -> TaxiiError {
    TaxiiError::unauthorized(
        "sign in with HTTP Basic (a console operator's name and password) \
         or Authorization: Bearer with a token from `hotline operator token NAME`",
    )
}

impl FromRequestParts<Console> for Account {
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Self, TaxiiError> {
        let Some(value) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(refused());
        };
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim().to_owned();
        if scheme.eq_ignore_ascii_case("bearer") {
            if rest.is_empty() || rest.len() > 256 {
                return Err(refused());
            }
            let ops = c.operators.clone();
            let found = tokio::task::spawn_blocking(move || ops.taxii_token(&rest)).await??;
            return found
                .map(|operator| Account { operator })
                .ok_or_else(refused);
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(refused());
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(refused)?;
        let (name, password) = decoded.split_once(':').ok_or_else(refused)?;
        let (name, password) = (name.to_owned(), password.to_owned());
        let key = credentials_key(&name, &password);
        let ops = c.operators.clone();
        if c.taxii.fresh(&key, Instant::now()) {
            let n = name.clone();
            if let Some(operator) = tokio::task::spawn_blocking(move || ops.get(&n)).await?? {
                return Ok(Account { operator });
            }
            return Err(refused());
        }
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|ci| ci.0.ip());
        let busy = |w: crate::throttle::Wait| {
            tracing::warn!(operator = %name, client = ?ip, "TAXII sign-in throttled");
            TaxiiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-ins",
                format!(
                    "too many failed sign-ins from this address, or too many at once; wait {} s",
                    w.secs()
                ),
            )
        };
        let charge = c.throttle.admit(ip, Instant::now()).map_err(busy)?;
        let turn = c.throttle.check().await.map_err(busy)?;
        let (n2, pw) = (name.clone(), password);
        let r = turn
            .run(move || ops.verify(&n2, &pw))
            .await
            .map_err(|_| TaxiiError::internal("the password checkers are gone"))?;
        match r {
            Ok(operator) => {
                c.throttle.refund(charge, Instant::now());
                c.taxii.remember(key, Instant::now());
                Ok(Account { operator })
            }
            Err(Refusal::WrongPassword(n)) => {
                let ops = c.operators.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = ops.count_failure(&n) {
                        tracing::warn!(operator = %n, error = %e, "could not count a failed TAXII sign-in");
                    }
                });
                tracing::warn!(operator = %name, client = ?ip, "TAXII sign-in refused");
                Err(refused())
            }
            Err(Refusal::Other(crate::operators::LoginError::Refused)) => Err(refused()),
            Err(Refusal::Other(e)) => Err(TaxiiError::internal(e)),
        }
    }
}
