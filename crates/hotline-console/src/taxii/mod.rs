//! TAXII 2.1 (OASIS) under `/taxii2/`, so that CERT tools (MISP, OpenCTI,
//! scripts on taxii2-client) read and write a channel's STIX objects
//! without knowing it is hotline.
//!
//! One API root for the party, `/taxii2/hotline/`; one collection per
//! channel in force for the account's offices; the objects are those the
//! channel's entries carry in their sealed bodies, both directions, opened
//! as the console opens them. Its files:
//!
//! - `auth`: HTTP Basic (an operator's name and password) or a bearer token.
//! - `collections`: the collections an account sees, their stable ids.
//! - `discovery`: `GET /taxii2/` and the API root.
//! - `errors`: the error resource, the media type, `Accept`/`Content-Type`.
//! - `index`: the index of a channel's objects' metadata, caught up from
//!   the log before each read; a page is a query on it.
//! - `objects`: reading objects, one object, its versions, the manifest.
//! - `paging`: the stateless `next` cursor and the filters.
//! - `write`: `POST …/objects/` and the status resources.

mod auth;
mod collections;
mod discovery;
mod errors;
mod index;
mod objects;
mod paging;
#[cfg(test)]
mod tests;
mod write;

pub(crate) use auth::Verified;

use axum::Router;
use axum::routing::get;

use crate::Console;

/// The API root's name (the one root of this party).
pub(crate) const ROOT: &str = "hotline";

/// The TAXII routes, to be merged into the console's router.
pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/taxii2/", get(discovery::discovery))
        .route("/taxii2/{root}/", get(discovery::api_root))
        .route("/taxii2/{root}/collections/", get(collections::list))
        .route("/taxii2/{root}/collections/{id}/", get(collections::one))
        .route(
            "/taxii2/{root}/collections/{id}/objects/",
            get(objects::objects).post(write::add_objects),
        )
        .route(
            "/taxii2/{root}/collections/{id}/objects/{object_id}/",
            get(objects::object),
        )
        .route(
            "/taxii2/{root}/collections/{id}/objects/{object_id}/versions/",
            get(objects::versions),
        )
        .route(
            "/taxii2/{root}/collections/{id}/manifest/",
            get(objects::manifest),
        )
        .route("/taxii2/{root}/status/{id}/", get(write::status))
        // taxii2-client refreshes a status at `…/status/{id}`, without the slash.
        .route("/taxii2/{root}/status/{id}", get(write::status))
}
