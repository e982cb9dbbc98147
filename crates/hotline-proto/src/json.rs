//! JSON trees as the canonical writer and the STIX validator read them:
//! `serde_json::Value`, and [`Borrowed`], a tree whose strings stay in the
//! bytes it was parsed from.
//!
//! A TAXII POST of 500 STIX objects (about 180 KB) is some 12,000 strings
//! and maps. Parsed into `serde_json::Value`, each is an allocation of its
//! own, made and then freed on the POST's path: 0.62 ms to parse, where
//! [`Borrowed`] takes 0.37 ms (measured side by side, parsed as text).
//! Both are parsed by serde_json's parser, so they refuse alike (invalid
//! UTF-8, lone surrogates, numbers out of a double's range, nesting past
//! 128), and a [`Borrowed`] object keeps its members as `serde_json::Map`
//! does: in key order, the last of a key given twice. So the two trees of
//! one text have the same canonical form (`tests/proto/canonical.rs`).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Number, Value};

/// A JSON tree that can be read without knowing how it is held.
pub trait Json: Sized + Serialize {
    /// Its objects.
    type Object: Object<Self>;

    /// What this node is.
    fn view(&self) -> View<'_, Self>;

    /// The member `key`, when this is an object that has it.
    fn get(&self, key: &str) -> Option<&Self> {
        match self.view() {
            View::Object(m) => m.get(key),
            _ => None,
        }
    }

    /// The string, when this is one.
    fn as_str(&self) -> Option<&str> {
        match self.view() {
            View::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    fn as_bool(&self) -> Option<bool> {
        match self.view() {
            View::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number as an unsigned integer, when it is one.
    fn as_u64(&self) -> Option<u64> {
        match self.view() {
            View::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The object, when this is one.
    fn as_object(&self) -> Option<&Self::Object> {
        match self.view() {
            View::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The items, when this is an array.
    fn as_array(&self) -> Option<&[Self]> {
        match self.view() {
            View::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// One node of a [`Json`] tree.
pub enum View<'a, J: Json> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json parsed it.
    Number(&'a Number),
    /// A string.
    String(&'a str),
    /// An array.
    Array(&'a [J]),
    /// An object.
    Object(&'a J::Object),
}

impl<J: Json> Clone for View<'_, J> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<J: Json> Copy for View<'_, J> {}

/// The members of a [`Json`] object.
pub trait Object<J> {
    /// The member `key`.
    fn get(&self, key: &str) -> Option<&J>;
    /// Whether it has a member `key`.
    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Its members, in the order of their keys' UTF-8 bytes.
    fn members<'s>(&'s self) -> impl Iterator<Item = (&'s str, &'s J)> + Clone
    where
        J: 's;
    /// How many members it has.
    fn len(&self) -> usize;
    /// Whether it has none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Json for Value {
    type Object = serde_json::Map<String, Value>;

    fn view(&self) -> View<'_, Self> {
        match self {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            Value::Number(n) => View::Number(n),
            Value::String(s) => View::String(s),
            Value::Array(a) => View::Array(a),
            Value::Object(m) => View::Object(m),
        }
    }
}

impl Object<Value> for serde_json::Map<String, Value> {
    fn get(&self, key: &str) -> Option<&Value> {
        serde_json::Map::get(self, key)
    }
    fn members<'s>(&'s self) -> impl Iterator<Item = (&'s str, &'s Value)> + Clone
    where
        Value: 's,
    {
        self.iter().map(|(k, v)| (k.as_str(), v))
    }
    fn len(&self) -> usize {
        serde_json::Map::len(self)
    }
}

/// A JSON tree borrowing its strings from the text it was parsed from
/// (`serde_json::from_str` or `from_slice`); only a string with an escape
/// in it is copied, unescaped.
#[derive(Clone, Debug, PartialEq)]
pub enum Borrowed<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Borrowed<'a>>),
    /// An object.
    Object(Members<'a>),
}

/// A [`Borrowed`] object's members, sorted by key (UTF-8 bytes), each key
/// once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Members<'a>(Vec<(Cow<'a, str>, Borrowed<'a>)>);

impl<'a> Members<'a> {
    /// Members as they were given: sorted, and of a key given twice the
    /// last kept, as `serde_json::Map` keeps it. The sort is stable, so
    /// the last of equal keys is the last of its run.
    pub fn new(mut members: Vec<(Cow<'a, str>, Borrowed<'a>)>) -> Self {
        if !members.is_sorted_by(|a, b| a.0 < b.0) {
            members.sort_by(|a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(Cow<'a, str>, Borrowed<'a>)> = Vec::with_capacity(members.len());
            for m in members {
                match kept.last_mut() {
                    Some(last) if last.0 == m.0 => *last = m,
                    _ => kept.push(m),
                }
            }
            members = kept;
        }
        Self(members)
    }

    /// Takes the member `key` out, leaving the rest.
    pub fn remove(&mut self, key: &str) -> Option<Borrowed<'a>> {
        let at = self.find(key).ok()?;
        Some(self.0.remove(at).1)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key))
    }
}

/// Up to this many members, a key is looked up by a scan that compares
/// lengths first. The validator asks most objects for a dozen keys they do
/// not have; a binary search paid a string comparison at every step.
const SCAN: usize = 16;

impl<'a> Object<Borrowed<'a>> for Members<'a> {
    fn get(&self, key: &str) -> Option<&Borrowed<'a>> {
        if self.0.len() <= SCAN {
            return self
                .0
                .iter()
                .find(|(k, _)| k.len() == key.len() && k.as_ref() == key)
                .map(|(_, v)| v);
        }
        self.find(key).ok().map(|at| &self.0[at].1)
    }
    fn members<'s>(&'s self) -> impl Iterator<Item = (&'s str, &'s Borrowed<'a>)> + Clone
    where
        Borrowed<'a>: 's,
    {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<'a> Json for Borrowed<'a> {
    type Object = Members<'a>;

    fn view(&self) -> View<'_, Self> {
        match self {
            Borrowed::Null => View::Null,
            Borrowed::Bool(b) => View::Bool(*b),
            Borrowed::Number(n) => View::Number(n),
            Borrowed::String(s) => View::String(s),
            Borrowed::Array(a) => View::Array(a),
            Borrowed::Object(m) => View::Object(m),
        }
    }
}

impl<'a> Borrowed<'a> {
    /// Takes the member `key` out of an object, leaving the rest.
    pub fn take(&mut self, key: &str) -> Option<Borrowed<'a>> {
        match self {
            Borrowed::Object(m) => m.remove(key),
            _ => None,
        }
    }
}

impl<'a> From<&'a str> for Borrowed<'a> {
    fn from(s: &'a str) -> Self {
        Borrowed::String(Cow::Borrowed(s))
    }
}

impl From<String> for Borrowed<'_> {
    fn from(s: String) -> Self {
        Borrowed::String(Cow::Owned(s))
    }
}

impl Serialize for Borrowed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Borrowed::Null => s.serialize_unit(),
            Borrowed::Bool(b) => s.serialize_bool(*b),
            Borrowed::Number(n) => n.serialize(s),
            Borrowed::String(t) => s.serialize_str(t),
            Borrowed::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for item in a {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Borrowed::Object(m) => {
                let mut map = s.serialize_map(Some(m.0.len()))?;
                for (k, v) in &m.0 {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Borrowed<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

/// Builds a [`Borrowed`] from what the parser reports, as serde_json's own
/// `Value` visitor builds a `Value`.
struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Borrowed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Borrowed::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Borrowed::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Borrowed::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(n).map_or(Borrowed::Null, Borrowed::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Borrowed::String(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Borrowed::String(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Borrowed::String(Cow::Owned(s)))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Borrowed::Null)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Borrowed::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Borrowed::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            members.push((key, map.next_value()?));
        }
        Ok(Borrowed::Object(Members::new(members)))
    }
}

/// A key, borrowed when it has no escape in it. (`Cow<str>`'s own
/// `Deserialize` always copies.)
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (Value, Borrowed<'_>) {
        (
            serde_json::from_str(text).unwrap(),
            serde_json::from_str(text).unwrap(),
        )
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let (_, b) = both(r#"{"plain": "abc", "esc\u0061ped": "a\nb"}"#);
        let Borrowed::Object(m) = &b else { panic!() };
        let kinds: Vec<_> =
            m.0.iter()
                .map(|(k, v)| match v {
                    Borrowed::String(s) => {
                        (matches!(k, Cow::Borrowed(_)), matches!(s, Cow::Borrowed(_)))
                    }
                    _ => panic!(),
                })
                .collect();
        // Sorted: "escaped" before "plain".
        assert_eq!(kinds, [(false, false), (true, true)]);
        assert_eq!(b.get("escaped").and_then(Json::as_str), Some("a\nb"));
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value_as_serde_json_does() {
        let text = r#"{"b": 1, "a": 2, "b": 3, "c": {"x": 1, "x": [true, null]}, "a": 4}"#;
        let (v, b) = both(text);
        assert_eq!(serde_json::to_value(&b).unwrap(), v);
        assert_eq!(b.as_object().unwrap().len(), 3);
        assert_eq!(
            b.get("b").map(|n| n.view()).and_then(|v| match v {
                View::Number(n) => n.as_u64(),
                _ => None,
            }),
            Some(3)
        );
    }

    #[test]
    fn a_large_object_is_searched_as_a_small_one_is_scanned() {
        // Past SCAN members, `get` searches; below, it scans. Keys of
        // several lengths, some given twice, none in order.
        let keys: Vec<String> = (0..3 * SCAN)
            .map(|i| format!("k{}", (i * 7919) % 1000))
            .collect();
        for n in [SCAN - 1, SCAN, SCAN + 1, 3 * SCAN] {
            let members: Vec<String> = keys[..n]
                .iter()
                .chain(&keys[..n / 3])
                .enumerate()
                .map(|(i, k)| format!("\"{k}\": {i}"))
                .collect();
            let text = format!("{{{}}}", members.join(","));
            let (v, b) = both(&text);
            for k in keys
                .iter()
                .map(String::as_str)
                .chain(["", "k", "k10000", "zz"])
            {
                assert_eq!(
                    b.get(k).map(|x| serde_json::to_value(x).unwrap()),
                    v.get(k).cloned(),
                    "{k} of {n}"
                );
            }
        }
    }

    #[test]
    fn the_parser_refuses_alike() {
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        for bad in [
            "{\"a\": 1e400}",
            "[\"\\ud800\"]",
            "{\"a\": }",
            deep.as_str(),
            "[1, 2",
        ] {
            assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<Borrowed<'_>>(bad).is_err(), "{bad}");
        }
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(serde_json::from_str::<Borrowed<'_>>(&ok).is_ok());
        assert!(serde_json::from_slice::<Borrowed<'_>>(b"[\"\xff\"]").is_err());
    }

    #[test]
    fn take_removes_one_member() {
        let (_, mut b) = both(r#"{"objects": [1, 2], "more": true}"#);
        assert_eq!(
            b.take("objects").and_then(|o| o.as_array().map(<[_]>::len)),
            Some(2)
        );
        assert!(b.take("objects").is_none());
        assert_eq!(b.as_object().unwrap().len(), 1);
    }
}
