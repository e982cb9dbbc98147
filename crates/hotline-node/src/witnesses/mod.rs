//! C2SP witnesses: third parties that are not hotline nodes and cosign this
//! party's checkpoints with C2SP tlog-witness `add-checkpoint`.
//!
//! A peer witnesses this log over the pinned link (`federation::witness`)
//! and holds every entry. A C2SP witness holds none: its cosignature says
//! only that at its time it had seen this log's tree of that size, and that
//! the tree extends every tree it cosigned before. That is what a neutral
//! witness adds to a bundle: a time that neither party's clock gave. The
//! sequencer dates every later entry no earlier than it (as it does after a
//! peer's cosignature), so that "this tree was all the log held then" stays
//! true of this log.
//!
//! - [`registry`]: the witnesses configured, each with what `hotline status` shows.
//! - [`submit`]: one round of `add-checkpoint` against one witness, and the loop.
//! - [`http`]: the HTTP(S) client a witness is asked over.
//! - [`config_file`]: `[[witnesses]]` in `hotline.toml`, added in place.

pub mod config_file;
pub mod http;
pub mod registry;
pub mod submit;

pub use registry::{External, WitnessStatus, Witnesses, check_entry};
