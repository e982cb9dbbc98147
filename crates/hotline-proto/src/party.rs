//! Parties and their offices, by validated name.
//!
//! Names appear in headers, key names, checkpoint origins and file names, so
//! they are kept to a small alphabet that is safe in all of them: lower-case
//! ASCII letters, digits and `-`, starting with a letter, at most 32 characters
//! per part. An office is `party/office` (`us/fbi`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid {what} name {name:?}: use 1-32 lower-case letters, digits or '-', starting with a letter{hint}"
)]
pub struct NameError {
    what: &'static str,
    name: String,
    hint: &'static str,
}

fn valid_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// A party: a participant that runs its own node and holds its own keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Party(String);

impl Party {
    /// Parses and validates a party name such as `us`.
    pub fn new(s: &str) -> Result<Self, NameError> {
        if valid_part(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(NameError {
                what: "party",
                name: s.to_owned(),
                hint: "",
            })
        }
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An office: a structure inside a party, written `party/office`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Office(String);

impl Office {
    /// Parses and validates an office name such as `us/fbi`.
    pub fn new(s: &str) -> Result<Self, NameError> {
        match s.split_once('/') {
            Some((p, o)) if valid_part(p) && valid_part(o) => Ok(Self(s.to_owned())),
            _ => Err(NameError {
                what: "office",
                name: s.to_owned(),
                hint: ", as party/office (e.g. us/fbi)",
            }),
        }
    }

    /// The party this office belongs to.
    pub fn party(&self) -> Party {
        Party(
            self.0
                .split_once('/')
                .map(|(p, _)| p)
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A form safe as a file name (`us_fbi`); unique because `_` is not allowed in names.
    pub fn file_stem(&self) -> String {
        self.0.replace('/', "_")
    }
}

macro_rules! string_newtype {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
string_newtype!(Party);
string_newtype!(Office);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(Party::new("us").is_ok());
        assert!(Party::new("US").is_err());
        assert!(Party::new("").is_err());
        assert!(Party::new("1us").is_err());
        assert!(Party::new(&"a".repeat(33)).is_err());
        let o = Office::new("us/fbi").unwrap();
        assert_eq!(o.party().as_str(), "us");
        assert_eq!(o.file_stem(), "us_fbi");
        for bad in ["us", "us/", "/fbi", "us/fbi/x", "us/FBI", "us/f b"] {
            assert!(Office::new(bad).is_err(), "{bad}");
        }
        let e = Office::new("fbi").unwrap_err().to_string();
        assert!(e.contains("party/office"), "{e}");
    }
}
