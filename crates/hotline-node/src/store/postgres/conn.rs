//! One connection and the statements prepared on it.
//!
//! `tokio-postgres` prepares a statement given as text on every call: one
//! round trip to parse it, then one to run it. The store's SQL is a fixed
//! set of `&'static str`, so each connection keeps what it prepared,
//! keyed by the text, and a call costs one round trip. A replaced
//! connection starts with none (a statement belongs to the server session
//! that prepared it). Statements built at run time (the lease's, with its
//! column list) go through [`Conn::client`] and [`Tx::inner`] unprepared.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, GenericClient, Row, Statement, Transaction};

/// Statements prepared on one connection, by their text.
#[derive(Default)]
struct Prepared(Mutex<HashMap<&'static str, Statement>>);

impl Prepared {
    async fn get(&self, on: &impl GenericClient, sql: &'static str) -> Result<Statement, Error> {
        if let Some(s) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(sql) {
            return Ok(s.clone());
        }
        let s = on.prepare(sql).await?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sql, s.clone());
        Ok(s)
    }
}

/// A connection with its prepared statements.
pub(super) struct Conn {
    client: Client,
    prepared: Prepared,
}

impl Conn {
    pub(super) fn new(client: Client) -> Self {
        Self {
            client,
            prepared: Prepared::default(),
        }
    }

    /// The connection itself, for SQL built at run time.
    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    pub(super) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub(super) async fn query(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let s = self.prepared.get(&self.client, sql).await?;
        self.client.query(&s, p).await
    }

    pub(super) async fn query_one(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, Error> {
        let s = self.prepared.get(&self.client, sql).await?;
        self.client.query_one(&s, p).await
    }

    pub(super) async fn query_opt(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let s = self.prepared.get(&self.client, sql).await?;
        self.client.query_opt(&s, p).await
    }

    pub(super) async fn execute(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let s = self.prepared.get(&self.client, sql).await?;
        self.client.execute(&s, p).await
    }

    /// A transaction whose statements come from this connection's prepared set.
    pub(super) async fn transaction(&mut self) -> Result<Tx<'_>, Error> {
        let tx = self.client.transaction().await?;
        Ok(Tx {
            tx,
            prepared: &self.prepared,
        })
    }
}

/// A transaction on a [`Conn`].
pub(super) struct Tx<'a> {
    tx: Transaction<'a>,
    prepared: &'a Prepared,
}

impl Tx<'_> {
    /// The transaction itself, for SQL built at run time.
    pub(super) fn inner(&self) -> &Transaction<'_> {
        &self.tx
    }

    pub(super) async fn query(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let s = self.prepared.get(&self.tx, sql).await?;
        self.tx.query(&s, p).await
    }

    pub(super) async fn query_one(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, Error> {
        let s = self.prepared.get(&self.tx, sql).await?;
        self.tx.query_one(&s, p).await
    }

    pub(super) async fn query_opt(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let s = self.prepared.get(&self.tx, sql).await?;
        self.tx.query_opt(&s, p).await
    }

    pub(super) async fn execute(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let s = self.prepared.get(&self.tx, sql).await?;
        self.tx.execute(&s, p).await
    }

    pub(super) async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await
    }
}
