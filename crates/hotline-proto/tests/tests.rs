//! Integration tests of `hotline-proto`, linked as one test binary to keep
//! link times down. Each module below is one area of the pure core.

mod proto {
    /// Shared helpers: the test-vector directory, a tiny in-memory log with a
    /// party key, a witness and offices, and byte-flipping.
    pub mod common;

    /// RFC 6962 / RFC 9162 tree heads and proofs against the independent CCTV
    /// vectors in `shared/vectors/merkle`.
    mod merkle_vectors;

    /// The C2SP signed-note example published with Go's `sumdb/note`, through
    /// the `signed_note` crate and through `keys::NoteVerifier`.
    mod note_vector;

    /// Property tests of inclusion and consistency proofs (every proof
    /// verifies, every mutation fails) and a cross-check against `ct-merkle`.
    mod tree_props;

    /// Sealing and opening: round trips, commitments, wrong recipients and
    /// altered ciphertexts.
    mod seal;

    /// Proof bundles: a small log built in memory, verification and its
    /// sentence, every-byte tampering, and each refusal naming what failed.
    mod bundle;

    /// RFC 8785 canonical JSON against the reference writer, `serde_jcs`,
    /// on arbitrary values.
    mod canonical;

    /// `ContentShape` (a content checked, its STIX bundle not built) accepts
    /// exactly what `Content` accepts, hostile splices among the inputs.
    mod content_shape;

    /// The compact range (frontier) of a tree against `MemoryTree`.
    mod frontier;

    /// Claim bundles — delivery, answered, absence, stats, opening, statement —
    /// over two parties' logs in memory: what each proves and says, and each
    /// refusal.
    mod claims;

    /// Entries: the leaf is exactly the RFC 8785 form of its JSON, every
    /// other spelling of the same entry is refused, and only statements and
    /// endorsements carry a digest.
    mod entry_canonical;

    /// Absurd bundles (a proof of a hundred thousand hashes, a million empty
    /// leaves, parts over their size, unknown fields) refused while parsing,
    /// fast, naming the part and the limit.
    mod limits;

    /// STIX 2.1 bundles: the shipped ransomware example is valid, and each
    /// kind of breakage is refused naming the object and the property.
    mod stix;

    /// The third-party verifier example: verifies with a keys export or a
    /// file of verifier keys, and refuses without the log's key.
    mod example;
}
