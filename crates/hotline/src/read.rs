//! `hotline read ID`: one entry as an operator may see it — what it is in
//! words, and its text opened with this party's own office keys and checked
//! against the entry's commitment. Content that does not match is shown as
//! the refusal it is, never as text; a body this party holds no key for is
//! said to be sealed. The other side's receipt says whether it was accepted.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, anyhow};
use clap::Args;
use hotline_node::content::{self, Unopened};
use hotline_node::dir::{Mode, NodeDir};
use hotline_node::store::{LogId, Store};
use hotline_proto::entry::{Content, Header, Kind, SignedEntry};
use hotline_proto::party::{Office, Party};
use serde_json::{Value, json};

use crate::DirArg;

/// The receipts of an entry: `(receipt id, status)`.
type Receipts = Vec<(String, String)>;

/// What became of the entry's content here.
enum Opened {
    Content(Content),
    Refused(Unopened),
    /// No content, or none this party can open (`why`).
    Sealed(Option<String>),
}

/// The logs this node holds, read-only, to show entries from.
pub struct Entries {
    dir: NodeDir,
    own: Party,
    store: Arc<dyn Store>,
    logs: Vec<(Party, LogId)>,
}

impl Entries {
    pub fn open(dir: &NodeDir) -> Result<Self> {
        let opened = dir.open(Mode::ReadOnly)?;
        let own = Party::new(&opened.config.party)?;
        // Each log this node holds: its own and each pinned peer's mirror.
        let logs = opened
            .own_log()
            .ok()
            .map(|l| (own.clone(), l))
            .into_iter()
            .chain(opened.mirrors().into_iter().map(|m| (m.party, m.log)))
            .collect();
        Ok(Self {
            dir: dir.clone(),
            own,
            store: opened.store,
            logs,
        })
    }

    /// Entry `id` (`party:index`) and its content as this party may see it.
    fn entry(&self, id: &str) -> Result<(SignedEntry, Opened, Receipts)> {
        let (party, index) = hotline_proto::agreement::parse_id(id)
            .ok_or_else(|| anyhow!("{id:?} is not an entry id"))?;
        let log = self
            .logs
            .iter()
            .find(|(p, _)| *p == party)
            .map(|(_, l)| *l)
            .ok_or_else(|| {
                anyhow!(
                    "this node holds no log of {party}; it holds: {}",
                    names(&self.logs)
                )
            })?;
        let leaf = self
            .store
            .leaves(log, index, 1)?
            .into_iter()
            .find(|l| l.index == index)
            .ok_or_else(|| {
                anyhow!("entry {id} is not held here (`hotline log` lists this party's log, `hotline log --peer {party}` the mirror)")
            })?;
        let e = SignedEntry::from_leaf(&leaf.leaf)
            .map_err(|err| anyhow!("entry {id} as stored does not decode: {err}"))?;
        let opened = open(&self.dir, &*self.store, log, index, e.header(), &self.own);
        let receipts = receipts(&*self.store, &self.logs, &party, index);
        Ok((e, opened, receipts))
    }

    /// An inquiry's subject line, if this party may read it.
    pub fn subject(&self, id: &str) -> Option<String> {
        match self.entry(id).ok()?.1 {
            Opened::Content(c) => c.subject,
            _ => None,
        }
    }
}

/// Prints entry `id` (`party:index`) of a log this node holds.
pub fn run(dir: &NodeDir, id: &str, json_out: bool) -> Result<()> {
    let (e, opened, receipts) = Entries::open(dir)?.entry(id)?;
    let h = e.header();
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&as_json(id, h, &opened, &receipts))?
        );
    } else {
        print_words(id, h, &opened, &receipts);
    }
    Ok(())
}

fn names(logs: &[(Party, LogId)]) -> String {
    let n: Vec<String> = logs.iter().map(|(p, _)| p.to_string()).collect();
    n.join(", ")
}

/// The content, opened with the first of the entry's two offices that is
/// this party's and whose keys (current or retired) are held here.
fn open(
    dir: &NodeDir,
    store: &dyn Store,
    log: LogId,
    index: u64,
    h: &Header,
    own: &Party,
) -> Opened {
    if h.body.is_none() {
        return Opened::Sealed(None);
    }
    let ours: Vec<Office> = Office::new(&h.from)
        .ok()
        .into_iter()
        .chain(h.to.clone())
        .filter(|o| o.party() == *own)
        .collect();
    if ours.is_empty() {
        return Opened::Sealed(Some(format!(
            "sealed to {} and {}; this party holds neither office's key",
            h.from,
            h.to.as_ref().map(ToString::to_string).unwrap_or_default()
        )));
    }
    let Ok(Some(sealed)) = store.body(log, index) else {
        return Opened::Sealed(Some("its sealed body is not held here".into()));
    };
    let mut first = None;
    for o in ours {
        let keys = hotline_node::offices::held_on_disk(dir, &o);
        if keys.is_empty() {
            continue;
        }
        match content::open_with(
            h,
            &sealed,
            &o,
            &keys
                .into_iter()
                .map(std::sync::Arc::new)
                .collect::<Vec<_>>(),
        ) {
            Ok(c) => return Opened::Content(c),
            // The entry's own fault: no other office or key can mend it.
            Err(u @ (Unopened::Mismatch | Unopened::NotContent | Unopened::NotItsBody)) => {
                return Opened::Refused(u);
            }
            Err(u) => {
                first.get_or_insert(u);
            }
        }
    }
    match first {
        Some(u) if u.is_refusal() => Opened::Refused(u),
        Some(u) => Opened::Sealed(Some(u.to_string())),
        None => Opened::Sealed(Some("no key of its offices is held here".into())),
    }
}

/// The receipts other logs here hold for entry `party:index`: `(id, status)`.
fn receipts(
    store: &dyn Store,
    logs: &[(Party, LogId)],
    party: &Party,
    index: u64,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (p, log) in logs.iter().filter(|(p, _)| p != party) {
        for l in store
            .referencing(*log, party.as_str(), index)
            .unwrap_or_default()
        {
            if let Ok(e) = SignedEntry::from_leaf(&l.leaf)
                && e.header().kind == Kind::Receipt
            {
                let status = e
                    .header()
                    .status
                    .clone()
                    .unwrap_or_else(|| "received".into());
                out.push((format!("{p}:{}", l.index), status));
            }
        }
    }
    out
}

fn refs(h: &Header) -> Vec<String> {
    h.refs
        .iter()
        .map(|r| format!("{}:{}", r.log, r.index))
        .collect()
}

fn print_words(id: &str, h: &Header, opened: &Opened, receipts: &[(String, String)]) {
    let to =
        h.to.as_ref()
            .map(|t| format!(" to {t}"))
            .unwrap_or_default();
    println!("{id}: {} from {}{to}", Kind::in_words(h.kind), h.from);
    println!("  written   {} (the writer's clock)", h.time);
    if let Some(a) = &h.agreement {
        println!("  under     agreement {a}");
    }
    let r = refs(h);
    if !r.is_empty() {
        println!("  refers to {}", r.join(", "));
    }
    if let Some(k) = &h.key {
        println!("  keys      {:?} {}", k.action, k.keys.office);
    }
    if let Some(t) = &h.terms {
        println!("  terms     {}", t.title);
    }
    if let Some(s) = &h.status {
        println!("  status    {s}");
    }
    for (rid, status) in receipts {
        println!("  receipt   {rid}: {status}");
    }
    match opened {
        Opened::Content(c) => {
            if let Some(s) = &c.subject {
                println!("  subject   {s}");
            }
            if let Some(l) = &c.lang {
                println!("  language  {l}");
            }
            if let Some(call) = &c.call {
                println!(
                    "  call      {}",
                    serde_json::to_string(call).unwrap_or_default()
                );
            }
            for a in &c.attachments {
                let size = hotline_proto::b64::decode(&a.data)
                    .map(|d| d.len())
                    .unwrap_or(0);
                println!("  attached  {} ({}, {size} bytes)", a.name, a.media_type);
            }
            if c.stix.is_some() {
                println!("  attached  a STIX 2.1 bundle");
            }
            println!();
            println!("{}", c.text.trim_end());
            for t in &c.translations {
                println!("\n[{}]\n{}", t.lang, t.text.trim_end());
            }
        }
        Opened::Refused(u) => {
            println!();
            println!("REFUSED: {u}. Its text is not shown: the entry does not commit to it.");
        }
        Opened::Sealed(Some(why)) => {
            println!();
            println!("(sealed: {why})");
        }
        Opened::Sealed(None) => {}
    }
}

fn as_json(id: &str, h: &Header, opened: &Opened, receipts: &[(String, String)]) -> Value {
    let mut v = json!({
        "id": id,
        "kind": h.kind.as_str(),
        "from": h.from,
        "to": h.to.as_ref().map(ToString::to_string),
        "time": h.time.to_string(),
        "agreement": h.agreement,
        "refs": refs(h),
        "status": h.status,
        "receipts": receipts.iter().map(|(i, s)| json!({"id": i, "status": s})).collect::<Vec<_>>(),
        "refused": Value::Null,
        "sealed": Value::Null,
        "content": Value::Null,
    });
    match opened {
        Opened::Content(c) => {
            v["content"] = json!({
                "subject": c.subject,
                "lang": c.lang,
                "text": c.text,
                "translations": c.translations.iter().map(|t| json!({"lang": t.lang, "text": t.text})).collect::<Vec<_>>(),
                "attachments": c.attachments.iter().map(|a| json!({
                    "name": a.name,
                    "media_type": a.media_type,
                    "bytes": hotline_proto::b64::decode(&a.data).map(|d| d.len()).unwrap_or(0),
                })).collect::<Vec<_>>(),
                "stix": c.stix,
                "call": c.call,
            });
        }
        Opened::Refused(u) => v["refused"] = json!(u.receipt_status()),
        Opened::Sealed(why) => v["sealed"] = json!(why),
    }
    v
}

#[derive(Args)]
pub struct ReadArgs {
    /// The entry's id, `party:index` (a plain index: this party's own log).
    pub id: String,
    #[command(flatten)]
    pub dir: DirArg,
    /// Print as JSON (header fields, receipts, and the content or why it is not shown).
    #[arg(long)]
    pub json: bool,
}

pub fn entry(args: ReadArgs) -> Result<ExitCode> {
    let ReadArgs { id, dir, json } = args;
    let dir = NodeDir::new(dir.dir);
    let id = crate::ids::entry_id(&dir, &id, "entry")?;
    crate::read::run(&dir, &id, json)?;
    Ok(ExitCode::SUCCESS)
}
