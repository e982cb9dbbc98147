//! `canonical` against the reference RFC 8785 writer, `serde_jcs`, on
//! arbitrary JSON: any key (surrogate pairs and U+E000–U+FFFF among them,
//! where UTF-8 and UTF-16 order differ), any string, integers on both sides
//! of 2^53 and finite doubles.

use hotline_proto::canonical;
use hotline_proto::json::Borrowed;
use proptest::prelude::*;
use serde_json::{Map, Value};

pub fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,6}",
        any::<String>(),
        // Characters on both sides of the UTF-8/UTF-16 order split.
        proptest::collection::vec(
            prop_oneof![
                Just('\u{e000}'),
                Just('\u{fb33}'),
                Just('\u{ffff}'),
                Just('\u{1f600}'),
                Just('\u{10000}'),
                Just('a')
            ],
            0..4
        )
        .prop_map(|c| c.into_iter().collect()),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-(1i64 << 53) - 4..(1i64 << 53) + 4).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
    ]
}

pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\/a]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// JSON text whose objects may give a key twice (or more), which
/// `serde_json::Value` cannot hold but a body can say.
fn text() -> impl Strategy<Value = String> {
    let leaf = json().prop_map(|v| v.to_string());
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|a| format!("[{}]", a.join(","))),
            (
                proptest::collection::vec((key(), inner), 0..6),
                any::<bool>()
            )
                .prop_map(|(kv, twice)| {
                    let mut members: Vec<String> = kv
                        .iter()
                        .map(|(k, v)| format!("{}: {v}", Value::from(k.as_str())))
                        .collect();
                    if twice && let Some((k, _)) = kv.first() {
                        members.push(format!("{}: \"again\"", Value::from(k.as_str())));
                    }
                    format!("{{{}}}", members.join(", "))
                }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_borrowed_tree_has_the_canonical_form_of_serde_jsons(t in text()) {
        let v: Value = serde_json::from_str(&t).unwrap();
        let b: Borrowed<'_> = serde_json::from_str(&t).unwrap();
        let mut out = Vec::new();
        canonical::write(&b, &mut out).unwrap();
        prop_assert_eq!(&out, &canonical::to_vec(&v).unwrap());
        prop_assert_eq!(serde_json::to_value(&b).unwrap(), v);
    }

    #[test]
    fn agrees_with_serde_jcs(v in json()) {
        prop_assert_eq!(canonical::to_vec(&v).unwrap(), serde_jcs::to_vec(&v).unwrap());
    }

    #[test]
    fn a_member_added_agrees_with_serde_jcs(head in proptest::collection::vec((key(), json()), 0..6), k in key(), v in json()) {
        let mut m: Map<String, Value> = head.into_iter().collect();
        m.remove(&k);
        let head = Value::Object(m.clone());
        m.insert(k.clone(), v.clone());
        prop_assert_eq!(
            canonical::to_vec_with(&head, &k, &v).unwrap(),
            serde_jcs::to_vec(&Value::Object(m)).unwrap()
        );
    }
}
