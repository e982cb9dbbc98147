//! The README's walkthrough runs as printed: its ```sh blocks, in order,
//! as one bash script in an empty directory with the built binary first on
//! PATH. A command the README shows that fails, or a file it uses without
//! making it, fails this test.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::util::bin;

const SECTION: &str = "## Five minutes with hotline";
const SKIP: &str = "<!-- readme-test: skip -->";

/// The ```sh blocks of the walkthrough section, in order, without the ones
/// marked with [`SKIP`] on the line above their fence.
fn walkthrough(readme: &str) -> Vec<String> {
    let start = readme
        .find(SECTION)
        .expect("the README has its walkthrough section");
    let rest = &readme[start + SECTION.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    let mut previous = "";
    while let Some(line) = lines.next() {
        if line.trim_end() == "```sh" {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| l.trim_end() != "```")
                .collect();
            if previous.trim() != SKIP {
                blocks.push(body.join("\n"));
            }
        }
        previous = line;
    }
    blocks
}

#[test]
fn the_extractor_takes_the_sections_blocks_in_order_and_skips_marked_ones() {
    let md = "# x\n```sh\nnot this\n```\n## Five minutes with hotline\n<!-- readme-test: skip -->\n```sh\ncargo build\n```\ntext\n```sh\none\n```\n```toml\nno\n```\n```sh\ntwo\nthree\n```\n## Words\n```sh\nafter\n```\n";
    assert_eq!(
        walkthrough(md),
        vec!["one".to_owned(), "two\nthree".to_owned()]
    );
}

#[test]
fn the_readme_walkthrough_runs_as_printed() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("reading README.md");
    let blocks = walkthrough(&readme);
    assert!(
        blocks.len() >= 5,
        "the walkthrough has its blocks: {blocks:?}"
    );
    let all = blocks.join("\n");
    for needed in [
        "hotline inquire",
        "hotline call request",
        "hotline call accept",
        "hotline call record",
        "hotline readout",
        "hotline statement propose",
        "hotline statement endorse",
        "hotline prove",
        "hotline verify",
        "date -u -d",
    ] {
        assert!(all.contains(needed), "the walkthrough covers `{needed}`");
    }
    let tmp = tempfile::tempdir().unwrap();
    // Any node the script leaves running is stopped when it ends, however it ends.
    let script =
        format!("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{all}\n");
    let bin_dir = std::path::Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(tmp.path())
        .env("PATH", path)
        .env("HOTLINE_LOG", "warn")
        .env_remove("HOTLINE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running bash");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (reader.join().unwrap(), err_reader.join().unwrap());
    let ok = status.is_some_and(|s| s.success());
    assert!(
        ok,
        "the README walkthrough {}:\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        if status.is_none() {
            "took over 300 s"
        } else {
            "failed"
        }
    );
    for sentence in ["Verified.", "Acknowledged", "Endorsed statement"] {
        assert!(
            stdout.contains(sentence),
            "the walkthrough printed {sentence:?}:\n{stdout}"
        );
    }
}
