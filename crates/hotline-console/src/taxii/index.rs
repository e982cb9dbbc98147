//! TAXII's index of a channel's STIX objects in the console's database
//! (`taxii_objects`, `taxii_marks`): the metadata only (place, id, type,
//! version, spec_version), never an object's content, which stays sealed
//! in the log.
//!
//! Before answering, a read catches up: each direction of the channel is
//! read from the entry after its mark on, and the new entries' objects are
//! indexed in the transaction that moves the mark, so two readers catching
//! up at once index each entry once (the second sees the mark moved and
//! starts again from it; the place is the primary key besides). A page is
//! then one query ordered by place with `LIMIT n + 1`, and only the page's
//! entries are opened to give the objects. The index is a cache: rows
//! deleted are indexed again from the log at the next read.

use std::collections::HashMap;

use hotline_proto::party::{Office, Party};
use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension as _, params, params_from_iter};
use serde_json::Value;

use super::auth::Account;
use super::collections::collection_id;
use super::errors::TaxiiError;
use super::paging::{Item, Page, Params, Place, micros_of, stamp};
use crate::Console;
use crate::channels::Channel;

/// Entries read, opened and indexed in one transaction.
const BATCH: u64 = 100;

/// A version's key for ordering and `match[version]=TIMESTAMP`: its time in
/// nanoseconds, when it is a STIX timestamp.
fn vkey(version: &str) -> Option<i64> {
    hotline_proto::stix::parse_timestamp(version)
        .and_then(|t| i64::try_from(t.as_nanosecond()).ok())
}

/// Brings the index of `ch` up to its log, both directions. Returns how
/// many object versions were added.
pub(crate) fn catch_up(c: &Console, ch: &Channel) -> Result<u64, TaxiiError> {
    let channel = collection_id(ch);
    let store = c.operators.store();
    let offices = |o: &Office| o == &ch.ours || o == &ch.theirs;
    let mut added = 0;
    for (from, to) in [(&ch.ours, &ch.theirs), (&ch.theirs, &ch.ours)] {
        loop {
            let mark = store.read(|db| mark_of(db, &channel, from))?;
            let entries = c.records.from_to_after(from, to, mark, BATCH)?;
            let Some(last) = entries.last().map(|e| e.index()) else {
                break;
            };
            let mut rows = Vec::new();
            for e in &entries {
                let shown = c.records.open_for(e, &offices);
                let Some(objects) = shown
                    .content()
                    .and_then(|ct| ct.stix.as_ref())
                    .and_then(|b| b.get("objects"))
                    .and_then(Value::as_array)
                else {
                    continue;
                };
                let micros = micros_of(e.header().time);
                for (offset, o) in objects.iter().enumerate() {
                    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
                    let Some(id) = text("id") else { continue };
                    rows.push(Item {
                        place: Place {
                            micros,
                            party: e.party().to_string(),
                            index: e.index(),
                            offset,
                        },
                        ty: text("type").unwrap_or_default(),
                        version: text("modified")
                            .or_else(|| text("created"))
                            .unwrap_or_else(|| stamp(micros)),
                        spec_version: text("spec_version").unwrap_or_else(|| "2.1".into()),
                        id,
                        object: Value::Null,
                    });
                }
            }
            let n = entries.len() as u64;
            let done = store.write(|tx| {
                // Another reader indexed these meanwhile: start again from its mark.
                if mark_of(tx, &channel, from)? != mark {
                    return Ok(None);
                }
                let mut k = 0;
                for r in &rows {
                    k += u64::from(insert(tx, &channel, r)?);
                }
                tx.execute(
                    "INSERT INTO taxii_marks (channel, sender, idx) VALUES (?1, ?2, ?3)
                     ON CONFLICT (channel, sender) DO UPDATE SET idx = excluded.idx",
                    params![channel, from.as_str(), last as i64],
                )?;
                Ok(Some(k))
            })?;
            added += done.unwrap_or(0);
            if done.is_some() && n < BATCH {
                break;
            }
        }
    }
    Ok(added)
}

fn mark_of(
    db: &rusqlite::Connection,
    channel: &str,
    from: &Office,
) -> rusqlite::Result<Option<u64>> {
    db.query_row(
        "SELECT idx FROM taxii_marks WHERE channel = ?1 AND sender = ?2",
        params![channel, from.as_str()],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map(|o| o.map(|i| i as u64))
}

/// Indexes one object version: kept once, at its first place; the
/// object's first and last versions marked. Whether a row was added.
fn insert(tx: &rusqlite::Connection, channel: &str, r: &Item) -> rusqlite::Result<bool> {
    let p = &r.place;
    let key = (p.micros, p.party.clone(), p.index as i64, p.offset as i64);
    let had: Option<(i64, String, i64, i64)> = tx
        .query_row(
            "SELECT micros, party, idx, off FROM taxii_objects
             WHERE channel = ?1 AND object_id = ?2 AND version = ?3",
            params![channel, r.id, r.version],
            |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?)),
        )
        .optional()?;
    if let Some(h) = had {
        if h <= key {
            return Ok(false);
        }
        // Sent earlier by the other side, indexed later: the first sent wins.
        tx.execute(
            "DELETE FROM taxii_objects WHERE channel = ?1 AND micros = ?2 AND party = ?3 AND idx = ?4 AND off = ?5",
            params![channel, h.0, h.1, h.2, h.3],
        )?;
    }
    let others: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM taxii_objects WHERE channel = ?1 AND object_id = ?2)",
        params![channel, r.id],
        |x| x.get(0),
    )?;
    let added = tx.execute(
        "INSERT OR IGNORE INTO taxii_objects
         (channel, micros, party, idx, off, object_id, type, version, vkey, spec_version, is_first, is_last)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        params![
            channel,
            key.0,
            key.1,
            key.2,
            key.3,
            r.id,
            r.ty,
            r.version,
            vkey(&r.version),
            r.spec_version,
            !others
        ],
    )? == 1;
    if added && others {
        let bounds = "SELECT version FROM taxii_objects WHERE channel = ?1 AND object_id = ?2
                      ORDER BY vkey IS NULL, vkey {dir}, version {dir} LIMIT 1";
        tx.execute(
            "UPDATE taxii_objects SET is_first = 0, is_last = 0
             WHERE channel = ?1 AND object_id = ?2 AND (is_first = 1 OR is_last = 1)",
            params![channel, r.id],
        )?;
        for (flag, dir) in [("is_first", "ASC"), ("is_last", "DESC")] {
            tx.execute(
                &format!(
                    "UPDATE taxii_objects SET {flag} = 1 WHERE channel = ?1 AND object_id = ?2
                     AND version = ({})",
                    bounds.replace("{dir}", dir)
                ),
                params![channel, r.id],
            )?;
        }
    }
    Ok(added)
}

/// What a page gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The objects: the page's entries are opened.
    Objects,
    /// The manifest: metadata only, no body opened.
    Manifest,
    /// An object's versions: every version whatever `match[version]`
    /// says, no body opened.
    Versions,
}

/// The page `q` asks for of channel `ch`'s index; `object`: only that
/// object's versions (404 if it holds none).
pub(crate) fn page(
    c: &Console,
    a: &Account,
    ch: &Channel,
    q: &Params,
    object: Option<&str>,
    answer: Answer,
) -> Result<Page, TaxiiError> {
    let versions = answer == Answer::Versions;
    catch_up(c, ch)?;
    let channel = collection_id(ch);
    let store = c.operators.store();
    if let Some(o) = object {
        let held: bool = store.read(|db| {
            db.query_row(
                "SELECT EXISTS (SELECT 1 FROM taxii_objects WHERE channel = ?1 AND object_id = ?2)",
                params![channel, o],
                |x| x.get(0),
            )
        })?;
        if !held {
            return Err(TaxiiError::not_found(format!(
                "collection {channel} holds no object {o:?}"
            )));
        }
    }
    // Named objects: their versions by id, then sorted (few); else the
    // planner walks an index in place order and stops at the limit.
    let by_id = if object.is_some() || q.ids.as_ref().is_some_and(|l| !l.is_empty()) {
        " INDEXED BY taxii_objects_by_version"
    } else {
        ""
    };
    let mut sql = format!(
        "SELECT micros, party, idx, off, object_id, type, version, spec_version
         FROM taxii_objects{by_id} WHERE channel = ?"
    );
    let mut args: Vec<Sql> = vec![Sql::Text(channel.clone())];
    if let Some(o) = object {
        sql.push_str(" AND object_id = ?");
        args.push(Sql::Text(o.to_owned()));
    }
    for (col, list) in [
        ("object_id", &q.ids),
        ("type", &q.types),
        ("spec_version", &q.specs),
    ] {
        match list {
            None => {}
            // `match[id]=` with nothing in it matches nothing.
            Some(l) if l.is_empty() => sql.push_str(" AND 0"),
            Some(l) => {
                sql.push_str(&format!(" AND {col} IN ("));
                sql.push_str(&vec!["?"; l.len()].join(", "));
                sql.push(')');
                args.extend(l.iter().map(|v| Sql::Text(v.clone())));
            }
        }
    }
    if let Some(t) = q.after {
        sql.push_str(" AND micros > ?");
        args.push(Sql::Integer(t));
    }
    if let Some(s) = &q.start {
        sql.push_str(" AND (micros, party, idx, off) >= (?, ?, ?, ?)");
        args.extend([
            Sql::Integer(s.micros),
            Sql::Text(s.party.clone()),
            Sql::Integer(s.index as i64),
            Sql::Integer(s.offset as i64),
        ]);
    }
    if !versions && !q.version.iter().any(|v| v == "all") {
        let mut any = Vec::new();
        for v in &q.version {
            match v.as_str() {
                "first" => any.push("is_first = 1".to_owned()),
                "last" => any.push("is_last = 1".to_owned()),
                t => match vkey(t) {
                    Some(k) => {
                        any.push("vkey = ?".to_owned());
                        args.push(Sql::Integer(k));
                    }
                    None => {
                        any.push("version = ?".to_owned());
                        args.push(Sql::Text(t.to_owned()));
                    }
                },
            }
        }
        if any.is_empty() {
            any.push("0".into());
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    sql.push_str(" ORDER BY micros, party, idx, off LIMIT ?");
    args.push(Sql::Integer(q.limit as i64 + 1));
    let mut items = store.read(|db| {
        let mut st = db.prepare_cached(&sql)?;
        let rows = st.query_map(params_from_iter(args), |r| {
            Ok(Item {
                place: Place {
                    micros: r.get(0)?,
                    party: r.get(1)?,
                    index: r.get::<_, i64>(2)? as u64,
                    offset: r.get::<_, i64>(3)? as usize,
                },
                id: r.get(4)?,
                ty: r.get(5)?,
                version: r.get(6)?,
                spec_version: r.get(7)?,
                object: Value::Null,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    })?;
    let next = (items.len() > q.limit).then(|| items[q.limit].place.cursor());
    items.truncate(q.limit);
    if answer == Answer::Objects {
        open(c, a, &mut items)?;
    }
    Ok(Page { items, next })
}

/// Fills in the objects of `items`, opening each carrying entry once.
fn open(c: &Console, a: &Account, items: &mut Vec<Item>) -> Result<(), TaxiiError> {
    let acts_for = |o: &Office| a.acts_for(o);
    let mut opened: HashMap<(String, u64), Option<Vec<Value>>> = HashMap::new();
    for i in items.iter_mut() {
        let key = (i.place.party.clone(), i.place.index);
        if !opened.contains_key(&key) {
            let party = Party::new(&key.0).map_err(TaxiiError::internal)?;
            let e = c.records.entry(&party, key.1)?;
            let objects = c
                .records
                .open_for(&e, &acts_for)
                .content()
                .and_then(|ct| ct.stix.as_ref())
                .and_then(|b| b.get("objects"))
                .and_then(Value::as_array)
                .cloned();
            opened.insert(key.clone(), objects);
        }
        if let Some(Some(objects)) = opened.get(&key)
            && let Some(o) = objects.get(i.place.offset)
        {
            i.object = o.clone();
        }
    }
    // Not opened for this account (it never should be, seeing the channel).
    items.retain(|i| !i.object.is_null());
    Ok(())
}
