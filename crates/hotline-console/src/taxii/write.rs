//! `POST …/objects/`: one `message` entry on the channel carrying the
//! envelope's objects to the counterpart office; and the status resources
//! that answer it, `GET …/status/{id}/`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hotline_proto::entry::{Content, Kind};
use rand_core::RngCore as _;
use serde::Serialize;
use serde_json::{Map, Value};

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
fn bundle_of(bytes: &[u8]) -> Result<(Value, Vec<(String, String)>), TaxiiError> {
    let mut v: Value = serde_json::from_slice(bytes)
        .map_err(|e| TaxiiError::bad_request(format!("the body is not JSON: {e}")))?;
    // Taken out of the envelope, not copied: a POST of 1,000 objects
    // otherwise builds them twice.
    let objects = v
        .get_mut("objects")
        .filter(|o| o.as_array().is_some_and(|a| !a.is_empty()))
        .map(Value::take)
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
            let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
            (
                s("id").unwrap_or_default(),
                s("modified").or_else(|| s("created")).unwrap_or_default(),
            )
        })
        .collect();
    // Built as a map, not with `json!`: the macro serializes its values
    // again, which copied every object and then dropped the original, the
    // parse's cost over again (0.8 ms a POST of 500).
    let mut bundle = Map::with_capacity(3);
    bundle.insert("type".into(), Value::from("bundle"));
    bundle.insert("id".into(), Value::from(format!("bundle--{}", uuid4())));
    bundle.insert("objects".into(), objects);
    Ok((Value::Object(bundle), versions))
}

/// The check every hotline bundle goes through, as TAXII answers it.
fn valid(content: &Content) -> Result<(), TaxiiError> {
    let bundle = content.stix.as_ref().unwrap_or(&Value::Null);
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
    // The collection is looked up while the body is read and parsed, each
    // on a thread of its own; the answers keep their order all the same:
    // a collection that is not the account's is 404 whatever the body.
    let (c2, id2) = (c.clone(), id.clone());
    let finding = run_blocking(move || Ok((find(&c2, &a, &id2)?, a)));
    let parsing = async {
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            TaxiiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                format!("the body is over this API root's max_content_length of {limit} bytes"),
            )
        })?;
        Ok::<_, TaxiiError>(tokio::task::spawn_blocking(move || bundle_of(&bytes)))
    };
    let (found, parsing) = tokio::join!(finding, parsing);
    let (ch, a) = found?;
    check_content_type(&headers)?;
    let parsed = parsing?;
    if !ch.allows(Kind::Message) {
        return Err(TaxiiError::forbidden(format!(
            "no agreement in force lets {} send a message to {}",
            ch.ours, ch.theirs
        )));
    }
    let (bundle, versions) = parsed.await??;
    let n = versions.len();
    let mut content = Content::text(
        format!(
            "{n} STIX object{} sent over TAXII by {}",
            if n == 1 { "" } else { "s" },
            a.operator.name
        ),
        None,
    );
    content.stix = Some(bundle);
    let appended = c
        .node
        .send_message_checked(&ch.ours, &ch.theirs, content, None, valid)
        .await??;
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
