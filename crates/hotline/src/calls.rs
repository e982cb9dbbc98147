//! `hotline call …`, `calls`, `readout`, `statement …` and `statements`:
//! calls, each side's readouts and joint statements, from the command line.
//! Each works on the node directly when no node process holds the
//! directory, else through the running node's API, like the inquiry commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use hotline_node::api::calls::{AcceptCall, DeclineCall, Endorse, NewCall, RecordCall, TextEntry};
use hotline_node::calls::CallRequest;
use hotline_node::dir::NodeDir;
use hotline_proto::entry::{Content, Media};
use hotline_proto::party::Office;
use jiff::Timestamp;
use serde_json::Value;

use crate::DirArg;
use crate::publish::{publish, show};

/// Calls, readouts and joint statements (flattened into the top-level commands).
#[derive(Subcommand)]
pub enum CallsCmd {
    /// Request, accept, decline or record a call between two counterpart offices.
    #[command(subcommand)]
    Call(CallCmd),
    /// List the calls of this party's offices: state, chosen time, each side's record and readouts.
    Calls {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Publish this side's readout of a call: its own account, addressed to the other side.
    Readout {
        /// The call's id (its request's `party:index`, as `hotline calls` lists it).
        call_id: String,
        /// This party's office on the call, e.g. `us/president`.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        text: TextArgs,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON (an object with an `id` field).
        #[arg(long)]
        json: bool,
    },
    /// Propose a joint statement, or endorse one the other side proposed.
    #[command(subcommand)]
    Statement(StatementCmd),
    /// List joint statements proposed by or to this party's offices, with their endorsements.
    Statements {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A readout's or statement's text.
#[derive(Args, Clone)]
pub struct TextArgs {
    /// The text, from a file (`-` for standard input), taken byte for byte.
    #[arg(long)]
    body_file: PathBuf,
    /// The text's language (BCP 47, e.g. `en`, `ru`).
    #[arg(long)]
    lang: Option<String>,
}

#[derive(Subcommand)]
pub enum CallCmd {
    /// Request a call; prints its id. Needs an agreement in force that opens the channel for `call.request`.
    Request {
        /// The requesting office (this party's), e.g. `ru/president`.
        #[arg(long)]
        from: String,
        /// The addressed office, e.g. `us/president`.
        #[arg(long)]
        to: String,
        /// A proposed time (RFC 3339, e.g. 2021-01-26T15:00:00Z); repeat for up to 10, preferred first.
        #[arg(long = "at", value_name = "TIME", required = true)]
        times: Vec<Timestamp>,
        /// A topic to raise; repeat for up to 20.
        #[arg(long = "topic", value_name = "TOPIC")]
        topics: Vec<String>,
        /// A video call.
        #[arg(long, conflicts_with = "voice")]
        video: bool,
        /// A voice call (the default).
        #[arg(long)]
        voice: bool,
        /// A note to the other side.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON (an object with an `id` field).
        #[arg(long)]
        json: bool,
    },
    /// Accept a call (as the office it was requested from), for a time.
    Accept {
        /// The call's id, `party:index` (a plain index: this party's own log).
        id: String,
        /// The chosen time (RFC 3339): one of the proposed times, or another.
        #[arg(long)]
        at: Timestamp,
        /// A note to the requester.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decline a call (as the office it was requested from), with a reason.
    Decline {
        /// The call's id, `party:index` (a plain index: this party's own log).
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record that an accepted call took place (as this party's office on it); once per side.
    Record {
        /// The call's id, `party:index` (a plain index: this party's own log).
        id: String,
        /// When it started (RFC 3339).
        #[arg(long)]
        start: Timestamp,
        /// When it ended (RFC 3339).
        #[arg(long)]
        end: Timestamp,
        /// Who took part; repeat for several.
        #[arg(long = "participant", value_name = "NAME")]
        participants: Vec<String>,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum StatementCmd {
    /// Propose a joint statement to the counterpart office; prints its id.
    Propose {
        /// The proposing office (this party's), e.g. `us/president`.
        #[arg(long)]
        from: String,
        /// The counterpart office asked to endorse it, e.g. `ru/president`.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        text: TextArgs,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON (an object with an `id` field).
        #[arg(long)]
        json: bool,
    },
    /// Endorse a statement (as the office it is addressed to) with exactly its text.
    Endorse {
        /// The statement's id, `party:index` (a plain index: this party's own log).
        id: String,
        /// The text, from a file (`-` for standard input): it must be exactly the proposed text.
        #[arg(long)]
        body_file: PathBuf,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `party:index` for an id as typed (a plain index: this party's own log),
/// checked before it goes anywhere (into a URL, for one).
fn entry_id(dir: &NodeDir, id: &str, what: &str) -> Result<String> {
    crate::ids::entry_id(dir, id, what)
        .map_err(|e| anyhow::anyhow!("{e}; `hotline {what}s` lists the {what}s known here"))
}

fn open_dir(dir: &DirArg) -> Result<NodeDir> {
    crate::node_access::configured_dir(&dir.dir)
}

fn read_text(path: &Path) -> Result<String> {
    crate::files::read_text(path, "--body-file")
}

fn content(t: &TextArgs) -> Result<Content> {
    Ok(Content::text(read_text(&t.body_file)?, t.lang.clone()))
}

fn office(dir: &NodeDir, s: &str, flag: &str) -> Result<Office> {
    crate::suggest::office(dir, s, &format!("--{flag}"))
}

pub async fn run(cmd: CallsCmd) -> Result<ExitCode> {
    match cmd {
        CallsCmd::Call(c) => call(c).await?,
        CallsCmd::Calls { dir, json } => {
            show(
                &open_dir(&dir)?,
                json,
                |n| Ok(n.calls()?),
                "/v1/calls",
                print_calls,
            )
            .await?
        }
        CallsCmd::Readout {
            call_id,
            from,
            text,
            dir,
            json,
        } => {
            let dir = open_dir(&dir)?;
            let call_id = entry_id(&dir, &call_id, "call")?;
            let f = office(&dir, &from, "from")?;
            let c = content(&text)?;
            let r = TextEntry {
                from: from.clone(),
                to: None,
                content: c,
            };
            publish(
                &dir,
                async |n| n.readout(&call_id, &f, r.content.clone()).await,
                &format!("/v1/calls/{call_id}/readouts"),
                &r,
                json,
                |entry| format!("Published {from}'s readout of call {call_id} (entry {entry})"),
            )
            .await?;
        }
        CallsCmd::Statement(StatementCmd::Propose {
            from,
            to,
            text,
            dir,
            json,
        }) => {
            let dir = open_dir(&dir)?;
            let (f, t) = crate::suggest::from_to(&dir, &from, &to)?;
            let c = content(&text)?;
            let digest = hotline_proto::entry::text_digest(&c.text);
            let r = TextEntry {
                from: from.clone(),
                to: Some(to.clone()),
                content: c,
            };
            publish(
                &dir,
                async |n| n.statement(&f, &t, r.content.clone()).await,
                "/v1/statements",
                &r,
                json,
                |entry| {
                    format!(
                        "Proposed statement {entry} from {from} to {to} (text SHA-256 {digest})"
                    )
                },
            )
            .await?;
        }
        CallsCmd::Statement(StatementCmd::Endorse {
            id,
            body_file,
            dir,
            json,
        }) => {
            let dir = open_dir(&dir)?;
            let id = entry_id(&dir, &id, "statement")?;
            let text = read_text(&body_file)?;
            let r = Endorse { text };
            publish(
                &dir,
                async |n| n.endorse(&id, &r.text).await,
                &format!("/v1/statements/{id}/endorse"),
                &r,
                json,
                |entry| format!("Endorsed statement {id} (entry {entry})"),
            )
            .await?;
        }
        CallsCmd::Statements { dir, json } => {
            show(
                &open_dir(&dir)?,
                json,
                |n| Ok(n.statements()?),
                "/v1/statements",
                print_statements,
            )
            .await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn call(c: CallCmd) -> Result<()> {
    match c {
        CallCmd::Request {
            from,
            to,
            times,
            topics,
            video,
            voice: _,
            note,
            dir,
            json,
        } => {
            let dir = open_dir(&dir)?;
            let (f, t) = crate::suggest::from_to(&dir, &from, &to)?;
            let media = if video { Media::Video } else { Media::Voice };
            let proposed: Vec<String> = times.iter().map(ToString::to_string).collect();
            let r = NewCall {
                from: from.clone(),
                to: to.clone(),
                media: Some(media),
                times,
                topics,
                note: Some(note),
            };
            publish(
                &dir,
                async |n| {
                    let req = CallRequest {
                        media,
                        times: r.times.clone(),
                        topics: r.topics.clone(),
                        note: r.note.clone().unwrap_or_default(),
                    };
                    n.call_request(&f, &t, req).await
                },
                "/v1/calls",
                &r,
                json,
                |entry| {
                    format!(
                        "Requested {media} call {entry} from {from} to {to} (proposed: {})",
                        proposed.join(", ")
                    )
                },
            )
            .await
        }
        CallCmd::Accept {
            id,
            at,
            note,
            dir,
            json,
        } => {
            let dir = open_dir(&dir)?;
            let id = entry_id(&dir, &id, "call")?;
            let r = AcceptCall {
                at,
                note: Some(note),
            };
            publish(
                &dir,
                async |n| {
                    n.call_accept(&id, at, r.note.clone().unwrap_or_default())
                        .await
                },
                &format!("/v1/calls/{id}/accept"),
                &r,
                json,
                |entry| format!("Accepted call {id} for {at} (entry {entry})"),
            )
            .await
        }
        CallCmd::Decline {
            id,
            reason,
            dir,
            json,
        } => {
            let dir = open_dir(&dir)?;
            let id = entry_id(&dir, &id, "call")?;
            let r = DeclineCall { reason };
            publish(
                &dir,
                async |n| n.call_decline(&id, r.reason.clone()).await,
                &format!("/v1/calls/{id}/decline"),
                &r,
                json,
                |entry| format!("Declined call {id} (entry {entry})"),
            )
            .await
        }
        CallCmd::Record {
            id,
            start,
            end,
            participants,
            dir,
            json,
        } => {
            let dir = open_dir(&dir)?;
            let id = entry_id(&dir, &id, "call")?;
            let r = RecordCall {
                start,
                end,
                participants,
            };
            publish(
                &dir,
                async |n| n.call_record(&id, start, end, r.participants.clone()).await,
                &format!("/v1/calls/{id}/record"),
                &r,
                json,
                |entry| format!("Recorded call {id}, {start} to {end} (entry {entry})"),
            )
            .await
        }
    }
}

fn s(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| {
        if v.is_null() {
            "-".into()
        } else {
            v.to_string()
        }
    })
}

/// Each of an array's items as `s` shows it; none for anything else.
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|t| t.iter().map(s).collect())
        .unwrap_or_default()
}

fn print_calls(list: &Value) {
    let items = list.as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!(
            "No call requested by or to this party's offices. Request one: hotline call request --from OFFICE --to OFFICE --at TIME"
        );
        return;
    }
    let now = hotline_node::clock::now();
    let at = |c: &Value| {
        c["accepted"][1]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
    };
    let upcoming = |c: &Value| {
        c["state"] == "requested" || (c["state"] == "accepted" && at(c).is_none_or(|t| t >= now))
    };
    let (open, past): (Vec<Value>, Vec<Value>) = items.into_iter().partition(upcoming);
    for (title, list) in [("Upcoming and open", open), ("Past", past)] {
        if list.is_empty() {
            continue;
        }
        println!("{title}:");
        for c in list {
            let when = match (&c["accepted"], &c["declined"]) {
                (Value::Array(a), _) => format!("at {}", s(&a[1])),
                (_, Value::Array(d)) => format!("declined in {}: {}", s(&d[0]), s(&d[1])),
                _ => {
                    let times = strings(&c["times"]);
                    if times.is_empty() {
                        "proposed times sealed".into()
                    } else {
                        format!("proposed {}", times.join(", "))
                    }
                }
            };
            println!(
                "  {:<8} {:<9} {} → {}  {}  requested {}  {when}",
                s(&c["id"]),
                s(&c["state"]),
                s(&c["from"]),
                s(&c["to"]),
                s(&c["media"]),
                s(&c["requested_at"]),
            );
            let topics = strings(&c["topics"]);
            if !topics.is_empty() {
                println!("           topics: {}", topics.join("; "));
            }
            for r in c["records"].as_array().cloned().unwrap_or_default() {
                let other = r["other_record"]
                    .as_str()
                    .map(|o| format!(", beside {o}"))
                    .unwrap_or_default();
                let lasted = r["duration_secs"].as_i64().map_or_else(
                    || s(&r["duration_secs"]),
                    |d| crate::deadlines::span(jiff::Span::new().seconds(d)),
                );
                println!(
                    "           record {} by {}: {} to {} ({lasted}){other}",
                    s(&r["id"]),
                    s(&r["office"]),
                    s(&r["start"]),
                    s(&r["end"]),
                );
            }
            for r in c["readouts"].as_array().cloned().unwrap_or_default() {
                println!(
                    "           readout {} by {} at {} (read it: hotline open {})",
                    s(&r["id"]),
                    s(&r["office"]),
                    s(&r["time"]),
                    s(&r["id"])
                );
            }
        }
    }
}

fn print_statements(list: &Value) {
    let items = list.as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!(
            "No statement proposed by or to this party's offices. Propose one: hotline statement propose --from OFFICE --to OFFICE --body-file FILE"
        );
    }
    for st in items {
        let endorsed = match &st["endorsement"] {
            Value::Array(e) => format!("endorsed in {} at {}", s(&e[0]), s(&e[1])),
            _ => "not endorsed (yet)".into(),
        };
        println!(
            "{:<8} {} → {}  {}  SHA-256 {}  {endorsed}",
            s(&st["id"]),
            s(&st["from"]),
            s(&st["to"]),
            s(&st["time"]),
            s(&st["digest"]),
        );
    }
}
