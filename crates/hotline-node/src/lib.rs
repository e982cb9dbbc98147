//! # hotline-node
//!
//! The running node: the node directory and its keys ([`dir`], [`node`]),
//! storage split by role, one trait each, with SQLite and a failing in-memory engine ([`store`]), the single-writer sequencer that
//! batches appends into durable group commits ([`sequencer`]), the index each
//! checkpoint commits to ([`indexes`]), read-only log
//! access and proofs ([`reader`]), the HTTP API ([`api`]), metrics
//! ([`metrics`]) and the pinned TLS 1.3 transport between nodes ([`tls`]).
#![forbid(unsafe_code)]

pub mod agreements;
pub mod api;
pub mod calls;
pub mod clock;
pub mod console;
pub mod content;
pub mod dir;
pub mod error;
pub mod federation;
pub mod indexes;
pub mod inquiries;
pub mod metrics;
pub mod modes;
pub mod node;
pub mod offices;
pub mod operators;
pub mod proofs;
pub mod reader;
pub mod sequencer;
pub mod statements;
pub mod store;
pub mod terms_file;
pub mod tls;

pub use error::{NodeError, Result};
pub use node::{InitOptions, Node};
