//! `hotline`: run a party's node and work with its log from the command line.

mod bench;
mod calls;
mod client;
mod commands;
mod deadlines;
mod demo;
mod files;
mod harness;
mod ids;
mod operators;
mod peers;
mod read;
mod suggest;
mod verdict;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// A verifiable communication channel for parties that must keep talking but
/// do not trust each other. Each party runs its own node; every entry is
/// signed by the office that wrote it and appended to the party's own Merkle
/// log; claims about the channel are proved offline with `hotline verify`.
#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The content of an inquiry or answer.
#[derive(Args, Clone)]
struct ContentArgs {
    /// The text, from a file (`-` for standard input).
    #[arg(long)]
    body_file: PathBuf,
    /// Attach a file (repeat for several).
    #[arg(long = "attach")]
    attachments: Vec<PathBuf>,
    /// A STIX 2.1 bundle (JSON), checked for structure before sending.
    #[arg(long)]
    stix: Option<PathBuf>,
    /// The text's language (BCP 47).
    #[arg(long)]
    lang: Option<String>,
}

/// The node directory, shared by most commands.
#[derive(Args, Clone)]
struct DirArg {
    /// The party's node directory (created by `hotline init`).
    #[arg(long, env = "HOTLINE_DIR", default_value = "hotline")]
    dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new party: keys (secret files mode 0600), hotline.toml, an empty log.
    Init {
        /// The party's name, e.g. `us`.
        #[arg(long)]
        party: String,
        /// The log's origin (checkpoint first line); default `hotline/<party>`.
        #[arg(long)]
        origin: Option<String>,
        /// Default API address for `hotline serve`.
        #[arg(long, default_value = "127.0.0.1:7700")]
        listen: String,
        /// Another name (host name or IP address, e.g. a LAN address) for the API's HTTPS
        /// certificate, besides localhost, 127.0.0.1, ::1 and the listen host. Repeat for several.
        #[arg(long = "san")]
        sans: Vec<String>,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the log's verifier key (C2SP vkey), or with --witness the cosigner key.
    Key {
        /// Print the cosigner key (type 0x04) instead of the log key.
        #[arg(long)]
        witness: bool,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Manage this party's offices.
    #[command(subcommand)]
    Office(OfficeCmd),
    /// Export this party's public identity for the other party.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Pin other parties.
    #[command(subcommand)]
    Peer(PeerCmd),
    /// Propose, sign or withdraw an agreement (the bilateral mechanism traffic moves under).
    #[command(subcommand)]
    Agreement(AgreementCmd),
    /// Send an inquiry under an agreement in force; prints its id.
    Inquire {
        #[command(flatten)]
        dir: DirArg,
        #[command(flatten)]
        content: ContentArgs,
        /// Sending office, e.g. `us/fbi`.
        #[arg(long)]
        from: String,
        /// Receiving office, e.g. `ru/fsb`.
        #[arg(long)]
        to: String,
        /// The subject line.
        #[arg(long)]
        subject: String,
        /// Print as JSON (an object with an `id` field).
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge an inquiry (as its receiving office).
    Ack {
        /// The inquiry's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Answer an inquiry (as its receiving office); answer as often as needed.
    Answer {
        /// The inquiry's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        #[command(flatten)]
        content: ContentArgs,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close an inquiry (as its sending office).
    Close {
        /// The inquiry's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List inquiries sent and received, with status, times and deadlines.
    Inquiries {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    #[command(flatten)]
    Calls(calls::CallsCmd),
    /// List the agreements this node knows, with their state (proposed, in force, withdrawn, …).
    Agreements {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the node: the HTTP API, /healthz, /metrics and /openapi.json.
    Serve {
        #[command(flatten)]
        dir: DirArg,
        /// Address to listen on (default: `listen` in hotline.toml). Port 0 picks a free port.
        #[arg(long)]
        listen: Option<String>,
        /// Address of the pinned-TLS peer listener (default: `peer_listen` in hotline.toml). Port 0 picks a free port.
        #[arg(long)]
        peer_listen: Option<String>,
        /// Serve the API and console in plain HTTP on a non-loopback address (refused without
        /// it): only on a network where every machine may read the token and passwords.
        #[arg(long)]
        insecure_plain_http: bool,
    },
    /// The API's and console's HTTPS certificate.
    #[command(subcommand)]
    Tls(TlsCmd),
    /// Check that the node directory is for this user alone (directories 0700, files 0600);
    /// with --fix, set the modes that are looser.
    Doctor {
        #[command(flatten)]
        dir: DirArg,
        /// Set every looser mode to 0700 (directories) or 0600 (files).
        #[arg(long)]
        fix: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show each peer: link up or down and since when, last cosigned checkpoints, outbox depth, alerts.
    Status {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send a message from one of this party's offices; prints its index and leaf hash once durable.
    Send {
        #[command(flatten)]
        dir: DirArg,
        /// Sending office, e.g. `us/fbi`.
        #[arg(long)]
        from: String,
        /// Receiving office, e.g. `ru/fsb`.
        #[arg(long)]
        to: String,
        /// The text (UTF-8, at most limits.max_text_bytes, 65536 by default).
        #[arg(
            long,
            conflicts_with = "text_file",
            required_unless_present = "text_file"
        )]
        text: Option<String>,
        /// Read the text from a file (`-` for standard input).
        #[arg(long)]
        text_file: Option<PathBuf>,
        /// The text's language (BCP 47, e.g. `en`, `ru`).
        #[arg(long)]
        lang: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the log: with --json, one JSON object a line (index, leaf, leaf_hash, header).
    Log {
        #[command(flatten)]
        dir: DirArg,
        /// First index to list.
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// Most entries to list.
        #[arg(long)]
        limit: Option<u64>,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
        /// List this node's verified mirror of a peer's log instead of the own log.
        #[arg(long)]
        peer: Option<String>,
    },
    /// Print the latest checkpoint as a C2SP signed note.
    Checkpoint {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Write a proof bundle that `hotline verify` checks offline.
    #[command(subcommand)]
    Prove(ProveCmd),
    /// Reveal one entry's plaintext and salt so a third party can match it to its logged commitment, and nothing else.
    Open {
        /// The entry's id, `party:index` (a plain index: this party's own log); sent or received
        /// by one of this party's offices.
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the opening (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Read one entry as an operator may see it: what it is, in words, and its opened text
    /// (checked against the entry's commitment; refused content is shown as refused).
    Read {
        /// The entry's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON (header fields, receipts, and the content or why it is not shown).
        #[arg(long)]
        json: bool,
    },
    /// Check a proof bundle offline against pinned keys; says in one sentence what it proves.
    Verify {
        /// The bundle file (`-` for standard input).
        file: PathBuf,
        /// A pinned verifier key (C2SP vkey, or a file holding one or a `hotline keys export` file). Repeat for several.
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// Print the result as JSON: the claim, the bundle type, the sentence, and each part of
        /// the claim with the signatures it rests on.
        #[arg(long)]
        json: bool,
    },
    /// Manage the people who log in to the web console to act for this party's offices.
    #[command(subcommand)]
    Operator(operators::OperatorCmd),
    /// Measure throughput and proof cost.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Play the storyline live on loopback: parties us and ru with the scenario's offices and a
    /// third witness nato, sealed messages, receipts, cosignatures, a proof; runs until Ctrl-C.
    Demo {
        // Named `dir` because that is what it mostly is; it also holds `--once`.
        #[command(flatten)]
        dir: demo::DemoArgs,
    },
}

#[derive(Subcommand)]
enum OfficeCmd {
    /// Create an office: keys, announced as a `key` entry in the log.
    Add {
        /// The office, e.g. `us/fbi`.
        office: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give an office new keys, announced as a `key` entry (action `rotate`); later entries are
    /// signed with them and peers seal to them. The old keys are kept in keys/offices/retired/.
    Rotate {
        /// The office, e.g. `us/fbi`.
        office: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an office (a `key` entry, action `revoke`): it can no longer sign, and nothing can
    /// be sent to it. Its keys are kept in keys/offices/retired/ to open earlier sealed bodies.
    Revoke {
        /// The office, e.g. `us/fbi`.
        office: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List this party's offices.
    List {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TlsCmd {
    /// Make a new self-signed certificate and key for the API address (keys/api.crt, keys/api.key),
    /// naming localhost, 127.0.0.1, ::1, the listen host and each --san; replaces the old pair.
    /// A running node serves it after a restart; prints its SHA-256 fingerprint.
    Regenerate {
        /// A name (host name or IP address, e.g. a LAN address) for the certificate. Repeat for several.
        #[arg(long = "san")]
        sans: Vec<String>,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Print this party's public identity (log key, cosigner key, offices) as JSON.
    Export {
        #[command(flatten)]
        dir: DirArg,
        /// The URL where peers reach this node, to include in the export.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum AgreementCmd {
    /// Propose an agreement from a terms file (see examples/cyber-agreement.toml); prints its id.
    Propose {
        /// The terms, as TOML.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON (an object with an `id` field).
        #[arg(long)]
        json: bool,
    },
    /// Sign the other party's proposal: from then on (and from its start date) it is in force.
    Sign {
        /// The agreement's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Withdraw from an agreement; it ends after the notice its terms give.
    Withdraw {
        /// The agreement's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PeerCmd {
    /// Pin another party from its exported keys file.
    Add {
        /// The party's name, e.g. `ru`; must match the file.
        party: String,
        /// The file written by the other party's `hotline keys export`.
        #[arg(long)]
        keys: PathBuf,
        /// Its node's URL (overrides the file's).
        #[arg(long)]
        url: Option<String>,
        #[command(flatten)]
        dir: DirArg,
    },
    /// List the pinned parties: keys, URL, offices, and the link's state when the node runs.
    List {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ProveCmd {
    /// Prove that an entry was sent (sender's log) and received (the receiver's receipt).
    Delivery {
        /// The entry's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove that an inquiry was acknowledged and answered, and whether within the agreement's deadlines.
    Answered {
        /// The inquiry's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove that a log holds no entry of a kind on a channel in a window (refuses if it does).
    Absence {
        /// The party whose log the claim is about, e.g. `us`.
        #[arg(long)]
        log: String,
        /// The kind of entry, e.g. `inquiry`.
        #[arg(long)]
        kind: String,
        /// The sending office.
        #[arg(long)]
        from: String,
        /// The addressed office.
        #[arg(long)]
        to: String,
        /// Window start (RFC 3339, e.g. 2021-06-09T00:00:00Z).
        #[arg(long)]
        since: jiff::Timestamp,
        /// Window end (RFC 3339).
        #[arg(long)]
        until: jiff::Timestamp,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove a month's figures for one channel: sent, delivered, and per deadline met (on the sender's observation), missed (on the receiver's own signatures) or not settled.
    Stats {
        /// The channel as `FROM:TO`, e.g. `us/fbi:ru/fsb`.
        #[arg(long)]
        channel: String,
        /// The month, `YYYY-MM`.
        #[arg(long)]
        month: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Write the evidence that a log equivocated (showed two histories); without ID, list what is on record.
    Equivocation {
        /// The evidence's id, as `hotline status` shows it.
        id: Option<i64>,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove a joint statement: its text, signed by the proposing office and (if held) endorsed by the other.
    Statement {
        /// The statement's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove that an entry is in this party's log.
    Entry {
        /// The entry's index, or its id `party:index` in this party's own log.
        index: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOTLINE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(commands::run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
