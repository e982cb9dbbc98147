//! The objects of a channel in the order TAXII serves them, the filters
//! (`added_after`, `match[…]`) and the stateless `next` cursor.
//!
//! An object's place is the entry that carried it and its offset in that
//! entry's bundle, ordered by the entry's time (its `date_added`), then the
//! log's party and index, then the offset. `next` names the first object of
//! the next page by that place (`MICROS.INDEX.OFFSET.PARTY`): no state is
//! kept between requests, so any replica answers the same, and a cursor
//! stays right however many objects arrive after it was given.

use std::collections::HashMap;

use hotline_proto::party::Office;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Account;
use super::errors::TaxiiError;
use crate::Console;
use crate::channels::Channel;

/// The most objects one page holds, and the page when no `limit` is given.
pub(crate) const MAX_LIMIT: usize = 1000;

/// Where an object stands in the collection.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Place {
    /// The carrying entry's time, in microseconds since the epoch.
    pub micros: i64,
    pub party: String,
    pub index: u64,
    pub offset: usize,
}

impl Place {
    pub fn cursor(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.micros, self.index, self.offset, self.party
        )
    }
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.splitn(4, '.');
        let micros = it.next()?.parse().ok()?;
        let index = it.next()?.parse().ok()?;
        let offset = it.next()?.parse().ok()?;
        let party = it.next()?.to_owned();
        (!party.is_empty() && party.len() <= 64).then_some(Self {
            micros,
            party,
            index,
            offset,
        })
    }
}

/// One STIX object served.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub place: Place,
    pub id: String,
    pub ty: String,
    pub version: String,
    pub spec_version: String,
    pub object: Value,
}

impl Item {
    pub fn date_added(&self) -> String {
        stamp(self.place.micros)
    }
}

/// A STIX timestamp with microseconds, from microseconds since the epoch.
pub(crate) fn stamp(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let t = Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH);
    format!("{}.{frac:06}Z", t.strftime("%Y-%m-%dT%H:%M:%S"))
}

fn micros_of(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// Every object the channel's entries carry, both directions, in order;
/// one copy of each version (the first sent).
pub(crate) fn gather(c: &Console, a: &Account, ch: &Channel) -> Result<Vec<Item>, TaxiiError> {
    let acts_for = |o: &Office| a.acts_for(o);
    let mut out = Vec::new();
    for (from, to) in [(&ch.ours, &ch.theirs), (&ch.theirs, &ch.ours)] {
        for e in c.records.from_to_after(from, to, None, u64::MAX)? {
            let shown = c.records.open_for(&e, &acts_for);
            let Some(content) = shown.content() else {
                continue;
            };
            let Some(objects) = content
                .stix
                .as_ref()
                .and_then(|b| b.get("objects"))
                .and_then(Value::as_array)
            else {
                continue;
            };
            let micros = micros_of(e.header().time);
            for (offset, o) in objects.iter().enumerate() {
                let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
                let Some(id) = text("id") else { continue };
                let place = Place {
                    micros,
                    party: e.party().to_string(),
                    index: e.index(),
                    offset,
                };
                out.push(Item {
                    ty: text("type").unwrap_or_default(),
                    version: text("modified")
                        .or_else(|| text("created"))
                        .unwrap_or_else(|| stamp(micros)),
                    spec_version: text("spec_version").unwrap_or_else(|| "2.1".into()),
                    id,
                    object: o.clone(),
                    place,
                });
            }
        }
    }
    out.sort_by(|x, y| x.place.cmp(&y.place));
    let mut seen = std::collections::HashSet::new();
    out.retain(|i| seen.insert((i.id.clone(), i.version.clone())));
    Ok(out)
}

/// The query TAXII's list endpoints take.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Query {
    added_after: Option<String>,
    limit: Option<String>,
    next: Option<String>,
    #[serde(rename = "match[id]")]
    id: Option<String>,
    #[serde(rename = "match[type]")]
    ty: Option<String>,
    #[serde(rename = "match[version]")]
    version: Option<String>,
    #[serde(rename = "match[spec_version]")]
    spec_version: Option<String>,
}

fn list(s: &Option<String>) -> Option<Vec<String>> {
    s.as_ref().map(|s| {
        s.split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect()
    })
}

/// A page: its objects, and the cursor of the next one if there is more.
#[derive(Debug)]
pub(crate) struct Page {
    pub items: Vec<Item>,
    pub next: Option<String>,
}

impl Query {
    /// Applies the filters, then the cursor and the limit. `versions`:
    /// every version whatever `match[version]` says (the versions endpoint).
    pub fn page(&self, items: Vec<Item>, versions: bool) -> Result<Page, TaxiiError> {
        let limit = match &self.limit {
            None => MAX_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if n >= 1 => n.min(MAX_LIMIT),
                _ => {
                    return Err(TaxiiError::bad_request(format!(
                        "limit {l:?} is not a whole number of at least 1"
                    )));
                }
            },
        };
        let after = match &self.added_after {
            None => None,
            Some(s) => Some(
                hotline_proto::stix::parse_timestamp(s)
                    .map(micros_of)
                    .ok_or_else(|| {
                        TaxiiError::bad_request(format!(
                            "added_after {s:?} is not a STIX timestamp (e.g. 2026-01-31T12:00:00.000Z)"
                        ))
                    })?,
            ),
        };
        let start = match &self.next {
            None => None,
            Some(s) => Some(Place::parse(s).ok_or_else(|| {
                TaxiiError::bad_request(format!("next {s:?} is not a cursor this server gave"))
            })?),
        };
        let ids = list(&self.id);
        let types = list(&self.ty);
        let specs = list(&self.spec_version);
        let version = list(&self.version).unwrap_or_else(|| vec!["last".into()]);
        let mut bounds: HashMap<&str, (&str, &str)> = HashMap::new();
        for i in &items {
            let b = bounds
                .entry(i.id.as_str())
                .or_insert((i.version.as_str(), i.version.as_str()));
            if version_lt(&i.version, b.0) {
                b.0 = i.version.as_str();
            }
            if version_lt(b.1, &i.version) {
                b.1 = i.version.as_str();
            }
        }
        let keep_version = |i: &Item| {
            if versions || version.iter().any(|v| v == "all") {
                return true;
            }
            let (first, last) = bounds.get(i.id.as_str()).copied().unwrap_or(("", ""));
            version.iter().any(|v| match v.as_str() {
                "first" => i.version == first,
                "last" => i.version == last,
                t => same_time(t, &i.version),
            })
        };
        let mut out = Vec::new();
        let mut next = None;
        for i in items
            .iter()
            .filter(|i| ids.as_ref().is_none_or(|l| l.contains(&i.id)))
            .filter(|i| types.as_ref().is_none_or(|l| l.contains(&i.ty)))
            .filter(|i| specs.as_ref().is_none_or(|l| l.contains(&i.spec_version)))
            .filter(|i| after.is_none_or(|t| i.place.micros > t))
            .filter(|i| start.as_ref().is_none_or(|s| i.place >= *s))
            .filter(|i| keep_version(i))
        {
            if out.len() == limit {
                next = Some(i.place.cursor());
                break;
            }
            out.push(i.clone());
        }
        Ok(Page { items: out, next })
    }
}

fn version_lt(a: &str, b: &str) -> bool {
    match (
        hotline_proto::stix::parse_timestamp(a),
        hotline_proto::stix::parse_timestamp(b),
    ) {
        (Some(x), Some(y)) => x < y,
        _ => a < b,
    }
}

fn same_time(a: &str, b: &str) -> bool {
    match (
        hotline_proto::stix::parse_timestamp(a),
        hotline_proto::stix::parse_timestamp(b),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
