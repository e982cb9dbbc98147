//! Integration tests of the `hotline` binary: real processes, real sockets,
//! real files. One test binary keeps link times down.

mod cli {
    /// Shared helpers: temp dirs, running nodes, a small HTTP client, the
    /// arguments of the commands many tests run, `verify` with pinned keys.
    pub mod util;

    /// A hostile sender seals one text and commits to another: the receiver
    /// mirrors the entry, receipts it `refused: content does not match its
    /// commitment`, and shows neither text; honest content is still delivered.
    mod attack_content;
    /// Bounded growth: a push that would make the receiver owe more
    /// receipts than its budget allows is refused with 429 and Retry-After,
    /// nothing stored; an honest sender is paced and nothing is lost or doubled.
    mod attack_growth;
    /// Strangers' idle sockets on the peer port: 256 of them, never starting
    /// a handshake, do not keep the pinned peer out; they are closed by the
    /// handshake timeout.
    mod attack_idle;
    /// A log that signs a false index (its checkpoint's `hotline-index`
    /// line wrong or missing): the mirror refuses the push (nothing stored),
    /// the witness refuses to cosign, the evidence is kept and raised like a
    /// fork; the honest push is then accepted.
    mod attack_index;
    /// What a receipt copies is checked first: an entry whose `agreement`
    /// is not an agreement id (64 KB of text, a bare name) is refused with
    /// its push, 422, nothing stored.
    mod attack_receipts;
    /// A third witness sees headers, not content: it mirrors and cosigns
    /// both logs without a single sealed body; a body pushed to it for an
    /// entry addressed to another party is refused.
    mod attack_third_witness;
    /// A hostile sender dates entries back (before the previous entry of its
    /// log, before what the receiver cosigned, before its own withdrawal):
    /// the push is refused whole with 422, one `refused: …` receipt is
    /// written however often it is retried; entries written while the link
    /// was down stay accepted.
    mod attack_time;
    /// A witness belongs to one party and says no more than it holds: a
    /// cosigner key named like another party's witness, or a key another
    /// party holds, is not pinned and does not start a node; an old
    /// checkpoint is not cosigned again once the mirror holds more.
    mod attack_witness;
    /// The proof benchmarks at a small size: the absence bundle holds no
    /// entry of another channel, the stats bundle grows with the channel's
    /// threads and not with the logs.
    mod bench;
    /// TAXII 2.1 on real nodes: hostile requests refused with TAXII error
    /// bodies and nothing written; taxii2-client and stix2-validator (from
    /// PyPI) write, page through and validate a channel's objects, and read
    /// them from the counterpart's collection after delivery.
    mod taxii;

    /// Oversized and absurd input: `hotline verify` refuses a proof of a
    /// hundred thousand hashes at its 65th and a bundle file over 64 MiB by
    /// its length, before reading it; the peer port refuses requests past
    /// its limits and stores nothing.
    mod attack_bundles;
    /// Issue 11 (a), (b), (f) against real nodes: a party's own witness
    /// dating its tree before its inquiry, the receiver's late cosignature
    /// of an older tree, an entry under a revoked key — each refused by
    /// `hotline verify`; a real absence bundle is complete and discloses no
    /// other channel.
    mod attack_claims;
    /// Issue 11 (c), (d), (e) against real nodes: a timely acknowledgement
    /// left out, a late answer dated inside its deadline, inquiries dated
    /// before they were written — refused, or the weaker true sentence.
    mod attack_deadlines;
    /// Office keys learnt from the verified mirror: an office announced
    /// after pinning is reachable, a rotated one is sealed to its new key,
    /// both without re-export; an entry signed with a revoked or rotated-away
    /// key is refused by the receiving node (nothing stored) and by `verify`.
    mod attack_keys;
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
    /// `hotline demo --once`: the July 9 storyline in v2 bundles, verified
    /// offline; a month's figures proved from the demo's nodes; the
    /// Kremlin's claim refused.
    mod demo;
    /// Two nodes over pinned TLS: delivery, receipts, mirrors, witnessing, chaos.
    mod federation;
    /// The peer endpoints: bad input refused, forks caught and proved.
    mod federation_bad;
    /// A CLI that forgives: one id form, `read`, `peer list`, `verify -`,
    /// hints for typos, "no such file", deadlines in `inquiries`, RFC 3339.
    mod forgiving;
    /// The hostile-party harness: a party with its own keys that builds
    /// entries, sealed bodies, pushes, checkpoints and cosignatures from the
    /// documented formats and mounts them against real nodes.
    pub mod hostile;
    /// Agreements and inquiries between two nodes: policy, the life of an
    /// inquiry with its deadlines, refusals receipted, overdue in status and metrics.
    mod inquiries;
    /// Signing in to the console from several client addresses: wrong
    /// passwords from one address leave the duty officer signed in and able
    /// to sign in elsewhere; a flood is answered 429 in bounded memory; the
    /// redirect stays on the console; unknown name and wrong password look alike.
    mod login;
    /// File modes: init and serve make directories 0700 and files 0600
    /// whatever the umask; serve warns about looser ones, doctor fixes them.
    mod modes;
    /// Console operators from the command line: add (password file, stdin,
    /// no terminal), list, passwd, unlock, remove; beside a running node.
    mod operators;
    /// The CLI and its own node: over the Unix socket in run/, so a stale
    /// address file never leaks the API token; HTTPS on the API address,
    /// the Host allow-list, what /healthz and /metrics show anonymously.
    mod own_node;
    /// `peer add … --url URL --url URL`: a dead first address is passed
    /// over, a node that moves to its second address keeps receiving, bad
    /// address lists are refused with nothing written.
    mod peer_urls;
    /// A node on PostgreSQL (`init --store URL`) federated with one on
    /// SQLite; a wrong password or an absent server refused at init
    /// without printing the password.
    pub mod postgres;
    /// Claims proved by either party and checked offline: delivery, answered,
    /// opening, absence (true, false, not yet provable), a month's figures;
    /// tampered bundles and bad input refused.
    mod proofs;
    /// The README's walkthrough, run block by block as printed, against the
    /// built binary: the README cannot drift from the product.
    mod readme;
    /// Replicas of one node on one PostgreSQL database: the sequencer lease, forwarding, takeover.
    mod replicas;
    /// C2SP tlog-tiles for the own log and a mirror, read over HTTP by
    /// `tlog_tiles` and `signed_note` (not hotline's code) and an inclusion
    /// proof verified; strangers, bad paths, traversal and huge N refused.
    mod tiles;
    /// C2SP witnesses that are not hotline nodes: aics-witness (from PyPI)
    /// cosigns us's log across consistency proofs and `hotline verify`
    /// counts it only when pinned; a hostile witness's other keys, forged
    /// lines, sizes, oversized body and future time each fail the round with
    /// the reason in `hotline status`, and none reaches the checkpoint.
    mod witnesses;
}
