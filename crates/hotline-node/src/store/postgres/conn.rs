//! One connection and the statements prepared on it.
//!
//! `tokio-postgres` prepares a statement given as text on every call: one
//! round trip to parse it, then one to run it. The store's SQL is a fixed
//! set of `&'static str`, so each connection keeps what it prepared,
//! keyed by the text, and a call costs one round trip. A replaced
//! connection starts with none (a statement belongs to the server session
//! that prepared it). Statements built at run time (the lease's, with its
//! column list) go through [`Conn::client`] and [`Tx::inner`] unprepared.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::sync::Mutex;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, GenericClient, Row, Statement, Transaction};

/// Statements prepared on one connection, by their text.
#[derive(Default)]
pub(super) struct Prepared(Mutex<HashMap<&'static str, Statement>>);

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

/// A connection or a transaction on it, with the connection's prepared
/// statements: the calls are the client's, given the SQL's text.
pub(super) struct On<C, P> {
    on: C,
    prepared: P,
}

/// A connection with its prepared statements.
pub(super) type Conn = On<Client, Prepared>;

/// A transaction on a [`Conn`].
pub(super) type Tx<'a> = On<Transaction<'a>, &'a Prepared>;

impl<C: GenericClient, P: Borrow<Prepared>> On<C, P> {
    async fn statement(&self, sql: &'static str) -> Result<Statement, Error> {
        self.prepared.borrow().get(&self.on, sql).await
    }

    pub(super) async fn query(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        self.on.query(&self.statement(sql).await?, p).await
    }

    pub(super) async fn query_one(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, Error> {
        self.on.query_one(&self.statement(sql).await?, p).await
    }

    pub(super) async fn query_opt(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        self.on.query_opt(&self.statement(sql).await?, p).await
    }

    pub(super) async fn execute(
        &self,
        sql: &'static str,
        p: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        self.on.execute(&self.statement(sql).await?, p).await
    }
}

impl Conn {
    pub(super) fn new(client: Client) -> Self {
        Self {
            on: client,
            prepared: Prepared::default(),
        }
    }

    /// The connection itself, for SQL built at run time.
    pub(super) fn client(&self) -> &Client {
        &self.on
    }

    pub(super) fn is_closed(&self) -> bool {
        self.on.is_closed()
    }

    /// A transaction whose statements come from this connection's prepared set.
    pub(super) async fn transaction(&mut self) -> Result<Tx<'_>, Error> {
        let tx = self.on.transaction().await?;
        Ok(On {
            on: tx,
            prepared: &self.prepared,
        })
    }
}

impl Tx<'_> {
    /// The transaction itself, for SQL built at run time.
    pub(super) fn inner(&self) -> &Transaction<'_> {
        &self.on
    }

    pub(super) async fn commit(self) -> Result<(), Error> {
        self.on.commit().await
    }
}
