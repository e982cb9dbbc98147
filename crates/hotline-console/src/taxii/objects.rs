//! Reading a collection: `…/objects/`, `…/objects/{id}/`,
//! `…/objects/{id}/versions/` and `…/manifest/`.

use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::auth::Account;
use super::collections::{find, run_blocking};
use super::discovery::check_root;
use super::errors::{TaxiiError, check_accept, taxii_json};
use super::index::Answer;
use super::paging::{Page, Query};
use crate::Console;

/// The page's `X-TAXII-Date-Added-First` and `-Last` headers.
fn date_headers(p: &Page) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let (Some(first), Some(last)) = (p.items.first(), p.items.last()) {
        for (name, i) in [
            ("x-taxii-date-added-first", first),
            ("x-taxii-date-added-last", last),
        ] {
            if let Ok(v) = HeaderValue::from_str(&i.date_added()) {
                h.insert(name, v);
            }
        }
    }
    h
}

/// An envelope-like answer: `more`, `next` when there is more, and the
/// list under `key` when it is not empty.
fn envelope(p: &Page, key: &str, list: Vec<Value>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("more".into(), Value::Bool(p.next.is_some()));
    if let Some(n) = &p.next {
        m.insert("next".into(), Value::String(n.clone()));
    }
    if !list.is_empty() {
        m.insert(key.into(), Value::Array(list));
    }
    Value::Object(m)
}

/// The page of collection `id` that `q` asks for; `object`: only that object.
async fn read(
    c: Console,
    a: Account,
    root: String,
    id: String,
    q: Query,
    object: Option<String>,
    answer: Answer,
) -> Result<Page, TaxiiError> {
    check_root(&root)?;
    run_blocking(move || {
        let ch = find(&c, &a, &id)?;
        let params = q.params()?;
        super::index::page(&c, &a, &ch, &params, object.as_deref(), answer)
    })
    .await
}

/// `GET …/objects/`.
pub(crate) async fn objects(
    State(c): State<Console>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    Q(q): Q<Query>,
    a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    let p = read(c, a, root, id, q, None, Answer::Objects).await?;
    let list = p.items.iter().map(|i| i.object.clone()).collect();
    Ok(taxii_json(
        StatusCode::OK,
        &envelope(&p, "objects", list),
        date_headers(&p),
    ))
}

/// `GET …/objects/{object_id}/`.
pub(crate) async fn object(
    State(c): State<Console>,
    headers: HeaderMap,
    Path((root, id, object_id)): Path<(String, String, String)>,
    Q(q): Q<Query>,
    a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    let p = read(c, a, root, id, q, Some(object_id), Answer::Objects).await?;
    let list = p.items.iter().map(|i| i.object.clone()).collect();
    Ok(taxii_json(
        StatusCode::OK,
        &envelope(&p, "objects", list),
        date_headers(&p),
    ))
}

/// `GET …/objects/{object_id}/versions/`.
pub(crate) async fn versions(
    State(c): State<Console>,
    headers: HeaderMap,
    Path((root, id, object_id)): Path<(String, String, String)>,
    Q(q): Q<Query>,
    a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    let p = read(c, a, root, id, q, Some(object_id), Answer::Versions).await?;
    let list = p
        .items
        .iter()
        .map(|i| Value::String(i.version.clone()))
        .collect();
    Ok(taxii_json(
        StatusCode::OK,
        &envelope(&p, "versions", list),
        date_headers(&p),
    ))
}

/// `GET …/manifest/`.
pub(crate) async fn manifest(
    State(c): State<Console>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    Q(q): Q<Query>,
    a: Account,
) -> Result<Response, TaxiiError> {
    check_accept(&headers)?;
    let p = read(c, a, root, id, q, None, Answer::Manifest).await?;
    let list = p
        .items
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "date_added": i.date_added(),
                "version": i.version,
                "media_type": "application/stix+json;version=2.1",
            })
        })
        .collect();
    Ok(taxii_json(
        StatusCode::OK,
        &envelope(&p, "objects", list),
        date_headers(&p),
    ))
}
