//! Which engine holds a directory's store, and opening it there: SQLite in
//! `hotline.db`, or the PostgreSQL database that `[store] url` names.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::{Config, Mode, NodeDir, OpenError};
use crate::error::NodeError;
use crate::store::postgres::{self, PostgresStore};
use crate::store::sqlite::SqliteStore;
use crate::store::{IdentityStore as _, LogStore as _, Store};

/// Where a node's store is, as `hotline status` shows it: the SQLite file,
/// or the PostgreSQL URL without its password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "engine", rename_all = "lowercase")]
pub enum StoreAt {
    /// SQLite, the embedded default.
    Sqlite {
        /// The database file.
        file: PathBuf,
    },
    /// PostgreSQL.
    Postgresql {
        /// User, hosts, ports and database ([`postgres::redact`]).
        url: String,
    },
}

impl StoreAt {
    /// Where the directory's configuration puts its store.
    pub fn of(dir: &NodeDir, config: &Config) -> Self {
        match &config.store.url {
            Some(url) => Self::Postgresql {
                url: postgres::redact(url),
            },
            None => Self::Sqlite { file: dir.db() },
        }
    }
}

impl std::fmt::Display for StoreAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite { file } => write!(f, "SQLite {}", file.display()),
            Self::Postgresql { url } => write!(f, "PostgreSQL {url}"),
        }
    }
}

/// Opens the store `config` names for `mode`. A read-only open creates
/// nothing: SQLite's file must exist, and PostgreSQL is connected to without
/// migrating (a reader runs beside the node that writes, which migrates).
pub(super) fn open_store(
    dir: &NodeDir,
    config: &Config,
    mode: Mode,
) -> Result<Arc<dyn Store>, OpenError> {
    let Some(url) = &config.store.url else {
        let path = dir.db();
        let store = match mode {
            Mode::ReadOnly => SqliteStore::open_read_only(&path),
            Mode::ReadWrite => SqliteStore::open(&path),
        }
        .map_err(|source| OpenError::Store { path, source })?;
        return Ok(Arc::new(store));
    };
    let store = match mode {
        Mode::ReadOnly => PostgresStore::open_read_only(url),
        Mode::ReadWrite => PostgresStore::open(url),
    }
    .map_err(|source| OpenError::Postgres {
        target: postgres::redact(url),
        source,
    })?;
    Ok(Arc::new(store))
}

/// Checks `hotline init --store URL` before anything is written, so that a
/// wrong URL or password leaves no half-made directory behind: the URL must
/// parse, the server must let its user in, the schema must migrate, and the
/// database must not hold a log of this origin already (another node's).
/// Every message names the server without the password.
pub(crate) fn check_new_postgres(url: &str, origin: &str) -> Result<(), NodeError> {
    if let Err(e) = url.parse::<tokio_postgres::Config>() {
        return Err(NodeError::BadInput(format!(
            "--store is not a PostgreSQL URL (postgresql://USER@HOST:PORT/DB, or libpq's key=value form): {}",
            said(&e)
        )));
    }
    let store = PostgresStore::open(url)
        .map_err(|e| NodeError::BadInput(format!("--store: {}", said(&e))))?;
    if let Some(held) = store.holder()? {
        return Err(NodeError::Conflict(format!(
            "the PostgreSQL database {} holds party {}'s log (log key {}); `init` would make party {}'s with new keys: give each party its own database (a replica of a party is a copy of its directory, not a new init)",
            store.target(),
            held.party,
            held.log_key,
            hotline_proto::bundle::origin_party(origin)
        )));
    }
    if store.log_id_existing(origin).is_ok() {
        return Err(NodeError::Conflict(format!(
            "the PostgreSQL database {} already holds log {origin} (another node's, or an earlier init's); refusing to start a second one with new keys (choose another database)",
            store.target()
        )));
    }
    Ok(())
}

/// An error and its causes in one line, each said once: `tokio-postgres`
/// keeps the server's words ("password authentication failed …") in a
/// cause its own message leaves out.
fn said(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_said = c.to_string();
        if !out.contains(&c_said) {
            out.push_str(": ");
            out.push_str(&c_said);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::testing;

    fn node_dir(tmp: &tempfile::TempDir, store: &str) -> NodeDir {
        let dir = NodeDir::new(tmp.path());
        std::fs::write(
            dir.config(),
            format!("party = \"us\"\norigin = \"hotline/us\"\nwitness_name = \"hotline/us/witness\"\nlisten = \"127.0.0.1:0\"\n{store}"),
        )
        .unwrap();
        dir
    }

    #[test]
    fn a_store_url_opens_postgresql_for_the_writer_and_beside_it() {
        let db = testing::database();
        let tmp = tempfile::tempdir().unwrap();
        let dir = node_dir(&tmp, &format!("\n[store]\nurl = \"{}\"\n", db.url));
        let writer = dir.open(Mode::ReadWrite).unwrap();
        let own = writer.own_log().unwrap();
        let reader = dir.open(Mode::ReadOnly).unwrap();
        assert_eq!(reader.own_log().unwrap(), own);
        assert!(!dir.db().exists(), "SQLite made beside PostgreSQL");
        assert!(writer.lock.is_some() && dir.lock().exists());
        assert_eq!(
            StoreAt::of(&dir, &writer.config),
            StoreAt::Postgresql { url: db.url }
        );
    }

    #[test]
    fn without_a_store_url_the_file_reads_as_before() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = node_dir(&tmp, "");
        let config = dir.read_config().unwrap();
        assert!(config.store.url.is_none());
        assert!(!toml::to_string_pretty(&config).unwrap().contains("store"));
        assert_eq!(
            serde_json::to_value(StoreAt::of(&dir, &config)).unwrap(),
            serde_json::json!({ "engine": "sqlite", "file": dir.db() })
        );
    }

    #[test]
    fn neither_status_nor_errors_nor_debug_show_the_password() {
        let port = testing::database().port;
        let role = testing::PASSWORD_ROLE;
        let url = format!("postgresql://{role}:not-the-password@127.0.0.1:{port}/postgres");
        let tmp = tempfile::tempdir().unwrap();
        let dir = node_dir(&tmp, &format!("\n[store]\nurl = \"{url}\"\n"));
        let config = dir.read_config().unwrap();
        let shown = StoreAt::of(&dir, &config).to_string();
        assert_eq!(
            shown,
            format!("PostgreSQL postgresql://{role}@127.0.0.1:{port}/postgres")
        );
        assert!(!format!("{config:?}").contains("not-the-password"));
        let Err(e) = dir.open(Mode::ReadOnly) else {
            panic!("opened with a wrong password");
        };
        let msg = said(&NodeError::from(e));
        assert!(msg.contains("password authentication failed"), "{msg}");
        assert!(!msg.contains("not-the-password"), "{msg}");
        let Err(e) = check_new_postgres(&url, "hotline/us") else {
            panic!("a wrong password passed init's check");
        };
        let msg = e.to_string();
        assert!(msg.contains("password authentication failed"), "{msg}");
        assert!(!msg.contains("not-the-password"), "{msg}");
    }

    #[test]
    fn init_refuses_a_database_that_holds_this_origin_already() {
        let db = testing::database();
        let other = PostgresStore::open(&db.url).unwrap();
        other.log_id("hotline/us", "us").unwrap();
        drop(other);
        let e = check_new_postgres(&db.url, "hotline/us").unwrap_err();
        assert!(matches!(e, NodeError::Conflict(_)), "{e:?}");
        check_new_postgres(&db.url, "hotline/ru").unwrap();
    }
}
