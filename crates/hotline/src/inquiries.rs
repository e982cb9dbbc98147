//! `hotline inquire`, `ack`, `answer`, `close` and `inquiries`: the inquiry
//! workflow, on the node directly or through the running node's API.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use hotline_node::Node;
use hotline_node::api::InquiryRequest;

use crate::DirArg;
use crate::node_access::{configured_dir, listing};
use crate::publish::publish;

/// The content of an inquiry or answer.
#[derive(Args, Clone)]
pub struct ContentArgs {
    /// The text, from a file (`-` for standard input).
    #[arg(long)]
    pub body_file: PathBuf,
    /// Attach a file (repeat for several).
    #[arg(long = "attach")]
    pub attachments: Vec<PathBuf>,
    /// A STIX 2.1 bundle (JSON), checked for structure before sending.
    #[arg(long)]
    pub stix: Option<PathBuf>,
    /// The text's language (BCP 47).
    #[arg(long)]
    pub lang: Option<String>,
}

#[derive(Args)]
pub struct InquireArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[command(flatten)]
    pub content: ContentArgs,
    /// Sending office, e.g. `us/fbi`.
    #[arg(long)]
    pub from: String,
    /// Receiving office, e.g. `ru/fsb`.
    #[arg(long)]
    pub to: String,
    /// The subject line.
    #[arg(long)]
    pub subject: String,
    /// Print as JSON (an object with an `id` field).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct AckArgs {
    /// The inquiry's id, `party:index` (a plain index: this party's own log).
    pub id: String,
    #[command(flatten)]
    pub dir: DirArg,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct AnswerArgs {
    /// The inquiry's id, `party:index` (a plain index: this party's own log).
    pub id: String,
    #[command(flatten)]
    pub dir: DirArg,
    #[command(flatten)]
    pub content: ContentArgs,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct CloseArgs {
    /// The inquiry's id, `party:index` (a plain index: this party's own log).
    pub id: String,
    #[command(flatten)]
    pub dir: DirArg,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct InquiriesArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn inquire(args: InquireArgs) -> Result<ExitCode> {
    let InquireArgs {
        dir,
        content,
        from,
        to,
        subject,
        json,
    } = args;
    let dir = configured_dir(dir.dir)?;
    let mut c = content_of(&content)?;
    c.subject = Some(subject);
    let (f, t) = crate::suggest::from_to(&dir, &from, &to)?;
    let r = InquiryRequest {
        from: Some(from.clone()),
        to: Some(to.clone()),
        content: c,
    };
    publish(
        &dir,
        async |n| n.inquire(&f, &t, r.content.clone()).await,
        "/v1/inquiries",
        &r,
        json,
        |entry| format!("Sent inquiry {entry} from {from} to {to}"),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn ack(args: AckArgs) -> Result<ExitCode> {
    let AckArgs { id, dir, json } = args;
    inquiry_step(&dir.dir, &id, json, "ack", "Acknowledged").await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn answer(args: AnswerArgs) -> Result<ExitCode> {
    let AnswerArgs {
        id,
        dir,
        content,
        json,
    } = args;
    let dir = configured_dir(dir.dir)?;
    let id = crate::ids::entry_id(&dir, &id, "inquiry")?;
    let c = content_of(&content)?;
    let r = InquiryRequest {
        from: None,
        to: None,
        content: c,
    };
    publish(
        &dir,
        async |n| n.answer(&id, r.content.clone()).await,
        &format!("/v1/inquiries/{id}/answer"),
        &r,
        json,
        |entry| format!("Answered {id} (entry {entry})"),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn close(args: CloseArgs) -> Result<ExitCode> {
    let CloseArgs { id, dir, json } = args;
    inquiry_step(&dir.dir, &id, json, "close", "Closed").await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn list(args: InquiriesArgs) -> Result<ExitCode> {
    let InquiriesArgs { dir, json } = args;
    let dir = configured_dir(dir.dir)?;
    let list = listing(
        &dir,
        |n| Ok(serde_json::to_value(n.inquiries()?)?),
        "/v1/inquiries",
    )
    .await?;
    let mut list = list;
    crate::deadlines::add_subjects(&dir, &mut list);
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        crate::deadlines::print_inquiries(&list, hotline_node::clock::now());
    }
    Ok(ExitCode::SUCCESS)
}

/// `ack` or `close`: one step on an inquiry, offline or through the running node.
async fn inquiry_step(dir: &Path, id: &str, json: bool, step: &str, done: &str) -> Result<()> {
    let dir = configured_dir(dir)?;
    let id = crate::ids::entry_id(&dir, id, "inquiry")?;
    let id = id.as_str();
    let offline = async |n: &Node| {
        if step == "ack" {
            n.ack(id).await
        } else {
            n.close(id).await
        }
    };
    publish(
        &dir,
        offline,
        &format!("/v1/inquiries/{id}/{step}"),
        &(),
        json,
        |entry| format!("{done} {id} (entry {entry})"),
    )
    .await
}

/// Reads an inquiry's or answer's content from the command line's files.
fn content_of(c: &ContentArgs) -> Result<hotline_proto::entry::Content> {
    let text = crate::files::read_text(&c.body_file, "--body-file")?;
    let mut content = hotline_proto::entry::Content::text(text, c.lang.clone());
    for p in &c.attachments {
        let data = crate::files::read_bytes(p, "--attach")?;
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("attachment")
            .to_owned();
        content.attachments.push(hotline_proto::entry::Attachment {
            media_type: media_type(&name).to_owned(),
            name,
            data: hotline_proto::b64::encode(data),
        });
    }
    if let Some(p) = &c.stix {
        let text = crate::files::read_text(p, "--stix")?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))?;
        hotline_proto::stix::validate(&v)
            .with_context(|| format!("{} is not a valid STIX 2.1 bundle", p.display()))?;
        content.stix = Some(v);
    }
    Ok(content)
}

fn media_type(name: &str) -> &'static str {
    match name
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("json") => "application/json",
        Some("txt" | "log") => "text/plain",
        Some("csv") => "text/csv",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}
