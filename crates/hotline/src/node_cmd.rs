//! `hotline init`, `serve`, `status`, `doctor` and `tls`: the node itself —
//! creating its directory, running it, and looking after its files and
//! certificate.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use hotline_node::dir::{NodeDir, StoreAt};
use hotline_node::log::LogReader;
use hotline_node::{InitOptions, Node};
use hotline_proto::party::Party;

use crate::DirArg;
use crate::client::NodeClient;

#[derive(Subcommand)]
pub enum TlsCmd {
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

#[derive(Args)]
pub struct InitArgs {
    /// The party's name, e.g. `us`.
    #[arg(long)]
    pub party: String,
    /// The log's origin (checkpoint first line); default `hotline/<party>`.
    #[arg(long)]
    pub origin: Option<String>,
    /// Default API address for `hotline serve`.
    #[arg(long, default_value = "127.0.0.1:7700")]
    pub listen: String,
    /// Another name (host name or IP address, e.g. a LAN address) for the API's HTTPS
    /// certificate, besides localhost, 127.0.0.1, ::1 and the listen host. Repeat for several.
    #[arg(long = "san")]
    pub sans: Vec<String>,
    /// Store the log in PostgreSQL: `postgresql://USER[:PASSWORD]@HOST:PORT/DB` (or libpq's
    /// `key=value` form), kept in hotline.toml as `[store] url`. Checked now: the server must let
    /// the user in. Default: SQLite, DIR/hotline.db.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    #[command(flatten)]
    pub dir: DirArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Address to listen on (default: `listen` in hotline.toml). Port 0 picks a free port.
    #[arg(long)]
    pub listen: Option<String>,
    /// Address of the pinned-TLS peer listener (default: `peer_listen` in hotline.toml). Port 0 picks a free port.
    #[arg(long)]
    pub peer_listen: Option<String>,
    /// Serve the API and console in plain HTTP on a non-loopback address (refused without
    /// it): only on a network where every machine may read the token and passwords.
    #[arg(long)]
    pub insecure_plain_http: bool,
}

#[derive(Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Set every looser mode to 0700 (directories) or 0600 (files).
    #[arg(long)]
    pub fix: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn init(args: InitArgs) -> Result<ExitCode> {
    let InitArgs {
        party,
        origin,
        listen,
        sans,
        store,
        dir,
        json,
    } = args;
    let dir = NodeDir::new(dir.dir);
    let party = Party::new(&party)?;
    Node::init(
        &dir,
        InitOptions {
            party: party.clone(),
            origin,
            listen,
            api_names: sans,
            console: hotline_console::config::ConsoleConfig::default_table(),
            store,
        },
    )?;
    let (config, _) = LogReader::open(&dir)?;
    let cert =
        hotline_node::tls::ApiCert::load(&dir.api_key(&config.api), &dir.api_cert(&config.api))?;
    let store = StoreAt::of(&dir, &config);
    if json {
        println!(
            "{}",
            serde_json::json!({ "party": party.as_str(), "origin": config.origin, "dir": dir.root(), "api_fingerprint_sha256": cert.fingerprint(), "store": store })
        );
    } else {
        println!(
            "Created party {party} in {} (log {}).",
            dir.root().display(),
            config.origin
        );
        if let StoreAt::Postgresql { url } = &store {
            println!("Its log is stored in PostgreSQL, {url}.");
        }
        println!(
            "The API's HTTPS certificate ({}, served off loopback) has SHA-256 fingerprint {}.",
            dir.api_cert(&config.api).display(),
            cert.fingerprint()
        );
        println!(
            "Next: `hotline office add {party}/NAME --dir {}` and `hotline serve --dir {}`.",
            dir.root().display(),
            dir.root().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn serve_cmd(args: ServeArgs) -> Result<ExitCode> {
    let ServeArgs {
        dir,
        listen,
        peer_listen,
        insecure_plain_http,
    } = args;
    serve(
        NodeDir::new(dir.dir),
        listen,
        peer_listen,
        insecure_plain_http,
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn status(args: StatusArgs) -> Result<ExitCode> {
    let StatusArgs { dir, json } = args;
    let dir = NodeDir::new(dir.dir);
    dir.read_config()?;
    let bytes = NodeClient::connect(&dir)
        .await?
        .get_bytes("/v1/status")
        .await?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_status(&v);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tls(cmd: TlsCmd) -> Result<ExitCode> {
    match cmd {
        TlsCmd::Regenerate { sans, dir, json } => {
            tls_regenerate(&NodeDir::new(dir.dir), &sans, json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(v: &serde_json::Value) {
    let s = |v: &serde_json::Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    println!(
        "party {} — log {} holds {} entries",
        s(&v["party"]),
        s(&v["origin"]),
        v["log_size"]
    );
    match (v["store"]["engine"].as_str(), &v["store"]) {
        (Some("postgresql"), st) => println!("stored in PostgreSQL, {}", s(&st["url"])),
        (Some(_), st) => println!("stored in SQLite, {}", s(&st["file"])),
        (None, _) => {}
    }
    let lease = &v["lease"];
    if let Some(holder) = lease["holder"].as_str() {
        let who = if lease["this_replica"].as_bool() == Some(true) {
            "this replica"
        } else {
            "another replica"
        };
        println!(
            "sequencer lease: {who}, {holder}, epoch {}, since {}",
            lease["epoch"],
            s(&lease["since"])
        );
    }
    if let Ok(ws) = serde_json::from_value::<Vec<hotline_node::witnesses::WitnessStatus>>(
        v["witnesses"].clone(),
    ) {
        for w in &ws {
            println!("C2SP witness {}", crate::witnesses::describe(w));
        }
    }
    let api = &v["api"];
    if let Some(url) = api["url"].as_str() {
        match api["fingerprint_sha256"].as_str() {
            Some(fp) => println!("API and console at {url} — certificate SHA-256 fingerprint {fp}"),
            None => println!("API and console at {url} (plain HTTP)"),
        }
    }
    let overdue = v["inquiries_overdue"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !overdue.is_empty() {
        let ids: Vec<String> = overdue.iter().map(s).collect();
        println!(
            "OVERDUE inquiries ({}): {} — see `hotline inquiries`",
            ids.len(),
            ids.join(", ")
        );
    }
    let peers = v["peers"].as_array().cloned().unwrap_or_default();
    if peers.is_empty() {
        println!("no peers pinned (hotline peer add PARTY --keys FILE)");
    }
    for p in peers {
        let link = &p["link"];
        let state = if link["up"].as_bool() == Some(true) {
            "UP"
        } else {
            "DOWN"
        };
        println!(
            "\npeer {}  link {state} since {}",
            s(&p["peer"]),
            s(&link["since"])
        );
        let addresses = p["addresses"].as_array().cloned().unwrap_or_default();
        if addresses.len() > 1 {
            for a in &addresses {
                let mut notes = vec![];
                if a["in_use"] == true {
                    notes.push("in use".to_owned());
                }
                if let Some(e) = a["last_error"].as_str() {
                    notes.push(format!("last error: {e}"));
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join("; "))
                };
                println!("  address {}{notes}", s(&a["url"]));
            }
        }
        let cos = |c: &serde_json::Value| {
            if c.is_null() {
                "never".to_owned()
            } else {
                format!(
                    "size {} at {} ({} s ago), by {}'s witness ({})",
                    c["size"],
                    s(&c["time"]),
                    c["age_seconds"],
                    s(&c["party"]),
                    s(&c["witness"])
                )
            }
        };
        println!(
            "  our log, last cosigned by {}:   {}",
            s(&p["peer"]),
            cos(&p["own_log_cosigned"])
        );
        println!(
            "  their log, mirrored:            {} entries",
            p["mirror_size"]
        );
        println!(
            "  their log, last cosigned by us: {}",
            cos(&p["peer_log_cosigned"])
        );
        let oldest = p["oldest_undelivered_seconds"]
            .as_i64()
            .map(|a| format!(", oldest {a} s"))
            .unwrap_or_default();
        println!(
            "  outbox:                         {} undelivered{oldest}",
            p["outbox_depth"]
        );
        for a in p["alerts"].as_array().cloned().unwrap_or_default() {
            println!("  ALERT: {}", s(&a));
        }
    }
}

/// `hotline doctor`: the node directory's file modes, fixed with `--fix`.
/// Fails while a looser mode remains, so scripts can check it.
pub fn doctor(dir: &NodeDir, fix: bool, json: bool) -> Result<ExitCode> {
    dir.read_config()?;
    let found = hotline_node::modes::loose(dir)
        .with_context(|| format!("reading {}", dir.root().display()))?;
    if fix {
        hotline_node::modes::fix(&found)?;
    }
    let left = if fix {
        hotline_node::modes::loose(dir)?
    } else {
        found.clone()
    };
    if json {
        println!(
            "{}",
            serde_json::json!({ "dir": dir.root(), "loose": found, "fixed": fix, "ok": left.is_empty() })
        );
    } else if found.is_empty() {
        println!(
            "{}: every directory is 0700 and every file 0600; nothing to fix.",
            dir.root().display()
        );
    } else {
        for l in &found {
            println!("{}{l}", if fix { "fixed: " } else { "" });
        }
        if !fix {
            println!(
                "Fix them with `hotline doctor --fix --dir {}`.",
                dir.root().display()
            );
        }
    }
    Ok(if left.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Warns (on standard error and in the log) about every looser mode in the
/// node directory; `serve` still starts, since refusing would stop a watch
/// floor over a chmod.
fn warn_loose_modes(dir: &NodeDir) {
    let Ok(loose) = hotline_node::modes::loose(dir) else {
        return;
    };
    for l in &loose {
        tracing::warn!(path = %l.path.display(), mode = format!("{:04o}", l.mode), "loose file mode");
        eprintln!("hotline: warning: {l}");
    }
    if !loose.is_empty() {
        eprintln!(
            "hotline: warning: fix them with `hotline doctor --fix --dir {}`",
            dir.root().display()
        );
    }
}

/// `hotline tls regenerate`.
fn tls_regenerate(dir: &NodeDir, sans: &[String], json: bool) -> Result<()> {
    let config = dir.read_config()?;
    let mut names = sans.to_vec();
    names.extend(hotline_node::api::transport::listen_host(&config.listen));
    let (key, cert) = (dir.api_key(&config.api), dir.api_cert(&config.api));
    let c = hotline_node::tls::ApiCert::generate(&config.party, &names, &key, &cert, true)?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "cert": cert, "key": key, "names": names, "fingerprint_sha256": c.fingerprint(), "spki_sha256": c.spki_pin() })
        );
    } else {
        println!(
            "Wrote {} and {} for localhost, 127.0.0.1, ::1{}{}.",
            cert.display(),
            key.display(),
            if names.is_empty() { "" } else { ", " },
            names.join(", ")
        );
        println!("SHA-256 fingerprint {}", c.fingerprint());
        println!(
            "Restart the node to serve it; browsers that trusted the old certificate must trust this one (check the fingerprint they show)."
        );
    }
    Ok(())
}

async fn serve(
    dir: NodeDir,
    listen: Option<String>,
    peer_listen: Option<String>,
    insecure_plain_http: bool,
) -> Result<()> {
    let node = Node::open(&dir)?;
    // The console's section of hotline.toml and its database, checked
    // before anything is bound.
    let console = hotline_console::router(node.clone())?;
    warn_loose_modes(&dir);
    let addr = listen.unwrap_or_else(|| node.config().listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| {
            format!("listening on {addr} (is another node using it? pick another with --listen)")
        })?;
    let paddr = peer_listen.unwrap_or_else(|| node.config().peer_listen.clone());
    let peer_listener = tokio::net::TcpListener::bind(&paddr)
        .await
        .with_context(|| {
            format!("listening for peers on {paddr} (pick another with --peer-listen)")
        })?;
    let bound = listener.local_addr()?;
    let pbound = peer_listener.local_addr()?;
    let transport = hotline_node::api::transport::choose(
        &dir,
        node.party().as_str(),
        &node.config().api,
        bound,
        insecure_plain_http,
    )
    .map_err(anyhow::Error::msg)?;
    let scheme = transport.scheme();
    tracing::info!(party = %node.party(), origin = %node.config().origin, %bound, peers = %pbound, "hotline node serving");
    eprintln!(
        "hotline: party {} serving the API and console on {scheme}://{bound} (docs at /openapi.json) and peers on https://{pbound} (pinned TLS); Ctrl-C stops.",
        node.party()
    );
    if let Some(c) = transport.cert() {
        eprintln!(
            "hotline: the API's certificate has SHA-256 fingerprint {} (SPKI pin sha256//{})",
            c.fingerprint(),
            c.spki_pin()
        );
    }
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = ctrl_c => {},
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {},
        }
        tracing::info!("shutting down");
    };
    hotline_node::serve::serve_with(
        node,
        console,
        listener,
        Some(peer_listener),
        transport,
        shutdown,
    )
    .await?;
    Ok(())
}
