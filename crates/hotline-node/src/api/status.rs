//! The HTTP status of a node error, chosen here at the HTTP edge so that the
//! node's core says what failed without knowing it is answered over HTTP.

use axum::http::StatusCode;

use crate::error::NodeError;

/// The status that says `e`, wherever the node answers HTTP (the API, the
/// console, the peer link): the caller's mistakes are 4xx, the node's own
/// failures 500. Every variant is named, so that a new one is given its
/// status here.
pub fn status_of(e: &NodeError) -> StatusCode {
    match e {
        NodeError::BadInput(_) | NodeError::Input(_) | NodeError::Refused(_) => {
            StatusCode::BAD_REQUEST
        }
        NodeError::NotFound(_) => StatusCode::NOT_FOUND,
        NodeError::Forbidden(_) => StatusCode::FORBIDDEN,
        NodeError::Conflict(_) => StatusCode::CONFLICT,
        NodeError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        NodeError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        NodeError::Internal(_)
        | NodeError::Store(_)
        | NodeError::OpenStore { .. }
        | NodeError::Open(_)
        | NodeError::Read(_)
        | NodeError::Proof(_)
        | NodeError::Append(_)
        | NodeError::File { .. }
        | NodeError::Corrupt(_)
        | NodeError::Office(_)
        | NodeError::Tls(_)
        | NodeError::Federation(_)
        | NodeError::Seal(_)
        | NodeError::Json(_)
        | NodeError::Toml(_)
        | NodeError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
