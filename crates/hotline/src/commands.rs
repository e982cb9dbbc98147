//! What each subcommand does.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use hotline_node::api::{AddOffice, AppendedJson, CreatedJson, InquiryRequest, SendMessage};
use hotline_node::dir::NodeDir;
use hotline_node::reader::LogReader;
use hotline_node::{InitOptions, Node, NodeError};
use hotline_proto::bundle::{self, Keyring};
use hotline_proto::keys::{NoteKey, NoteVerifier, PartyIdentity};
use hotline_proto::name::{Office, Party};

use crate::client::NodeClient;
use crate::{AgreementCmd, Command, KeysCmd, OfficeCmd, PeerCmd, ProveCmd};

pub async fn run(cmd: Command) -> Result<ExitCode> {
    match cmd {
        Command::Init {
            party,
            origin,
            listen,
            sans,
            dir,
            json,
        } => {
            let dir = NodeDir::new(dir.dir);
            let party = Party::new(&party)?;
            Node::init(
                &dir,
                InitOptions {
                    party: party.clone(),
                    origin,
                    listen,
                    api_names: sans,
                },
            )?;
            let (config, _) = LogReader::open(&dir)?;
            let cert = hotline_node::tls::ApiCert::load(
                &dir.api_key(&config.api),
                &dir.api_cert(&config.api),
            )?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "party": party.as_str(), "origin": config.origin, "dir": dir.root(), "api_fingerprint_sha256": cert.fingerprint() })
                );
            } else {
                println!(
                    "Created party {party} in {} (log {}).",
                    dir.root().display(),
                    config.origin
                );
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
        }
        Command::Key { witness, dir } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let path = if witness {
                dir.witness_key()
            } else {
                dir.log_key()
            };
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            println!("{}", NoteKey::from_skey(&text)?.verifier().to_vkey());
        }
        Command::Office(OfficeCmd::Add { office, dir, json }) => {
            let dir = NodeDir::new(dir.dir);
            let office = Office::new(&office)?;
            let a: AppendedJson = match offline_node(&dir)? {
                Some(node) => node.add_office(office.clone()).await?.into(),
                None => {
                    NodeClient::connect(&dir)
                        .await?
                        .post(
                            "/v1/offices",
                            &AddOffice {
                                office: office.to_string(),
                            },
                        )
                        .await?
                }
            };
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "office": office.as_str(), "index": a.index, "leaf_hash": a.leaf_hash })
                );
            } else {
                println!(
                    "Created office {office}; its keys are announced in entry {} ({}).",
                    a.index, a.leaf_hash
                );
            }
        }
        Command::Office(OfficeCmd::Rotate { office, dir, json }) => {
            change_office_keys(KeyChange::Rotate, &office, dir, json).await?;
        }
        Command::Office(OfficeCmd::Revoke { office, dir, json }) => {
            change_office_keys(KeyChange::Revoke, &office, dir, json).await?;
        }
        Command::Office(OfficeCmd::List { dir, json }) => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let mut names = Vec::new();
            for e in std::fs::read_dir(dir.offices())? {
                let path = e?.path();
                // Current keys only: not retired/, not a rotation under way.
                if !path.is_file() || path.extension().is_none_or(|x| x != "json") {
                    continue;
                }
                let t = std::fs::read_to_string(path)?;
                names.push(
                    hotline_proto::keys::OfficeKeys::from_secret_json(&t)?
                        .office()
                        .to_string(),
                );
            }
            names.sort();
            if json {
                println!("{}", serde_json::to_string(&names)?);
            } else {
                names.iter().for_each(|n| println!("{n}"));
            }
        }
        Command::Keys(KeysCmd::Export { dir, url }) => {
            let dir = NodeDir::new(dir.dir);
            let mut id = identity(&dir).await?;
            // Without --url, a running node's actual peer address.
            let running = std::fs::read_to_string(dir.peer_addr())
                .ok()
                .map(|a| format!("https://{}", a.trim()));
            id.url = url.or(running).or(id.url);
            println!("{}", serde_json::to_string_pretty(&id)?);
        }
        Command::Peer(PeerCmd::Add {
            party,
            keys,
            url,
            dir,
        }) => {
            let dir = NodeDir::new(dir.dir);
            let text = crate::files::read_text(&keys, "--keys")?;
            let mut id: PartyIdentity = serde_json::from_str(&text).with_context(|| {
                format!("{} is not a `hotline keys export` file", keys.display())
            })?;
            if id.party.as_str() != party {
                bail!(
                    "{} holds the keys of party {}, not {party}",
                    keys.display(),
                    id.party
                );
            }
            if url.is_some() {
                id.url = url;
            }
            match offline_node(&dir)? {
                Some(node) => node.add_peer(id.clone())?,
                None => NodeClient::connect(&dir)
                    .await?
                    .post::<_, serde_json::Value>("/v1/peers", &id)
                    .await
                    .map(|_| ())?,
            }
            let log = NoteVerifier::from_vkey(&id.log_key)?;
            println!(
                "Pinned party {} (log {}, key id {:08x}) with {} offices.",
                id.party,
                log.name(),
                log.key_id(),
                id.offices.len()
            );
        }
        Command::Peer(PeerCmd::List { dir, json }) => {
            let dir = NodeDir::new(dir.dir);
            return crate::peers::list(&dir, json).await;
        }
        Command::Read { id, dir, json } => {
            let dir = NodeDir::new(dir.dir);
            let id = crate::ids::entry_id(&dir, &id, "entry")?;
            crate::read::run(&dir, &id, json)?;
        }
        Command::Agreement(cmd) => return agreement(cmd).await,
        Command::Calls(cmd) => return crate::calls::run(cmd).await,
        Command::Inquire {
            dir,
            content,
            from,
            to,
            subject,
            json,
        } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let mut c = content_of(&content)?;
            c.subject = Some(subject);
            let (f, t) = (
                crate::suggest::office(&dir, &from, "--from")?,
                crate::suggest::office(&dir, &to, "--to")?,
            );
            let r = InquiryRequest {
                from: Some(from.clone()),
                to: Some(to.clone()),
                content: c,
            };
            let out = write_entry(
                &dir,
                async |n| n.inquire(&f, &t, r.content.clone()).await,
                "/v1/inquiries",
                &r,
            )
            .await?;
            report(
                json,
                &out,
                &format!("Sent inquiry {} from {from} to {to}", out.id),
            )?;
        }
        Command::Ack { id, dir, json } => {
            inquiry_step(&dir.dir, &id, json, "ack", "Acknowledged").await?
        }
        Command::Close { id, dir, json } => {
            inquiry_step(&dir.dir, &id, json, "close", "Closed").await?
        }
        Command::Answer {
            id,
            dir,
            content,
            json,
        } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let id = crate::ids::entry_id(&dir, &id, "inquiry")?;
            let c = content_of(&content)?;
            let r = InquiryRequest {
                from: None,
                to: None,
                content: c,
            };
            let out = write_entry(
                &dir,
                async |n| n.answer(&id, r.content.clone()).await,
                &format!("/v1/inquiries/{id}/answer"),
                &r,
            )
            .await?;
            report(json, &out, &format!("Answered {id} (entry {})", out.id))?;
        }
        Command::Inquiries { dir, json } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
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
        }
        Command::Agreements { dir, json } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let list = listing(
                &dir,
                |n| {
                    let now = hotline_node::clock::now();
                    let list: Vec<_> = n
                        .agreements()?
                        .into_iter()
                        .map(|a| hotline_node::api::agreement_json(a, now))
                        .collect();
                    Ok(serde_json::to_value(list)?)
                },
                "/v1/agreements",
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                let items = list.as_array().cloned().unwrap_or_default();
                if items.is_empty() {
                    println!(
                        "No agreement yet. Propose one: hotline agreement propose --file examples/cyber-agreement.toml"
                    );
                }
                for a in items {
                    let s = |k: &str| a[k].as_str().unwrap_or("-").to_owned();
                    println!(
                        "{:<8} {:<10} {}  ({} ↔ {}, from {})",
                        s("id"),
                        s("state"),
                        s("title"),
                        s("proposer"),
                        s("counterparty"),
                        a["terms"]["start"].as_str().unwrap_or("-")
                    );
                }
            }
        }
        Command::Serve {
            dir,
            listen,
            peer_listen,
            insecure_plain_http,
        } => {
            serve(
                NodeDir::new(dir.dir),
                listen,
                peer_listen,
                insecure_plain_http,
            )
            .await?
        }
        Command::Tls(crate::TlsCmd::Regenerate { sans, dir, json }) => {
            tls_regenerate(&NodeDir::new(dir.dir), &sans, json)?;
        }
        Command::Doctor { dir, fix, json } => return doctor(&NodeDir::new(dir.dir), fix, json),
        Command::Status { dir, json } => {
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
        }
        Command::Prove(ProveCmd::Delivery { id, dir, output }) => {
            let id = crate::ids::entry_id(&NodeDir::new(&dir.dir), &id, "entry")?;
            let b = proof_source(&dir.dir)?.delivery(&id)?;
            wrote(&output, &b, &format!("the delivery bundle for {id}"))?;
        }
        Command::Prove(ProveCmd::Answered { id, dir, output }) => {
            let id = crate::ids::entry_id(&NodeDir::new(&dir.dir), &id, "entry")?;
            let b = proof_source(&dir.dir)?.answered(&id)?;
            wrote(&output, &b, &format!("the answered bundle for {id}"))?;
        }
        Command::Prove(ProveCmd::Absence {
            log,
            kind,
            from,
            to,
            since,
            until,
            dir,
            output,
        }) => {
            let kind = crate::suggest::kind(&kind)?;
            let nd = NodeDir::new(&dir.dir);
            let (f, t) = (
                crate::suggest::office(&nd, &from, "--from")?,
                crate::suggest::office(&nd, &to, "--to")?,
            );
            let b =
                proof_source(&dir.dir)?.absence(&Party::new(&log)?, kind, &f, &t, since, until)?;
            wrote(
                &output,
                &b,
                &format!(
                    "the absence bundle for {kind} {from} → {to} in {log}'s log, {since} – {until}"
                ),
            )?;
        }
        Command::Prove(ProveCmd::Stats {
            channel,
            month,
            dir,
            output,
        }) => {
            let (f, t) = channel.split_once(':').with_context(|| {
                format!("--channel {channel:?}: write FROM:TO, e.g. us/fbi:ru/fsb")
            })?;
            let nd = NodeDir::new(&dir.dir);
            let (f, t) = (
                crate::suggest::office(&nd, f, "--channel")?,
                crate::suggest::office(&nd, t, "--channel")?,
            );
            let b = proof_source(&dir.dir)?.stats(&f, &t, &month)?;
            wrote(&output, &b, &format!("the {month} figures of {channel}"))?;
        }
        Command::Prove(ProveCmd::Statement { id, dir, output }) => {
            let id = crate::ids::entry_id(&NodeDir::new(&dir.dir), &id, "statement")?;
            let b = proof_source(&dir.dir)?.statement(&id)?;
            wrote(&output, &b, &format!("the statement bundle for {id}"))?;
        }
        Command::Open { id, dir, output } => {
            let id = crate::ids::entry_id(&NodeDir::new(&dir.dir), &id, "entry")?;
            let b = proof_source(&dir.dir)?.opening(&id)?;
            wrote(&output, &b, &format!("the opening of {id}"))?;
        }
        Command::Prove(ProveCmd::Equivocation { id, dir, output }) => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let client = NodeClient::connect(&dir).await?;
            match id {
                Some(id) => {
                    let b = client
                        .get_bytes(&format!("/v1/proofs/equivocation/{id}"))
                        .await?;
                    write_output(&output, &b)?;
                    if output.as_os_str() != "-" {
                        eprintln!(
                            "Wrote the equivocation evidence #{id} to {}.",
                            output.display()
                        );
                    }
                }
                None => {
                    let list: serde_json::Value =
                        serde_json::from_slice(&client.get_bytes("/v1/equivocations").await?)?;
                    let items = list.as_array().cloned().unwrap_or_default();
                    if items.is_empty() {
                        println!("No equivocation on record.");
                    }
                    for e in items {
                        // The API gives Unix seconds; shown as RFC 3339 like every other time.
                        let detected = e["detected"]
                            .as_i64()
                            .and_then(|t| jiff::Timestamp::from_second(t).ok())
                            .map_or_else(|| e["detected"].to_string(), |t| t.to_string());
                        println!(
                            "#{}  {}  detected {detected}",
                            e["id"],
                            e["origin"].as_str().unwrap_or("?"),
                        );
                    }
                }
            }
        }
        Command::Send {
            dir,
            from,
            to,
            text,
            text_file,
            lang,
            json,
        } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let text = match (text, text_file) {
                (Some(t), _) => t,
                (None, Some(p)) => crate::files::read_text(&p, "--text-file")?,
                (None, None) => bail!("give the text with --text or --text-file"),
            };
            crate::suggest::office(&dir, &from, "--from")?;
            crate::suggest::office(&dir, &to, "--to")?;
            let client = NodeClient::connect(&dir).await?;
            let a: AppendedJson = client
                .post(
                    "/v1/messages",
                    &SendMessage {
                        from: from.clone(),
                        to: to.clone(),
                        text,
                        lang,
                    },
                )
                .await?;
            if json {
                println!("{}", serde_json::to_string(&a)?);
            } else {
                println!(
                    "Sent: entry {} from {from} to {to}, leaf hash {} (durable in the log).",
                    a.index, a.leaf_hash
                );
            }
        }
        Command::Log {
            dir,
            start,
            limit,
            json,
            peer,
        } => {
            let dir = NodeDir::new(dir.dir);
            let (_, reader) = match &peer {
                Some(p) => LogReader::open_peer(&dir, p)?,
                None => LogReader::open(&dir)?,
            };
            let mut next = start;
            let mut left = limit.unwrap_or(u64::MAX);
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            while left > 0 {
                let lines = reader.lines(next, left.min(1000))?;
                if lines.is_empty() {
                    break;
                }
                for l in &lines {
                    if json {
                        serde_json::to_writer(&mut out, l)?;
                        writeln!(out)?;
                    } else {
                        let h = &l.header;
                        let s =
                            |k: &str| h.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
                        let subject = h
                            .get("key")
                            .and_then(|k| k.get("office"))
                            .and_then(|v| v.as_str());
                        let to = subject
                            .map(|o| format!("announces {o}"))
                            .unwrap_or_else(|| format!("to {}", s("to")));
                        writeln!(
                            out,
                            "{:>6}  {}  {:<12} {:<14} {}",
                            l.index,
                            s("time"),
                            s("kind"),
                            s("from"),
                            to
                        )?;
                    }
                }
                next = lines.last().map_or(next, |l| l.index + 1);
                left = left.saturating_sub(lines.len() as u64);
            }
            out.flush()?;
        }
        Command::Checkpoint { dir } => {
            let dir = NodeDir::new(dir.dir);
            let (_, reader) = LogReader::open(&dir)?;
            let (_, note) = reader.checkpoint()?;
            std::io::stdout().write_all(&note)?;
        }
        Command::Prove(ProveCmd::Entry { index, dir, output }) => {
            let dir = NodeDir::new(dir.dir);
            let index = crate::ids::own_index(&dir, &index)?;
            let (_, reader) = LogReader::open(&dir)?;
            let b = reader.prove_entry(index)?;
            write_output(&output, b.as_bytes())?;
            if output.as_os_str() != "-" {
                eprintln!(
                    "Wrote the inclusion bundle for entry {index} to {}.",
                    output.display()
                );
            }
        }
        Command::Verify { file, keys, json } => return verify(&file, &keys, json),
        Command::Operator(c) => crate::operators::run(c)?,
        Command::Bench(b) => crate::bench::run(b).await?,
        Command::Demo { dir } => crate::demo::run(&dir).await?,
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

async fn agreement(cmd: AgreementCmd) -> Result<ExitCode> {
    use hotline_node::api::CreatedJson;
    let (dir, json, what) = match &cmd {
        AgreementCmd::Propose { dir, json, .. } => (dir, *json, "Proposed"),
        AgreementCmd::Sign { dir, json, .. } => (dir, *json, "Signed"),
        AgreementCmd::Withdraw { dir, json, .. } => (dir, *json, "Withdrew"),
    };
    let dir = NodeDir::new(dir.dir.clone());
    dir.read_config()?;
    let mut cmd = cmd;
    if let AgreementCmd::Sign { id, .. } | AgreementCmd::Withdraw { id, .. } = &mut cmd {
        *id = crate::ids::entry_id(&dir, id, "agreement").map_err(|e| {
            anyhow::anyhow!("no agreement {id} is known here: {e}; `hotline agreements` lists them")
        })?;
    }
    let terms = match &cmd {
        AgreementCmd::Propose { file, .. } => {
            let text = crate::files::read_text(file, "--file")?;
            Some(
                hotline_node::terms_file::parse(&text)
                    .with_context(|| format!("{}", file.display()))?,
            )
        }
        _ => None,
    };
    let c: CreatedJson = match offline_node(&dir)? {
        Some(node) => {
            let mk = |id: String,
                      a: &hotline_node::sequencer::Appended,
                      eff: Option<jiff::Timestamp>| CreatedJson {
                id,
                index: a.index,
                leaf_hash: hotline_proto::b64::encode(a.leaf_hash.0),
                time: a.header.time.to_string(),
                effective: eff.map(|t| t.to_string()),
            };
            match &cmd {
                AgreementCmd::Propose { .. } => {
                    let a = node
                        .propose_agreement(terms.clone().unwrap_or_else(|| unreachable!()))
                        .await?;
                    mk(format!("{}:{}", node.party(), a.index), &a, None)
                }
                AgreementCmd::Sign { id, .. } => {
                    mk(id.clone(), &node.sign_agreement(id).await?, None)
                }
                AgreementCmd::Withdraw { id, .. } => {
                    let (a, eff) = node.withdraw_agreement(id).await?;
                    mk(id.clone(), &a, Some(eff))
                }
            }
        }
        None => {
            let client = NodeClient::connect(&dir).await?;
            match &cmd {
                AgreementCmd::Propose { .. } => client.post("/v1/agreements", &terms).await?,
                AgreementCmd::Sign { id, .. } => {
                    client
                        .post(&format!("/v1/agreements/{id}/sign"), &())
                        .await?
                }
                AgreementCmd::Withdraw { id, .. } => {
                    client
                        .post(&format!("/v1/agreements/{id}/withdraw"), &())
                        .await?
                }
            }
        }
    };
    if json {
        println!("{}", serde_json::to_string(&c)?);
    } else {
        match &c.effective {
            Some(eff) => println!(
                "{what} {}: entry {} of this party's log; it stops being in force at {eff}.",
                c.id, c.index
            ),
            None => println!("{what} {} (entry {} of this party's log).", c.id, c.index),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ack` or `close`: one step on an inquiry, offline or through the running node.
async fn inquiry_step(dir: &Path, id: &str, json: bool, step: &str, done: &str) -> Result<()> {
    let dir = NodeDir::new(dir);
    dir.read_config()?;
    let id = crate::ids::entry_id(&dir, id, "inquiry")?;
    let id = id.as_str();
    let offline = async |n: &Node| {
        if step == "ack" {
            n.ack(id).await
        } else {
            n.close(id).await
        }
    };
    let out = write_entry(&dir, offline, &format!("/v1/inquiries/{id}/{step}"), &()).await?;
    report(json, &out, &format!("{done} {id} (entry {})", out.id))
}

pub(crate) fn created(node: &Node, a: &hotline_node::sequencer::Appended) -> CreatedJson {
    CreatedJson {
        id: format!("{}:{}", node.party(), a.index),
        index: a.index,
        leaf_hash: hotline_proto::b64::encode(a.leaf_hash.0),
        time: a.header.time.to_string(),
        effective: None,
    }
}

pub(crate) fn report(json: bool, out: &CreatedJson, sentence: &str) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(out)?);
    } else {
        println!("{sentence}, durable in this party's log.");
    }
    Ok(())
}

/// Reads an inquiry's or answer's content from the command line's files.
fn content_of(c: &crate::ContentArgs) -> Result<hotline_proto::entry::Content> {
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

/// Writes one entry: through the node itself when no node process holds the
/// directory, else by posting `body` to the running node's API at `path`.
/// Either way the answer is the same `CreatedJson`.
pub(crate) async fn write_entry<B: serde::Serialize>(
    dir: &NodeDir,
    offline: impl AsyncFnOnce(&Node) -> hotline_node::Result<hotline_node::sequencer::Appended>,
    path: &str,
    body: &B,
) -> Result<CreatedJson> {
    match offline_node(dir)? {
        Some(node) => Ok(created(&node, &offline(&node).await?)),
        None => NodeClient::connect(dir).await?.post(path, body).await,
    }
}

/// A listing, read from the node itself when no node process holds the
/// directory, else from the running node's API at `path`.
pub(crate) async fn listing(
    dir: &NodeDir,
    offline: impl FnOnce(&Node) -> Result<serde_json::Value>,
    path: &str,
) -> Result<serde_json::Value> {
    match offline_node(dir)? {
        Some(node) => offline(&node),
        None => Ok(serde_json::from_slice(
            &NodeClient::connect(dir).await?.get_bytes(path).await?,
        )?),
    }
}

/// Opens the node directly if no node process holds it; `None` if one does.
pub(crate) fn offline_node(dir: &NodeDir) -> Result<Option<Node>> {
    match Node::open(dir) {
        Ok(n) => Ok(Some(n)),
        Err(NodeError::Busy(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn identity(dir: &NodeDir) -> Result<PartyIdentity> {
    match offline_node(dir)? {
        Some(node) => Ok(node.identity()),
        None => {
            let bytes = NodeClient::connect(dir)
                .await?
                .get_bytes("/v1/identity")
                .await?;
            Ok(serde_json::from_slice(&bytes)?)
        }
    }
}

fn proof_source(dir: &Path) -> Result<hotline_node::proofs::ProofSource> {
    Ok(hotline_node::proofs::ProofSource::open(&NodeDir::new(dir))?)
}

fn wrote(output: &Path, bundle: &str, what: &str) -> Result<()> {
    write_output(output, bundle.as_bytes())?;
    if output.as_os_str() != "-" {
        eprintln!(
            "Wrote {what} to {}; check it with `hotline verify {} --key …`.",
            output.display(),
            output.display()
        );
    }
    Ok(())
}

fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.as_os_str() == "-" {
        std::io::stdout().write_all(bytes)?;
    } else {
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Reads `--key` values: a vkey, a file with vkeys (one a line), or an export file.
pub fn read_keys(args: &[String]) -> Result<Vec<NoteVerifier>> {
    // Each key with the --key argument it came from, to name both of two
    // that clash.
    let mut out: Vec<(NoteVerifier, &str)> = Vec::new();
    for a in args {
        let text = if Path::new(a).is_file() {
            std::fs::read_to_string(a).with_context(|| format!("reading {a} (--key)"))?
        } else if !a.contains('+') {
            // Not a vkey (`name+keyid+key`), so meant as a file.
            bail!(
                "no such file: {a} (given to --key); a --key is a verifier key (`hotline key` prints one), a file of them, or a `hotline keys export` file"
            );
        } else {
            a.clone()
        };
        if let Ok(id) = serde_json::from_str::<PartyIdentity>(&text) {
            let log = NoteVerifier::from_vkey(&id.log_key).with_context(|| format!("--key {a}"))?;
            let witness =
                NoteVerifier::from_vkey(&id.witness_key).with_context(|| format!("--key {a}"))?;
            // Entries and cosignatures are attributed to a party by the name
            // of the log they sit in: a file naming another party's log
            // would lend that party its signatures.
            let owner = bundle::origin_party(log.name());
            if owner != id.party.as_str() {
                bail!(
                    "--key {a} is the keys of party {} but names its log {}, which is party {owner}'s; a party's log is named after the party, so this is not a `hotline keys export` file of {}",
                    id.party,
                    log.name(),
                    id.party
                );
            }
            // Cosignatures are told apart by their witness's name: a file
            // naming its witness otherwise would lend it another's.
            let want = hotline_proto::claims::witness_of(log.name());
            if witness.name() != want {
                bail!(
                    "--key {a} names its witness key {}; a party's witness key is named after its own log: {want}, so this is not a `hotline keys export` file of {}",
                    witness.name(),
                    id.party
                );
            }
            out.push((log, a));
            out.push((witness, a));
            continue;
        }
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            out.push((
                NoteVerifier::from_vkey(line).with_context(|| format!("--key {a}"))?,
                a,
            ));
        }
    }
    // A name denotes one key: with two, a verifier would trust whichever
    // it met first, and a signature could be read as the other's.
    let mut kept: Vec<(NoteVerifier, &str)> = Vec::with_capacity(out.len());
    for (k, a) in out {
        match kept.iter().find(|(held, _)| held.name() == k.name()) {
            Some((held, _)) if *held == k => {}
            Some((held, b)) => bail!(
                "two pinned keys are named {}: {} (from --key {b}) and {} (from --key {a}); a name denotes one key, so pin only the one its party's own `hotline keys export` gives",
                k.name(),
                held.to_vkey(),
                k.to_vkey()
            ),
            None => kept.push((k, a)),
        }
    }
    Ok(kept.into_iter().map(|(k, _)| k).collect())
}

/// Reads a bundle file, refusing one over [`bundle::MAX_BUNDLE_BYTES`] by
/// its length before reading any of it, and one whose length is not known
/// ahead (a pipe, a device) as soon as it passes the limit.
fn read_bundle(file: &Path) -> Result<Result<Vec<u8>, bundle::BundleError>> {
    let limit = bundle::MAX_BUNDLE_BYTES as u64;
    if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .context("reading the bundle from standard input")?;
        return Ok(over_limit(bytes));
    }
    crate::files::must_exist(file, "verify")?;
    let f = std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
    let len = f
        .metadata()
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if let Err(e) = bundle::check_size(len) {
        return Ok(Err(e));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", file.display()))?;
    Ok(over_limit(bytes))
}

/// The bytes read, refused if they passed the limit (read up to one more).
fn over_limit(bytes: Vec<u8>) -> Result<Vec<u8>, bundle::BundleError> {
    let limit = bundle::MAX_BUNDLE_BYTES as u64;
    if bytes.len() as u64 > limit {
        return Err(bundle::BundleError::Malformed(format!(
            "the bundle is over {limit} bytes; the limit is {}",
            hotline_proto::limits::describe_bytes(bundle::MAX_BUNDLE_BYTES)
        )));
    }
    Ok(bytes)
}

fn verify(file: &Path, keys: &[String], json: bool) -> Result<ExitCode> {
    let read = read_bundle(file)?;
    let keyring = Keyring::new(read_keys(keys)?);
    let mut kind = String::new();
    match read.and_then(|bytes| {
        kind = crate::verdict::bundle_type(&bytes);
        bundle::verify(&bytes, &keyring)
    }) {
        Ok(v) => {
            if json {
                println!("{}", crate::verdict::verified(&v, &kind));
            } else {
                println!("Verified. {}", v.sentence());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "verified": false, "bundle": kind, "error": e.to_string() })
                );
            }
            eprintln!("NOT verified: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `hotline doctor`: the node directory's file modes, fixed with `--fix`.
/// Fails while a looser mode remains, so scripts can check it.
fn doctor(dir: &NodeDir, fix: bool, json: bool) -> Result<ExitCode> {
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
    hotline_node::serve::serve_with(node, listener, Some(peer_listener), transport, shutdown)
        .await?;
    Ok(())
}

/// `hotline office rotate` and `hotline office revoke`.
#[derive(Clone, Copy)]
enum KeyChange {
    Rotate,
    Revoke,
}

/// Rotates or revokes an office's keys, through the node itself when it is
/// not running, else through the running node's API.
async fn change_office_keys(
    change: KeyChange,
    office: &str,
    dir: crate::DirArg,
    json: bool,
) -> Result<()> {
    let dir = NodeDir::new(dir.dir);
    let office = crate::suggest::office(&dir, office, "office")?;
    let (action, route) = match change {
        KeyChange::Rotate => ("rotate", "/v1/offices/rotate"),
        KeyChange::Revoke => ("revoke", "/v1/offices/revoke"),
    };
    let a: AppendedJson = match offline_node(&dir)? {
        Some(node) => match change {
            KeyChange::Rotate => node.rotate_office(office.clone()).await?.into(),
            KeyChange::Revoke => node.revoke_office(office.clone()).await?.into(),
        },
        None => {
            NodeClient::connect(&dir)
                .await?
                .post(
                    route,
                    &AddOffice {
                        office: office.to_string(),
                    },
                )
                .await?
        }
    };
    if json {
        println!(
            "{}",
            serde_json::json!({ "office": office.as_str(), "action": action, "index": a.index, "leaf_hash": a.leaf_hash })
        );
    } else {
        match change {
            KeyChange::Rotate => println!(
                "Rotated office {office}: its new keys are announced in entry {} ({}); it signs with them from there on, and peers seal to them once they mirror it. The old keys are kept in keys/offices/retired/ to open earlier sealed bodies.",
                a.index, a.leaf_hash
            ),
            KeyChange::Revoke => println!(
                "Revoked office {office} in entry {} ({}): it can no longer sign, and nothing can be sent to it. Its keys are kept in keys/offices/retired/ to open earlier sealed bodies.",
                a.index, a.leaf_hash
            ),
        }
    }
    Ok(())
}
