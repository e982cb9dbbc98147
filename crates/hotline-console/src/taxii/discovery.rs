//! `GET /taxii2/` (discovery) and `GET /taxii2/{root}/` (the API root).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::ROOT;
use super::auth::Account;
use super::errors::{MEDIA_TYPE, TaxiiError, check_accept, taxii_json};
use crate::Console;

/// The largest POST body accepted: the node's request limit, at most the
/// largest STIX bundle.
pub(crate) fn max_content_length(c: &Console) -> usize {
    c.node
        .config()
        .limits
        .max_request_bytes
        .min(hotline_proto::stix::MAX_BYTES)
}

/// Refuses any root but this party's one (404).
pub(crate) fn check_root(root: &str) -> Result<(), TaxiiError> {
    if root == ROOT {
        Ok(())
    } else {
        Err(TaxiiError::not_found(format!(
            "there is no API root {root:?} here; the one API root is /taxii2/{ROOT}/"
        )))
    }
}

/// `GET /taxii2/`.
pub(crate) async fn discovery(
    State(c): State<Console>,
    headers: HeaderMap,
    _a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    let party = c.node.party().to_string();
    Ok(taxii_json(
        StatusCode::OK,
        &json!({
            "title": format!("hotline {party}"),
            "description": format!("The STIX objects on {party}'s hotline channels, one collection per channel in force."),
            "default": format!("/taxii2/{ROOT}/"),
            "api_roots": [format!("/taxii2/{ROOT}/")],
        }),
        HeaderMap::new(),
    ))
}

/// `GET /taxii2/{root}/`.
pub(crate) async fn api_root(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(root): Path<String>,
    _a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    check_root(&root)?;
    let party = c.node.party().to_string();
    Ok(taxii_json(
        StatusCode::OK,
        &json!({
            "title": format!("hotline {party}"),
            "description": "One collection per channel in force for your offices.",
            "versions": [MEDIA_TYPE],
            "max_content_length": max_content_length(&c),
        }),
        HeaderMap::new(),
    ))
}
