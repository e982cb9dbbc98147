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

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::errors::TaxiiError;

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

pub(crate) fn micros_of(t: Timestamp) -> i64 {
    t.as_microsecond()
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

/// A list endpoint's parameters, checked.
#[derive(Debug)]
pub(crate) struct Params {
    pub limit: usize,
    /// `added_after`, in microseconds since the epoch.
    pub after: Option<i64>,
    /// `next`: the place of the page's first object.
    pub start: Option<Place>,
    pub ids: Option<Vec<String>>,
    pub types: Option<Vec<String>>,
    pub specs: Option<Vec<String>>,
    /// `match[version]`: `last` when not given.
    pub version: Vec<String>,
}

impl Query {
    /// The parameters, or a 400 naming the one that is wrong.
    pub fn params(&self) -> Result<Params, TaxiiError> {
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
        Ok(Params {
            limit,
            after,
            start,
            ids: list(&self.id),
            types: list(&self.ty),
            specs: list(&self.spec_version),
            version: list(&self.version).unwrap_or_else(|| vec!["last".into()]),
        })
    }

    /// Applies the filters, then the cursor and the limit, to `items` in
    /// memory: the reference the index's queries answer alike (the
    /// tests compare them). `versions`: every version whatever
    /// `match[version]` says (the versions endpoint).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn page(&self, items: Vec<Item>, versions: bool) -> Result<Page, TaxiiError> {
        let Params {
            limit,
            after,
            start,
            ids,
            types,
            specs,
            version,
        } = self.params()?;
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

#[cfg_attr(not(test), allow(dead_code))]
fn version_lt(a: &str, b: &str) -> bool {
    match (
        hotline_proto::stix::parse_timestamp(a),
        hotline_proto::stix::parse_timestamp(b),
    ) {
        (Some(x), Some(y)) => x < y,
        _ => a < b,
    }
}

#[cfg_attr(not(test), allow(dead_code))]
fn same_time(a: &str, b: &str) -> bool {
    match (
        hotline_proto::stix::parse_timestamp(a),
        hotline_proto::stix::parse_timestamp(b),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
