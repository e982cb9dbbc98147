//! STIX 2.1 bundles: the shipped ransomware example is valid, and each kind
//! of breakage is refused naming the object (index and id) and the property.

use std::path::Path;

use hotline_proto::json::Borrowed;
use hotline_proto::stix::{self, MAX_BYTES, MAX_OBJECTS, StixError};
use serde_json::{Value, json};

const INDICATOR: &str = "indicator--71179bf4-7916-4e05-bd11-6934d9b62ba9";
const MALWARE: &str = "malware--ad80cbb4-e825-4b46-b21e-18431d2ce027";
const IPV4: &str = "ipv4-addr--cec0294c-86c8-52cc-8448-ba43593736df";
const IDENTITY: &str = "identity--775db1fc-a104-4935-b0ab-3988b0f30a43";
const RELATIONSHIP: &str = "relationship--d9e61598-5ab5-4443-a606-dff9ef631d8a";

/// The validator on `bundle`, and on the same JSON parsed as a borrowed
/// tree, which a TAXII POST validates: both must say the same.
fn validate(bundle: &Value) -> Result<stix::StixSummary, StixError> {
    let text = serde_json::to_string(bundle).unwrap();
    let borrowed: Borrowed<'_> = serde_json::from_str(&text).unwrap();
    let r = stix::validate(bundle);
    assert_eq!(
        stix::validate(&borrowed).map_err(|e| e.to_string()),
        r.clone().map_err(|e| e.to_string()),
        "the two trees of one bundle"
    );
    r
}

fn example_bytes() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/stix-ransomware.json");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn example() -> Value {
    serde_json::from_slice(&example_bytes()).unwrap()
}

/// The index of the object with this id in the example.
fn at(bundle: &Value, id: &str) -> usize {
    bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .position(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in the example"))
}

/// The example with the object `id` changed by `f`: the error, as text.
fn broken(id: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut b = example();
    let i = at(&b, id);
    f(b["objects"][i].as_object_mut().unwrap());
    validate(&b).unwrap_err().to_string()
}

/// A bundle holding just `objects`.
fn bundle_of(objects: Vec<Value>) -> Value {
    json!({
        "type": "bundle",
        "id": "bundle--83173217-5476-4fd6-8dea-2242abe2cd53",
        "objects": objects,
    })
}

/// A minimal SDO or SRO of `ty` with the common properties and `extra`.
fn sdo(ty: &str, extra: Value) -> Value {
    let mut o = json!({
        "type": ty,
        "spec_version": "2.1",
        "id": format!("{ty}--2b1d7b5e-3f5c-4d8a-9e0f-6a7b8c9d0e1f"),
        "created": "2021-07-03T14:20:00.000Z",
        "modified": "2021-07-03T14:20:00.000Z",
    });
    o.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    o
}

fn one(o: Value) -> Result<stix::StixSummary, StixError> {
    validate(&bundle_of(vec![o]))
}

fn one_err(o: Value) -> String {
    one(o).unwrap_err().to_string()
}

#[test]
fn the_shipped_ransomware_bundle_is_valid() {
    let s = validate(&example()).unwrap();
    assert_eq!(s.id, "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d");
    assert_eq!(s.objects, 18);
    let count = |t: &str| s.by_type.get(t).copied().unwrap_or(0);
    assert_eq!(count("indicator"), 2);
    assert_eq!(count("malware"), 1);
    assert_eq!(count("relationship"), 5);
    assert_eq!(count("ipv4-addr"), 1);
    assert_eq!(count("report"), 1);
    assert_eq!(s.by_type.values().sum::<usize>(), 18);
    assert_eq!(
        s.to_string(),
        "18 STIX objects: 1 attack-pattern, 1 domain-name, 1 file, 1 identity, 2 indicator, \
         1 ipv4-addr, 1 malware, 1 marking-definition, 1 observed-data, 5 relationship, \
         1 report, 1 sighting, 1 threat-actor"
    );
    assert_eq!(stix::validate_bytes(&example_bytes()).unwrap(), s);

    // The relationship "indicates" ties the indicator to the malware, and the
    // report refers to both.
    let b = example();
    let r = &b["objects"][at(&b, RELATIONSHIP)];
    assert_eq!(
        (&r["relationship_type"], &r["source_ref"], &r["target_ref"]),
        (&json!("indicates"), &json!(INDICATOR), &json!(MALWARE))
    );
    let report = b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "report")
        .unwrap();
    let refs = report["object_refs"].as_array().unwrap();
    for id in [INDICATOR, MALWARE, IPV4, RELATIONSHIP] {
        assert!(refs.contains(&json!(id)), "{id}");
    }
}

#[test]
fn the_example_uses_documentation_addresses_only() {
    let text = String::from_utf8(example_bytes()).unwrap();
    let b = example();
    for o in b["objects"].as_array().unwrap() {
        match o["type"].as_str().unwrap() {
            "ipv4-addr" => {
                let v = o["value"].as_str().unwrap();
                assert!(
                    ["192.0.2.", "198.51.100.", "203.0.113."]
                        .iter()
                        .any(|p| v.starts_with(p)),
                    "{v}"
                );
            }
            "domain-name" => {
                let v = o["value"].as_str().unwrap();
                assert!(v == "example.com" || v.ends_with(".example.com"), "{v}");
            }
            _ => {}
        }
    }
    // Patterns name the same documentation values.
    assert!(text.contains("[ipv4-addr:value = '198.51.100.23']"));
}

#[test]
fn the_error_names_object_index_id_and_property() {
    let mut b = example();
    let i = at(&b, INDICATOR);
    b["objects"][i].as_object_mut().unwrap().remove("pattern");
    let e = validate(&b).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("object {i} ({INDICATOR}): missing required property pattern")
    );
    assert_eq!(e.property(), Some("pattern"));
    assert!(matches!(e, StixError::Object { index, .. } if index == i));
}

#[test]
fn bundle_level_breakage() {
    let e = |v: Value| validate(&v).unwrap_err().to_string();
    assert!(
        stix::validate_bytes(b"{\"type\": \"bundle\",")
            .unwrap_err()
            .to_string()
            .starts_with("not JSON: ")
    );
    assert!(e(json!([])).contains("a STIX bundle is a JSON object"));
    let mut b = example();
    b["type"] = json!("collection");
    assert_eq!(
        e(b),
        "top level: type must be \"bundle\", not \"collection\""
    );
    let single = example()["objects"][at(&example(), INDICATOR)].clone();
    assert!(e(single).contains("this is a single indicator object, not a bundle; wrap it"));
    let mut b = example();
    b.as_object_mut().unwrap().remove("type");
    assert!(e(b).contains("missing required property type"));
    let mut b = example();
    b["id"] = json!("bundle--not-a-uuid");
    assert_eq!(
        e(b),
        "top level: id \"bundle--not-a-uuid\" is not bundle--<UUID>"
    );
    let mut b = example();
    b["id"] = json!("report--5d0092c5-5f74-4287-9642-33f4c354e56d");
    assert!(e(b).contains("is not bundle--<UUID>"));
    let mut b = example();
    b.as_object_mut().unwrap().remove("objects");
    assert_eq!(e(b), "top level: missing required property objects");
    let mut b = example();
    b["objects"] = json!({});
    assert!(e(b).contains("objects must be an array, not an object"));
    let mut b = example();
    b["spec_version"] = json!("2.0");
    assert!(e(b).contains("STIX 2.0 bundle"));
    // An empty bundle is valid STIX.
    assert_eq!(validate(&bundle_of(vec![])).unwrap().objects, 0);
}

#[test]
fn limits() {
    let mut big = vec![b' '; MAX_BYTES + 1];
    big[0] = b'{';
    assert_eq!(
        stix::validate_bytes(&big).unwrap_err(),
        StixError::TooLarge {
            size: MAX_BYTES + 1
        }
    );
    let mut b = example();
    let i = at(&b, MALWARE);
    b["objects"][i]["description"] = json!("x".repeat(MAX_BYTES));
    let e = validate(&b).unwrap_err();
    assert!(
        matches!(e, StixError::TooLarge { size } if size > MAX_BYTES),
        "{e}"
    );
    assert!(e.to_string().contains("over the limit of 8 MiB"));
    let many = bundle_of(vec![Value::Null; MAX_OBJECTS + 1]);
    assert_eq!(
        validate(&many).unwrap_err().to_string(),
        "10001 objects is over the limit of 10000"
    );
    // At the limit, objects are checked one by one.
    let ip = json!({"type": "ipv4-addr", "id": IPV4, "value": "198.51.100.23"});
    let mut objects = Vec::with_capacity(MAX_OBJECTS);
    for n in 0..MAX_OBJECTS {
        let mut o = ip.clone();
        o["id"] = json!(format!("ipv4-addr--{:08x}-86c8-52cc-8448-ba43593736df", n));
        objects.push(o);
    }
    assert_eq!(
        validate(&bundle_of(objects)).unwrap().by_type["ipv4-addr"],
        MAX_OBJECTS
    );
}

#[test]
fn type_and_id() {
    let e = one_err(json!("indicator"));
    assert_eq!(e, "object 0 (no id): not a JSON object but a string");
    let mut o = sdo("indicator", json!({}));
    o.as_object_mut().unwrap().remove("type");
    assert!(one_err(o).ends_with("missing required property type"));
    let e = one_err(sdo("ransomware", json!({})));
    assert!(
        e.contains(
            "property type: unknown STIX 2.1 type \"ransomware\"; custom types start with x-"
        ),
        "{e}"
    );
    assert!(one_err(sdo("Indicator", json!({}))).contains("is not a STIX type name"));
    // A custom x- type is accepted on its common properties.
    assert!(one(sdo("x-acme-case", json!({"case_number": 17}))).is_ok());

    let e = broken(INDICATOR, |o| {
        o.remove("id");
    });
    assert!(e.ends_with("(no id): missing required property id"), "{e}");
    let e = broken(INDICATOR, |o| {
        o.insert("id".into(), json!(MALWARE));
    });
    assert!(
        e.contains(&format!(
            "property id: \"{MALWARE}\" is not indicator--<UUID>"
        )),
        "{e}"
    );
    for bad in [
        "indicator--71179bf4-7916-4e05-bd11",
        "indicator--71179bf4-7916-0e05-bd11-6934d9b62ba9",
        "indicator--71179bf4-7916-4e05-7d11-6934d9b62ba9",
        "indicator-71179bf4-7916-4e05-bd11-6934d9b62ba9",
    ] {
        let e = broken(INDICATOR, |o| {
            o.insert("id".into(), json!(bad));
        });
        assert!(e.contains("is not indicator--<UUID>"), "{bad}: {e}");
    }
    // SCO ids are UUIDv5, but any valid UUID is accepted.
    assert!(one(json!({"type": "ipv4-addr", "id": "ipv4-addr--2b1d7b5e-3f5c-4d8a-9e0f-6a7b8c9d0e1f", "value": "192.0.2.1"})).is_ok());
    // The same id and version twice.
    let mut b = example();
    let i = at(&b, MALWARE);
    let dup = b["objects"][i].clone();
    b["objects"].as_array_mut().unwrap().push(dup);
    assert_eq!(
        validate(&b).unwrap_err().to_string(),
        format!(
            "object 18 ({MALWARE}): the same id and modified as object {i}; a bundle holds each version of an object once"
        )
    );
    // A later version of the same object is fine.
    let mut b = example();
    let mut v2 = b["objects"][i].clone();
    v2["modified"] = json!("2021-07-09T00:00:00.000Z");
    b["objects"].as_array_mut().unwrap().push(v2);
    assert!(validate(&b).is_ok());
}

#[test]
fn spec_version_and_timestamps() {
    let e = broken(MALWARE, |o| {
        o.remove("spec_version");
    });
    assert!(
        e.ends_with(&format!(
            "({MALWARE}): missing required property spec_version"
        )),
        "{e}"
    );
    let e = broken(MALWARE, |o| {
        o.insert("spec_version".into(), json!("2.0"));
    });
    assert!(
        e.contains("property spec_version is \"2.0\"; this checks STIX 2.1"),
        "{e}"
    );
    // SCOs may leave spec_version out, but not give another one.
    assert!(
        validate(&{
            let mut b = example();
            let i = at(&b, IPV4);
            b["objects"][i]
                .as_object_mut()
                .unwrap()
                .remove("spec_version");
            b
        })
        .is_ok()
    );
    assert!(
        broken(IPV4, |o| {
            o.insert("spec_version".into(), json!("2.0"));
        })
        .contains("spec_version")
    );
    assert!(
        broken(MALWARE, |o| {
            o.remove("created");
        })
        .ends_with("missing required property created")
    );
    assert!(
        broken(MALWARE, |o| {
            o.remove("modified");
        })
        .ends_with("missing required property modified")
    );
    for bad in [
        "2021-07-03T14:20:00+00:00",
        "2021-07-03T14:20:00",
        "2021-07-03 14:20:00Z",
        "2021-02-30T14:20:00Z",
        "3 July 2021",
    ] {
        let e = broken(MALWARE, |o| {
            o.insert("created".into(), json!(bad));
        });
        assert!(
            e.contains(&format!(
                "property created: \"{bad}\" is not a STIX timestamp (UTC"
            )),
            "{bad}: {e}"
        );
    }
    let e = broken(MALWARE, |o| {
        o.insert("modified".into(), json!("2021-07-03T14:19:59.999Z"));
    });
    assert!(
        e.ends_with(
            "property modified (2021-07-03T14:19:59.999Z) is earlier than created (2021-07-03T14:20:00Z)"
        ),
        "{e}"
    );
    // Marking definitions have created but no modified.
    let m = json!({
        "type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp", "definition": {"tlp": "green"}
    });
    assert!(one(m.clone()).is_ok());
    let mut m = m;
    m.as_object_mut().unwrap().remove("created");
    assert!(one_err(m).ends_with("missing required property created"));
}

#[test]
fn indicator_properties() {
    for p in ["pattern", "pattern_type", "valid_from"] {
        let e = broken(INDICATOR, |o| {
            o.remove(p);
        });
        assert!(
            e.ends_with(&format!("({INDICATOR}): missing required property {p}")),
            "{e}"
        );
    }
    let e = broken(INDICATOR, |o| {
        o.insert("pattern".into(), json!("ipv4-addr:value = '198.51.100.23'"));
    });
    assert!(
        e.contains("property pattern: not a STIX pattern (it must start with [ or (); write comparisons in brackets"),
        "{e}"
    );
    let e = broken(INDICATOR, |o| {
        o.insert(
            "pattern".into(),
            json!("[ipv4-addr:value = '198.51.100.23'"),
        );
    });
    assert!(e.contains("brackets do not balance"), "{e}");
    // Other pattern languages are not parsed.
    assert!(
        validate(&{
            let mut b = example();
            let i = at(&b, INDICATOR);
            b["objects"][i]["pattern_type"] = json!("sigma");
            b["objects"][i]["pattern"] = json!("title: x\ndetection: ...");
            b
        })
        .is_ok()
    );
    let e = broken(INDICATOR, |o| {
        o.insert("pattern".into(), json!(""));
    });
    assert!(e.ends_with("property pattern is empty"), "{e}");
    let e = broken(INDICATOR, |o| {
        o.insert("pattern".into(), json!(42));
    });
    assert!(e.ends_with("property pattern: 42 is not a string"), "{e}");
    let e = broken(INDICATOR, |o| {
        o.insert("valid_until".into(), json!("2021-07-02T16:00:00Z"));
    });
    assert!(
        e.ends_with("property valid_until must be later than valid_from"),
        "{e}"
    );
    let e = broken(INDICATOR, |o| {
        o.insert("confidence".into(), json!(101));
    });
    assert!(
        e.ends_with("property confidence: 101 is not an integer from 0 to 100"),
        "{e}"
    );
}

#[test]
fn malware_and_named_objects() {
    let e = broken(MALWARE, |o| {
        o.remove("is_family");
    });
    assert!(e.ends_with("missing required property is_family"), "{e}");
    let e = broken(MALWARE, |o| {
        o.insert("is_family".into(), json!("yes"));
    });
    assert!(
        e.ends_with("property is_family: \"yes\" is not true or false"),
        "{e}"
    );
    let e = broken(MALWARE, |o| {
        o.remove("name");
    });
    assert!(
        e.ends_with("missing required property name (required when is_family is true)"),
        "{e}"
    );
    // STIX 2.1: a malware instance (is_family false) may be unnamed.
    assert!(
        validate(&{
            let mut b = example();
            let i = at(&b, MALWARE);
            let m = b["objects"][i].as_object_mut().unwrap();
            m.remove("name");
            m["is_family"] = json!(false);
            b
        })
        .is_ok()
    );
    for ty in [
        "threat-actor",
        "intrusion-set",
        "attack-pattern",
        "campaign",
        "identity",
        "vulnerability",
        "tool",
        "course-of-action",
        "infrastructure",
        "incident",
    ] {
        assert!(one(sdo(ty, json!({"name": "x"}))).is_ok(), "{ty}");
        let e = one_err(sdo(ty, json!({})));
        assert_eq!(
            e,
            format!(
                "object 0 ({ty}--2b1d7b5e-3f5c-4d8a-9e0f-6a7b8c9d0e1f): missing required property name"
            )
        );
        assert!(one_err(sdo(ty, json!({"name": " "}))).ends_with("property name is empty"));
    }
}

#[test]
fn report_note_and_observed_data() {
    let report = |extra: Value| {
        sdo(
            "report",
            json!({"name": "r", "published": "2021-07-03T14:20:00Z", "object_refs": [INDICATOR]}),
        )
        .as_object()
        .unwrap()
        .clone()
        .into_iter()
        .chain(extra.as_object().unwrap().clone())
        .collect::<serde_json::Map<_, _>>()
        .into()
    };
    assert!(one(report(json!({}))).is_ok());
    for p in ["name", "published", "object_refs"] {
        let mut r: Value = report(json!({}));
        r.as_object_mut().unwrap().remove(p);
        assert!(
            one_err(r).ends_with(&format!("missing required property {p}")),
            "{p}"
        );
    }
    assert!(one_err(report(json!({"object_refs": []}))).ends_with(
        "property object_refs is an empty list; list the ids of the objects it refers to"
    ));
    let e = one_err(report(json!({"object_refs": [INDICATOR, "malware"]})));
    assert!(
        e.ends_with("property object_refs: \"malware\" is not a STIX identifier (<type>--<UUID>)"),
        "{e}"
    );
    assert!(
        one_err(report(json!({"published": "yesterday"})))
            .contains("property published: \"yesterday\" is not a STIX timestamp")
    );

    assert!(
        one(sdo(
            "note",
            json!({"content": "see report", "object_refs": [INDICATOR]})
        ))
        .is_ok()
    );
    assert!(
        one_err(sdo("note", json!({"object_refs": [INDICATOR]})))
            .ends_with("missing required property content")
    );
    assert!(
        one_err(sdo("note", json!({"content": "c"})))
            .ends_with("missing required property object_refs")
    );

    let od = |extra: Value| {
        let mut o = sdo(
            "observed-data",
            json!({
                "first_observed": "2021-07-02T16:41:12Z",
                "last_observed": "2021-07-02T19:03:55Z",
                "number_observed": 3,
                "object_refs": [IPV4],
            }),
        );
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                o.as_object_mut().unwrap().remove(k);
            } else {
                o[k] = v.clone();
            }
        }
        o
    };
    assert!(one(od(json!({}))).is_ok());
    for p in [
        "first_observed",
        "last_observed",
        "number_observed",
        "object_refs",
    ] {
        assert!(
            one_err(od(json!({p: null}))).ends_with(&format!("missing required property {p}")),
            "{p}"
        );
    }
    assert!(
        one_err(od(json!({"number_observed": 0})))
            .ends_with("property number_observed: 0 is not an integer from 1 to 999999999")
    );
    assert!(
        one_err(od(json!({"last_observed": "2021-07-01T00:00:00Z"}))).contains(
            "property last_observed (2021-07-01T00:00:00Z) is earlier than first_observed"
        )
    );
    // The deprecated embedded objects, with their local references, instead
    // of object_refs.
    assert!(
        one(od(json!({"object_refs": null, "objects": {"0": {"type": "ipv4-addr", "value": "192.0.2.1"}, "1": {"type": "network-traffic", "dst_ref": "0", "protocols": ["tcp"]}}})))
            .is_ok()
    );
    assert!(
        one_err(od(
            json!({"objects": {"0": {"type": "ipv4-addr", "value": "192.0.2.1"}}})
        ))
        .contains("both object_refs and the deprecated objects")
    );
}

#[test]
fn relationships_and_sightings() {
    for p in ["relationship_type", "source_ref", "target_ref"] {
        let e = broken(RELATIONSHIP, |o| {
            o.remove(p);
        });
        assert!(
            e.ends_with(&format!("({RELATIONSHIP}): missing required property {p}")),
            "{e}"
        );
    }
    let e = broken(RELATIONSHIP, |o| {
        o.insert("source_ref".into(), json!("indicator--71179bf4"));
    });
    assert!(
        e.ends_with(
            "property source_ref: \"indicator--71179bf4\" is not a STIX identifier (<type>--<UUID>)"
        ),
        "{e}"
    );
    let e = broken(RELATIONSHIP, |o| {
        o.insert("target_ref".into(), json!(RELATIONSHIP));
    });
    assert!(
        e.ends_with("property target_ref: must point to an SDO or SCO, not a relationship"),
        "{e}"
    );
    let e = broken(RELATIONSHIP, |o| {
        o.insert("relationship_type".into(), json!("Indicates"));
    });
    assert!(
        e.contains("property relationship_type: \"Indicates\" must be"),
        "{e}"
    );

    let sighting = "sighting--ec113fe4-bb7c-4a19-a449-ea151556ae4c";
    let e = broken(sighting, |o| {
        o.remove("sighting_of_ref");
    });
    assert!(
        e.ends_with("missing required property sighting_of_ref"),
        "{e}"
    );
    let e = broken(sighting, |o| {
        o.insert("sighting_of_ref".into(), json!(IPV4));
    });
    assert!(
        e.ends_with(
            "property sighting_of_ref: must point to an SDO (e.g. an indicator), not an ipv4-addr"
        ),
        "{e}"
    );
    let e = broken(sighting, |o| {
        o.insert("where_sighted_refs".into(), json!([MALWARE]));
    });
    assert!(
        e.ends_with(&format!(
            "property where_sighted_refs: \"{MALWARE}\" is not the id of an identity or location"
        )),
        "{e}"
    );
    let e = broken(sighting, |o| {
        o.insert("count".into(), json!(-1));
    });
    assert!(
        e.ends_with("property count: -1 is not an integer from 0 to 999999999"),
        "{e}"
    );
    let e = broken(sighting, |o| {
        o.insert("last_seen".into(), json!("2021-07-01T00:00:00Z"));
    });
    assert!(
        e.contains("property last_seen (2021-07-01T00:00:00Z) is earlier than first_seen"),
        "{e}"
    );
}

#[test]
fn observables() {
    let sco = |ty: &str, extra: Value| {
        let mut o = json!({"type": ty, "spec_version": "2.1", "id": format!("{ty}--2b1d7b5e-3f5c-5d8a-9e0f-6a7b8c9d0e1f")});
        o.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        o
    };
    let good = [
        ("ipv4-addr", json!({"value": "192.0.2.1"})),
        ("ipv4-addr", json!({"value": "203.0.113.0/24"})),
        ("ipv6-addr", json!({"value": "2001:db8::1"})),
        ("domain-name", json!({"value": "c2.example.com"})),
        (
            "url",
            json!({"value": "https://files.example.com/invoice.zip"}),
        ),
        ("email-addr", json!({"value": "billing@example.com"})),
        ("file", json!({"name": "agent.exe"})),
        (
            "file",
            json!({"hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"}}),
        ),
    ];
    for (ty, extra) in good {
        assert!(one(sco(ty, extra.clone())).is_ok(), "{ty} {extra}");
    }
    for ty in ["ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"] {
        assert!(
            one_err(sco(ty, json!({}))).ends_with("missing required property value"),
            "{ty}"
        );
    }
    let bad = [
        (
            "ipv4-addr",
            json!({"value": "999.0.2.1"}),
            "property value: \"999.0.2.1\" is not an IPv4 address",
        ),
        (
            "ipv4-addr",
            json!({"value": "2001:db8::1"}),
            "is not an IPv4 address",
        ),
        (
            "ipv4-addr",
            json!({"value": "192.0.2.0/33"}),
            "is not an IPv4 address",
        ),
        (
            "ipv6-addr",
            json!({"value": "192.0.2.1"}),
            "is not an IPv6 address",
        ),
        (
            "domain-name",
            json!({"value": "bad domain.example.com"}),
            "is not a domain name",
        ),
        (
            "url",
            json!({"value": "files.example.com/x"}),
            "is not a URL",
        ),
        (
            "email-addr",
            json!({"value": "billing.example.com"}),
            "is not an email address",
        ),
        (
            "file",
            json!({"size": 10}),
            "a file needs at least one of hashes or name",
        ),
        (
            "file",
            json!({"hashes": {"SHA-256": "abc"}}),
            "property hashes.SHA-256: not 64 hexadecimal digits",
        ),
        (
            "file",
            json!({"hashes": {}}),
            "property hashes is empty; give at least one algorithm → digest",
        ),
    ];
    for (ty, extra, want) in bad {
        let e = one_err(sco(ty, extra.clone()));
        assert!(e.contains(want), "{ty} {extra}: {e}");
    }
}

#[test]
fn references_anywhere_must_be_identifiers_of_the_right_type() {
    let e = broken(MALWARE, |o| {
        o.insert("created_by_ref".into(), json!(MALWARE));
    });
    assert!(
        e.ends_with(&format!(
            "property created_by_ref: \"{MALWARE}\" is not the id of an identity"
        )),
        "{e}"
    );
    let e = broken(MALWARE, |o| {
        o.insert("object_marking_refs".into(), json!([IDENTITY]));
    });
    assert!(
        e.contains("property object_marking_refs:") && e.contains("marking-definition"),
        "{e}"
    );
    let e = broken(MALWARE, |o| {
        o.insert("object_marking_refs".into(), json!("TLP:AMBER"));
    });
    assert!(
        e.contains("property object_marking_refs: \"TLP:AMBER\" is not a list of STIX identifiers"),
        "{e}"
    );
    // Nested, in a custom property or an extension: the path is named.
    let e = broken("domain-name--b46d8e1c-23ae-5e46-a09e-eaf6df369d81", |o| {
        o.insert("resolves_to_refs".into(), json!([IPV4, "198.51.100.23"]));
    });
    assert!(
        e.ends_with(
            "property resolves_to_refs: \"198.51.100.23\" is not a STIX identifier (<type>--<UUID>)"
        ),
        "{e}"
    );
    let mut b = example();
    let i = at(&b, MALWARE);
    b["objects"][i]["extensions"] = json!({"x-acme-ext": {"sample_ref": "sample-1"}});
    let e = validate(&b).unwrap_err();
    assert_eq!(e.property(), Some("extensions.x-acme-ext.sample_ref"));
    assert!(e.to_string().contains(&format!(
        "object {i} ({MALWARE}): property extensions.x-acme-ext.sample_ref: \"sample-1\""
    )));
    let e = broken(MALWARE, |o| {
        o.insert("x_acme_related_refs".into(), json!([]));
    });
    assert!(
        e.contains("property x_acme_related_refs is an empty list"),
        "{e}"
    );
    let e = broken(MALWARE, |o| {
        o.insert(
            "granular_markings".into(),
            json!([{"selectors": ["description"], "marking_ref": IDENTITY}]),
        );
    });
    assert!(
        e.contains("property granular_markings[0].marking_ref:"),
        "{e}"
    );
    let e = broken(MALWARE, |o| {
        o.insert(
            "external_references".into(),
            json!([{"url": "https://example.com/"}]),
        );
    });
    assert!(
        e.ends_with("missing required property external_references[0].source_name"),
        "{e}"
    );
    // References need not resolve inside the bundle.
    assert!(
        validate(&{
            let mut b = example();
            let i = at(&b, RELATIONSHIP);
            b["objects"][i]["target_ref"] = json!("malware--0b1f3c5e-7a9b-4c2d-8e4f-6a8b0c2d4e6f");
            b
        })
        .is_ok()
    );
}
