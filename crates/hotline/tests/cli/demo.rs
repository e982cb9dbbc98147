//! `hotline demo --once`: the July 9 storyline written and verified in v2
//! bundles, then the demo's nodes proved from on the command line as its
//! "what to try" lines say — a month's figures with a real inquiry in it,
//! met on us's observation from either side, and the Kremlin's claim refused.

use super::util::*;

fn keys(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for (p, witness) in [
        ("us", false),
        ("ru", false),
        ("us", true),
        ("ru", true),
        ("nato", true),
    ] {
        let d = root.join(p);
        let mut args = vec!["key", "--dir", d.to_str().unwrap()];
        if witness {
            args.push("--witness");
        }
        out.push("--key".to_owned());
        out.push(ok(&args).trim().to_owned());
    }
    out
}

fn verified(file: &str, keys: &[String]) -> String {
    let mut args = vec!["verify", file];
    args.extend(keys.iter().map(String::as_str));
    ok(&args)
}

#[test]
fn the_july_storyline_proves_and_verifies_in_v2() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("demo");
    let out = ok(&["demo", "--once", "--dir", root.to_str().unwrap()]);
    assert!(
        out.contains("REFUSED. The claim is false: us:")
            && out.contains("is an inquiry from us/fbi to ru/fsb dated 2021-06-18"),
        "{out}"
    );
    let keys = keys(&root);
    let bundle = |f: &str| root.join(f).to_str().unwrap().to_owned();
    for (file, kind, want) in [
        (
            "july-claim-delivery.json",
            "hotline/delivery/v2",
            "ru received it by 2021-06-18",
        ),
        (
            "july-claim-answered.json",
            "hotline/answered/v2",
            "It was answered within the agreed 30d, on us's observation",
        ),
        (
            "may-absence.json",
            "hotline/absence/v2",
            "No inquiry from us/fbi to ru/fsb dated (by us's clock) between 2021-05-10T00:00:00Z and 2021-06-09T00:00:00Z is in hotline/us",
        ),
        (
            "geneva-statement.json",
            "hotline/statement/v2",
            "Joint statement: us/president",
        ),
    ] {
        let f = bundle(file);
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains(&format!("\"bundle\": \"{kind}\"")), "{file}");
        let said = verified(&f, &keys);
        assert!(said.contains(want), "{file}: {said}");
    }

    // The figures of June 2021 from either node: one inquiry, receipted,
    // acknowledged and answered in time on us's observation.
    for p in ["us", "ru"] {
        let d = root.join(p);
        let f = bundle(&format!("june-{p}.json"));
        ok(&stats_args(d.to_str().unwrap(), "2021-06", &f));
        let said = verified(&f, &keys);
        for want in [
            "1 inquiries sent, complete by us's index",
            "1 receipted by ru as delivered",
            "Acknowledgement: 1 met (on us's observation), 0 missed (on ru's own signatures), 0 undetermined.",
            "Answer: 1 met (on us's observation), 0 missed (on ru's own signatures), 0 undetermined.",
        ] {
            assert!(said.contains(want), "{p}: {want:?} not in {said}");
        }
    }

    // The Kremlin's claim, asked of ru's node as the demo prints it.
    let ru = root.join("ru");
    let f = bundle("july-claim.json");
    let err = fails(&absence_args(
        ru.to_str().unwrap(),
        "2021-06-09T00:00:00Z",
        "2021-07-09T00:00:00Z",
        &f,
    ));
    assert!(
        err.contains("the claim is false: us:") && err.contains("no bundle written"),
        "{err}"
    );
    assert!(!std::path::Path::new(&f).exists(), "{f} was written");
}
