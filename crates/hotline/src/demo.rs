//! `hotline demo`: the storyline of SCENARIO.md on embedded defaults.
//!
//! This first version plays what the core supports: two parties with the
//! scenario's offices, their identities exchanged and pinned, sealed messages
//! written to each side's own log, and a proof bundle checked offline.
//! Running it again resumes in the same directory.

use std::path::Path;

use anyhow::Result;
use hotline_node::dir::NodeDir;
use hotline_node::{InitOptions, Node};
use hotline_proto::bundle::{self, Keyring};
use hotline_proto::entry::Content;
use hotline_proto::name::{Office, Party};

const OFFICES: [(&str, &[&str]); 2] = [
    ("us", &["president", "defense", "state", "fbi"]),
    ("ru", &["president", "defense", "foreign", "fsb"]),
];

async fn party(root: &Path, name: &str, offices: &[&str]) -> Result<Node> {
    let dir = NodeDir::new(root.join(name));
    if !dir.config().exists() {
        Node::init(
            &dir,
            InitOptions {
                party: Party::new(name)?,
                origin: None,
                listen: "127.0.0.1:0".into(),
            },
        )?;
        println!("  created party {name} in {}", dir.root().display());
    }
    let node = Node::open(&dir)?;
    for o in offices {
        let office = Office::new(&format!("{name}/{o}"))?;
        if !node.offices().contains(&office) {
            let a = node.add_office(office.clone()).await?;
            println!(
                "  {office}: keys announced in {name}'s log, entry {}",
                a.index
            );
        }
    }
    Ok(node)
}

pub async fn run(root: &Path) -> Result<()> {
    println!("hotline demo in {}", root.display());
    println!("\n1. Two parties, each with its own node, keys and log:");
    let us = party(root, OFFICES[0].0, OFFICES[0].1).await?;
    let ru = party(root, OFFICES[1].0, OFFICES[1].1).await?;
    println!("\n2. Keys exchanged out of band and pinned (as the real hotline's agreement does):");
    us.add_peer(ru.identity())?;
    ru.add_peer(us.identity())?;
    println!(
        "  us pins {}\n  ru pins {}",
        ru.log_vkey().to_vkey(),
        us.log_vkey().to_vkey()
    );

    println!(
        "\n3. Sealed messages, each signed by its office and durable in the sender's own log:"
    );
    let (fbi, fsb) = (Office::new("us/fbi")?, Office::new("ru/fsb")?);
    let a = us
        .send_message(
            &fbi,
            &fsb,
            Content {
                text: "Inquiry: ransomware attack on a US supplier; indicators follow.".into(),
                lang: Some("en".into()),
            },
            None,
        )
        .await?;
    println!(
        "  us/fbi → ru/fsb: us log entry {} (leaf {})",
        a.index,
        hotline_proto::b64::encode(a.leaf_hash.0)
    );
    let b = ru
        .send_message(
            &fsb,
            &fbi,
            Content {
                text: "Запрос получен, проверяем.".into(),
                lang: Some("ru".into()),
            },
            None,
        )
        .await?;
    println!(
        "  ru/fsb → us/fbi: ru log entry {} (leaf {})",
        b.index,
        hotline_proto::b64::encode(b.leaf_hash.0)
    );

    println!("\n4. A proof anyone can check offline, with only the pinned party key:");
    let bundle_path = root.join(format!("us-entry-{}.json", a.index));
    std::fs::write(&bundle_path, us.reader().prove_entry(a.index)?)?;
    let v = bundle::verify(
        &std::fs::read(&bundle_path)?,
        &Keyring::new([us.log_vkey()]),
    )?;
    println!("  {}", v.sentence());

    let (u, r) = (root.join("us"), root.join("ru"));
    println!("\nTry next:");
    println!(
        "  hotline log --dir {}                      # us's log, one entry a line",
        u.display()
    );
    println!(
        "  hotline checkpoint --dir {}               # its latest C2SP checkpoint",
        u.display()
    );
    println!(
        "  hotline verify {} --key \"$(hotline key --dir {})\"",
        bundle_path.display(),
        u.display()
    );
    println!(
        "  hotline serve --dir {}                    # run ru's node (API, /metrics, /openapi.json)",
        r.display()
    );
    println!("\nRun `hotline demo` again to continue in the same directory.");
    Ok(())
}
