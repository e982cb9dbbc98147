//! `POST …/objects/`: one `message` entry on the channel carrying the
//! envelope's objects to the counterpart office; and the status resources
//! that answer it, `GET …/status/{id}/`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hotline_proto::entry::{ContentOf, Kind};
use hotline_proto::json::{Borrowed, Json, Members};
use rand_core::RngCore as _;
use serde::Serialize;

use super::ROOT;
use super::auth::Account;
use super::collections::{find, run_blocking, uuid_text};
use super::discovery::{check_root, max_content_length};
use super::errors::{TaxiiError, check_accept, check_content_type, taxii_text};
use crate::Console;

/// A random UUID (version 4).
fn uuid4() -> String {
    let mut u = [0u8; 16];
    hotline_proto::keys::os_rng().fill_bytes(&mut u);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    uuid_text(&u)
}

/// The envelope's objects as a STIX 2.1 bundle, and each object's id and
/// version. Not yet validated: [`valid`] runs while the content is sealed.
/// The tree borrows its strings from `bytes` (`json::Borrowed`): parsed
/// into `serde_json::Value`, a POST of 500 objects was 12,000 allocations
/// made and freed on the POST's path.
fn bundle_of(bytes: &[u8]) -> Result<(Borrowed<'_>, Vec<(String, String)>), TaxiiError> {
    // UTF-8 checked once for the whole body, which is faster than
    // serde_json's check of each string.
    let text = std::str::from_utf8(bytes)
        .map_err(|e| TaxiiError::bad_request(format!("the body is not JSON: {e}")))?;
    let mut v: Borrowed<'_> = serde_json::from_str(text)
        .map_err(|e| TaxiiError::bad_request(format!("the body is not JSON: {e}")))?;
    // Taken out of the envelope, not copied.
    let objects = v
        .take("objects")
        .filter(|o| o.as_array().is_some_and(|a| !a.is_empty()))
        .ok_or_else(|| {
            TaxiiError::bad_request(
                "the body is not a TAXII envelope: send {\"objects\": [ … ]} with at least one STIX object",
            )
        })?;
    let versions = objects
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            let s = |k: &str| o.get(k).and_then(Json::as_str).map(str::to_owned);
            (
                s("id").unwrap_or_default(),
                s("modified").or_else(|| s("created")).unwrap_or_default(),
            )
        })
        .collect();
    let bundle = Members::new(vec![
        ("type".into(), Borrowed::from("bundle")),
        ("id".into(), Borrowed::from(format!("bundle--{}", uuid4()))),
        ("objects".into(), objects),
    ]);
    Ok((Borrowed::Object(bundle), versions))
}

/// The check every hotline bundle goes through, as TAXII answers it.
fn valid(content: &ContentOf<Borrowed<'_>>) -> Result<(), TaxiiError> {
    let Some(bundle) = content.stix.as_ref() else {
        return Err(TaxiiError::internal("a TAXII content without its bundle"));
    };
    hotline_proto::stix::validate(bundle)
        .map(drop)
        .map_err(|e| {
            TaxiiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid STIX",
                format!("the objects are not valid STIX 2.1: {e}"),
            )
        })
}

/// `POST …/objects/`.
pub(crate) async fn add_objects(
    State(c): State<Console>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    a: Account,
    body: Body,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    check_root(&root)?;
    let limit = max_content_length(&c);
    // The collection is looked up while the body is read; the answers
    // keep their order all the same: a collection that is not the
    // account's is 404 whatever the body.
    let (c2, id2) = (c.clone(), id.clone());
    let finding = run_blocking(move || Ok((find(&c2, &a, &id2)?, a)));
    let reading = async {
        axum::body::to_bytes(body, limit).await.map_err(|_| {
            TaxiiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                format!("the body is over this API root's max_content_length of {limit} bytes"),
            )
        })
    };
    let (found, read) = tokio::join!(finding, reading);
    let (ch, a) = found?;
    check_content_type(&headers)?;
    let bytes = read?;
    if !ch.allows(Kind::Message) {
        return Err(TaxiiError::forbidden(format!(
            "no agreement in force lets {} send a message to {}",
            ch.ours, ch.theirs
        )));
    }
    // Parsed, checked and sealed on one blocking thread, where the tree
    // can borrow the body's bytes; only the sealed entry leaves it.
    let (node, operator) = (c.node.clone(), a.operator.name.clone());
    let (ours, theirs) = (ch.ours.clone(), ch.theirs.clone());
    let (prepared, versions) = run_blocking(move || {
        let (bundle, versions) = bundle_of(&bytes)?;
        let n = versions.len();
        let mut content = ContentOf::text(
            format!(
                "{n} STIX object{} sent over TAXII by {operator}",
                if n == 1 { "" } else { "s" },
            ),
            None,
        );
        content.stix = Some(bundle);
        let prepared = node.prepare_message(&ours, &theirs, &content, None, valid)??;
        Ok((prepared, versions))
    })
    .await?;
    let appended = c.node.append_prepared(prepared).await?;
    let n = versions.len();
    let entry = c.own_id(appended.index);
    tracing::info!(operator = %a.operator.name, %entry, objects = n, "STIX objects added over TAXII");
    let now = hotline_node::clock::now();
    let status_id = uuid4();
    let message = format!("carried by entry {entry}");
    let status = serde_json::to_string(&StatusResource {
        id: &status_id,
        status: "complete",
        request_timestamp: super::paging::stamp(now.as_microsecond()),
        total_count: n,
        success_count: n,
        successes: versions
            .iter()
            .map(|(id, version)| Detail {
                id,
                version,
                message: &message,
            })
            .collect(),
        failure_count: 0,
        pending_count: 0,
    })
    .map_err(TaxiiError::internal)?;
    let (ops, name) = (c.operators.clone(), a.operator.name.clone());
    // The text goes to the store and comes back to be answered: not copied.
    let status = run_blocking(move || {
        ops.store()
            .add_taxii_status(&status_id, &name, ROOT, &status, now.as_second())?;
        Ok(status)
    })
    .await?;
    Ok(taxii_text(StatusCode::ACCEPTED, status, HeaderMap::new()))
}

/// A status resource (TAXII 2.1 §4.3.1), written straight from the list of
/// objects: for a POST of 500 objects, building it as JSON values and
/// writing it twice (to store, to answer) had cost a millisecond.
#[derive(Serialize)]
struct StatusResource<'a> {
    id: &'a str,
    status: &'static str,
    request_timestamp: String,
    total_count: usize,
    success_count: usize,
    successes: Vec<Detail<'a>>,
    failure_count: usize,
    pending_count: usize,
}

/// One object's line in a status resource (§4.3.1.1).
#[derive(Serialize)]
struct Detail<'a> {
    id: &'a str,
    version: &'a str,
    message: &'a str,
}

/// `GET …/status/{id}/`: only to the operator it was answered to.
pub(crate) async fn status(
    State(c): State<Console>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    check_root(&root)?;
    let ops = c.operators.clone();
    let name = a.operator.name.clone();
    let id2 = id.clone();
    let found = run_blocking(move || Ok(ops.store().taxii_status(&id2, &name, ROOT)?)).await?;
    // Stored as answered: written by this node, served as it is.
    let body =
        found.ok_or_else(|| TaxiiError::not_found(format!("there is no status {id:?} for you")))?;
    Ok(taxii_text(StatusCode::OK, body, HeaderMap::new()))
}
