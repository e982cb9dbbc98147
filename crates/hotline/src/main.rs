//! `hotline`: run a party's node and work with its log from the command line.
//!
//! `main` parses the command line and hands each command to the module of
//! its concern:
//!
//! - `node_cmd`: `init`, `serve`, `status`, `doctor`, `tls` — the node itself.
//! - `keys`: `key` and `keys export` — the keys this party shows others.
//! - `offices`: `office add/list/rotate/revoke`.
//! - `peers`: `peer add/list` — the parties this node pins.
//! - `agreements`: `agreement propose/sign/withdraw` and `agreements`.
//! - `inquiries`: `inquire`, `ack`, `answer`, `close`, `inquiries`.
//! - `deadlines`: the inquiry list as a duty officer reads it.
//! - `messages`: `send`.
//! - `calls`: calls, readouts and joint statements.
//! - `log_cmd`: `log` and `checkpoint`.
//! - `read`: `read` — one entry as an operator may see it.
//! - `prove`: `prove …` and `open` — bundles a third party checks offline.
//! - `verify`: `verify` — checks a bundle against pinned keys.
//! - `verdict`: what `verify --json` prints.
//! - `operators`: `operator …` — the people who log in to the console.
//! - `tiles`: `tiles token` — read tokens for the C2SP tlog-tiles.
//! - `bench`: `bench …` — throughput and proof cost.
//! - `demo`: `demo` — the storyline, live on loopback.
//! - `harness`: the in-process multi-node set-up demo and bench share.
//! - `node_access`: reaching the node in-process or through its API.
//! - `publish`: how the entry commands end — written and said so, or listed.
//! - `client`: the client for the node's own API.
//! - `ids`, `suggest`, `files`: entry ids, "did you mean", file arguments.

mod agreements;
mod bench;
mod calls;
mod client;
mod deadlines;
mod demo;
mod files;
mod harness;
mod ids;
mod inquiries;
mod keys;
mod log_cmd;
mod messages;
mod node_access;
mod node_cmd;
mod offices;
mod operators;
mod peers;
mod prove;
mod publish;
mod read;
mod suggest;
mod tiles;
mod verdict;
mod verify;
mod witnesses;

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
    Init(node_cmd::InitArgs),
    /// Print the log's verifier key (C2SP vkey), or with --witness the cosigner key.
    Key(keys::KeyArgs),
    /// Manage this party's offices.
    #[command(subcommand)]
    Office(offices::OfficeCmd),
    /// Export this party's public identity for the other party.
    #[command(subcommand)]
    Keys(keys::KeysCmd),
    /// Pin other parties.
    #[command(subcommand)]
    Peer(peers::PeerCmd),
    /// C2SP witnesses (not hotline nodes) that cosign this party's checkpoints.
    #[command(subcommand)]
    Witness(witnesses::WitnessCmd),
    /// Propose, sign or withdraw an agreement (the bilateral mechanism traffic moves under).
    #[command(subcommand)]
    Agreement(agreements::AgreementCmd),
    /// Send an inquiry under an agreement in force; prints its id.
    Inquire(inquiries::InquireArgs),
    /// Acknowledge an inquiry (as its receiving office).
    Ack(inquiries::AckArgs),
    /// Answer an inquiry (as its receiving office); answer as often as needed.
    Answer(inquiries::AnswerArgs),
    /// Close an inquiry (as its sending office).
    Close(inquiries::CloseArgs),
    /// List inquiries sent and received, with status, times and deadlines.
    Inquiries(inquiries::InquiriesArgs),
    #[command(flatten)]
    Calls(calls::CallsCmd),
    /// List the agreements this node knows, with their state (proposed, in force, withdrawn, …).
    Agreements(agreements::AgreementsArgs),
    /// Run the node: the HTTP API, /healthz, /metrics and /openapi.json.
    Serve(node_cmd::ServeArgs),
    /// The API's and console's HTTPS certificate.
    #[command(subcommand)]
    Tls(node_cmd::TlsCmd),
    /// Check that the node directory is for this user alone (directories 0700, files 0600);
    /// with --fix, set the modes that are looser.
    Doctor(node_cmd::DoctorArgs),
    /// Show each peer: link up or down and since when, last cosigned checkpoints, outbox depth, alerts.
    Status(node_cmd::StatusArgs),
    /// Send a message from one of this party's offices; prints its index and leaf hash once durable.
    Send(messages::SendArgs),
    /// List the log: with --json, one JSON object a line (index, leaf, leaf_hash, header).
    Log(log_cmd::LogArgs),
    /// Print the latest checkpoint as a C2SP signed note.
    Checkpoint(log_cmd::CheckpointArgs),
    /// Write a proof bundle that `hotline verify` checks offline.
    #[command(subcommand)]
    Prove(prove::ProveCmd),
    /// Reveal one entry's plaintext and salt so a third party can match it to its logged commitment, and nothing else.
    Open(prove::OpenArgs),
    /// Read one entry as an operator may see it: what it is, in words, and its opened text
    /// (checked against the entry's commitment; refused content is shown as refused).
    Read(read::ReadArgs),
    /// Check a proof bundle offline against pinned keys; says in one sentence what it proves.
    Verify(verify::VerifyArgs),
    /// Manage the people who log in to the web console to act for this party's offices.
    #[command(subcommand)]
    Operator(operators::OperatorCmd),
    /// The C2SP tlog-tiles the node serves under /tiles/: read tokens.
    #[command(subcommand)]
    Tiles(tiles::TilesCmd),
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

/// Hands the parsed command to the module of its concern.
async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Init(a) => node_cmd::init(a).await,
        Command::Key(a) => keys::key(a).await,
        Command::Office(c) => offices::run(c).await,
        Command::Keys(c) => keys::run(c).await,
        Command::Peer(c) => peers::run(c).await,
        Command::Witness(c) => witnesses::run(c).await,
        Command::Agreement(c) => agreements::run(c).await,
        Command::Inquire(a) => inquiries::inquire(a).await,
        Command::Ack(a) => inquiries::ack(a).await,
        Command::Answer(a) => inquiries::answer(a).await,
        Command::Close(a) => inquiries::close(a).await,
        Command::Inquiries(a) => inquiries::list(a).await,
        Command::Calls(c) => calls::run(c).await,
        Command::Agreements(a) => agreements::list(a).await,
        Command::Serve(a) => node_cmd::serve_cmd(a).await,
        Command::Tls(c) => node_cmd::tls(c).await,
        Command::Doctor(a) => {
            node_cmd::doctor(&hotline_node::dir::NodeDir::new(a.dir.dir), a.fix, a.json)
        }
        Command::Status(a) => node_cmd::status(a).await,
        Command::Send(a) => messages::send(a).await,
        Command::Log(a) => log_cmd::log(a).await,
        Command::Checkpoint(a) => log_cmd::checkpoint(a).await,
        Command::Prove(c) => prove::run(c).await,
        Command::Open(a) => prove::open(a).await,
        Command::Read(a) => read::entry(a),
        Command::Verify(a) => verify::verify(&a.file, &a.keys, a.json),
        Command::Operator(c) => operators::run(c).map(|()| ExitCode::SUCCESS),
        Command::Tiles(c) => tiles::run(c).map(|()| ExitCode::SUCCESS),
        Command::Bench(b) => bench::run(b).await.map(|()| ExitCode::SUCCESS),
        Command::Demo { dir } => demo::run(&dir).await.map(|()| ExitCode::SUCCESS),
    }
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
    match rt.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", said_once(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, as `{:#}` joins them, but a cause whose words
/// the message already holds is not said twice: the node's errors keep
/// their source and also say it ("storage: database: …").
fn said_once(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out
}
