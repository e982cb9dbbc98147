//! Errors of node operations, each with what to do about it.

/// Why a node operation failed. The API maps each variant to a status code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The request is malformed or names something invalid (400).
    #[error("{0}")]
    BadInput(String),
    /// The request names something this node does not know (404).
    #[error("{0}")]
    NotFound(String),
    /// No agreement in force allows it, or the caller may not do it (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with what exists (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is over a stated limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// Another process holds the node directory (503 / CLI hint).
    #[error("{0}")]
    Busy(String),
    /// A storage or internal failure (500); nothing was half-written.
    #[error("{0}")]
    Internal(String),
}

impl From<crate::store::StoreError> for NodeError {
    fn from(e: crate::store::StoreError) -> Self {
        NodeError::Internal(format!("storage: {e}"))
    }
}

impl From<crate::sequencer::AppendError> for NodeError {
    fn from(e: crate::sequencer::AppendError) -> Self {
        match e {
            crate::sequencer::AppendError::Invalid(s) => NodeError::BadInput(s),
            crate::sequencer::AppendError::Stopped => NodeError::Busy(
                "the node is shutting down; nothing was written, try again once it is back".into(),
            ),
            other => NodeError::Internal(format!("append failed, nothing written: {other}")),
        }
    }
}

/// Node results.
pub type Result<T, E = NodeError> = std::result::Result<T, E>;
