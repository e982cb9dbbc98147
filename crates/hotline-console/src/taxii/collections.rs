//! The collections an account sees: one per channel in force for its
//! offices, with an id that both parties compute alike.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hotline_proto::entry::Kind;
use serde_json::{Value, json};
use sha2::Digest as _;

use super::auth::Account;
use super::discovery::check_root;
use super::errors::{MEDIA_TYPE, TaxiiError, check_accept, taxii_json};
use crate::Console;
use crate::channels::{Channel, channels_acting_for};

/// A channel's collection id: a name-based UUID (version 8, from SHA-256,
/// RFC 9562 section 5.8) of its two offices in name order, so that both
/// parties' nodes give the channel the same id.
pub(crate) fn collection_id(ch: &Channel) -> String {
    let (a, b) = if ch.ours.as_str() <= ch.theirs.as_str() {
        (ch.ours.as_str(), ch.theirs.as_str())
    } else {
        (ch.theirs.as_str(), ch.ours.as_str())
    };
    let mut h = sha2::Sha256::new();
    h.update(b"hotline channel\0");
    h.update(a.as_bytes());
    h.update([0]);
    h.update(b.as_bytes());
    let d: [u8; 32] = h.finalize().into();
    let mut u = [0u8; 16];
    u.copy_from_slice(&d[..16]);
    u[6] = (u[6] & 0x0f) | 0x80;
    u[8] = (u[8] & 0x3f) | 0x80;
    uuid_text(&u)
}

/// A UUID's text form.
pub(crate) fn uuid_text(u: &[u8; 16]) -> String {
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The channels the account sees now.
pub(crate) fn visible(c: &Console, a: &Account) -> Result<Vec<Channel>, TaxiiError> {
    Ok(channels_acting_for(c, &|o| a.acts_for(o))?)
}

/// The account's collection `id`: 404 for one unknown or another office's
/// alike, so that nothing tells them apart.
pub(crate) fn find(c: &Console, a: &Account, id: &str) -> Result<Channel, TaxiiError> {
    visible(c, a)?
        .into_iter()
        .find(|ch| collection_id(ch) == id)
        .ok_or_else(|| TaxiiError::not_found(format!("there is no collection {id:?} for you here")))
}

fn resource(ch: &Channel) -> Value {
    json!({
        "id": collection_id(ch),
        "title": format!("{} – {} ({})", ch.ours, ch.theirs, ch.agreements.join("; ")),
        "description": format!(
            "STIX objects on the hotline channel between {} and {}, both directions, under {}.",
            ch.ours, ch.theirs, ch.agreements.join("; ")
        ),
        "can_read": true,
        "can_write": ch.allows(Kind::Message),
        "media_types": [MEDIA_TYPE],
    })
}

pub(crate) async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, TaxiiError> + Send + 'static,
) -> Result<T, TaxiiError> {
    tokio::task::spawn_blocking(f).await?
}

/// `GET …/collections/`.
pub(crate) async fn list(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(root): Path<String>,
    a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    check_root(&root)?;
    let list = run_blocking(move || visible(&c, &a)).await?;
    let cols: Vec<Value> = list.iter().map(resource).collect();
    let body = if cols.is_empty() {
        json!({})
    } else {
        json!({ "collections": cols })
    };
    Ok(taxii_json(StatusCode::OK, &body, HeaderMap::new()))
}

/// `GET …/collections/{id}/`.
pub(crate) async fn one(
    State(c): State<Console>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    check_root(&root)?;
    let ch = run_blocking(move || find(&c, &a, &id)).await?;
    Ok(taxii_json(StatusCode::OK, &resource(&ch), HeaderMap::new()))
}
