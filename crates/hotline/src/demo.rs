//! `hotline demo`: the storyline of SCENARIO.md on embedded defaults, live.
//!
//! One process runs three nodes on loopback: the parties `us` and `ru` with
//! the scenario's offices, and `nato`, a third witness that holds no offices.
//! Every pair is pinned both ways (party keys and TLS certificates), so each
//! log is mirrored and cosigned by both other parties. The demo plays the
//! storyline on a simulated clock (`hotline_node::clock`), so entries and
//! cosignatures carry its dates, January 2021 to October 2022: the
//! presidents' and the defence ministers' calls (each request, acceptance,
//! both sides' records and both sides' readouts, printed side by side), the
//! Geneva joint statement proved and verified, sealed messages, and the
//! us/fbi → ru/fsb inquiry of June 2021 whose proofs, written from ru's own
//! node, settle the Kremlin's claim of 2021-07-09. It
//! waits until each entry has its receipt back at the sender and every log is
//! cosigned by both others, prints where to look and what to try, and keeps
//! the nodes running until Ctrl-C. The time reached is kept in DIR/demo-clock:
//! running it again resumes there, without replaying the story (no log accepts
//! time going back).
//!
//! The parties are created, pinned and served by [`crate::harness`], which
//! `hotline bench link` shares.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use hotline_node::calls::CallRequest;
use hotline_node::clock;
use hotline_node::dir::{NodeDir, write_atomic};
use hotline_node::federation::status::peer_status;
use hotline_node::proofs::ProofSource;
use hotline_node::{Node, NodeError};
use hotline_proto::bundle::{self, Keyring};
use hotline_proto::checkpoint;
use hotline_proto::entry::{Content, Kind, Media, SignedEntry, Translation};
use hotline_proto::party::Office;
use jiff::Timestamp;

use crate::harness::{AGREEMENTS, Local, agree_all, create_party, pin_all, serve_all, wait_for};

/// `hotline demo` options.
#[derive(Args, Clone)]
pub struct DemoArgs {
    /// Where to keep the demo's parties (one node directory each).
    #[arg(long, default_value = "hotline-demo")]
    pub dir: PathBuf,
    /// Exit once the storyline is played, receipted and cosigned, instead of
    /// running until Ctrl-C (for scripts and tests).
    #[arg(long)]
    pub once: bool,
}

/// A demo party: its name, offices, and the loopback ports tried first.
struct Cast {
    name: &'static str,
    offices: &'static [&'static str],
    api_port: u16,
    peer_port: u16,
}

const CAST: [Cast; 3] = [
    Cast {
        name: "us",
        offices: &["president", "defense", "state", "fbi"],
        api_port: 7700,
        peer_port: 7701,
    },
    Cast {
        name: "ru",
        offices: &["president", "defense", "foreign", "fsb"],
        api_port: 7710,
        peer_port: 7711,
    },
    Cast {
        name: "nato",
        offices: &[],
        api_port: 7720,
        peer_port: 7721,
    },
];

/// Seconds between cosignature rounds in the demo (the default is 60).
const DEMO_COSIGN_SECS: u64 = 5;
/// How long an exchange (or a cosignature round) may take before the demo gives up.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Where the simulated clock starts on a fresh demo: the day before the
/// first message of SCENARIO.md step 2.
const START: &str = "2021-01-18T09:00:00Z";
/// The simulated time a run reached, kept in the demo directory (RFC 3339):
/// a resumed run starts its clock there, since no log accepts time going back.
const CLOCK_FILE: &str = "demo-clock";

/// Sealed messages of the storyline: (time, from, to, language, text).
/// Before the July 2021 call: SCENARIO.md step 3, after its call.
const BEFORE_JULY: [(&str, &str, &str, &str, &str); 1] = [(
    "2021-04-14T10:00:00Z",
    "us/president",
    "ru/president",
    "en",
    "Following yesterday's call: the President proposes a strategic stability dialogue, building on the extension of New START, and a summit in a third country.",
)];

/// After the July 2021 call: SCENARIO.md step 8, each after its call.
const AFTER_JULY: [(&str, &str, &str, &str, &str); 2] = [
    (
        "2022-05-13T19:00:00Z",
        "us/defense",
        "ru/defense",
        "en",
        "Following today's call: keep the defence communications line open and tested hourly.",
    ),
    (
        "2022-10-21T15:00:00Z",
        "ru/defense",
        "us/defense",
        "ru",
        "Подтверждаем: линия связи министерств обороны остаётся открытой.",
    ),
];

/// One side's readout of a call: (time, office, language, text, English
/// translation for a text in another language).
type Readout = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// A call of the storyline, played as entries: the request, the
/// acceptance, each side's `call.record` (the second referencing the first)
/// and each side's readout, each at its time on the simulated clock.
struct CallScene {
    from: &'static str,
    to: &'static str,
    media: Media,
    requested: &'static str,
    times: &'static [&'static str],
    topics: &'static [&'static str],
    note: &'static str,
    /// When the addressed office accepts, and for which time.
    accepted: (&'static str, &'static str),
    /// When the call started and ended.
    held: (&'static str, &'static str),
    /// Each side's record: (time written, office, participants); the first
    /// one written first.
    records: [(&'static str, &'static str, &'static [&'static str]); 2],
    readouts: [Readout; 2],
}

/// SCENARIO.md steps 2 and 3: the presidents' calls of January and April 2021.
const CALLS_BEFORE_JULY: [CallScene; 2] = [
    CallScene {
        from: "ru/president",
        to: "us/president",
        media: Media::Voice,
        requested: "2021-01-19T10:00:00Z",
        times: &["2021-01-26T15:00:00Z", "2021-01-27T15:00:00Z"],
        topics: &[
            "New START extension before it expires on 2021-02-05",
            "Navalny",
            "SolarWinds",
        ],
        note: "Президент Российской Федерации просит о телефонном разговоре с Президентом Соединённых Штатов.",
        accepted: ("2021-01-25T16:00:00Z", "2021-01-26T15:00:00Z"),
        held: ("2021-01-26T15:00:00Z", "2021-01-26T15:55:00Z"),
        records: [
            ("2021-01-26T16:00:00Z", "us/president", &["President Biden"]),
            ("2021-01-26T16:10:00Z", "ru/president", &["Президент Путин"]),
        ],
        readouts: [
            (
                "2021-01-26T19:00:00Z",
                "us/president",
                "en",
                "The presidents agreed to complete the extension of New START by February 5. President Biden raised the SolarWinds hack, the poisoning of Alexei Navalny and interference in the 2020 election, and made clear the United States will act firmly to defend its interests.",
                None,
            ),
            (
                "2021-01-27T09:00:00Z",
                "ru/president",
                "ru",
                "Президенты выразили удовлетворение завершением процедур по продлению Договора о СНВ. Владимир Путин отметил, что нормализация отношений между Россией и США отвечала бы интересам обеих стран.",
                Some(
                    "The presidents welcomed the completed procedures to extend New START. Vladimir Putin said that normal relations between Russia and the US would serve both countries' interests.",
                ),
            ),
        ],
    },
    CallScene {
        from: "us/president",
        to: "ru/president",
        media: Media::Voice,
        requested: "2021-04-12T20:00:00Z",
        times: &["2021-04-13T14:00:00Z"],
        topics: &["strategic stability", "Ukraine", "a summit"],
        note: "The President asks to speak with President Putin tomorrow.",
        accepted: ("2021-04-13T08:00:00Z", "2021-04-13T14:00:00Z"),
        held: ("2021-04-13T14:00:00Z", "2021-04-13T14:50:00Z"),
        records: [
            ("2021-04-13T15:00:00Z", "ru/president", &["Президент Путин"]),
            ("2021-04-13T15:05:00Z", "us/president", &["President Biden"]),
        ],
        readouts: [
            (
                "2021-04-13T18:00:00Z",
                "us/president",
                "en",
                "The leaders discussed a strategic stability dialogue on arms control, building on the extension of New START. President Biden voiced concern over the Russian military build-up in occupied Crimea and on Ukraine's borders, and proposed a summit in a third country.",
                None,
            ),
            (
                "2021-04-13T19:00:00Z",
                "ru/president",
                "ru",
                "Обсуждены стратегическая стабильность и контроль над вооружениями. Владимир Путин изложил подходы к урегулированию внутриукраинского кризиса; президенты договорились продолжить диалог.",
                Some(
                    "Strategic stability and arms control were discussed. Vladimir Putin set out his approach to settling the crisis within Ukraine; the presidents agreed to continue the dialogue.",
                ),
            ),
        ],
    },
];

/// SCENARIO.md step 7, the December 2021 video call.
const DECEMBER_CALL: CallScene = CallScene {
    from: "ru/president",
    to: "us/president",
    media: Media::Video,
    requested: "2021-12-04T08:00:00Z",
    times: &["2021-12-07T15:00:00Z"],
    topics: &["Ukraine", "NATO", "strategic stability"],
    note: "Уведомление: Президент Российской Федерации готов к видеоконференции 7 декабря 2021 года.",
    accepted: ("2021-12-04T20:00:00Z", "2021-12-07T15:00:00Z"),
    held: ("2021-12-07T15:00:00Z", "2021-12-07T17:02:00Z"),
    records: [
        ("2021-12-07T17:10:00Z", "ru/president", &["Президент Путин"]),
        ("2021-12-07T17:15:00Z", "us/president", &["President Biden"]),
    ],
    readouts: [
        (
            "2021-12-07T19:00:00Z",
            "us/president",
            "en",
            "President Biden voiced the deep concerns of the United States and its European allies about Russia's escalation of forces around Ukraine, and made clear that they would respond with strong economic and other measures in the event of military escalation.",
            None,
        ),
        (
            "2021-12-07T20:00:00Z",
            "ru/president",
            "ru",
            "Владимир Путин подчеркнул, что ответственность за нарастание напряжённости не следует перекладывать на Россию: опасные попытки освоения украинской территории предпринимает НАТО. Россия заинтересована в юридических гарантиях нерасширения НАТО на восток.",
            Some(
                "Vladimir Putin stressed that Russia must not be blamed for the rising tension: it is NATO that makes dangerous attempts to gain ground in Ukraine. Russia wants legal guarantees that NATO will not expand eastward.",
            ),
        ),
    ],
};

/// SCENARIO.md step 8: the defence ministers' calls of May and October 2022.
const DEFENSE_CALLS: [CallScene; 2] = [
    CallScene {
        from: "us/defense",
        to: "ru/defense",
        media: Media::Voice,
        requested: "2022-05-12T14:00:00Z",
        times: &["2022-05-13T14:00:00Z"],
        topics: &["lines of communication", "Ukraine"],
        note: "The Secretary of Defense requests a call with the Minister of Defence.",
        accepted: ("2022-05-13T08:00:00Z", "2022-05-13T14:00:00Z"),
        held: ("2022-05-13T14:00:00Z", "2022-05-13T15:00:00Z"),
        records: [
            ("2022-05-13T15:10:00Z", "us/defense", &["Secretary Austin"]),
            ("2022-05-13T15:15:00Z", "ru/defense", &["Министр Шойгу"]),
        ],
        readouts: [
            (
                "2022-05-13T17:00:00Z",
                "us/defense",
                "en",
                "Secretary Austin urged an immediate ceasefire in Ukraine and emphasized the importance of maintaining lines of communication.",
                None,
            ),
            (
                "2022-05-13T18:00:00Z",
                "ru/defense",
                "ru",
                "Обсуждены актуальные вопросы международной безопасности, в том числе ситуация на Украине.",
                Some(
                    "Current issues of international security were discussed, including the situation in Ukraine.",
                ),
            ),
        ],
    },
    CallScene {
        from: "us/defense",
        to: "ru/defense",
        media: Media::Voice,
        requested: "2022-10-20T14:00:00Z",
        times: &["2022-10-21T10:00:00Z"],
        topics: &["lines of communication"],
        note: "The Secretary of Defense requests a call with the Minister of Defence.",
        accepted: ("2022-10-21T08:00:00Z", "2022-10-21T10:00:00Z"),
        held: ("2022-10-21T10:00:00Z", "2022-10-21T10:45:00Z"),
        records: [
            ("2022-10-21T11:00:00Z", "ru/defense", &["Министр Шойгу"]),
            ("2022-10-21T11:05:00Z", "us/defense", &["Secretary Austin"]),
        ],
        readouts: [
            (
                "2022-10-21T13:00:00Z",
                "us/defense",
                "en",
                "Secretary Austin emphasized the importance of maintaining lines of communication amid the ongoing war against Ukraine.",
                None,
            ),
            (
                "2022-10-21T14:00:00Z",
                "ru/defense",
                "ru",
                "Министры обсудили актуальные вопросы международной безопасности, включая обстановку на Украине.",
                Some(
                    "The ministers discussed current issues of international security, including the situation in Ukraine.",
                ),
            ),
        ],
    },
];

/// SCENARIO.md step 4: the joint statement of the Geneva summit, proposed by
/// us/president and endorsed by ru/president.
const GENEVA: (&str, &str, &str) = (
    "2021-06-16T15:00:00Z",
    "2021-06-16T15:30:00Z",
    "We, President of the United States of America Joseph R. Biden and President of the Russian Federation Vladimir Putin, note the United States and Russia have demonstrated that, even in periods of tension, they are able to make progress on our shared goals of ensuring predictability in the strategic sphere, reducing the risk of armed conflicts and the threat of nuclear war. The recent extension of the New START Treaty exemplifies our commitment to nuclear arms control. Today, we reaffirm the principle that a nuclear war cannot be won and must never be fought. Consistent with these goals, the United States and Russia will embark together on an integrated bilateral Strategic Stability Dialogue in the near future that will be deliberate and robust. Through this Dialogue, we seek to lay the groundwork for future arms control and risk reduction measures.",
);

/// The inquiry of SCENARIO.md step 5, and its window (step 6): the month
/// before the 2021-07-09 call, and the month before that.
const INQUIRY_AT: &str = "2021-06-18T14:00:00Z";
const ACK_AT: &str = "2021-06-19T09:30:00Z";
const ANSWER_AT: &str = "2021-06-30T12:00:00Z";
const MAY: &str = "2021-05-10T00:00:00Z";
const JUNE: &str = "2021-06-09T00:00:00Z";
const JULY: &str = "2021-07-09T00:00:00Z";

fn ts(s: &str) -> Result<Timestamp> {
    s.parse()
        .with_context(|| format!("{s:?} is not an RFC 3339 time"))
}

// ---------------------------------------------------------------------------
// The demo.

/// Opens (creating if missing) one demo party and its offices.
async fn open_party(root: &Path, cast: &Cast) -> Result<Node> {
    let dir = NodeDir::new(root.join(cast.name));
    let created = !dir.config().exists();
    if created {
        create_party(
            &dir,
            cast.name,
            &format!("127.0.0.1:{}", cast.api_port),
            &format!("127.0.0.1:{}", cast.peer_port),
            DEMO_COSIGN_SECS,
        )?;
    }
    let node = match Node::open(&dir) {
        Ok(n) => n,
        Err(NodeError::Busy(_)) => bail!(
            "another process is running {} (a `hotline demo` or `hotline serve` on it?); stop it first",
            dir.root().display()
        ),
        Err(e) => return Err(e.into()),
    };
    let mut announced = Vec::new();
    for o in cast.offices {
        let office = Office::new(&format!("{}/{o}", cast.name))?;
        if !node.offices().contains(&office) {
            let a = node.add_office(office.clone()).await?;
            announced.push(format!("{office} (entry {})", a.index));
        }
    }
    let what = if created { "created" } else { "resumed" };
    let size = node.reader().size()?;
    if announced.is_empty() {
        println!(
            "  {:<5} {what} in {}: log of {size} entries, cosigned every {} s",
            cast.name,
            dir.root().display(),
            node.config().cosign_interval_secs
        );
    } else {
        println!(
            "  {:<5} {what} in {}; office keys announced: {}",
            cast.name,
            dir.root().display(),
            announced.join(", ")
        );
    }
    Ok(node)
}

/// The demo's console login for a party with offices: operator `duty`, an
/// admin acting for every office, with a password made once and kept (mode
/// 0600) in the party's directory, so a resumed demo prints the same one.
fn console_login(node: &Node) -> Result<Option<(String, String)>> {
    use rand_core::RngCore as _;
    let offices = node.offices();
    if offices.is_empty() {
        return Ok(None);
    }
    let file = node.dir().root().join("console-password");
    let ops = hotline_console::operators::Operators::of(node)?;
    if let (Ok(p), Some(_)) = (std::fs::read_to_string(&file), ops.get("duty")?) {
        return Ok(Some(("duty".into(), p.trim().to_owned())));
    }
    let mut bytes = [0u8; 12];
    hotline_proto::keys::os_rng().fill_bytes(&mut bytes);
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if ops.get("duty")?.is_some() {
        ops.set_password("duty", &password)?;
    } else {
        ops.add("duty", &offices, true, &password)?;
    }
    hotline_node::dir::write_secret(&file, &password)
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(Some(("duty".into(), password)))
}

/// One entry of the storyline that waits for a receipt, once sent.
struct Sent {
    date: &'static str,
    from: usize,
    to: usize,
    from_office: &'static str,
    to_office: &'static str,
    index: u64,
    /// Where the receiver's receipt sits in its log, once the sender's mirror holds it.
    receipt: Option<u64>,
}

/// What the wait has seen so far.
struct Progress {
    /// Per (sender, receiver): how far the sender's mirror has been read.
    cursors: HashMap<(usize, usize), u64>,
    receipted: usize,
    cosigned: usize,
}

fn party_index(office: &str) -> usize {
    let p = office.split('/').next().unwrap_or_default();
    CAST.iter().position(|c| c.name == p).unwrap_or(0)
}

/// Reads what is new in each sender's mirror of each receiver's log and
/// notes the receipts for the messages sent.
fn read_receipts(parties: &[Local], sent: &mut [Sent], prog: &mut Progress) -> Result<()> {
    for (&(s, r), cursor) in &mut prog.cursors {
        let mirror = parties[s].node.mirror_reader(parties[r].node.party())?;
        loop {
            let leaves = mirror.store.leaves(mirror.log, *cursor, 1000)?;
            let Some(last) = leaves.last().map(|l| l.index) else {
                break;
            };
            for l in &leaves {
                let e = SignedEntry::from_leaf(&l.leaf)?;
                let h = e.header();
                if h.kind != Kind::Receipt {
                    continue;
                }
                let Some(rf) = h.refs.first() else { continue };
                if &rf.log != parties[s].node.party() {
                    continue;
                }
                for m in sent.iter_mut() {
                    if m.from == s && m.to == r && m.index == rf.index && m.receipt.is_none() {
                        m.receipt = Some(l.index);
                    }
                }
            }
            *cursor = last + 1;
        }
    }
    prog.receipted = sent.iter().filter(|m| m.receipt.is_some()).count();
    Ok(())
}

/// The (log writer, witness) pairs whose cosignature the writer's latest
/// checkpoint does not carry yet, checked as a verifier would: each line
/// against the pinned key.
fn missing_cosignatures(parties: &[Local]) -> Result<Vec<(usize, usize)>> {
    let mut missing = Vec::new();
    for (i, p) in parties.iter().enumerate() {
        let (size, note) = p.node.reader().checkpoint()?;
        let others: Vec<usize> = (0..parties.len()).filter(|&j| j != i).collect();
        let keys: Vec<_> = others
            .iter()
            .map(|&j| parties[j].node.witness_vkey())
            .collect();
        let cp = checkpoint::verify(&note, &p.node.log_vkey(), &keys)?;
        let current = size == p.node.reader().size()?;
        for (&j, key) in others.iter().zip(&keys) {
            if current && cp.cosignatures.iter().any(|c| c.name == key.name()) {
                continue;
            }
            missing.push((i, j));
        }
    }
    Ok(missing)
}

/// Waits until every message has its receipt back at its sender and every
/// log's latest checkpoint is cosigned by both other parties, showing
/// progress on standard error.
/// Where each sender's mirror of each receiver's log stands before this
/// run's messages: their receipts can only come after.
fn receipt_cursors(parties: &[Local]) -> Result<HashMap<(usize, usize), u64>> {
    let mut cursors = HashMap::new();
    for s in 0..parties.len() {
        for r in 0..parties.len() {
            if s != r {
                cursors.insert(
                    (s, r),
                    parties[s]
                        .node
                        .mirror_reader(parties[r].node.party())?
                        .size()?,
                );
            }
        }
    }
    Ok(cursors)
}

async fn settle(
    parties: &[Local],
    sent: &mut [Sent],
    cursors: HashMap<(usize, usize), u64>,
) -> Result<Duration> {
    let started = Instant::now();
    let mut prog = Progress {
        cursors,
        receipted: 0,
        cosigned: 0,
    };
    let tty = std::io::stderr().is_terminal();
    let mut shown = String::new();
    loop {
        read_receipts(parties, sent, &mut prog)?;
        let missing = missing_cosignatures(parties)?;
        prog.cosigned = (0..parties.len())
            .filter(|i| !missing.iter().any(|m| m.0 == *i))
            .count();
        let done = prog.receipted == sent.len() && prog.cosigned == parties.len();
        let line = format!(
            "  waiting: receipts back at the sender {}/{}, logs cosigned by both other parties {}/{}",
            prog.receipted,
            sent.len(),
            prog.cosigned,
            parties.len()
        );
        if tty {
            eprint!("\r{line} ({:.1} s) ", started.elapsed().as_secs_f64());
            let _ = std::io::stderr().flush();
        } else if line != shown {
            eprintln!("{line}");
        }
        shown = line;
        if done {
            if tty {
                eprintln!();
            }
            return Ok(started.elapsed());
        }
        if started.elapsed() > SETTLE_TIMEOUT {
            if tty {
                eprintln!();
            }
            let mut why = Vec::new();
            for p in parties {
                for peer in p.node.federation().all() {
                    let st = peer_status(&p.node, &peer)?;
                    why.extend(
                        st.alerts
                            .iter()
                            .map(|a| format!("{} → {}: {a}", p.node.party(), st.peer)),
                    );
                }
            }
            bail!(
                "the exchange did not settle within {} s ({shown}){}",
                SETTLE_TIMEOUT.as_secs(),
                if why.is_empty() {
                    String::new()
                } else {
                    format!("; {}", why.join("; "))
                }
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn short_time(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// One block per party: log size, mirrors held, last cosignatures of its log.
fn print_table(parties: &[Local]) -> Result<()> {
    println!(
        "  {:<5} {:>5}  {:<22} last cosignature of its log (witness time, UTC)",
        "party", "log", "mirrors held"
    );
    for p in parties {
        let mut mirrors = Vec::new();
        let mut cosigs = Vec::new();
        for peer in p.node.federation().all() {
            let st = peer_status(&p.node, &peer)?;
            mirrors.push(format!("{} {}", st.peer, st.mirror_size));
            cosigs.push(match &st.own_log_cosigned {
                Some(c) => format!("{} at {} (size {})", st.peer, short_time(&c.time), c.size),
                None => format!("{} never", st.peer),
            });
        }
        println!(
            "  {:<5} {:>5}  {:<22} {}",
            p.node.party().as_str(),
            p.node.reader().size()?,
            mirrors.join(", "),
            cosigs.join(", ")
        );
    }
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM.
async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

pub async fn run(args: &DemoArgs) -> Result<()> {
    let root = args.dir.as_path();
    let resumed = start_clock(root)?;
    println!(
        "hotline demo in {} — three parties' nodes on loopback, in this one process,",
        root.display()
    );
    println!(
        "on a simulated clock (now {} UTC) that runs at real speed and jumps ahead between scenes",
        day_time(&clock::now())
    );

    println!(
        "\n1. Parties, each with its own node, keys and log (nato: a third witness, no offices):"
    );
    let mut parties = Vec::new();
    for cast in &CAST {
        let node = open_party(root, cast).await?;
        parties.push(Local::bind(node, cast.api_port, cast.peer_port).await?);
    }

    println!(
        "\n2. Each pair pins the other's party keys and TLS certificate, both ways (us⇄ru, us⇄nato, ru⇄nato);"
    );
    println!(
        "   every log is pushed to both other parties, who verify each entry, mirror it and cosign its checkpoints."
    );
    pin_all(&parties)?;
    for p in &parties {
        println!(
            "  {:<5} API http://{}   peer link {} (pinned TLS 1.3)",
            p.node.party().as_str(),
            p.api,
            p.peer_url()
        );
        let (dir, config) = (p.node.dir(), p.node.config());
        if let Ok(c) =
            hotline_node::tls::ApiCert::load(&dir.api_key(&config.api), &dir.api_cert(&config.api))
        {
            println!(
                "        its HTTPS certificate (served off loopback) has SHA-256 fingerprint {}",
                c.fingerprint()
            );
        }
    }
    println!(
        "\n   The operator console of each party, ready to sign in (an admin acting for all its offices):"
    );
    for p in &parties {
        if let Some((name, password)) = console_login(&p.node)? {
            println!(
                "  {:<5} http://{}/   operator {name}   password {password}",
                p.node.party().as_str(),
                p.api
            );
        }
    }
    let serving = serve_all(&mut parties)?;
    // From here on Ctrl-C stops the nodes cleanly, during the exchange too.
    let stop = interrupted();
    tokio::pin!(stop);
    let result = tokio::select! {
        r = exchange(root, &parties, args.once, resumed) => r.map(|()| false),
        () = &mut stop => Ok(true),
    };
    if matches!(result, Ok(false)) && !args.once {
        println!(
            "\nRunning. Ctrl-C stops all three nodes; `hotline demo --dir {}` resumes.",
            root.display()
        );
        stop.await;
    }
    let stopping = matches!(result, Ok(true)) || !args.once;
    if stopping {
        eprintln!("\nstopping the nodes…");
    }
    let stopped = serving.stop().await;
    drop(parties);
    // Where the clock got to, for the next run (it must not go back).
    let kept = save_clock(root);
    result?;
    stopped?;
    kept?;
    if stopping {
        eprintln!(
            "stopped cleanly; `hotline demo --dir {}` resumes.",
            root.display()
        );
    }
    Ok(())
}

/// The STIX 2.1 bundle the demo's inquiry carries.
const STIX_EXAMPLE: &str = include_str!("../../../examples/stix-ransomware.json");

// ---------------------------------------------------------------------------
// The simulated clock.

/// Starts the simulated clock: at [`START`] in a fresh directory, or where
/// the last run left it. Returns that time on a resumed run.
fn start_clock(root: &Path) -> Result<Option<Timestamp>> {
    let file = root.join(CLOCK_FILE);
    if file.exists() {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let t = ts(text.trim()).with_context(|| format!("in {}", file.display()))?;
        clock::simulate_from(t);
        return Ok(Some(t));
    }
    if let Some(c) = CAST
        .iter()
        .find(|c| NodeDir::new(root.join(c.name)).config().exists())
    {
        bail!(
            "{} holds a party ({}) but no {CLOCK_FILE}: it was made by an older demo on the real clock, \
             and the storyline's 2021 dates cannot be written after it; use a fresh --dir",
            root.display(),
            c.name
        );
    }
    clock::simulate_from(ts(START)?);
    Ok(None)
}

/// Keeps the clock's current time in DIR/demo-clock (once a party exists).
fn save_clock(root: &Path) -> Result<()> {
    if !NodeDir::new(root.join(CAST[0].name)).config().exists() {
        return Ok(());
    }
    let file = root.join(CLOCK_FILE);
    let now = clock::now().round(jiff::Unit::Second)? + jiff::SignedDuration::from_secs(1);
    write_atomic(&file, format!("{now}\n").as_bytes())
        .with_context(|| format!("writing {}", file.display()))
}

fn day_time(t: &Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

/// Moves the simulated clock forward to `t` once every entry written so
/// far has reached every mirror. The clock jumps by weeks, far beyond the
/// allowed skew, and a witness refuses an entry dated before its own
/// latest cosignature of that log (an entry still in flight when a witness
/// cosigns at the new time would look backdated); in real time the same
/// gap is seconds and the skew covers it.
async fn jump(parties: &[Local], t: Timestamp) -> Result<()> {
    if t <= clock::now() {
        return Ok(());
    }
    let started = Instant::now();
    let mut quiet = 0;
    while quiet < 2 {
        let mut behind = Vec::new();
        for p in parties {
            let size = p.node.reader().size()?;
            for q in parties {
                if std::ptr::eq(p, q) {
                    continue;
                }
                let held = q
                    .node
                    .mirror_reader(p.node.party())
                    .ok()
                    .map(|r| r.store.size(r.log))
                    .transpose()?;
                if held.is_some_and(|h| h < size) {
                    behind.push(format!("{}'s mirror of {}", q.node.party(), p.node.party()));
                }
            }
        }
        if behind.is_empty() {
            quiet += 1;
        } else {
            quiet = 0;
            if started.elapsed() > SETTLE_TIMEOUT {
                bail!(
                    "entries not delivered within {} s before moving the clock to {t}: {}",
                    SETTLE_TIMEOUT.as_secs(),
                    behind.join(", ")
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    clock::advance_to(t);
    Ok(())
}

/// Moves the clock to `t` and waits until every log carries a cosignature
/// from each other party made at or after `t`, so that the witnesses' own
/// signed times mark the moment.
async fn tick(root: &Path, parties: &[Local], t: Timestamp) -> Result<()> {
    jump(parties, t).await?;
    save_clock(root)?;
    let started = Instant::now();
    loop {
        let mut waiting = Vec::new();
        for p in parties {
            for peer in p.node.federation().all() {
                let done = hotline_node::federation::status::peer_status(&p.node, &peer)?
                    .own_log_cosigned
                    .is_some_and(|c| c.time.as_second() >= t.as_second());
                if !done {
                    peer.cosign_now.notify_one();
                    waiting.push(format!("{}'s log by {}", p.node.party(), peer.party));
                }
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        if started.elapsed() > SETTLE_TIMEOUT {
            bail!(
                "no cosignature at {t} within {} s: {}",
                SETTLE_TIMEOUT.as_secs(),
                waiting.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------
// The storyline.

/// Sends the messages of `script`, each at its time.
async fn send_all(
    parties: &[Local],
    script: &[(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
    sent: &mut Vec<Sent>,
) -> Result<()> {
    for &(at, from, to, lang, text) in script {
        let t = ts(at)?;
        jump(parties, t).await?;
        let (fi, ti) = (party_index(from), party_index(to));
        let a = parties[fi]
            .node
            .send_message(
                &Office::new(from)?,
                &Office::new(to)?,
                Content::text(text, Some(lang.into())),
                None,
            )
            .await?;
        println!(
            "  {}  {from:<12} → {to:<12}  message   {}:{}",
            day_time(&t),
            CAST[fi].name,
            a.index
        );
        sent.push(Sent {
            date: &at[..10],
            from: fi,
            to: ti,
            from_office: from,
            to_office: to,
            index: a.index,
            receipt: None,
        });
    }
    Ok(())
}

async fn tick_line(root: &Path, parties: &[Local], at: &str, why: &str) -> Result<()> {
    let t = ts(at)?;
    tick(root, parties, t).await?;
    println!(
        "  {}  every log cosigned by both other parties at this time{why}",
        day_time(&t)
    );
    Ok(())
}

/// Prints how each message came back receipted.
fn print_receipts(sent: &[Sent], took: Duration) {
    for m in sent {
        println!(
            "  {} {}:{} ({} → {}): receipt {}:{}",
            m.date,
            CAST[m.from].name,
            m.index,
            m.from_office,
            m.to_office,
            CAST[m.to].name,
            m.receipt.unwrap_or_default()
        );
    }
    println!(
        "  all receipted and cosigned {:.1} s (real time) after the last entry",
        took.as_secs_f64()
    );
}

/// The node of the party an office belongs to.
fn node_of<'a>(parties: &'a [Local], office: &str) -> &'a Node {
    &parties[party_index(office)].node
}

/// The pinned keys a verifier of the demo's bundles holds: both parties'
/// log keys and all three witnesses' keys.
fn keyring(parties: &[Local]) -> Keyring {
    let (us, ru, nato) = (&parties[0].node, &parties[1].node, &parties[2].node);
    Keyring::new([
        us.log_vkey(),
        ru.log_vkey(),
        us.witness_vkey(),
        ru.witness_vkey(),
        nato.witness_vkey(),
    ])
}

/// Plays a call of the storyline on the simulated clock: the request, the
/// acceptance, both sides' records (the second written once its node holds
/// the first, which it then references) and both sides' readouts. Prints
/// the call as us's node reads it from both logs; returns its id.
async fn play_call(parties: &[Local], s: &CallScene) -> Result<String> {
    let (from, to) = (Office::new(s.from)?, Office::new(s.to)?);
    let (a, b) = (node_of(parties, s.from), node_of(parties, s.to));
    jump(parties, ts(s.requested)?).await?;
    let req = CallRequest {
        media: s.media,
        times: s.times.iter().map(|t| ts(t)).collect::<Result<_>>()?,
        topics: s.topics.iter().map(|t| (*t).to_owned()).collect(),
        note: s.note.to_owned(),
    };
    let id = format!(
        "{}:{}",
        from.party(),
        a.call_request(&from, &to, req).await?.index
    );
    wait_for(
        || b.call(&id).is_ok(),
        "the call request reaching the other side",
    )
    .await?;
    jump(parties, ts(s.accepted.0)?).await?;
    b.call_accept(&id, ts(s.accepted.1)?, String::new()).await?;
    let (start, end) = (ts(s.held.0)?, ts(s.held.1)?);
    for (i, (at, office, who)) in s.records.iter().enumerate() {
        let n = node_of(parties, office);
        wait_for(
            || {
                n.call(&id)
                    .is_ok_and(|c| c.accepted.is_some() && c.records.len() == i)
            },
            "the other side's entries of the call reaching this side",
        )
        .await?;
        jump(parties, ts(at)?).await?;
        let who = who.iter().map(|w| (*w).to_owned()).collect();
        n.call_record(&id, start, end, who).await?;
    }
    for (at, office, lang, text, en) in &s.readouts {
        jump(parties, ts(at)?).await?;
        let mut c = Content::text(*text, Some((*lang).to_owned()));
        if let Some(en) = en {
            c.translations.push(Translation {
                lang: "en".into(),
                text: (*en).to_owned(),
            });
        }
        node_of(parties, office)
            .readout(&id, &Office::new(office)?, c)
            .await?;
    }
    let us = &parties[0].node;
    wait_for(
        || {
            us.call(&id)
                .is_ok_and(|c| c.records.len() == 2 && c.readouts.len() == 2)
        },
        "both sides' records and readouts reaching us",
    )
    .await?;
    print_call(us, &us.call(&id)?);
    Ok(id)
}

/// A call as `node` reads it from both logs: who asked, when it was held,
/// both records, and each side's readout with who signed it and when (the
/// readouts opened with the node's key of the call's office).
fn print_call(node: &Node, c: &hotline_node::calls::Call) {
    let media = c.media.map_or_else(|| "a".to_owned(), |m| format!("a {m}"));
    println!(
        "  {:<6} {} → {}: {media} call, requested {}; topics: {}",
        c.id,
        c.from,
        c.to,
        day_time(&c.requested_at),
        c.topics.join("; ")
    );
    if let Some((aid, at)) = &c.accepted {
        let held = match c.records.first() {
            Some(r) => {
                let by: Vec<String> = c
                    .records
                    .iter()
                    .map(|r| format!("{} ({})", r.id, r.office))
                    .collect();
                format!(
                    "held {} to {} UTC ({}), recorded by {}",
                    day_time(&r.start),
                    r.end.strftime("%H:%M"),
                    hotline_proto::claims::fmt_duration(
                        i64::try_from(r.duration_secs).unwrap_or(i64::MAX)
                    ),
                    by.join(" and ")
                )
            }
            None => "not recorded yet".into(),
        };
        println!("         accepted in {aid} for {}; {held}", day_time(at));
    }
    for r in &c.readouts {
        let content = hotline_proto::agreement::parse_id(&r.id)
            .and_then(|(party, index)| node.open_entry(&party, index));
        let Some(content) = content else {
            println!(
                "         readout {} by {}, signed {} (sealed to others)",
                r.id,
                r.office,
                day_time(&r.time)
            );
            continue;
        };
        println!(
            "         readout {} by {}, signed {} UTC ({}): {}",
            r.id,
            r.office,
            day_time(&r.time),
            content.lang.as_deref().unwrap_or("-"),
            content.text
        );
        for t in content.translations.iter().filter(|t| t.lang == "en") {
            println!(
                "             in English, under the same signature: {}",
                t.text
            );
        }
    }
}

/// SCENARIO step 4: the Geneva joint statement, proposed by us/president,
/// endorsed by ru/president, proved from us's node and verified.
async fn geneva(root: &Path, parties: &[Local]) -> Result<()> {
    let (us, ru) = (&parties[0].node, &parties[1].node);
    let (usp, rup) = (Office::new("us/president")?, Office::new("ru/president")?);
    let (proposed, endorsed, text) = GENEVA;
    jump(parties, ts(proposed)?).await?;
    let st = us
        .statement(&usp, &rup, Content::text(text, Some("en".into())))
        .await?;
    let id = format!("{}:{}", us.party(), st.index);
    wait_for(
        || ru.statements().is_ok_and(|l| l.iter().any(|s| s.id == id)),
        "the statement reaching ru",
    )
    .await?;
    jump(parties, ts(endorsed)?).await?;
    let e = ru.endorse(&id, text).await?;
    println!(
        "  {}  us/president → ru/president  statement {id} (the Geneva summit's, on strategic stability)",
        day_time(&ts(proposed)?)
    );
    println!(
        "  {}  ru/president → us/president  endorsement ru:{} of exactly its text (same SHA-256)",
        day_time(&ts(endorsed)?),
        e.index
    );
    wait_for(
        || {
            us.statements()
                .is_ok_and(|l| l.iter().any(|s| s.id == id && s.endorsement.is_some()))
        },
        "the endorsement reaching us",
    )
    .await?;
    tick(root, parties, ts(endorsed)?).await?;
    let src = ProofSource::open(&NodeDir::new(root.join("us")))?;
    write_and_verify(
        root,
        "geneva-statement.json",
        &src.statement(&id)?,
        &keyring(parties),
    )?;
    Ok(())
}

/// SCENARIO steps 2 to 5 up to the July 2021 call; returns the inquiry's id.
async fn before_july(root: &Path, parties: &[Local]) -> Result<String> {
    println!(
        "\n4. 2021, January to July: the presidents' calls (request, acceptance, each side's record and readout),"
    );
    println!(
        "   a message, the Geneva joint statement, then an inquiry under the cybercrime channel (each entry"
    );
    println!(
        "   signed by its office, sealed to both offices, dated by the clock of the log that holds it):"
    );
    let cursors = receipt_cursors(parties)?;
    let mut sent = Vec::new();
    for call in &CALLS_BEFORE_JULY {
        play_call(parties, call).await?;
    }
    send_all(parties, &BEFORE_JULY, &mut sent).await?;
    tick_line(root, parties, MAY, "").await?;
    tick_line(root, parties, JUNE, " (a month before the July 9 call)").await?;
    geneva(root, parties).await?;

    let (us, ru) = (&parties[0].node, &parties[1].node);
    let (fbi, fsb) = (Office::new("us/fbi")?, Office::new("ru/fsb")?);
    jump(parties, ts(INQUIRY_AT)?).await?;
    let stix: serde_json::Value =
        serde_json::from_str(STIX_EXAMPLE).context("examples/stix-ransomware.json")?;
    let q = us
        .inquire(
            &fbi,
            &fsb,
            Content {
                text: "Ransomware attacks on US companies since May 2021. Indicators in the attached STIX bundle. \
                       Please identify the operators and their infrastructure in Russia."
                    .into(),
                lang: Some("en".into()),
                subject: Some("Ransomware attacks on US companies — request for assistance".into()),
                attachments: vec![],
                stix: Some(stix),
                translations: vec![],
                call: None,
            },
        )
        .await?;
    let id = format!("{}:{}", us.party(), q.index);
    println!(
        "  {}  us/fbi       → ru/fsb        inquiry   {id} (with a STIX 2.1 bundle)",
        day_time(&ts(INQUIRY_AT)?)
    );
    sent.push(Sent {
        date: &INQUIRY_AT[..10],
        from: 0,
        to: 1,
        from_office: "us/fbi",
        to_office: "ru/fsb",
        index: q.index,
        receipt: None,
    });
    tick(root, parties, ts(INQUIRY_AT)?).await?;
    // ru acts on the inquiry once its mirror of us's log holds it.
    wait_for(|| ru.inquiry(&id).is_ok(), "the inquiry reaching ru").await?;

    jump(parties, ts(ACK_AT)?).await?;
    let a = ru.ack(&id).await?;
    println!(
        "  {}  ru/fsb       → us/fbi        ack       ru:{} (deadline: 24 h)",
        day_time(&ts(ACK_AT)?),
        a.index
    );
    jump(parties, ts(ANSWER_AT)?).await?;
    let a = ru
        .answer(
            &id,
            Content::text(
                "Запрос рассмотрен. Указанная инфраструктура за пределами Российской Федерации; \
                 проверка продолжается.",
                Some("ru".into()),
            ),
        )
        .await?;
    println!(
        "  {}  ru/fsb       → us/fbi        answer    ru:{} (deadline: 30 days)",
        day_time(&ts(ANSWER_AT)?),
        a.index
    );
    tick_line(root, parties, JULY, " (the day of the call)").await?;

    println!(
        "\n5. Delivery: each receiver verifies the entry and writes a signed receipt into its own log;"
    );
    println!(
        "   the sender's mirror of that log receives it; the witnesses cosign each log as it grows."
    );
    let took = settle(parties, &mut sent, cursors).await?;
    print_receipts(&sent, took);
    Ok(id)
}

/// The Kremlin's claim of 2021-07-09, checked from ru's own node.
fn july_claim(root: &Path, parties: &[Local], id: &str) -> Result<()> {
    let us = &parties[0].node;
    let d = |name: &str| root.join(name).display().to_string();
    let ru_dir = d("ru");
    let src = ProofSource::open(&NodeDir::new(root.join("ru")))?;
    let (fbi, fsb) = (Office::new("us/fbi")?, Office::new("ru/fsb")?);
    let (may, june, july) = (ts(MAY)?, ts(JUNE)?, ts(JULY)?);
    println!(
        "  Kremlin readout of the call: \"no inquiries on these matters came from the United States'"
    );
    println!(
        "  security agencies in the past month\". Asked to prove that from its own node (us's log as"
    );
    println!(
        "  ru mirrored and cosigned it, {} to {}):",
        june.strftime("%Y-%m-%d"),
        july.strftime("%Y-%m-%d")
    );
    match src.absence(us.party(), Kind::Inquiry, &fbi, &fsb, june, july) {
        Err(NodeError::Conflict(why)) => {
            let mut c = why.chars();
            let why = c
                .next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect());
            println!("  REFUSED. {why}");
        }
        Err(e) => return Err(e).context("proving the July claim"),
        Ok(_) => {
            bail!("ru's node proved an absence of inquiries, but the demo sent {id} in that window")
        }
    }

    let keys = keyring(parties);
    println!(
        "\n  What the logs do prove, written from ru's node and checked with the pinned keys only:"
    );
    let mut files = Vec::new();
    for (name, bundle) in [
        ("july-claim-delivery.json", src.delivery(id)?),
        ("july-claim-answered.json", src.answered(id)?),
    ] {
        files.push(write_and_verify(root, name, &bundle, &keys)?);
    }
    println!(
        "\n  The opposite case: in the month before that, nothing was sent, and that is provable too:"
    );
    files.push(write_and_verify(
        root,
        "may-absence.json",
        &src.absence(us.party(), Kind::Inquiry, &fbi, &fsb, may, june)?,
        &keys,
    )?);

    println!("\n  Check them yourself (offline; each --key is a pinned public key):");
    let key = |w: bool, p: &str| {
        format!(
            "--key \"$(hotline key{} --dir {})\"",
            if w { " --witness" } else { "" },
            d(p)
        )
    };
    let ring = [
        key(false, "us"),
        key(false, "ru"),
        key(true, "us"),
        key(true, "ru"),
        key(true, "nato"),
    ]
    .join(" ");
    for f in &files {
        println!("  hotline verify {f} {ring}");
    }
    println!("  and ask ru's node for the July claim's proof, which it refuses to write:");
    println!(
        "  hotline prove absence --log us --kind inquiry --from us/fbi --to ru/fsb --since {june} --until {july} --dir {ru_dir}"
    );
    Ok(())
}

/// Writes a bundle into the demo directory and verifies it.
fn write_and_verify(root: &Path, name: &str, bundle: &str, keys: &Keyring) -> Result<String> {
    let path = root.join(name);
    std::fs::write(&path, bundle).with_context(|| format!("writing {}", path.display()))?;
    let v = bundle::verify(&std::fs::read(&path)?, keys)
        .with_context(|| format!("verifying {}", path.display()))?;
    println!("  {}: verified — {}", path.display(), v.sentence());
    Ok(path.display().to_string())
}

/// The inquiry of the storyline, found in us's log (a resumed demo).
fn find_inquiry(parties: &[Local]) -> Result<Option<String>> {
    let (june, july) = (ts(JUNE)?, ts(JULY)?);
    Ok(parties[0]
        .node
        .inquiries()?
        .into_iter()
        .find(|q| q.from == "us/fbi" && q.to == "ru/fsb" && q.sent >= june && q.sent < july)
        .map(|q| q.id))
}

async fn exchange(
    root: &Path,
    parties: &[Local],
    once: bool,
    resumed: Option<Timestamp>,
) -> Result<()> {
    println!(
        "\n3. Agreements, each proposed by one party and signed by the other (SCENARIO step 1):"
    );
    agree_all(&parties[0].node, &parties[1].node, &AGREEMENTS, false).await?;

    let inquiry = if let Some(t) = resumed {
        println!(
            "\n4. Resumed at {} UTC (simulated): the storyline was played by the first run, and no log",
            day_time(&t)
        );
        println!(
            "   accepts time going back, so it is not replayed. Waiting for every log to be cosigned:"
        );
        let took = settle(parties, &mut [], receipt_cursors(parties)?).await?;
        println!("  all cosigned after {:.1} s", took.as_secs_f64());
        let us = &parties[0].node;
        let calls = us.calls()?;
        if !calls.is_empty() {
            println!("   The storyline's calls, as us's node reads them from both logs:");
        }
        for c in calls.iter().rev() {
            print_call(us, c);
        }
        find_inquiry(parties)?
    } else {
        Some(before_july(root, parties).await?)
    };

    if let Some(id) = &inquiry {
        println!(
            "\n{}. The July 9 claim (SCENARIO step 6):",
            if resumed.is_some() { 5 } else { 6 }
        );
        july_claim(root, parties, id)?;
    }

    if resumed.is_none() {
        println!(
            "\n7. After the July call: the December video call, and the defence ministers' calls on keeping their"
        );
        println!("   line open, with a message after each (steps 7, 8):");
        let cursors = receipt_cursors(parties)?;
        let mut sent = Vec::new();
        play_call(parties, &DECEMBER_CALL).await?;
        play_call(parties, &DEFENSE_CALLS[0]).await?;
        send_all(parties, &AFTER_JULY[..1], &mut sent).await?;
        play_call(parties, &DEFENSE_CALLS[1]).await?;
        send_all(parties, &AFTER_JULY[1..], &mut sent).await?;
        let took = settle(parties, &mut sent, cursors).await?;
        print_receipts(&sent, took);
    }

    println!(
        "\n{}. Where each party stands (simulated time {} UTC):",
        if resumed.is_some() { 6 } else { 8 },
        day_time(&clock::now())
    );
    print_table(parties)?;

    let d = |name: &str| root.join(name).display().to_string();
    let u = d("us");
    let api = |i: usize| format!("http://{}", parties[i].api);
    println!("\nLook:");
    println!(
        "  {0}/   {1}/   the operator consoles of us and ru, in a browser (logins in step 2;\n  \
         `{2}` and `{3}` hold them): channels, calls with both readouts, inquiries, evidence",
        api(0),
        api(1),
        root.join("us/console-password").display(),
        root.join("ru/console-password").display()
    );
    println!(
        "  {0}/healthz   {0}/metrics   {0}/openapi.json   (us; ru at {1}, nato at {2})",
        api(0),
        api(1),
        api(2)
    );
    let when = if once {
        "Try next (run `hotline demo` without --once to keep the nodes up for these):"
    } else {
        "Try next, in another terminal, while this runs:"
    };
    println!("\n{when}");
    println!("  hotline status --dir {u}                      # links, cosignatures, outbox");
    println!(
        "  hotline log --dir {u} --peer ru               # us's verified mirror of ru's log, receipts included"
    );
    println!(
        "  hotline checkpoint --dir {u}                  # us's checkpoint with ru's and nato's cosignatures"
    );
    if let Some(id) = &inquiry {
        println!(
            "  hotline inquiries --dir {u}                   # {id}: sent, acknowledged, answered, deadlines"
        );
    }
    println!(
        "  hotline calls --dir {u}                       # each call: request, acceptance, both records and readouts"
    );
    println!(
        "  hotline statements --dir {u}                  # the Geneva statement and ru's endorsement (prove statement ID)"
    );
    println!("  hotline send --dir {u} --from us/defense --to ru/defense --text hi");
    Ok(())
}
