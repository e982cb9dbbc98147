//! `hotline bench stats`: the size and cost of a month's figures for one
//! channel ("K inquiries us/fbi → ru/fsb in July: acknowledged and answered
//! in time, or not") among many other entries in both logs, built from one
//! node's store (its own log and its mirror of the receiver's) by the code
//! `hotline prove stats` runs, and checked by `hotline verify`'s.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context as _, Result};
use hotline_node::dir::{Mode, NodeDir};
use hotline_node::{InitOptions, Node};
use hotline_proto::agreement::{self, ChannelTerms, Terms};
use hotline_proto::claims::reference;
use hotline_proto::entry::{Header, Kind, Ref, SignedEntry};
use hotline_proto::keys::{NoteKey, OfficeKeys, PartyIdentity, os_rng};
use hotline_proto::party::{Office, Party};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::absence::{BEFORE, FROM, SINCE, TO, UNTIL, disclosed_leaves};
use super::month::MonthWriter;
use super::{Ticker, median_ms, progress, status_mb};

/// The month's name, as `hotline prove stats --month` takes it.
const MONTH: &str = "2021-07";
/// The agreement's deadlines, and when the receiver meets them.
const ACK_WITHIN: u64 = 3_600;
const ANSWER_WITHIN: u64 = 86_400;
/// Entries per group commit in each log.
const BATCH: usize = 1_000;
/// Background references point this far up, so none names an inquiry.
const REF_OFFSET: u64 = 1 << 40;

#[derive(Serialize)]
pub(super) struct StatsFigures {
    /// Entries in each log's month (the channel's threads and other traffic).
    entries_per_log: u64,
    inquiries: u64,
    /// Entries of the channel's threads (inquiries, receipts, acks, answers,
    /// the sender's receipts of the replies), both logs.
    channel_entries: u64,
    sender_log_size: u64,
    receiver_log_size: u64,
    bundle_bytes: u64,
    bytes_per_inquiry: f64,
    disclosed_entries: u64,
    runs: usize,
    /// `ProofSource::open` + `stats` (what `hotline prove stats` runs), median.
    build_ms: f64,
    /// `bundle::verify`, median, min and max.
    verify_ms: f64,
    verify_min_ms: f64,
    verify_max_ms: f64,
    /// What the verified bundle says.
    sent: usize,
    delivered: usize,
    ack_met: usize,
    ack_missed: usize,
    ack_undetermined: usize,
    answer_met: usize,
    answer_missed: usize,
    answer_undetermined: usize,
    log_build_seconds: f64,
    cores: usize,
    rss_mb: f64,
    peak_rss_mb: f64,
}

/// `--compare`: the same channel-month among two sizes of logs.
#[derive(Serialize)]
pub(super) struct Comparison {
    pub(super) runs: Vec<StatsFigures>,
}

pub(super) fn print(f: &StatsFigures) {
    let row = |label: &str, value: String| println!("  {label:<46} {value}");
    println!();
    println!(
        "hotline bench stats — {} inquiries {FROM} → {TO} in {MONTH} and their threads, among {} entries in each log's month (logs at {} and {}), {} cores",
        f.inquiries, f.entries_per_log, f.sender_log_size, f.receiver_log_size, f.cores
    );
    row(
        "bundle size:",
        format!(
            "{} bytes ({:.2} MB), {:.0} bytes per inquiry, {} entries disclosed of {} on the channel's threads",
            f.bundle_bytes,
            f.bundle_bytes as f64 / 1e6,
            f.bytes_per_inquiry,
            f.disclosed_entries,
            f.channel_entries
        ),
    );
    row(
        "build (hotline prove stats's code, SQLite):",
        format!("median {:.0} ms of {}", f.build_ms, f.runs),
    );
    row(
        "bundle::verify:",
        format!(
            "median {:.1} ms of {} (min {:.1}, max {:.1})",
            f.verify_ms, f.runs, f.verify_min_ms, f.verify_max_ms
        ),
    );
    row(
        "it proves:",
        format!(
            "{} sent, {} delivered; ack met {} missed {} undetermined {}; answer met {} missed {} undetermined {}",
            f.sent,
            f.delivered,
            f.ack_met,
            f.ack_missed,
            f.ack_undetermined,
            f.answer_met,
            f.answer_missed,
            f.answer_undetermined
        ),
    );
    println!(
        "  (writing both logs took {:.1} s; memory {:.0} MB now, {:.0} MB peak)",
        f.log_build_seconds, f.rss_mb, f.peak_rss_mb
    );
}

pub(super) fn print_comparison(c: &Comparison) {
    for f in &c.runs {
        print(f);
    }
    if let [a, b] = &c.runs[..] {
        println!();
        println!(
            "  {}× the log's entries: bundle {:.2}×, build {:.2}×, verify {:.2}× — the bundle follows the channel's entries, not the log's",
            b.entries_per_log as f64 / a.entries_per_log.max(1) as f64,
            b.bundle_bytes as f64 / a.bundle_bytes.max(1) as f64,
            b.build_ms / a.build_ms.max(1e-9),
            b.verify_ms / a.verify_ms.max(1e-9),
        );
    }
}

/// Writes both logs, then builds the stats bundle `runs` times and verifies it `runs` times.
pub(super) fn stats(
    entries: u64,
    inquiries: u64,
    runs: usize,
    quiet: bool,
) -> Result<StatsFigures> {
    let tmp = tempfile::tempdir().context("making a temporary directory")?;
    let logs = stats_logs(tmp.path(), entries, inquiries, quiet)?;
    let (from, to) = (Office::new(FROM)?, Office::new(TO)?);

    progress(&format!("building the stats bundle {runs} times"), quiet);
    let mut builds = Vec::with_capacity(runs);
    let mut bundle = String::new();
    let mut ticker = Ticker::new("stats bundles built", runs as u64, quiet);
    for i in 0..runs {
        ticker.tick(i as u64);
        let t = Instant::now();
        let source = hotline_node::proofs::ProofSource::open(&logs.dir)?;
        bundle = source.stats(&from, &to, MONTH)?;
        builds.push(t.elapsed());
    }
    let bytes = bundle.into_bytes();
    progress(
        &format!("verifying it {runs} times ({} bytes)", bytes.len()),
        quiet,
    );
    let mut verifies = Vec::with_capacity(runs);
    let mut proved = None;
    let mut ticker = Ticker::new("stats bundles verified", runs as u64, quiet);
    for i in 0..runs {
        ticker.tick(i as u64);
        let t = Instant::now();
        let v = hotline_proto::bundle::verify(&bytes, &logs.keys);
        verifies.push(t.elapsed());
        match v {
            Ok(hotline_proto::bundle::Verified::Stats(p)) => {
                anyhow::ensure!(
                    p.sent() as u64 == inquiries && p.month == MONTH,
                    "the bundle proved something else: {}",
                    p.sentence()
                );
                proved = Some(p);
            }
            Ok(_) => anyhow::bail!("the bundle verified as another kind of claim"),
            Err(e) => anyhow::bail!("the bundle did not verify: {e}"),
        }
    }
    let p = proved.context("no verification ran")?;
    let (ack, answer) = (p.ack(), p.answer());
    let n = bytes.len() as u64;
    verifies.sort();
    Ok(StatsFigures {
        entries_per_log: entries,
        inquiries,
        channel_entries: inquiries * 6,
        sender_log_size: logs.sizes.0,
        receiver_log_size: logs.sizes.1,
        bundle_bytes: n,
        bytes_per_inquiry: n as f64 / inquiries.max(1) as f64,
        disclosed_entries: disclosed_leaves(&bytes)?,
        runs,
        build_ms: median_ms(&mut builds),
        verify_ms: median_ms(&mut verifies),
        verify_min_ms: verifies.first().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        verify_max_ms: verifies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        sent: p.sent(),
        delivered: p.delivered(),
        ack_met: ack.met,
        ack_missed: ack.missed,
        ack_undetermined: ack.undetermined,
        answer_met: answer.met,
        answer_missed: answer.missed,
        answer_undetermined: answer.undetermined,
        log_build_seconds: logs.seconds,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rss_mb: status_mb("VmRSS:"),
        peak_rss_mb: status_mb("VmHWM:"),
    })
}

struct StatsLogs {
    /// us's node directory: its own log and its mirror of ru's.
    dir: NodeDir,
    keys: hotline_proto::bundle::Keyring,
    sizes: (u64, u64),
    seconds: f64,
}

fn offices(names: &[&str]) -> Result<Vec<OfficeKeys>> {
    names
        .iter()
        .map(|o| Ok(OfficeKeys::generate(Office::new(o)?, &mut os_rng())))
        .collect()
}

fn names(names: &[&str]) -> Result<Vec<Office>> {
    Ok(names
        .iter()
        .map(|o| Office::new(o))
        .collect::<Result<Vec<_>, _>>()?)
}

fn init(root: &std::path::Path, party: &str) -> Result<(NodeDir, NoteKey, NoteKey)> {
    let dir = NodeDir::new(root.join(party));
    Node::init(
        &dir,
        InitOptions::local(
            Party::new(party)?,
            hotline_console::config::ConsoleConfig::default_table(),
        ),
    )?;
    let key = NoteKey::from_skey(std::fs::read_to_string(dir.log_key())?.trim())?;
    let witness = NoteKey::from_skey(std::fs::read_to_string(dir.witness_key())?.trim())?;
    Ok((dir, key, witness))
}

/// Appends an entry of `w`'s first office on the channel to `w`'s pending
/// entries, chained to its channel's previous one as the sequencer chains
/// it: (its index, the entry).
fn thread_entry(
    w: &mut MonthWriter<'_>,
    kind: Kind,
    to: &Office,
    agreement: &str,
    time: Timestamp,
    refs: Vec<Ref>,
    status: Option<&str>,
) -> Result<(u64, SignedEntry)> {
    let from = w.offices[0].office().clone();
    let at = w.size + w.pending.len() as u64;
    let prev = w.prev.insert((kind, from.to_string(), to.to_string()), at);
    let body = matches!(kind, Kind::Inquiry | Kind::Answer).then(|| {
        hotline_proto::entry::BodyCommitment {
            sealed: hotline_proto::b64::encode(hotline_proto::tree::leaf_hash(&at.to_le_bytes()).0),
            size: 1_200,
            commitment: hotline_proto::b64::encode([7u8; 32]),
        }
    });
    let h = Header {
        agreement: Some(agreement.to_owned()),
        refs,
        prev,
        body,
        status: status.map(str::to_owned),
        ..Header::new(from.party(), kind, from.to_string(), Some(to.clone()), time)
    };
    let e = SignedEntry::sign(h, |m| w.offices[0].sign_raw(m))?;
    let i = w.push(e.clone());
    debug_assert_eq!(i, at);
    Ok((i, e))
}

/// us's node directory holding us's log and its mirror of ru's, each with a
/// month of `entries` entries: `inquiries` threads on us/fbi → ru/fsb (the
/// inquiry; ru's receipt, ack and answer; us's receipts of the ack and the
/// answer, each within its deadline) spread over the month, the rest other
/// traffic of both parties. us's log is cosigned by ru's witness, the
/// mirror by us's, as the nodes do.
fn stats_logs(
    root: &std::path::Path,
    entries: u64,
    inquiries: u64,
    quiet: bool,
) -> Result<StatsLogs> {
    let started = Instant::now();
    let (us_dir, us_key, us_witness) = init(root, "us")?;
    let (_ru_dir, ru_key, ru_witness) = init(root, "ru")?;
    let ru = PartyIdentity {
        party: Party::new("ru")?,
        log_key: ru_key.verifier().to_vkey(),
        witness_key: ru_witness.verifier().to_vkey(),
        offices: vec![],
        url: None,
        urls: vec![],
        tls_pin: None,
    };
    std::fs::write(
        us_dir.peers().join("ru.json"),
        serde_json::to_string_pretty(&ru)?,
    )?;
    // Written as the node writes it: holding the directory's writer lock.
    let opened = us_dir.open(Mode::ReadWrite)?;
    let us_log = opened.own_log()?;
    let _lock = opened.lock;
    let store = opened.store;
    let ru_log = store.log_id(ru_key.name(), "ru")?;
    let total = 2 * (entries + 10);
    let writer =
        |log, party: &str, key, witness, own: &[&str], peers: &[&str]| -> Result<MonthWriter<'_>> {
            Ok(MonthWriter {
                store: &*store,
                log,
                party: Party::new(party)?,
                key,
                witness,
                offices: offices(own)?,
                peers: names(peers)?,
                size: store.size(log)?,
                prev: HashMap::new(),
                index: hotline_node::indexes::LogIndex::new(),
                checkpoints: 0,
                total,
                started,
                quiet,
                ref_offset: REF_OFFSET,
                pending: Vec::new(),
            })
        };
    let mut us = writer(
        us_log,
        "us",
        &us_key,
        &ru_witness,
        &["us/fbi", "us/state", "us/cisa"],
        &["ru/fsb", "ru/mid", "cn/mps"],
    )?;
    let mut rw = writer(
        ru_log,
        "ru",
        &ru_key,
        &us_witness,
        &["ru/fsb", "ru/mid", "ru/svr"],
        &["us/fbi", "us/state", "cn/mps"],
    )?;

    // Keys, then the agreement: proposed by us, signed by ru.
    let before: Timestamp = BEFORE.parse()?;
    let (since, until): (Timestamp, Timestamp) = (SINCE.parse()?, UNTIL.parse()?);
    let secs = |s: i64| SignedDuration::from_secs(s);
    us.announce_offices(before)?;
    rw.announce_offices(before)?;
    let terms = Terms {
        title: "bench: inquiries between us/fbi and ru/fsb".into(),
        start: before,
        end: None,
        notice_secs: 0,
        languages: vec![],
        ack_within_secs: Some(ACK_WITHIN),
        answer_within_secs: Some(ANSWER_WITHIN),
        channels: vec![ChannelTerms {
            offices: [Office::new(FROM)?, Office::new(TO)?],
            kinds: [Kind::Message, Kind::Inquiry, Kind::Ack, Kind::Answer]
                .into_iter()
                .filter(|k| agreement::needs_agreement(*k))
                .collect(),
        }],
    };
    let t = before.checked_add(secs(60))?;
    let proposal = us.party_entry(
        Kind::Agreement,
        t,
        Some(agreement::status::PROPOSED),
        Some(terms),
        vec![],
    )?;
    let p_index = us.push(proposal.clone());
    us.flush(t, t.checked_add(secs(1))?)?;
    let t = t.checked_add(secs(60))?;
    let signature = rw.party_entry(
        Kind::Agreement,
        t,
        Some(agreement::status::SIGNED),
        None,
        vec![reference(&proposal, p_index)],
    )?;
    rw.push(signature);
    rw.flush(t, t.checked_add(secs(1))?)?;
    let agreement_id = format!("us:{p_index}");

    // The month: one slot per inquiry; in each, the thread first, then the
    // slot's share of other traffic in each log.
    let (to_fsb, to_fbi) = (Office::new(TO)?, Office::new(FROM)?);
    let slots = inquiries.max(1);
    let span = until.as_nanosecond() - since.as_nanosecond();
    let background = entries.saturating_sub(inquiries * 3);
    let mut written = 0u64;
    for k in 0..slots {
        let start = Timestamp::from_nanosecond(
            since.as_nanosecond() + span * i128::from(k) / i128::from(slots),
        )?;
        let end = Timestamp::from_nanosecond(
            since.as_nanosecond() + span * i128::from(k + 1) / i128::from(slots),
        )?;
        let bg_start = start.checked_add(secs(62))?;
        if k < inquiries {
            let (i, inq) = thread_entry(
                &mut us,
                Kind::Inquiry,
                &to_fsb,
                &agreement_id,
                start,
                vec![],
                None,
            )?;
            let r = reference(&inq, i);
            let at = |s| start.checked_add(secs(s));
            thread_entry(
                &mut rw,
                Kind::Receipt,
                &to_fbi,
                &agreement_id,
                at(1)?,
                vec![r.clone()],
                Some("delivered"),
            )?;
            let ack = thread_entry(
                &mut rw,
                Kind::Ack,
                &to_fbi,
                &agreement_id,
                at(2)?,
                vec![r.clone()],
                None,
            )?;
            let answer = thread_entry(
                &mut rw,
                Kind::Answer,
                &to_fbi,
                &agreement_id,
                at(60)?,
                vec![r],
                None,
            )?;
            for ((j, e), dt) in [(ack, 3), (answer, 61)] {
                thread_entry(
                    &mut us,
                    Kind::Receipt,
                    &to_fsb,
                    &agreement_id,
                    at(dt)?,
                    vec![reference(&e, j)],
                    Some("delivered"),
                )?;
            }
        }
        // This slot's share of the other traffic, in both logs.
        let share = background * (k + 1) / slots - background * k / slots;
        let (a, b) = (
            bg_start.as_nanosecond(),
            end.as_nanosecond() - 1_000_000_000,
        );
        for j in 0..share {
            let time =
                Timestamp::from_nanosecond(a + (b - a) * i128::from(j) / i128::from(share.max(1)))?;
            for w in [&mut us, &mut rw] {
                let at = w.size + w.pending.len() as u64;
                let e = w.entry(at, time, false)?;
                w.push(e);
                if w.pending.len() >= BATCH {
                    w.flush(time, time.checked_add(secs(1))?)?;
                }
            }
            written += 2;
        }
        if k + 1 == slots {
            let after = until.checked_add(secs(30))?;
            let last = end.checked_sub(secs(1))?;
            us.flush(last, after)?;
            rw.flush(last, after)?;
        } else {
            // A thread's entries are committed within its slot, as a node would.
            let last = end.checked_sub(secs(1))?;
            us.flush(last, last.checked_add(secs(1))?)?;
            rw.flush(last, last.checked_add(secs(1))?)?;
        }
        if !quiet && (k + 1) % (slots / 10).max(1) == 0 {
            eprintln!(
                "bench: wrote {} of ~{total} entries ({:.0} s)",
                written + (k + 1) * 6,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let keys = hotline_proto::bundle::Keyring::new([
        us_key.verifier(),
        us_witness.verifier(),
        ru_key.verifier(),
        ru_witness.verifier(),
    ]);
    let sizes = (us.size, rw.size);
    progress(
        &format!(
            "wrote {} + {} entries in {:.1} s",
            sizes.0,
            sizes.1,
            started.elapsed().as_secs_f64()
        ),
        quiet,
    );
    Ok(StatsLogs {
        dir: us_dir,
        keys,
        sizes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
