//! # hotline-node
//!
//! The running node. Its modules:
//!
//! - [`agreements`]: proposing, signing and withdrawing agreements, and the policy they set.
//! - [`api`]: the HTTP API's routes (JSON), described by `/openapi.json`; the HTTP status of each node error.
//! - [`bench`] (feature `bench`): the store and sequencer, for the CLI's benchmarks and demo.
//! - [`calls`]: call requests, acceptances, refusals, records and readouts.
//! - [`clock`]: the node's clock, system or simulated.
//! - [`content`]: sealed content, opened only with the check against its commitment.
//! - [`dir`]: the node directory: configuration, keys, database, run-time files, and opening it.
//! - [`entries`]: entries held here, own or mirrored: by id, by reference, opened.
//! - [`error`]: errors of node operations, typed by concern, each keeping its cause.
//! - [`federation`]: nodes on the line: mirrors, witnessing, receipts, the outbox.
//! - [`indexes`]: the index each checkpoint of a log commits to.
//! - [`inquiries`]: inquiries and their tracked life.
//! - [`log`]: reading a log held here (own or mirrored) without secrets or lock: entries, checkpoints, proofs.
//! - [`metrics`]: Prometheus metrics.
//! - [`modes`]: file modes of a node directory.
//! - [`node`]: the node itself: opening, offices, peers, sending.
//! - [`offices`]: this party's office keys.
//! - [`proofs`]: proof bundles built from what a node holds.
//! - [`records`]: the read façade the console uses: entries, opened for an operator, channels, alarms, proofs, events.
//! - [`sequencer`]: the single writer of the own log, in group commits.
//! - [`serve`]: process start-up: the API, the CLI socket, the peer link, the loops.
//! - [`statements`]: joint statements and their endorsements.
//! - [`replica`]: replicas of one node on a shared PostgreSQL database; the sequencer lease, forwarding to its holder.
//! - [`store`]: storage split by role, one trait each; SQLite, PostgreSQL, and an in-memory engine that injects failures for tests.
//! - [`terms_file`]: agreement terms files (TOML).
//! - [`tls`]: the pinned TLS 1.3 transport between nodes.
//! - [`witnesses`]: C2SP witnesses (not hotline nodes) that cosign the own log.
#![forbid(unsafe_code)]

pub mod agreements;
pub mod api;
#[cfg(feature = "bench")]
pub mod bench;
pub mod calls;
pub mod clock;
pub mod content;
pub mod dir;
pub mod entries;
pub mod error;
pub mod federation;
pub mod indexes;
pub mod inquiries;
pub mod log;
pub mod metrics;
pub mod modes;
pub mod node;
pub mod offices;
pub mod proofs;
pub mod records;
pub mod replica;
pub mod sequencer;
pub mod serve;
pub mod statements;
pub mod store;
pub mod terms_file;
pub mod tiles;
pub mod tls;
pub mod witnesses;

pub use error::{NodeError, Result};
pub use node::{InitOptions, Node};
