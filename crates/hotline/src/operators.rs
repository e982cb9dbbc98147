//! `hotline operator`: the people who may log in to the web console.
//!
//! These commands open the console's database (`console.sqlite3`) directly
//! (read-write; SQLite's WAL lets them run beside `hotline serve`) rather
//! than the node, whose writer lock a running `serve` holds. Operators are
//! no part of the log.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use hotline_console::config::ConsoleConfig;
use hotline_console::operators::{Operator, Operators, check_password};
use hotline_node::dir::NodeDir;
use hotline_proto::party::{Office, Party};

use crate::DirArg;

#[derive(Subcommand)]
pub enum OperatorCmd {
    /// Add an operator: someone who logs in to the web console to act for OFFICE (and any
    /// --office). Asks for the password twice at a terminal, or reads --password-file.
    Add {
        /// The office it acts for, e.g. `us/fbi` (an office of this party, created with
        /// `hotline office add`).
        office: String,
        /// Its login name: 1-64 lower-case letters, digits, '.', '_' or '-', starting with a
        /// letter or digit.
        name: String,
        /// Another office it acts for (repeat for several).
        #[arg(long = "office", value_name = "OFFICE")]
        offices: Vec<String>,
        /// It may also manage the console.
        #[arg(long)]
        admin: bool,
        /// Read the password (at least 12 characters) from the first line of this file
        /// (`-` for standard input) instead of asking at the terminal.
        #[arg(long, value_name = "F")]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON (`name`, `offices`, `admin`).
        #[arg(long)]
        json: bool,
    },
    /// List the operators: their offices, whether admin, and failed logins.
    List {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON (an array of objects).
        #[arg(long)]
        json: bool,
    },
    /// Remove an operator; its console sessions end at once.
    Remove {
        /// The operator's name.
        name: String,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Clear an operator's count of failed logins (failures never lock an
    /// operator out: sign-ins are throttled per client address instead).
    Unlock {
        /// The operator's name.
        name: String,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Make a token with which scripts sign in to TAXII (`/taxii2/`) as this operator
    /// (`Authorization: Bearer TOKEN`). Printed once; only its hash is kept. Removing the
    /// operator ends its tokens.
    Token {
        /// The operator's name.
        name: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON (`name`, `token`).
        #[arg(long)]
        json: bool,
    },
    /// Set a new password for an operator; its console sessions end at once.
    Passwd {
        /// The operator's name.
        name: String,
        /// Read the password (at least 12 characters) from the first line of this file
        /// (`-` for standard input) instead of asking at the terminal.
        #[arg(long, value_name = "F")]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        dir: DirArg,
    },
}

/// Runs one `hotline operator` command.
pub fn run(cmd: OperatorCmd) -> Result<()> {
    match cmd {
        OperatorCmd::Add {
            office,
            name,
            offices,
            admin,
            password_file,
            dir,
            json,
        } => {
            let (dir, _, ops) = open(&dir)?;
            hotline_console::operators::check_name(&name)?;
            let mut list = Vec::new();
            for o in std::iter::once(&office).chain(&offices) {
                list.push(Office::new(o)?);
            }
            // Before asking for the password: this party's offices, and ones this node holds keys for.
            let list = ops.check_offices(&list)?;
            for o in &list {
                let key = dir.offices().join(format!("{}.json", o.file_stem()));
                if !key.exists() {
                    bail!(
                        "unknown office {o}: this node holds no keys for it; create it with `hotline office add {o} --dir {}`",
                        dir.root().display()
                    );
                }
            }
            if ops.get(&name)?.is_some() {
                bail!(
                    "there is already an operator {name}; choose another name, or change its password with `hotline operator passwd {name} --dir {}`",
                    dir.root().display()
                );
            }
            let password = password(password_file.as_deref(), &name)?;
            let op = ops.add(&name, &list, admin, &password)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "name": op.name, "offices": op.offices, "admin": op.admin })
                );
            } else {
                println!(
                    "Operator {} can now log in to the console as {}{}.",
                    op.name,
                    and_list(&op.offices),
                    if op.admin { " (admin)" } else { "" }
                );
            }
        }
        OperatorCmd::List { dir, json } => {
            let (dir, _, ops) = open(&dir)?;
            let list = ops.list()?;
            if json {
                println!("{}", serde_json::to_string(&list)?);
            } else if list.is_empty() {
                eprintln!(
                    "No operators yet; add one with `hotline operator add OFFICE NAME --dir {}`.",
                    dir.root().display()
                );
            } else {
                for op in &list {
                    println!("{}", describe(op));
                }
            }
        }
        OperatorCmd::Remove { name, dir } => {
            let (_, _, ops) = open(&dir)?;
            ops.remove(&name)?;
            println!("Removed operator {name}; its console sessions have ended.");
        }
        OperatorCmd::Unlock { name, dir } => {
            let (_, _, ops) = open(&dir)?;
            ops.unlock(&name)?;
            println!(
                "Operator {name}'s failed logins are cleared (operators are never locked out; sign-ins are throttled per client address)."
            );
        }
        OperatorCmd::Token { name, dir, json } => {
            let (dir, _, ops) = open(&dir)?;
            if ops.get(&name)?.is_none() {
                bail!(
                    "no operator {name:?}; `hotline operator list --dir {}` shows who there is",
                    dir.root().display()
                );
            }
            let token = ops.new_taxii_token(&name)?;
            if json {
                println!("{}", serde_json::json!({ "name": name, "token": token }));
            } else {
                println!("{token}");
                eprintln!(
                    "A TAXII token for operator {name}: send it as `Authorization: Bearer TOKEN` to /taxii2/. \
                     It is shown only now; removing the operator ends it."
                );
            }
        }
        OperatorCmd::Passwd {
            name,
            password_file,
            dir,
        } => {
            let (dir, _, ops) = open(&dir)?;
            if ops.get(&name)?.is_none() {
                bail!(
                    "no operator {name:?}; `hotline operator list --dir {}` shows who there is",
                    dir.root().display()
                );
            }
            let password = password(password_file.as_deref(), &name)?;
            ops.set_password(&name, &password)?;
            println!("Changed the password of operator {name}; its console sessions have ended.");
        }
    }
    Ok(())
}

/// The node directory, its party and its operators, from the console's
/// database opened directly (works whether or not `hotline serve` runs).
fn open(dir: &DirArg) -> Result<(NodeDir, Party, Operators)> {
    let dir = NodeDir::new(&dir.dir);
    let config = dir.read_config()?;
    let party = Party::new(&config.party)?;
    let policy = ConsoleConfig::read(&dir)?;
    let ops = Operators::open(&dir, party.clone(), policy).with_context(|| {
        format!(
            "opening {}",
            dir.root().join(hotline_console::store::FILE).display()
        )
    })?;
    Ok((dir, party, ops))
}

/// The password: the first line of `file` (`-`: standard input), or asked
/// twice at the terminal.
fn password(file: Option<&Path>, name: &str) -> Result<String> {
    if let Some(file) = file {
        let mut line = String::new();
        if file.as_os_str() == "-" {
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
        } else {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the password from {}", file.display()))?;
            line = text.lines().next().unwrap_or_default().to_owned();
        }
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        check_password(line)?;
        return Ok(line.to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to ask for a password; pass --password-file F (`-` reads standard input)"
        );
    }
    let first =
        rpassword::prompt_password(format!("Password for {name} (at least 12 characters): "))
            .context("reading the password at the terminal")?;
    check_password(&first)?;
    let again = rpassword::prompt_password("The same password again: ")
        .context("reading the password at the terminal")?;
    if first != again {
        bail!("the two passwords differ; nothing was changed, try again");
    }
    Ok(first)
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(offices: &[Office]) -> String {
    let names: Vec<&str> = offices.iter().map(Office::as_str).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// One line of `hotline operator list`.
fn describe(op: &Operator) -> String {
    let mut line = format!(
        "{:<16} {}",
        op.name,
        op.offices
            .iter()
            .map(Office::as_str)
            .collect::<Vec<_>>()
            .join(",")
    );
    if op.admin {
        line.push_str("  admin");
    }
    if op.failures > 0 {
        line.push_str(&format!("  {} failed logins", op.failures));
    }
    line
}
