//! TAXII's error message resource (section 3.6.1) and its HTTP statuses,
//! and the media type every answer carries.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// TAXII 2.1's media type, on every answer.
pub(crate) const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// A TAXII error: its status, title and description.
#[derive(Debug)]
pub(crate) struct TaxiiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub description: String,
}

impl TaxiiError {
    pub fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            title,
            description: description.into(),
        }
    }
    pub fn bad_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", d)
    }
    pub fn unauthorized(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Not signed in", d)
    }
    pub fn forbidden(d: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Not allowed", d)
    }
    pub fn not_found(d: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", d)
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "TAXII request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "the node could not answer; its log says why",
        )
    }
}

impl From<hotline_node::error::NodeError> for TaxiiError {
    fn from(e: hotline_node::error::NodeError) -> Self {
        use hotline_node::error::NodeError as E;
        match e {
            E::BadInput(_) | E::Input(_) => Self::bad_request(e.to_string()),
            E::NotFound(_) => Self::not_found(e.to_string()),
            E::Forbidden(_) => Self::forbidden(e.to_string()),
            E::TooLarge(_) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Too large", e.to_string()),
            E::Conflict(_) => Self::new(StatusCode::CONFLICT, "Conflict", e.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<crate::operators::OperatorError> for TaxiiError {
    fn from(e: crate::operators::OperatorError) -> Self {
        Self::internal(e)
    }
}

impl From<hotline_node::store::StoreError> for TaxiiError {
    fn from(e: hotline_node::store::StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<tokio::task::JoinError> for TaxiiError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut r = (self.status, body.to_string()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"hotline TAXII\", Bearer"),
            );
        }
        r
    }
}

/// A TAXII answer: status, JSON and extra headers.
pub(crate) fn taxii_json(
    status: StatusCode,
    body: &serde_json::Value,
    extra: HeaderMap,
) -> Response {
    taxii_text(status, body.to_string(), extra)
}

/// [`taxii_json`] for a body already written as JSON text.
pub(crate) fn taxii_text(status: StatusCode, body: String, extra: HeaderMap) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    r.headers_mut().extend(extra);
    r
}

/// Refuses an `Accept` header that takes no TAXII 2.1 answer (406).
pub(crate) fn check_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let Some(v) = headers.get(header::ACCEPT) else {
        return Ok(());
    };
    let v = v.to_str().unwrap_or("");
    let ok = v.split(',').any(|m| {
        let tokens: Vec<String> = m
            .split(';')
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.starts_with("q="))
            .collect();
        let (ty, params) = tokens
            .split_first()
            .map_or(("", &[][..]), |(a, b)| (a.as_str(), b));
        match ty {
            "*/*" | "application/*" => true,
            "application/taxii+json" => params
                .iter()
                .all(|p| !p.starts_with("version=") || p == "version=2.1"),
            _ => false,
        }
    });
    if ok {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers only {MEDIA_TYPE}; the request accepts {v:?}"),
        ))
    }
}

/// Refuses a POST whose body is not TAXII 2.1 JSON (415).
pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let v = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let tokens: Vec<String> = v
        .split(';')
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let ok = tokens
        .first()
        .is_some_and(|t| t == "application/taxii+json")
        && tokens[1..]
            .iter()
            .all(|p| !p.starts_with("version=") || p == "version=2.1");
    if ok {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send the objects as {MEDIA_TYPE}; the request's Content-Type is {v:?}"),
        ))
    }
}
