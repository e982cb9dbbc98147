//! Integration tests of the `hotline` binary: real processes, real sockets,
//! real files. One test binary keeps link times down.

mod cli {
    /// Shared helpers: temp dirs, running nodes, a small HTTP client.
    pub mod util;

    /// Oversized and absurd input: `hotline verify` refuses a proof of a
    /// hundred thousand hashes at its 65th and a bundle file over 64 MiB by
    /// its length, before reading it; the peer port refuses requests past
    /// its limits and stores nothing.
    mod attack_bundles;
    /// Bad input at the API and the CLI: each refused clearly, nothing written.
    mod bad_input;
    /// Calls, readouts and joint statements between two nodes: a call
    /// requested, accepted, recorded by both sides (the later record
    /// referencing the earlier) and read out by both; a declined call; bad
    /// input refused with nothing written; joint and one-sided statements
    /// proved and verified offline, tampered bundles refused.
    mod calls;
    /// init, key, office, keys export / peer add, log, checkpoint, prove, verify.
    mod commands;
    /// SIGKILL during a stream of sends: every acknowledged send survives.
    mod crash;
    /// Two nodes over pinned TLS: delivery, receipts, mirrors, witnessing, chaos.
    mod federation;
    /// The peer endpoints: bad input refused, forks caught and proved.
    mod federation_bad;
    /// The hostile-party harness: a party with its own keys that builds
    /// entries, sealed bodies, pushes, checkpoints and cosignatures from the
    /// documented formats and mounts them against real nodes.
    pub mod hostile;
    /// Agreements and inquiries between two nodes: policy, the life of an
    /// inquiry with its deadlines, refusals receipted, overdue in status and metrics.
    mod inquiries;
    /// Console operators from the command line: add (password file, stdin,
    /// no terminal), list, passwd, unlock, remove; beside a running node.
    mod operators;
    /// Claims proved by either party and checked offline: delivery, answered,
    /// opening, absence (true, false, not yet provable), a month's figures;
    /// tampered bundles and bad input refused.
    mod proofs;
}
