//! `ContentShape` accepts exactly the bodies `Content` accepts: a receipt
//! judged on the shape says "delivered" only of a body every reader opens.
//! Checked on arbitrary contents, each cut, spliced with hostile tokens (a
//! number beyond a double, lone surrogates, invalid UTF-8, nesting past the
//! limit) or with a byte flipped.

use hotline_proto::entry::{Content, ContentShape};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::canonical::json;

/// Tokens that a JSON value and a skipping parser could judge apart.
const HOSTILE: &[&[u8]] = &[
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"\"\\ud800\"",
    b"\"\\udc00x\"",
    b"\"\\ud83d\\ude00\"",
    b"\"\xff\xfe\"",
    b"\"\xc3\"",
    b"\"\\u12\"",
    b"\"\\x\"",
    b"01",
    b"1.",
    b"-",
    b"NaN",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"{\"a\":1,\"a\":2}",
    b"{1:2}",
    b"[1,]",
    b"\"\x01\"",
];

fn agree(bytes: &[u8]) -> Result<(), TestCaseError> {
    let full = serde_json::from_slice::<Content>(bytes).is_ok();
    let shape = serde_json::from_slice::<ContentShape>(bytes).is_ok();
    prop_assert_eq!(full, shape, "{}", String::from_utf8_lossy(bytes));
    Ok(())
}

fn content(stix: Value, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"text": text, "lang": "en", "stix": stix})).unwrap()
}

#[test]
fn hostile_tokens_in_a_bundle_are_judged_alike() {
    for t in HOSTILE {
        let mut b = br#"{"text":"t","stix":{"objects":["#.to_vec();
        b.extend_from_slice(t);
        b.extend_from_slice(b"]}}");
        agree(&b).unwrap();
    }
    let deep = |n: usize| {
        let mut b = br#"{"text":"t","stix":"#.to_vec();
        b.extend(std::iter::repeat_n(b'[', n));
        b.extend(std::iter::repeat_n(b']', n));
        b.push(b'}');
        b
    };
    agree(&deep(120)).unwrap();
    agree(&deep(200)).unwrap();
    assert!(serde_json::from_slice::<ContentShape>(&deep(120)).is_ok());
    assert!(serde_json::from_slice::<ContentShape>(&deep(200)).is_err());
    assert!(serde_json::from_slice::<ContentShape>(&content(json!({"a": [1, "b"]}), "t")).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn agrees_with_content(stix in json(), text in any::<String>(), at in any::<prop::sample::Index>(),
                           token in prop::sample::select(HOSTILE), flip in any::<u8>(), how in 0..4u8) {
        let b = content(stix, &text);
        agree(&b)?;
        let i = at.index(b.len());
        let spliced = match how {
            0 => [&b[..i], token, &b[i..]].concat(),
            1 => b[..i].to_vec(),
            2 => { let mut c = b.clone(); c[i] ^= flip; c }
            _ => [&b[..i], &b[i + 1..]].concat(),
        };
        agree(&spliced)?;
    }
}
