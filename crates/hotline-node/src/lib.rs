//! # hotline-node
//!
//! The running node: the node directory and its keys ([`dir`], [`node`]),
//! storage behind one interface ([`store`]), the single-writer sequencer that
//! batches appends into durable group commits ([`sequencer`]), read-only log
//! access and proofs ([`reader`]), the HTTP API ([`api`]) and metrics
//! ([`metrics`]).
#![forbid(unsafe_code)]

pub mod api;
pub mod dir;
pub mod error;
pub mod metrics;
pub mod node;
pub mod reader;
pub mod sequencer;
pub mod store;

pub use error::{NodeError, Result};
pub use node::{InitOptions, Node};
