//! The console's stylesheet, script and icon, compiled into the binary: a
//! node on a closed network serves every byte its pages need.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../static/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/console.js"),
    ),
    (
        "call.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/call.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../static/icon.svg"),
    ),
];

/// `GET /static/{file}`.
pub(crate) async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, media, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(media)),
                // Pages link assets with the build's version in the query,
                // so a cached copy never outlives the binary that served it.
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400, immutable"),
                ),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// `GET /favicon.ico`: browsers ask for it whatever the page links.
pub(crate) async fn icon() -> Response {
    file(Path("icon.svg".to_owned())).await
}
