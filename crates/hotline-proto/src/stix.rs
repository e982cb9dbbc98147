//! STIX 2.1 bundles: structural validation of the cyber threat data that
//! inquiries and answers carry.
//!
//! This checks what a receiving analyst's tools rely on before anything is
//! sealed and sent (OASIS STIX 2.1, sections 2–7): the bundle's shape; every
//! object's `type` (a STIX 2.1 SDO, SRO, SCO or meta type, or a custom `x-`
//! type), its identifier (`<type>--<UUID>`, RFC 4122 / RFC 9562 form),
//! `spec_version`, `created` ≤ `modified` in STIX's UTC timestamp form; the
//! properties each common type requires, with their types; the ranges the
//! spec sets (confidence, counts, time windows); and that every reference
//! (`*_ref`, `*_refs`, at any depth) is a well-formed identifier of a type
//! allowed there. References need not resolve inside the bundle (TLP marking
//! definitions, for example, are well known).
//!
//! It does not parse STIX patterns beyond their brackets, nor check
//! vocabularies, nor recompute SCOs' UUIDv5 ids.
//!
//! Errors name the object by its index in `objects` (from 0, as in
//! `objects[3]`) and its id, and the property that is wrong:
//! `object 3 (indicator--…): missing required property pattern`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use jiff::Timestamp;
use serde_json::Value;

use crate::json::{Borrowed, Json, Object as _, View};

/// The largest bundle accepted, in bytes (8 MiB).
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// The most objects a bundle may hold.
pub const MAX_OBJECTS: usize = 10_000;

/// What a valid bundle holds, for display.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StixSummary {
    /// The bundle's id (`bundle--<UUID>`).
    pub id: String,
    /// How many objects it holds.
    pub objects: usize,
    /// How many of each type, by type name.
    pub by_type: BTreeMap<String, usize>,
}

impl fmt::Display for StixSummary {
    /// `18 STIX objects: 1 attack-pattern, 2 indicator, …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.objects == 1 { "" } else { "s" };
        write!(f, "{} STIX object{s}", self.objects)?;
        for (i, (t, n)) in self.by_type.iter().enumerate() {
            write!(f, "{}{n} {t}", if i == 0 { ": " } else { ", " })?;
        }
        Ok(())
    }
}

/// Why a bundle was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StixError {
    /// Over [`MAX_BYTES`] (for a parsed bundle: its compact JSON, counted
    /// until just past the limit).
    #[error("{size} bytes is over the limit of 8 MiB ({MAX_BYTES} bytes)")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// Over [`MAX_OBJECTS`].
    #[error("{count} objects is over the limit of {MAX_OBJECTS}")]
    TooManyObjects {
        /// How many it holds.
        count: usize,
    },
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// The bundle itself (its `type`, `id` or `objects`) is wrong.
    #[error("top level: {message}")]
    Bundle {
        /// The property at fault.
        property: String,
        /// What is wrong and, where it helps, what to write.
        message: String,
    },
    /// One object is wrong.
    #[error("object {index} ({id}): {message}")]
    Object {
        /// Its index in `objects`, from 0.
        index: usize,
        /// Its id as written (shortened if long), or `no id`.
        id: String,
        /// The property at fault (a dotted path when nested), if one is.
        property: Option<String>,
        /// What is wrong.
        message: String,
    },
}

impl StixError {
    /// The property at fault, if the error names one.
    pub fn property(&self) -> Option<&str> {
        match self {
            StixError::Bundle { property, .. } => Some(property),
            StixError::Object { property, .. } => property.as_deref(),
            _ => None,
        }
    }
}

/// The four kinds of STIX 2.1 object, plus custom (`x-`) types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// STIX Domain Object (`indicator`, `malware`, …).
    Sdo,
    /// STIX Relationship Object (`relationship`, `sighting`).
    Sro,
    /// STIX Cyber-observable Object (`ipv4-addr`, `file`, …).
    Sco,
    /// Meta object (`marking-definition`, `language-content`, `extension-definition`).
    Meta,
    /// A custom type (`x-…`): checked for its common properties only.
    Custom,
}

const SDOS: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];
const SROS: &[&str] = &["relationship", "sighting"];
const SCOS: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];
const METAS: &[&str] = &[
    "language-content",
    "marking-definition",
    "extension-definition",
];

/// The category of a type name, or `None` if it is neither a STIX 2.1 type
/// nor a well-formed custom `x-` type.
pub fn category(ty: &str) -> Option<Category> {
    if SDOS.contains(&ty) {
        Some(Category::Sdo)
    } else if SROS.contains(&ty) {
        Some(Category::Sro)
    } else if SCOS.contains(&ty) {
        Some(Category::Sco)
    } else if METAS.contains(&ty) {
        Some(Category::Meta)
    } else if ty.starts_with("x-") && valid_type_name(ty) {
        Some(Category::Custom)
    } else {
        None
    }
}

/// STIX 2.1 §2.9 / §11.2: 3–250 characters of `a-z`, `0-9` and `-`.
fn valid_type_name(ty: &str) -> bool {
    (3..=250).contains(&ty.len())
        && ty
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// Whether `s` is an RFC 4122 / RFC 9562 UUID in its 8-4-4-4-12 hex form
/// (variant `10xx`, version 1–8).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
        && (b'1'..=b'8').contains(&b[14])
        && matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')
}

/// Whether `s` is a STIX identifier, `<type>--<UUID>`, with a well-formed type.
pub fn is_identifier(s: &str) -> bool {
    s.split_once("--")
        .is_some_and(|(t, u)| valid_type_name(t) && is_uuid(u))
}

/// Parses a STIX timestamp: RFC 3339 in UTC with `Z`,
/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[b.len() - 1] == b'Z'
        && (b.len() == 20 || (b[19] == b'.' && b.len() > 21 && digits(20..b.len() - 1)));
    if !shape {
        return None;
    }
    s.parse().ok()
}

/// Validates a bundle given as JSON bytes (at most [`MAX_BYTES`]).
pub fn validate_bytes(bytes: &[u8]) -> Result<StixSummary, StixError> {
    if bytes.len() > MAX_BYTES {
        return Err(StixError::TooLarge { size: bytes.len() });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| StixError::NotJson(e.to_string()))?;
    let v: Borrowed<'_> =
        serde_json::from_str(text).map_err(|e| StixError::NotJson(e.to_string()))?;
    check(&v)
}

/// Validates a bundle already parsed as JSON. Its size is that of its
/// compact JSON form, at most [`MAX_BYTES`].
pub fn validate<J: Json>(bundle: &J) -> Result<StixSummary, StixError> {
    let size = compact_size(bundle);
    if size > MAX_BYTES {
        return Err(StixError::TooLarge { size });
    }
    check(bundle)
}

/// The length of `v`'s compact JSON, counted up to just past [`MAX_BYTES`].
fn compact_size<J: Json>(v: &J) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            if self.0 > MAX_BYTES {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

fn check<J: Json>(bundle: &J) -> Result<StixSummary, StixError> {
    let bad = |property: &str, message: String| {
        Err(StixError::Bundle {
            property: property.into(),
            message,
        })
    };
    let Some(b) = bundle.as_object() else {
        return bad(
            "type",
            format!(
                "a STIX bundle is a JSON object {{\"type\": \"bundle\", \"id\": \"bundle--<UUID>\", \"objects\": […]}}, not {}",
                json_kind(bundle.view())
            ),
        );
    };
    match b.get("type").map(Json::view) {
        Some(View::String("bundle")) => {}
        Some(View::String(t)) if category(t).is_some() => {
            return bad(
                "type",
                format!(
                    "this is a single {t} object, not a bundle; wrap it: {{\"type\": \"bundle\", \"id\": \"bundle--<UUID>\", \"objects\": [ … ]}}"
                ),
            );
        }
        Some(t) => {
            return bad(
                "type",
                format!("type must be \"bundle\", not {}", excerpt(t)),
            );
        }
        None => return bad("type", "missing required property type (\"bundle\")".into()),
    }
    let id = match b.get("id").map(Json::view) {
        Some(View::String(id)) if id.starts_with("bundle--") && is_identifier(id) => id.to_owned(),
        Some(id) => {
            return bad("id", format!("id {} is not bundle--<UUID>", excerpt(id)));
        }
        None => return bad("id", "missing required property id (bundle--<UUID>)".into()),
    };
    if let Some(View::String(v)) = b.get("spec_version").map(Json::view)
        && v != "2.1"
    {
        return bad(
            "spec_version",
            format!("spec_version {v:?} is a STIX 2.0 bundle; this checks STIX 2.1"),
        );
    }
    let objects = match b.get("objects").map(Json::view) {
        Some(View::Array(a)) => a,
        Some(o) => {
            return bad(
                "objects",
                format!("objects must be an array, not {}", json_kind(o)),
            );
        }
        None => return bad("objects", "missing required property objects".into()),
    };
    let by_type = validate_objects(objects)?;
    Ok(StixSummary {
        id,
        objects: objects.len(),
        by_type,
    })
}

/// Validates a list of objects (a bundle's `objects`, or a TAXII envelope's),
/// including that no id and version appears twice; returns counts by type.
pub fn validate_objects<J: Json>(objects: &[J]) -> Result<BTreeMap<String, usize>, StixError> {
    if objects.len() > MAX_OBJECTS {
        return Err(StixError::TooManyObjects {
            count: objects.len(),
        });
    }
    let mut by_type = BTreeMap::new();
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (index, v) in objects.iter().enumerate() {
        let ty = validate_object(index, v)?;
        *by_type.entry(ty.to_owned()).or_insert(0) += 1;
        // validate_object checked both are strings where present.
        let id = v.get("id").and_then(Json::as_str).unwrap_or_default();
        let version = v.get("modified").and_then(Json::as_str).unwrap_or("");
        if let Some(first) = seen.insert((id, version), index) {
            return Err(Obj::new(index, v).fail(
                Some("id"),
                format!(
                    "the same id{} as object {first}; a bundle holds each version of an object once",
                    if version.is_empty() { "" } else { " and modified" }
                ),
            ));
        }
    }
    Ok(by_type)
}

/// Validates one object at `index` of a list; returns its type.
pub fn validate_object<J: Json>(index: usize, v: &J) -> Result<&str, StixError> {
    let o = Obj::new(index, v);
    let Some(m) = v.as_object() else {
        return Err(o.fail(
            None,
            format!("not a JSON object but {}", json_kind(v.view())),
        ));
    };
    let ty = o.req_str("type")?;
    if !valid_type_name(ty) {
        return Err(o.fail(
            Some("type"),
            format!(
                "property type: {ty:?} is not a STIX type name (3-250 characters of a-z, 0-9 and -)"
            ),
        ));
    }
    let Some(cat) = category(ty) else {
        return Err(o.fail(
            Some("type"),
            format!("property type: unknown STIX 2.1 type {ty:?}; custom types start with x-"),
        ));
    };
    let id = o.req_str("id")?;
    if !(id
        .strip_prefix(ty)
        .and_then(|r| r.strip_prefix("--"))
        .is_some_and(is_uuid))
    {
        return Err(o.fail(
            Some("id"),
            format!("property id: {} is not {ty}--<UUID>", excerpt_str(id)),
        ));
    }

    // Common properties (§3, §6.1).
    let needs_dates = matches!(cat, Category::Sdo | Category::Sro)
        || matches!(ty, "language-content" | "extension-definition");
    match cat {
        Category::Sdo | Category::Sro | Category::Meta => {
            let sv = o.req_str("spec_version")?;
            o.spec_version(sv)?;
        }
        Category::Sco | Category::Custom => {
            if let Some(sv) = o.opt_str("spec_version")? {
                o.spec_version(sv)?;
            }
        }
    }
    let created = if needs_dates || ty == "marking-definition" {
        Some(o.req_ts("created")?)
    } else {
        o.opt_ts("created")?
    };
    let modified = if needs_dates {
        Some(o.req_ts("modified")?)
    } else if ty == "marking-definition" {
        None
    } else {
        o.opt_ts("modified")?
    };
    // Directory SCOs carry their own created/modified/accessed: file times,
    // not object versions.
    if ty != "directory" {
        o.order("created", created, "modified", modified)?;
    }
    if cat != Category::Sco {
        o.opt_ref_to("created_by_ref", &["identity"])?;
        if let Some(r) = m.get("revoked") {
            o.boolean("revoked", r)?;
        }
        if let Some(c) = m.get("confidence") {
            o.integer("confidence", c, 0, 100)?;
        }
        if let Some(l) = m.get("labels") {
            o.strings("labels", l)?;
        }
        if let Some(l) = m.get("lang") {
            o.string("lang", l)?;
        }
        o.external_references()?;
    }
    if matches!(cat, Category::Sdo | Category::Sro) {
        o.order(
            "first_seen",
            o.opt_ts("first_seen")?,
            "last_seen",
            o.opt_ts("last_seen")?,
        )?;
    }
    o.markings()?;
    if let Some(h) = m.get("hashes") {
        o.hashes("hashes", h)?;
    }

    match ty {
        // SDOs.
        "attack-pattern" | "campaign" | "course-of-action" | "identity" | "incident"
        | "infrastructure" | "intrusion-set" | "threat-actor" | "tool" | "vulnerability" => {
            o.req_text("name")?;
        }
        "indicator" => {
            let pattern = o.req_text("pattern")?;
            let pattern_type = o.req_text("pattern_type")?;
            let from = o.req_ts("valid_from")?;
            let until = o.opt_ts("valid_until")?;
            if until.is_some_and(|u| u <= from) {
                return Err(o.fail(
                    Some("valid_until"),
                    "property valid_until must be later than valid_from".into(),
                ));
            }
            if pattern_type == "stix"
                && let Err(why) = stix_pattern_shape(pattern)
            {
                return Err(o.fail(
                    Some("pattern"),
                    format!(
                        "property pattern: not a STIX pattern ({why}); write comparisons in brackets, e.g. [ipv4-addr:value = '203.0.113.5']"
                    ),
                ));
            }
        }
        "malware" => {
            let is_family = match m.get("is_family") {
                Some(v) => o.boolean("is_family", v)?,
                None => return Err(o.missing("is_family")),
            };
            if is_family && !m.contains_key("name") {
                return Err(o.fail(
                    Some("name"),
                    "missing required property name (required when is_family is true)".into(),
                ));
            }
            if m.contains_key("name") {
                o.req_text("name")?;
            }
        }
        "report" => {
            o.req_text("name")?;
            o.req_ts("published")?;
            o.req_refs("object_refs")?;
        }
        "note" => {
            o.req_text("content")?;
            o.req_refs("object_refs")?;
        }
        "grouping" => {
            o.req_text("context")?;
            o.req_refs("object_refs")?;
        }
        "opinion" => {
            let op = o.req_text("opinion")?;
            const OPINIONS: [&str; 5] = [
                "strongly-disagree",
                "disagree",
                "neutral",
                "agree",
                "strongly-agree",
            ];
            if !OPINIONS.contains(&op) {
                return Err(o.fail(
                    Some("opinion"),
                    format!(
                        "property opinion: {op:?} is not one of {}",
                        OPINIONS.join(", ")
                    ),
                ));
            }
            o.req_refs("object_refs")?;
        }
        "location" => {
            let has = |k| m.contains_key(k);
            if !(has("region") || has("country") || (has("latitude") && has("longitude"))) {
                return Err(o.fail(
                    None,
                    "a location needs at least one of region, country, or latitude and longitude"
                        .into(),
                ));
            }
        }
        "malware-analysis" => {
            o.req_text("product")?;
            if !(m.contains_key("result") || m.contains_key("analysis_sco_refs")) {
                return Err(o.fail(
                    None,
                    "a malware-analysis needs result or analysis_sco_refs".into(),
                ));
            }
        }
        "observed-data" => {
            let first = o.req_ts("first_observed")?;
            let last = o.req_ts("last_observed")?;
            o.order("first_observed", Some(first), "last_observed", Some(last))?;
            match m.get("number_observed") {
                Some(n) => o.integer("number_observed", n, 1, 999_999_999)?,
                None => return Err(o.missing("number_observed")),
            };
            match (m.contains_key("object_refs"), m.contains_key("objects")) {
                (true, false) => {
                    o.req_refs("object_refs")?;
                }
                (false, true) => {}
                (true, true) => {
                    return Err(o.fail(
                        Some("objects"),
                        "observed-data has both object_refs and the deprecated objects; keep object_refs".into(),
                    ));
                }
                (false, false) => return Err(o.missing("object_refs")),
            }
        }
        // SROs.
        "relationship" => {
            let rt = o.req_text("relationship_type")?;
            if !valid_type_name(rt) {
                return Err(o.fail(
                    Some("relationship_type"),
                    format!("property relationship_type: {rt:?} must be 3-250 characters of a-z, 0-9 and - (e.g. indicates)"),
                ));
            }
            for k in ["source_ref", "target_ref"] {
                let r = o.req_ref(k)?;
                let t = id_type(r);
                if matches!(category(t), Some(Category::Sro | Category::Meta)) {
                    return Err(o.fail(
                        Some(k),
                        format!(
                            "property {k}: must point to an SDO or SCO, not {}",
                            article(t)
                        ),
                    ));
                }
            }
            o.order(
                "start_time",
                o.opt_ts("start_time")?,
                "stop_time",
                o.opt_ts("stop_time")?,
            )?;
        }
        "sighting" => {
            let r = o.req_ref("sighting_of_ref")?;
            let t = id_type(r);
            if !matches!(category(t), Some(Category::Sdo | Category::Custom)) {
                return Err(o.fail(
                    Some("sighting_of_ref"),
                    format!(
                        "property sighting_of_ref: must point to an SDO (e.g. an indicator), not {}",
                        article(t)
                    ),
                ));
            }
            o.opt_refs_to("observed_data_refs", &["observed-data"])?;
            o.opt_refs_to("where_sighted_refs", &["identity", "location"])?;
            if let Some(c) = m.get("count") {
                o.integer("count", c, 0, 999_999_999)?;
            }
        }
        // SCOs.
        "ipv4-addr" => {
            let v = o.req_text("value")?;
            if !ip_or_cidr::<std::net::Ipv4Addr>(v, 32) {
                return Err(o.fail(
                    Some("value"),
                    format!("property value: {v:?} is not an IPv4 address or CIDR block (e.g. 203.0.113.5 or 203.0.113.0/24)"),
                ));
            }
        }
        "ipv6-addr" => {
            let v = o.req_text("value")?;
            if !ip_or_cidr::<std::net::Ipv6Addr>(v, 128) {
                return Err(o.fail(
                    Some("value"),
                    format!("property value: {v:?} is not an IPv6 address or CIDR block (e.g. 2001:db8::1 or 2001:db8::/32)"),
                ));
            }
        }
        "domain-name" => {
            let v = o.req_text("value")?;
            if v.chars().any(|c| c.is_whitespace() || c == '/') {
                return Err(o.fail(
                    Some("value"),
                    format!("property value: {v:?} is not a domain name (e.g. example.com)"),
                ));
            }
        }
        "url" => {
            let v = o.req_text("value")?;
            if !v.split_once(':').is_some_and(|(scheme, _)| {
                !scheme.is_empty()
                    && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            }) || v.chars().any(char::is_whitespace)
            {
                return Err(o.fail(
                    Some("value"),
                    format!("property value: {v:?} is not a URL (e.g. https://example.com/path)"),
                ));
            }
        }
        "email-addr" => {
            let v = o.req_text("value")?;
            if !v
                .rsplit_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
            {
                return Err(o.fail(
                    Some("value"),
                    format!(
                        "property value: {v:?} is not an email address (e.g. analyst@example.com)"
                    ),
                ));
            }
        }
        "file" => {
            if !(m.contains_key("hashes") || m.contains_key("name")) {
                return Err(o.fail(None, "a file needs at least one of hashes or name".into()));
            }
            if m.contains_key("name") {
                o.req_text("name")?;
            }
        }
        "mac-addr" => {
            o.req_text("value")?;
        }
        "mutex" | "software" => {
            o.req_text("name")?;
        }
        "directory" => {
            o.req_text("path")?;
        }
        "autonomous-system" => match m.get("number") {
            Some(n) => {
                o.integer("number", n, 0, u32::MAX.into())?;
            }
            None => return Err(o.missing("number")),
        },
        "network-traffic" => match m.get("protocols") {
            Some(p) => o.strings("protocols", p)?,
            None => return Err(o.missing("protocols")),
        },
        "email-message" => match m.get("is_multipart") {
            Some(b) => {
                o.boolean("is_multipart", b)?;
            }
            None => return Err(o.missing("is_multipart")),
        },
        // Meta objects.
        "language-content" => {
            o.req_ref("object_ref")?;
            match m.get("contents").map(Json::view) {
                Some(View::Object(_)) => {}
                Some(_) => {
                    return Err(o.fail(
                        Some("contents"),
                        "property contents: must be an object of language → translated properties"
                            .into(),
                    ));
                }
                None => return Err(o.missing("contents")),
            }
        }
        "extension-definition" => {
            o.req_ref("created_by_ref")?;
            o.req_text("name")?;
            o.req_text("schema")?;
            o.req_text("version")?;
            match m.get("extension_types") {
                Some(t) => o.strings("extension_types", t)?,
                None => return Err(o.missing("extension_types")),
            }
        }
        _ => {}
    }
    // Then every reference at any depth is a well-formed identifier. Observed
    // data's deprecated `objects` map uses local keys ("0", "1") instead.
    for (k, v) in m.members() {
        if !(ty == "observed-data" && k == "objects") {
            o.refs_within(k, v)?;
        }
    }
    Ok(ty)
}

/// One object under check, for messages.
struct Obj<'a, J: Json + 'a> {
    index: usize,
    id: String,
    m: Option<&'a J::Object>,
}

impl<'a, J: Json + 'a> Obj<'a, J> {
    fn new(index: usize, v: &'a J) -> Self {
        let id = match v.get("id").and_then(Json::as_str) {
            Some(s) => shorten(s, 80),
            None => "no id".into(),
        };
        Obj {
            index,
            id,
            m: v.as_object(),
        }
    }

    /// The member `k`, when the object is one and has it.
    fn get(&self, k: &str) -> Option<&'a J> {
        self.m.and_then(|m| m.get(k))
    }

    fn fail(&self, property: Option<&str>, message: String) -> StixError {
        StixError::Object {
            index: self.index,
            id: self.id.clone(),
            property: property.map(str::to_owned),
            message,
        }
    }

    fn missing(&self, k: &str) -> StixError {
        self.fail(Some(k), format!("missing required property {k}"))
    }

    fn wrong(&self, k: &str, what: &str, v: &J) -> StixError {
        self.fail(
            Some(k),
            format!("property {k}: {} is not {what}", excerpt(v.view())),
        )
    }

    fn string<'v>(&self, k: &str, v: &'v J) -> Result<&'v str, StixError> {
        v.as_str().ok_or_else(|| self.wrong(k, "a string", v))
    }

    fn boolean(&self, k: &str, v: &J) -> Result<bool, StixError> {
        v.as_bool().ok_or_else(|| self.wrong(k, "true or false", v))
    }

    fn integer(&self, k: &str, v: &J, min: u64, max: u64) -> Result<u64, StixError> {
        v.as_u64()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| self.wrong(k, &format!("an integer from {min} to {max}"), v))
    }

    fn strings(&self, k: &str, v: &J) -> Result<(), StixError> {
        match v.view() {
            View::Array([]) => Err(self.empty_list(k)),
            View::Array(a) if a.iter().all(|x| x.as_str().is_some()) => Ok(()),
            _ => Err(self.wrong(k, "a list of strings", v)),
        }
    }

    fn empty_list(&self, k: &str) -> StixError {
        self.fail(
            Some(k),
            format!("property {k} is an empty list; STIX lists hold at least one value (or leave the property out)"),
        )
    }

    fn req_str(&self, k: &str) -> Result<&'a str, StixError> {
        match self.get(k) {
            Some(v) => self.string(k, v),
            None => Err(self.missing(k)),
        }
    }

    fn opt_str(&self, k: &str) -> Result<Option<&'a str>, StixError> {
        self.get(k).map(|v| self.string(k, v)).transpose()
    }

    /// A required string with something in it.
    fn req_text(&self, k: &str) -> Result<&'a str, StixError> {
        let s = self.req_str(k)?;
        if s.trim().is_empty() {
            return Err(self.fail(Some(k), format!("property {k} is empty")));
        }
        Ok(s)
    }

    fn spec_version(&self, sv: &str) -> Result<(), StixError> {
        if sv == "2.1" {
            Ok(())
        } else {
            Err(self.fail(
                Some("spec_version"),
                format!("property spec_version is {sv:?}; this checks STIX 2.1, write \"2.1\""),
            ))
        }
    }

    fn ts(&self, k: &str, v: &J) -> Result<Timestamp, StixError> {
        v.as_str().and_then(parse_timestamp).ok_or_else(|| {
            self.wrong(
                k,
                "a STIX timestamp (UTC, e.g. \"2021-07-03T14:20:00.000Z\")",
                v,
            )
        })
    }

    fn req_ts(&self, k: &str) -> Result<Timestamp, StixError> {
        match self.get(k) {
            Some(v) => self.ts(k, v),
            None => Err(self.missing(k)),
        }
    }

    fn opt_ts(&self, k: &str) -> Result<Option<Timestamp>, StixError> {
        self.get(k).map(|v| self.ts(k, v)).transpose()
    }

    /// `later` (if present) is not before `earlier` (if present).
    fn order(
        &self,
        ek: &str,
        earlier: Option<Timestamp>,
        lk: &str,
        later: Option<Timestamp>,
    ) -> Result<(), StixError> {
        match (earlier, later) {
            (Some(e), Some(l)) if l < e => Err(self.fail(
                Some(lk),
                format!("property {lk} ({l}) is earlier than {ek} ({e})"),
            )),
            _ => Ok(()),
        }
    }

    fn identifier<'v>(&self, k: &str, v: &'v J) -> Result<&'v str, StixError> {
        match v.as_str() {
            Some(s) if is_identifier(s) => Ok(s),
            _ => Err(self.wrong(k, "a STIX identifier (<type>--<UUID>)", v)),
        }
    }

    fn req_ref(&self, k: &str) -> Result<&'a str, StixError> {
        match self.get(k) {
            Some(v) => self.identifier(k, v),
            None => Err(self.missing(k)),
        }
    }

    fn req_refs(&self, k: &str) -> Result<(), StixError> {
        let Some(v) = self.get(k) else {
            return Err(self.missing(k));
        };
        match v.view() {
            View::Array([]) => Err(self.fail(
                Some(k),
                format!("property {k} is an empty list; list the ids of the objects it refers to"),
            )),
            View::Array(a) => a.iter().try_for_each(|v| self.identifier(k, v).map(drop)),
            _ => Err(self.wrong(k, "a list of STIX identifiers", v)),
        }
    }

    fn check_target(&self, k: &str, id: &str, types: &[&str]) -> Result<(), StixError> {
        if types.contains(&id_type(id)) {
            Ok(())
        } else {
            Err(self.fail(
                Some(k),
                format!(
                    "property {k}: {} is not the id of {}",
                    excerpt_str(id),
                    one_of(types)
                ),
            ))
        }
    }

    fn opt_ref_to(&self, k: &str, types: &[&str]) -> Result<(), StixError> {
        match self.get(k) {
            Some(v) => self.check_target(k, self.identifier(k, v)?, types),
            None => Ok(()),
        }
    }

    fn opt_refs_to(&self, k: &str, types: &[&str]) -> Result<(), StixError> {
        match self.get(k).and_then(Json::as_array) {
            Some(a) => a
                .iter()
                .try_for_each(|v| self.check_target(k, self.identifier(k, v)?, types)),
            _ => Ok(()),
        }
    }

    /// Checks every `*_ref` / `*_refs` under `path` (any depth).
    fn refs_within(&self, path: &str, v: &J) -> Result<(), StixError> {
        if path.ends_with("_ref") {
            self.identifier(path, v)?;
        } else if path.ends_with("_refs") {
            match v.view() {
                View::Array([]) => return Err(self.empty_list(path)),
                View::Array(a) => {
                    for x in a {
                        self.identifier(path, x)?;
                    }
                }
                _ => return Err(self.wrong(path, "a list of STIX identifiers", v)),
            }
        } else {
            match v.view() {
                View::Object(m) => {
                    for (k, x) in m.members() {
                        self.refs_within(&format!("{path}.{k}"), x)?;
                    }
                }
                View::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        self.refs_within(&format!("{path}[{i}]"), x)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn markings(&self) -> Result<(), StixError> {
        self.opt_refs_to("object_marking_refs", &["marking-definition"])?;
        let Some(g) = self.get("granular_markings") else {
            return Ok(());
        };
        let Some(list) = g.as_array() else {
            return Err(self.wrong("granular_markings", "a list of granular markings", g));
        };
        if list.is_empty() {
            return Err(self.empty_list("granular_markings"));
        }
        for (i, gm) in list.iter().enumerate() {
            let k = format!("granular_markings[{i}]");
            let Some(gm) = gm.as_object() else {
                return Err(self.wrong(&k, "an object", gm));
            };
            match gm.get("selectors") {
                Some(s) => self.strings(&format!("{k}.selectors"), s)?,
                None => return Err(self.missing(&format!("{k}.selectors"))),
            }
            match (gm.get("marking_ref"), gm.get("lang")) {
                (Some(r), None) => {
                    let kr = format!("{k}.marking_ref");
                    self.check_target(&kr, self.identifier(&kr, r)?, &["marking-definition"])?;
                }
                (None, Some(l)) => {
                    self.string(&format!("{k}.lang"), l)?;
                }
                _ => {
                    return Err(self.fail(
                        Some(&k),
                        format!("{k} needs exactly one of marking_ref or lang"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn external_references(&self) -> Result<(), StixError> {
        let Some(er) = self.get("external_references") else {
            return Ok(());
        };
        let Some(list) = er.as_array() else {
            return Err(self.wrong("external_references", "a list of external references", er));
        };
        if list.is_empty() {
            return Err(self.empty_list("external_references"));
        }
        for (i, r) in list.iter().enumerate() {
            let k = format!("external_references[{i}]");
            let Some(r) = r.as_object() else {
                return Err(self.wrong(&k, "an object", r));
            };
            match r.get("source_name") {
                Some(s) => {
                    self.string(&format!("{k}.source_name"), s)?;
                }
                None => return Err(self.missing(&format!("{k}.source_name"))),
            }
            if !["description", "url", "external_id"]
                .iter()
                .any(|p| r.contains_key(p))
            {
                return Err(self.fail(
                    Some(&k),
                    format!("{k} needs at least one of description, url or external_id"),
                ));
            }
            if let Some(h) = r.get("hashes") {
                self.hashes(&format!("{k}.hashes"), h)?;
            }
        }
        Ok(())
    }

    /// A `hashes` dictionary: algorithm → hex digest, lengths checked for
    /// the algorithms of the STIX hash-algorithm vocabulary.
    fn hashes(&self, k: &str, v: &J) -> Result<(), StixError> {
        let Some(h) = v.as_object() else {
            return Err(self.wrong(k, "an object of algorithm → digest", v));
        };
        if h.is_empty() {
            return Err(self.fail(
                Some(k),
                format!("property {k} is empty; give at least one algorithm → digest"),
            ));
        }
        for (alg, d) in h.members() {
            let ka = format!("{k}.{alg}");
            let d = self.string(&ka, d)?;
            let hex_len = match alg {
                "MD5" => Some(32),
                "SHA-1" => Some(40),
                "SHA-256" | "SHA3-256" => Some(64),
                "SHA-512" | "SHA3-512" => Some(128),
                _ => None,
            };
            if let Some(n) = hex_len {
                if d.len() != n || !d.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(self.fail(
                        Some(&ka),
                        format!("property {ka}: not {n} hexadecimal digits"),
                    ));
                }
            } else if d.is_empty() {
                return Err(self.fail(Some(&ka), format!("property {ka} is empty")));
            }
        }
        Ok(())
    }
}

/// The type part of an identifier already checked well-formed.
fn id_type(id: &str) -> &str {
    id.split_once("--").map_or(id, |(t, _)| t)
}

/// `a malware`, `an identity or location`.
fn one_of(types: &[&str]) -> String {
    article(&types.join(" or "))
}

fn article(t: &str) -> String {
    if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {t}")
    } else {
        format!("a {t}")
    }
}

fn ip_or_cidr<A: std::str::FromStr>(v: &str, max_prefix: u8) -> bool {
    match v.split_once('/') {
        Some((a, p)) => {
            a.parse::<A>().is_ok()
                && !p.starts_with('+')
                && p.parse::<u8>().is_ok_and(|p| p <= max_prefix)
        }
        None => v.parse::<A>().is_ok(),
    }
}

/// A light check of a STIX pattern: starts with `[` or `(`, and its brackets
/// and parentheses nest and balance outside quoted strings.
fn stix_pattern_shape(p: &str) -> Result<(), &'static str> {
    let t = p.trim_start();
    if !(t.starts_with('[') || t.starts_with('(')) {
        return Err("it must start with [ or (");
    }
    let mut stack = Vec::new();
    let mut brackets = 0;
    let mut chars = t.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\\') => {
                        chars.next();
                    }
                    Some('\'') => break,
                    Some(_) => {}
                    None => return Err("a quoted string is not closed"),
                }
            },
            '[' | '(' => {
                if c == '[' {
                    brackets += 1;
                }
                stack.push(c);
            }
            ']' | ')' => {
                let open = if c == ']' { '[' } else { '(' };
                if stack.pop() != Some(open) {
                    return Err("brackets do not balance");
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("brackets do not balance");
    }
    if brackets == 0 {
        return Err("no comparison in [ ]");
    }
    Ok(())
}

fn json_kind<J: Json>(v: View<'_, J>) -> &'static str {
    match v {
        View::Null => "null",
        View::Bool(_) => "a boolean",
        View::Number(_) => "a number",
        View::String(_) => "a string",
        View::Array(_) => "an array",
        View::Object(_) => "an object",
    }
}

/// A value as JSON, shortened for messages.
fn excerpt<J: Json>(v: View<'_, J>) -> String {
    match v {
        View::Null => "null".into(),
        View::Bool(b) => b.to_string(),
        View::Number(n) => shorten(&n.to_string(), 80),
        View::String(s) => excerpt_str(s),
        View::Array(_) | View::Object(_) => json_kind(v).into(),
    }
}

/// A string as JSON, shortened for messages.
fn excerpt_str(s: &str) -> String {
    shorten(&Value::from(s).to_string(), 80)
}

fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_identifiers_and_timestamps() {
        assert!(is_uuid("f88d31f6-486f-44da-b317-01333bde0b82"));
        assert!(is_uuid("cec0294c-86c8-52cc-8448-ba43593736df"), "v5");
        assert!(is_uuid("F88D31F6-486F-44DA-B317-01333BDE0B82"));
        assert!(!is_uuid("00000000-0000-0000-0000-000000000000"), "nil");
        assert!(!is_uuid("f88d31f6-486f-44da-c317-01333bde0b82"), "variant");
        assert!(!is_uuid("f88d31f6486f44dab31701333bde0b82"));
        assert!(!is_uuid("f88d31f6-486f-44da-b317-01333bde0b8g"));
        assert!(is_identifier(
            "x-acme-thing--f88d31f6-486f-44da-b317-01333bde0b82"
        ));
        assert!(!is_identifier(
            "Indicator--f88d31f6-486f-44da-b317-01333bde0b82"
        ));
        assert!(!is_identifier(
            "indicator-f88d31f6-486f-44da-b317-01333bde0b82"
        ));
        for ok in [
            "2021-07-03T14:20:00Z",
            "2021-07-03T14:20:00.000Z",
            "2021-07-03T14:20:00.123456789Z",
        ] {
            assert!(parse_timestamp(ok).is_some(), "{ok}");
        }
        for bad in [
            "2021-07-03T14:20:00+00:00",
            "2021-07-03 14:20:00Z",
            "2021-07-03T14:20Z",
            "2021-13-03T14:20:00Z",
            "2021-07-03T14:20:00.Z",
            "2021-07-03",
            "2021-07-03T14:20:00z",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn pattern_shape() {
        assert!(stix_pattern_shape("[ipv4-addr:value = '198.51.100.1']").is_ok());
        assert!(
            stix_pattern_shape(
                "([file:name = 'a]b'] AND [file:size > 10]) FOLLOWEDBY [url:value = 'x'] WITHIN 60 SECONDS"
            )
            .is_ok()
        );
        assert!(stix_pattern_shape("[file:name = 'it\\'s']").is_ok());
        assert!(stix_pattern_shape("ipv4-addr:value = '1'").is_err());
        assert!(stix_pattern_shape("[ipv4-addr:value = '1'").is_err());
        assert!(stix_pattern_shape("([a:b = 1)]").is_err());
        assert!(stix_pattern_shape("[a:b = 'open]").is_err());
        assert!(stix_pattern_shape("()").is_err());
    }

    #[test]
    fn ip_values() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        assert!(ip_or_cidr::<Ipv4Addr>("203.0.113.5", 32));
        assert!(ip_or_cidr::<Ipv4Addr>("203.0.113.0/24", 32));
        assert!(!ip_or_cidr::<Ipv4Addr>("203.0.113.0/33", 32));
        assert!(!ip_or_cidr::<Ipv4Addr>("203.0.113", 32));
        assert!(!ip_or_cidr::<Ipv4Addr>("2001:db8::1", 32));
        assert!(ip_or_cidr::<Ipv6Addr>("2001:db8::/32", 128));
        assert!(!ip_or_cidr::<Ipv6Addr>("2001:db8::/129", 128));
    }
}
