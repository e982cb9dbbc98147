//! Agreement terms files: the TOML that people write and `hotline agreement
//! propose --file` reads (format in `docs/agreements.md`, examples in
//! `examples/*-agreement.toml`), parsed into [`Terms`] and validated.
//!
//! ```toml
//! title = "Cybercrime cooperation channel"
//! start = "2021-06-01T00:00:00Z"
//! end = "2026-06-01T00:00:00Z"        # optional
//! notice = "30d"
//! languages = ["en", "ru"]            # optional
//! ack_within = "24h"                  # optional
//! answer_within = "30d"               # optional
//!
//! [[channel]]
//! offices = ["us/fbi", "ru/fsb"]
//! kinds = ["message", "inquiry", "ack", "answer"]
//! ```
//!
//! Durations are a whole number and a unit — `s`, `m`, `h` or `d` (`"90m"`,
//! `"24h"`, `"30d"`) — and become seconds in [`Terms`]. Times are RFC 3339
//! with a zone, quoted or as TOML date-times. Unknown fields are refused, and
//! every error names the line and the field and says what to write.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use hotline_proto::agreement::{ChannelTerms, Terms, needs_agreement};
use hotline_proto::entry::Kind;
use hotline_proto::party::Office;
use jiff::Timestamp;
use serde::Deserialize;
use toml::{Spanned, Value};

/// The longest duration accepted (100 years), to catch typos.
pub const MAX_DURATION_SECS: u64 = 36_500 * 86_400;

/// Why a terms file was refused.
#[derive(Debug, thiserror::Error)]
pub struct TermsFileError {
    /// The file, when read with [`load`].
    pub path: Option<PathBuf>,
    /// The line at fault (from 1), when one is.
    pub line: Option<usize>,
    /// The field at fault (`notice`, `channel 2: kinds`), when one is.
    pub field: Option<String>,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl fmt::Display for TermsFileError {
    /// `FILE:LINE: field: message`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{l}: ", p.display())?,
            (Some(p), None) => write!(f, "{}: ", p.display())?,
            (None, Some(l)) => write!(f, "line {l}: ")?,
            (None, None) => {}
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl From<TermsFileError> for crate::NodeError {
    fn from(e: TermsFileError) -> Self {
        crate::error::InputError::TermsFile(e).into()
    }
}

/// Reads, parses and validates a terms file; errors name the file.
pub fn load(path: &Path) -> Result<Terms, TermsFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| TermsFileError {
        path: Some(path.to_owned()),
        line: None,
        field: None,
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text).map_err(|e| TermsFileError {
        path: Some(path.to_owned()),
        ..e
    })
}

/// Parses and validates the text of a terms file.
pub fn parse(text: &str) -> Result<Terms, TermsFileError> {
    let at = |span: Option<Range<usize>>| span.map(|s| line_of(text, s.start));
    let raw: RawTerms = toml::from_str(text).map_err(|e| {
        // Type errors do not name their key: take it from the line.
        let field = e
            .span()
            .filter(|_| e.message().starts_with("invalid"))
            .and_then(|s| key_at(text, s.start));
        TermsFileError {
            path: None,
            line: at(e.span()),
            field,
            message: hint(e.message()),
        }
    })?;
    let p = Parser { text };

    let title = p.string(
        "title",
        p.required("title", &raw.title, "\"Cybercrime cooperation channel\"")?,
    )?;
    let start = p.time(
        "start",
        p.required("start", &raw.start, "\"2021-06-01T00:00:00Z\"")?,
    )?;
    let end = raw.end.as_ref().map(|v| p.time("end", v)).transpose()?;
    let notice_secs = p.duration(
        "notice",
        p.required("notice", &raw.notice, "\"30d\"")?,
        "30d",
        true,
    )?;
    let languages = match &raw.languages {
        Some(v) => p.languages(v)?,
        None => Vec::new(),
    };
    let ack_within_secs = raw
        .ack_within
        .as_ref()
        .map(|v| p.duration("ack_within", v, "24h", false))
        .transpose()?;
    let answer_within_secs = raw
        .answer_within
        .as_ref()
        .map(|v| p.duration("answer_within", v, "30d", false))
        .transpose()?;
    if let (Some(a), Some(b), Some(v)) = (ack_within_secs, answer_within_secs, &raw.ack_within)
        && a > b
    {
        return Err(p.fail(
            "ack_within",
            v.span(),
            format!(
                "{} is longer than answer_within ({}); an inquiry is acknowledged before it is answered",
                format_duration(a),
                format_duration(b)
            ),
        ));
    }
    if raw.channel.is_empty() {
        return Err(TermsFileError {
            path: None,
            line: None,
            field: Some("channel".into()),
            message: "no channel is opened; add one:\n\n[[channel]]\noffices = [\"us/fbi\", \"ru/fsb\"]\nkinds = [\"message\", \"inquiry\", \"ack\", \"answer\"]".into(),
        });
    }
    let mut channels = Vec::with_capacity(raw.channel.len());
    for (i, c) in raw.channel.iter().enumerate() {
        channels.push(p.channel(i + 1, c)?);
    }

    let terms = Terms {
        title,
        start,
        end,
        notice_secs,
        languages,
        ack_within_secs,
        answer_within_secs,
        channels,
    };
    terms.validate().map_err(|e| TermsFileError {
        path: None,
        line: None,
        field: None,
        message: e.to_string(),
    })?;
    Ok(terms)
}

/// Parses a duration: a whole number and `s`, `m`, `h` or `d` (`"90m"` is
/// 5400 seconds). `None` if it is not one or is over [`MAX_DURATION_SECS`].
pub fn parse_duration(s: &str) -> Option<u64> {
    let unit = match s.as_bytes().last()? {
        b's' => 1,
        b'm' => 60,
        b'h' => 3600,
        b'd' => 86_400,
        _ => return None,
    };
    let n = &s[..s.len() - 1];
    if n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    n.parse::<u64>()
        .ok()?
        .checked_mul(unit)
        .filter(|s| *s <= MAX_DURATION_SECS)
}

/// Writes seconds as a duration in the largest unit that divides them
/// (`86400` → `"1d"`, `5400` → `"90m"`).
pub fn format_duration(secs: u64) -> String {
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs != 0 && secs.is_multiple_of(n) {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

/// Writes terms back in the file format (the inverse of [`parse`]).
pub fn render(terms: &Terms) -> String {
    let q = |s: &str| Value::String(s.to_owned()).to_string();
    let list = |items: &mut dyn Iterator<Item = String>| {
        format!("[{}]", items.collect::<Vec<_>>().join(", "))
    };
    let mut out = format!(
        "title = {}\nstart = {}\n",
        q(&terms.title),
        q(&terms.start.to_string())
    );
    if let Some(end) = terms.end {
        out += &format!("end = {}\n", q(&end.to_string()));
    }
    out += &format!("notice = {}\n", q(&format_duration(terms.notice_secs)));
    if !terms.languages.is_empty() {
        out += &format!(
            "languages = {}\n",
            list(&mut terms.languages.iter().map(|l| q(l)))
        );
    }
    if let Some(s) = terms.ack_within_secs {
        out += &format!("ack_within = {}\n", q(&format_duration(s)));
    }
    if let Some(s) = terms.answer_within_secs {
        out += &format!("answer_within = {}\n", q(&format_duration(s)));
    }
    for c in &terms.channels {
        out += &format!(
            "\n[[channel]]\noffices = {}\nkinds = {}\n",
            list(&mut c.offices.iter().map(|o| q(o.as_str()))),
            list(&mut c.kinds.iter().map(|k| q(k.as_str())))
        );
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerms {
    title: Option<Spanned<Value>>,
    start: Option<Spanned<Value>>,
    end: Option<Spanned<Value>>,
    notice: Option<Spanned<Value>>,
    languages: Option<Spanned<Value>>,
    ack_within: Option<Spanned<Value>>,
    answer_within: Option<Spanned<Value>>,
    #[serde(default)]
    channel: Vec<Spanned<RawChannel>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    offices: Option<Spanned<Value>>,
    kinds: Option<Spanned<Value>>,
}

/// Field checks with line numbers.
struct Parser<'t> {
    text: &'t str,
}

impl Parser<'_> {
    fn fail(&self, field: &str, span: Range<usize>, message: String) -> TermsFileError {
        TermsFileError {
            path: None,
            line: Some(line_of(self.text, span.start)),
            field: Some(field.to_owned()),
            message,
        }
    }

    fn required<'v>(
        &self,
        field: &str,
        v: &'v Option<Spanned<Value>>,
        example: &str,
    ) -> Result<&'v Spanned<Value>, TermsFileError> {
        v.as_ref().ok_or_else(|| TermsFileError {
            path: None,
            line: None,
            field: Some(field.to_owned()),
            message: format!("missing; write e.g. {field} = {example}"),
        })
    }

    fn string(&self, field: &str, v: &Spanned<Value>) -> Result<String, TermsFileError> {
        match v.get_ref() {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.fail(
                field,
                v.span(),
                format!("{other} is not a string; write it in quotes"),
            )),
        }
    }

    fn time(&self, field: &str, v: &Spanned<Value>) -> Result<Timestamp, TermsFileError> {
        let text = match v.get_ref() {
            Value::String(s) => s.clone(),
            Value::Datetime(d) => d.to_string(),
            _ => String::new(),
        };
        text.parse().map_err(|_| {
            self.fail(
                field,
                v.span(),
                format!(
                    "{} is not a time with a zone; write e.g. \"2021-06-01T00:00:00Z\"",
                    v.get_ref()
                ),
            )
        })
    }

    fn duration(
        &self,
        field: &str,
        v: &Spanned<Value>,
        example: &str,
        zero_ok: bool,
    ) -> Result<u64, TermsFileError> {
        let secs = match v.get_ref() {
            Value::String(s) => parse_duration(s),
            _ => None,
        };
        match secs {
            Some(0) if !zero_ok => Err(self.fail(
                field,
                v.span(),
                format!("{} leaves no time; write e.g. \"{example}\"", v.get_ref()),
            )),
            Some(s) => Ok(s),
            None => Err(self.fail(
                field,
                v.span(),
                format!(
                    "{} is not a duration; write e.g. \"{example}\" (a whole number, then s, m, h or d; at most 36500d)",
                    v.get_ref()
                ),
            )),
        }
    }

    fn strings<'v>(
        &self,
        field: &str,
        v: &'v Spanned<Value>,
        example: &str,
    ) -> Result<Vec<&'v str>, TermsFileError> {
        let bad = || {
            self.fail(
                field,
                v.span(),
                format!(
                    "{} is not a list of strings; write e.g. {} = {example}",
                    v.get_ref(),
                    field.rsplit(": ").next().unwrap_or(field)
                ),
            )
        };
        let Value::Array(a) = v.get_ref() else {
            return Err(bad());
        };
        a.iter().map(|x| x.as_str().ok_or_else(bad)).collect()
    }

    fn languages(&self, v: &Spanned<Value>) -> Result<Vec<String>, TermsFileError> {
        let tags = self.strings("languages", v, "[\"en\", \"ru\"]")?;
        for (i, t) in tags.iter().enumerate() {
            if !is_language_tag(t) {
                return Err(self.fail(
                    "languages",
                    v.span(),
                    format!("{t:?} is not a language tag (BCP 47); write e.g. \"en\" or \"ru\""),
                ));
            }
            if tags[..i].iter().any(|u| u.eq_ignore_ascii_case(t)) {
                return Err(self.fail("languages", v.span(), format!("{t:?} is listed twice")));
            }
        }
        Ok(tags.into_iter().map(str::to_owned).collect())
    }

    fn channel(&self, n: usize, c: &Spanned<RawChannel>) -> Result<ChannelTerms, TermsFileError> {
        let missing = |what: &str, example: &str| TermsFileError {
            path: None,
            line: Some(line_of(self.text, c.span().start)),
            field: Some(format!("channel {n}: {what}")),
            message: format!("missing; write e.g. {what} = {example}"),
        };
        const OFFICES: &str = "[\"us/fbi\", \"ru/fsb\"]";
        const KINDS: &str = "[\"message\", \"inquiry\", \"ack\", \"answer\"]";
        let field = format!("channel {n}: offices");
        let o = c
            .get_ref()
            .offices
            .as_ref()
            .ok_or_else(|| missing("offices", OFFICES))?;
        let names = self.strings(&field, o, OFFICES)?;
        let [a, b] = names[..] else {
            return Err(self.fail(
                &field,
                o.span(),
                format!(
                    "lists {} offices; list two, one of each party, e.g. {OFFICES}",
                    names.len()
                ),
            ));
        };
        let office =
            |s: &str| Office::new(s).map_err(|e| self.fail(&field, o.span(), e.to_string()));
        let offices = [office(a)?, office(b)?];

        let field = format!("channel {n}: kinds");
        let k = c
            .get_ref()
            .kinds
            .as_ref()
            .ok_or_else(|| missing("kinds", KINDS))?;
        let mut kinds = Vec::new();
        for name in self.strings(&field, k, KINDS)? {
            let Some(kind) = Kind::parse(name) else {
                let allowed: Vec<_> = Kind::ALL
                    .into_iter()
                    .filter(|k| needs_agreement(*k))
                    .map(Kind::as_str)
                    .collect();
                return Err(self.fail(
                    &field,
                    k.span(),
                    format!(
                        "{name:?} is not a kind of entry; write some of {}",
                        allowed.join(", ")
                    ),
                ));
            };
            if !needs_agreement(kind) {
                return Err(self.fail(
                    &field,
                    k.span(),
                    format!("{kind} entries need no agreement; leave them out"),
                ));
            }
            if kinds.contains(&kind) {
                return Err(self.fail(&field, k.span(), format!("{kind} is listed twice")));
            }
            kinds.push(kind);
        }
        if kinds.is_empty() {
            return Err(self.fail(
                &field,
                k.span(),
                format!("the list is empty; write e.g. kinds = {KINDS}"),
            ));
        }
        Ok(ChannelTerms { offices, kinds })
    }
}

/// A BCP 47 tag in its common shape: a 2–3 letter language, then subtags of
/// 1–8 letters or digits (`en`, `ru`, `en-US`, `zh-Hant-TW`).
fn is_language_tag(t: &str) -> bool {
    let mut parts = t.split('-');
    let lang = parts.next().unwrap_or_default();
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_alphanumeric()))
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The key written on the line holding `offset` (`key = …`), if any.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'))
    .then(|| key.to_owned())
}

/// A TOML error message, with a hint for the likeliest slips.
fn hint(message: &str) -> String {
    let m = message.trim_end().to_owned();
    if m.contains("unknown field `channels`") {
        m + "; channels are written [[channel]], one table per channel"
    } else if m.contains("unknown field `notice_secs`")
        || m.contains("unknown field `ack_within_secs`")
        || m.contains("unknown field `answer_within_secs`")
    {
        m + "; in this file durations are written without _secs, e.g. notice = \"30d\""
    } else if m.contains("expected a sequence") {
        m + "; write a list [ … ], or for channels one [[channel]] table each"
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CYBER: &str = r#"
title = "Cybercrime cooperation channel"
start = "2021-06-01T00:00:00Z"
end = "2026-06-01T00:00:00Z"        # optional
notice = "30d"                      # withdrawal takes effect this long after notice
languages = ["en", "ru"]
ack_within = "24h"                  # inquiries must be acknowledged within
answer_within = "30d"               # and answered within

[[channel]]
offices = ["us/fbi", "ru/fsb"]      # counterpart offices; both directions
kinds = ["message", "inquiry", "ack", "answer"]
"#;

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    /// CYBER with one line replaced (matched by its start).
    fn with(line_start: &str, replacement: &str) -> String {
        let mut found = false;
        let out: Vec<String> = CYBER
            .lines()
            .map(|l| {
                if l.starts_with(line_start) && !found {
                    found = true;
                    replacement.to_owned()
                } else {
                    l.to_owned()
                }
            })
            .collect();
        assert!(found, "{line_start}");
        out.join("\n")
    }

    #[test]
    fn the_documented_example_parses() {
        let t = parse(CYBER).unwrap();
        assert_eq!(t.title, "Cybercrime cooperation channel");
        assert_eq!(
            t.start,
            "2021-06-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(t.end, Some("2026-06-01T00:00:00Z".parse().unwrap()));
        assert_eq!(t.notice_secs, 30 * 86_400);
        assert_eq!(t.languages, ["en", "ru"]);
        assert_eq!(t.ack_within_secs, Some(86_400));
        assert_eq!(t.answer_within_secs, Some(30 * 86_400));
        assert_eq!(t.channels.len(), 1);
        assert_eq!(t.channels[0].offices[0].as_str(), "us/fbi");
        assert_eq!(t.channels[0].offices[1].as_str(), "ru/fsb");
        assert_eq!(
            t.channels[0].kinds,
            [Kind::Message, Kind::Inquiry, Kind::Ack, Kind::Answer]
        );
        // Rendering and parsing again gives the same terms.
        assert_eq!(parse(&render(&t)).unwrap(), t);
    }

    #[test]
    fn optional_fields_and_toml_datetimes() {
        let text = r#"
title = "Presidential communications link"
start = 2021-01-01T00:00:00Z
notice = "0s"
[[channel]]
offices = ["us/president", "ru/president"]
kinds = ["message", "call.request", "call.accept", "call.decline", "call.record", "readout", "statement", "endorsement"]
"#;
        let t = parse(text).unwrap();
        assert_eq!(
            t.start,
            "2021-01-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!((t.end, t.notice_secs), (None, 0));
        assert!(t.languages.is_empty());
        assert_eq!((t.ack_within_secs, t.answer_within_secs), (None, None));
        assert_eq!(t.channels[0].kinds.len(), 8);
        assert_eq!(parse(&render(&t)).unwrap(), t);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Some(5400));
        assert_eq!(parse_duration("24h"), Some(86_400));
        assert_eq!(parse_duration("30d"), Some(2_592_000));
        assert_eq!(parse_duration("45s"), Some(45));
        assert_eq!(parse_duration("0s"), Some(0));
        assert_eq!(parse_duration("36500d"), Some(MAX_DURATION_SECS));
        for bad in [
            "",
            "d",
            "30",
            "30 d",
            "-1d",
            "+1d",
            "1.5h",
            "30D",
            "1w",
            "thirty days",
            "36501d",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        assert_eq!(format_duration(5400), "90m");
        assert_eq!(format_duration(86_400), "1d");
        assert_eq!(format_duration(90_000), "25h");
        assert_eq!(format_duration(61), "61s");
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn bad_values_name_line_field_and_what_to_write() {
        assert_eq!(
            err(&with("notice", r#"notice = "thirty days""#)),
            r#"line 5: notice: "thirty days" is not a duration; write e.g. "30d" (a whole number, then s, m, h or d; at most 36500d)"#
        );
        assert!(
            err(&with("notice", "notice = 30"))
                .contains(r#"notice: 30 is not a duration; write e.g. "30d""#)
        );
        assert!(
            err(&with("ack_within", r#"ack_within = "0h""#))
                .contains("ack_within: \"0h\" leaves no time")
        );
        assert!(
            err(&with("ack_within", r#"ack_within = "60d""#))
                .contains("line 7: ack_within: 60d is longer than answer_within (30d)")
        );
        assert!(err(&with("start", r#"start = "2021-06-01""#)).contains(
            r#"line 3: start: "2021-06-01" is not a time with a zone; write e.g. "2021-06-01T00:00:00Z""#
        ));
        assert!(
            err(&with("start", "start = 2021-06-01T00:00:00"))
                .contains("start: 2021-06-01T00:00:00 is not a time with a zone")
        );
        assert!(err(&with("title", "title = 5")).contains("line 2: title: 5 is not a string"));
        assert!(
            err(&with("languages", r#"languages = ["English"]"#)).contains(
                r#"languages: "English" is not a language tag (BCP 47); write e.g. "en""#
            )
        );
        assert!(err(&with("languages", r#"languages = ["en", "EN"]"#)).contains("listed twice"));
        assert!(
            err(&with("languages", r#"languages = "en""#)).contains("is not a list of strings")
        );
        assert!(err(&with("offices", r#"offices = ["us/fbi"]"#)).contains(
            r#"line 11: channel 1: offices: lists 1 offices; list two, one of each party"#
        ));
        assert!(
            err(&with("offices", r#"offices = ["us/fbi", "RU/fsb"]"#))
                .contains(r#"channel 1: offices: invalid office name "RU/fsb""#)
        );
        assert!(err(&with("kinds", r#"kinds = ["inqury"]"#)).contains(
            r#"line 12: channel 1: kinds: "inqury" is not a kind of entry; write some of message, inquiry, ack, answer, call.request"#
        ));
        assert!(
            err(&with("kinds", r#"kinds = ["inquiry", "receipt"]"#))
                .contains("receipt entries need no agreement")
        );
        assert!(
            err(&with("kinds", r#"kinds = ["inquiry", "inquiry"]"#))
                .contains("inquiry is listed twice")
        );
        assert!(err(&with("kinds", "kinds = []")).contains("channel 1: kinds: the list is empty"));
    }

    #[test]
    fn missing_and_unknown_fields() {
        assert_eq!(
            err(&with("notice", "")),
            r#"notice: missing; write e.g. notice = "30d""#
        );
        assert!(err(&with("title", "")).contains("title: missing"));
        assert!(err(&with("start", "")).contains("start: missing"));
        assert!(
            err(&with("kinds", ""))
                .contains("line 10: channel 1: kinds: missing; write e.g. kinds = [")
        );
        assert!(err(&with("offices", "")).contains("channel 1: offices: missing"));
        let no_channel = CYBER.split("[[channel]]").next().unwrap();
        assert!(err(no_channel).starts_with("channel: no channel is opened; add one:"));
        let e = err(&with("languages", r#"langs = ["en"]"#));
        assert!(e.starts_with("line 6: unknown field `langs`"), "{e}");
        let e = err(&CYBER.replace("[[channel]]", "[[channels]]"));
        assert!(
            e.contains("write [[channel]]") || e.contains("written [[channel]]"),
            "{e}"
        );
        let e = err(&with("kinds", "kinds = [\"inquiry\"]\nwho = \"x\""));
        assert!(e.contains("unknown field `who`"), "{e}");
        let e = err(&with("notice", "notice_secs = 2592000"));
        assert!(e.contains("durations are written without _secs"), "{e}");
        assert!(err("title = ").starts_with("line 1: "));
        let e = err(&with("offices", "offices = \"us/fbi\""));
        assert!(
            e.starts_with(
                r#"line 11: channel 1: offices: "us/fbi" is not a list of strings; write e.g. offices = ["#
            ),
            "{e}"
        );
        let e = err(&format!(
            "{}channel = 5\n",
            CYBER.split("[[channel]]").next().unwrap()
        ));
        assert!(
            e.starts_with("line 10: channel: invalid type: integer `5`"),
            "{e}"
        );
    }

    #[test]
    fn terms_validation_applies() {
        assert!(
            err(&with("end", r#"end = "2021-01-01T00:00:00Z""#))
                .contains("end must be after start")
        );
        assert!(
            err(&with("offices", r#"offices = ["us/fbi", "us/state"]"#))
                .contains("inside one party")
        );
        let two = format!(
            "{CYBER}\n[[channel]]\noffices = [\"us/state\", \"ua/foreign\"]\nkinds = [\"message\"]\n"
        );
        assert!(err(&two).contains("is not between"));
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x-agreement.toml");
        std::fs::write(&p, with("notice", r#"notice = "soon""#)).unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}:5: notice: \"soon\"", p.display())),
            "{e}"
        );
        let e = load(&dir.path().join("none.toml")).unwrap_err().to_string();
        assert!(e.contains("none.toml: cannot read it"), "{e}");
    }

    #[test]
    fn every_shipped_example_parses_and_validates() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut names = Vec::new();
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with("-agreement.toml") {
                let t = load(&p).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(parse(&render(&t)).unwrap(), t, "{name} round trip");
                names.push((name, t));
            }
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let files: Vec<_> = names.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            files,
            [
                "cyber-agreement.toml",
                "defense-agreement.toml",
                "presidential-agreement.toml"
            ]
        );
        let cyber = &names[0].1;
        assert_eq!(cyber.ack_within_secs, Some(86_400));
        assert_eq!(cyber.answer_within_secs, Some(30 * 86_400));
        let fbi = Office::new("us/fbi").unwrap();
        let fsb = Office::new("ru/fsb").unwrap();
        assert!(cyber.allows(&fsb, &fbi, Kind::Answer));
        let president = &names[2].1;
        assert!(president.allows(
            &Office::new("ru/president").unwrap(),
            &Office::new("us/president").unwrap(),
            Kind::CallRequest
        ));
        assert_eq!(president.ack_within_secs, None);
    }
}
