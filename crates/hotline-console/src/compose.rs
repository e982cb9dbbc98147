//! Writing: a message or an inquiry on a channel, with attachments and an
//! optional STIX 2.1 bundle. A form that cannot be sent comes back with
//! what was typed and a sentence per problem; files must be chosen again,
//! since no browser lets a page refill a file input.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hotline_proto::b64;
use hotline_proto::entry::{Attachment, Content, Kind, Translation};
use hotline_proto::party::Office;
use serde::Deserialize;

use super::Console;
use super::auth::Op;
use super::channels::{Channel, channels_for};
use super::view::{Chrome, PageError, blocking, flash, html_status, refusal};

/// A submitted multipart form: its text fields and its files.
#[derive(Default)]
pub(crate) struct FormData {
    pub fields: Vec<(String, String)>,
    /// (field, file name, media type, bytes)
    pub files: Vec<(String, String, String, Vec<u8>)>,
}

impl FormData {
    pub fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Reads a whole multipart body; a malformed or oversized one is a
    /// clear error, not a half-read form.
    pub async fn read(mut m: Multipart) -> Result<Self, PageError> {
        let mut out = FormData::default();
        let bad = |e: axum::extract::multipart::MultipartError| {
            PageError::new(
                e.status(),
                format!(
                    "The form could not be read ({}). If you attached large files, attach fewer or smaller ones.",
                    e.body_text()
                ),
            )
        };
        while let Some(field) = m.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(ToOwned::to_owned) {
                Some(file) => {
                    let media = field
                        .content_type()
                        .unwrap_or("application/octet-stream")
                        .to_owned();
                    let bytes = field.bytes().await.map_err(bad)?;
                    if !file.is_empty() || !bytes.is_empty() {
                        out.files.push((name, file, media, bytes.to_vec()));
                    }
                }
                None => {
                    let text = field.text().await.map_err(bad)?;
                    out.fields.push((name, text));
                }
            }
        }
        Ok(out)
    }
}

/// What the writer typed, to show again when the form needs fixing.
#[derive(Default, Clone)]
pub(crate) struct Typed {
    pub channel: String,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub lang: String,
    pub tr_lang: String,
    pub tr_text: String,
    pub stix: String,
}

impl Typed {
    pub fn from_form(f: &FormData) -> Self {
        Self {
            channel: f.get("channel"),
            kind: f.get("kind"),
            subject: f.get("subject"),
            text: f.get("text"),
            lang: f.get("lang"),
            tr_lang: f.get("tr_lang"),
            tr_text: f.get("tr_text"),
            stix: f.get("stix"),
        }
    }
}

/// A file name safe to keep: no directories, no control characters.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let s: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if s.trim().is_empty() {
        "attachment".into()
    } else {
        s
    }
}

/// Builds the content from a form: text, translation, attachments, STIX.
/// Returns every problem found, each saying what to fix.
pub(crate) fn content_from(
    f: &FormData,
    typed: &Typed,
    subject: Option<String>,
) -> Result<Content, Vec<String>> {
    let mut problems = Vec::new();
    if typed.text.trim().is_empty() {
        problems.push("Write the text: it is empty.".to_owned());
    }
    let lang = Some(typed.lang.trim().to_owned()).filter(|s| !s.is_empty());
    let mut translations = Vec::new();
    let (tl, tt) = (typed.tr_lang.trim(), typed.tr_text.trim());
    match (tl.is_empty(), tt.is_empty()) {
        (true, true) => {}
        (false, false) => translations.push(Translation {
            lang: tl.to_owned(),
            text: typed.tr_text.clone(),
        }),
        (true, false) => {
            problems.push("Say which language the second text is in (e.g. ru).".to_owned())
        }
        (false, true) => problems.push(format!(
            "You chose {tl} for a second text but left it empty: write it, or clear the language."
        )),
    }
    let mut attachments = Vec::new();
    let mut stix: Option<serde_json::Value> = None;
    for (field, name, media, bytes) in &f.files {
        match field.as_str() {
            "attachments" => attachments.push(Attachment {
                name: clean_name(name),
                media_type: media.clone(),
                data: b64::encode(bytes),
            }),
            "stix_file" => match serde_json::from_slice(bytes) {
                Ok(v) => stix = Some(v),
                Err(e) => problems.push(format!(
                    "The STIX file {name} is not JSON ({e}); choose a STIX 2.1 bundle (.json)."
                )),
            },
            _ => {}
        }
    }
    if !typed.stix.trim().is_empty() {
        if stix.is_some() {
            problems.push("Give the STIX bundle once: as a file or pasted, not both.".into());
        }
        match serde_json::from_str(&typed.stix) {
            Ok(v) => stix = Some(v),
            Err(e) => problems.push(format!(
                "The pasted STIX bundle is not JSON ({e}); paste a whole bundle, starting with {{\"type\": \"bundle\", …"
            )),
        }
    }
    if let Some(v) = &stix
        && let Err(e) = hotline_proto::stix::validate(v)
    {
        problems.push(format!("The STIX bundle is not valid STIX 2.1: {e}"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Content {
        text: typed.text.clone(),
        lang,
        subject,
        attachments,
        stix,
        translations,
        call: None,
    })
}

#[derive(Template)]
#[template(path = "console/compose.html")]
struct Page {
    p: Chrome,
    channels: Vec<Channel>,
    t: Typed,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct ComposeQuery {
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

async fn render(
    c: &Console,
    op: Op,
    t: Typed,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c2 = c.clone();
    let (p, channels) = blocking(move || {
        let chans = channels_for(&c2, &op)?;
        Ok((Chrome::new(&c2, &op, "compose", "Write"), chans))
    })
    .await?;
    html_status(
        status,
        &Page {
            p,
            channels,
            t,
            errors,
        },
    )
}

/// `GET /compose`.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Query(q): Query<ComposeQuery>,
) -> Result<Response, PageError> {
    let t = Typed {
        channel: q.channel.unwrap_or_default(),
        kind: q.kind.unwrap_or_else(|| "message".into()),
        ..Typed::default()
    };
    render(&c, op, t, vec![], StatusCode::OK).await
}

/// `POST /compose`.
pub(crate) async fn send(
    State(c): State<Console>,
    op: Op,
    m: Multipart,
) -> Result<Response, PageError> {
    let f = FormData::read(m).await?;
    op.check_csrf(&f.get("csrf"))?;
    let t = Typed::from_form(&f);
    let mut problems = Vec::new();
    let kind = match t.kind.as_str() {
        "message" => Kind::Message,
        "inquiry" => Kind::Inquiry,
        other => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                format!("{other:?} is not something the console sends; choose message or inquiry"),
            ));
        }
    };
    let pair = t
        .channel
        .split_once(' ')
        .and_then(|(a, b)| Some((Office::new(a).ok()?, Office::new(b).ok()?)));
    let Some((from, to)) = pair else {
        problems.push("Choose the channel to write on.".to_owned());
        return render(&c, op, t, problems, StatusCode::BAD_REQUEST).await;
    };
    op.must_act_for(&from, "Writing")?;
    let subject = Some(t.subject.trim().to_owned()).filter(|s| !s.is_empty());
    if kind == Kind::Inquiry && subject.is_none() {
        problems.push("Give the inquiry a subject: one line that says what it asks.".to_owned());
    }
    let content = match content_from(&f, &t, subject) {
        Ok(content) if problems.is_empty() => content,
        Ok(_) => return render(&c, op, t, problems, StatusCode::BAD_REQUEST).await,
        Err(mut more) => {
            problems.append(&mut more);
            if !f.files.is_empty() {
                problems.push(
                    "Choose your files again: a browser cannot keep them across a refused form."
                        .into(),
                );
            }
            return render(&c, op, t, problems, StatusCode::BAD_REQUEST).await;
        }
    };
    let r = match kind {
        Kind::Inquiry => c.node.inquire(&from, &to, content).await,
        _ => c.node.send_message(&from, &to, content, None).await,
    };
    match r {
        Ok(a) => {
            let what = if kind == Kind::Inquiry {
                "Inquiry"
            } else {
                "Message"
            };
            let id = c.own_id(a.index);
            tracing::info!(operator = %op.operator.name, %id, "sent from the console");
            Ok(flash(
                &super::view::channel_url(from.as_str(), to.as_str()),
                &format!("{what} {id} sent to {to}."),
            ))
        }
        Err(e) => {
            let (status, e) = refusal(e)?;
            let mut problems = vec![format!("Not sent: {e}")];
            if !f.files.is_empty() {
                problems.push(
                    "Choose your files again: a browser cannot keep them across a refused form."
                        .into(),
                );
            }
            render(&c, op, t, problems, status).await
        }
    }
}
