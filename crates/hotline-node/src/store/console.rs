//! Console data: operators, their sessions and read marks. Not a log
//! concept; kept here only until the console owns its own tables.

use super::Result;

/// The console's operators, sessions and read marks, used only by the
/// console and the operators CLI.
pub trait ConsoleData: Send + Sync {
    /// The console's read mark: the highest mirror index `operator` has seen
    /// on `channel`.
    fn seen_mark(&self, operator: &str, channel: &str) -> Result<Option<u64>>;
    /// Moves the read mark forward (never back).
    fn set_seen_mark(&self, operator: &str, channel: &str, index: u64) -> Result<()>;
    /// Adds an operator; `false` if one of that name exists (nothing changed).
    fn add_operator(&self, op: &OperatorRow) -> Result<bool>;
    /// Every operator, by name.
    fn operators(&self) -> Result<Vec<OperatorRow>>;
    /// One operator.
    fn operator(&self, name: &str) -> Result<Option<OperatorRow>>;
    /// Replaces an operator's password hash and, in the same transaction,
    /// ends its sessions; `false` if there is no such operator.
    fn set_operator_password(&self, name: &str, password_hash: &str) -> Result<bool>;
    /// Removes an operator with its sessions; `false` if there is none.
    fn remove_operator(&self, name: &str) -> Result<bool>;
    /// Clears an operator's failure count and lock; `false` if there is none.
    fn unlock_operator(&self, name: &str) -> Result<bool>;
    /// Counts one failed login in a single atomic update. Returns the new
    /// count, or `None` if there is no such operator.
    fn operator_login_failed(&self, name: &str) -> Result<Option<u32>>;
    /// A successful login, atomically: only if the operator still has
    /// `password_hash`, resets its failures (and an old lock), deletes
    /// sessions idle since `idle_before` or created before `created_before`,
    /// and stores `session`. `false` if the operator
    /// changed meanwhile (nothing stored).
    fn operator_login_succeeded(
        &self,
        password_hash: &str,
        session: &SessionRow,
        idle_before: i64,
        created_before: i64,
    ) -> Result<bool>;
    /// A session by the SHA-256 of its token, with its operator.
    fn operator_session(&self, token_hash: &[u8; 32]) -> Result<Option<(SessionRow, OperatorRow)>>;
    /// Moves a session's `last_seen` forward to `now` (never back).
    fn touch_operator_session(&self, token_hash: &[u8; 32], now: i64) -> Result<()>;
    /// Ends one session (unknown tokens are not an error).
    fn end_operator_session(&self, token_hash: &[u8; 32]) -> Result<()>;
}

/// A console operator as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorRow {
    /// Login name.
    pub name: String,
    /// Offices it may act for, as written (`us/fbi`).
    pub offices: Vec<String>,
    /// Whether it may manage the console (an admin).
    pub admin: bool,
    /// Argon2id hash, PHC string format.
    pub password_hash: String,
    /// Consecutive failed logins.
    pub failures: u32,
    /// A lock an older version set after failed logins (Unix seconds);
    /// no longer set nor obeyed, cleared at the next successful login.
    pub locked_until: Option<i64>,
    /// When it was added (Unix seconds).
    pub created: i64,
}

/// A console session as stored: never the token itself, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the session token.
    pub token_hash: [u8; 32],
    /// The operator's name.
    pub operator: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Login time (Unix seconds).
    pub created: i64,
    /// Last request (Unix seconds).
    pub last_seen: i64,
}
