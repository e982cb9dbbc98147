//! Operators of the web console: people who log in to their party's node to
//! act for some of its offices.
//!
//! Passwords are kept as Argon2id hashes (RFC 9106, the `argon2` crate's
//! default parameters) in the PHC string format. A login hands out a session
//! token (32 random bytes, base64url) and a CSRF token; the store keeps only
//! the SHA-256 of the session token. A session ends after
//! `[console] session_idle_secs` without a request, and in any case
//! `session_max_secs` after login.
//!
//! Failed logins never lock an operator: a lock by name would let anyone
//! who can reach the console shut the duty officer out by typing wrong
//! passwords under their name, and end their live sessions. Attempts are
//! throttled per client address and checked a few at a time instead (the
//! console's `throttle`); here each operator's failures are only counted,
//! for admins to see, until a successful login or `hotline operator unlock`
//! clears the count.
//!
//! Operators are no part of the log: who may use this party's console is
//! this party's own business, and nothing here is signed or mirrored.

use std::fmt;
use std::sync::Arc;

use argon2::{Argon2, PasswordHash, PasswordHasher as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hotline_proto::keys::os_rng;
use hotline_proto::party::{Office, Party};
use jiff::Timestamp;
use rand_core::RngCore as _;
use serde::Serialize;
use sha2::Digest as _;

use hotline_node::dir::NodeDir;
use hotline_node::node::Node;
use hotline_node::store::StoreError;

use crate::config::{ConfigError, ConsoleConfig};
use crate::store::{ConsoleStore, OperatorRow, SessionRow};

/// Fewest characters in a password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most bytes in a password.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Most characters in an operator's name.
pub const MAX_NAME_CHARS: usize = 64;

/// What unknown names are checked against, so that they cost what a known
/// name costs: the hash of a random password (nobody knows it) with the same
/// parameters as real hashes (`dummy_hash_has_default_parameters` checks that).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$nKTr3mBkX1kfbVbkCvvt9g$e5WhcuAsw+iUmLG4+d9CEu4Ijc3CyWv+7+25DnsUV1c";

/// A console operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Operator {
    /// Login name.
    pub name: String,
    /// The offices it may act for (all of this party).
    pub offices: Vec<Office>,
    /// Whether it may manage the console.
    pub admin: bool,
    /// Failed logins under this name since the last success or unlock
    /// (anyone can cause them: a sign of guessing, never a lock).
    pub failures: u32,
    /// When it was added.
    pub created: Timestamp,
}

/// What a successful login hands out. The token goes in the session cookie
/// and is never stored; the CSRF token goes in each form.
#[derive(Clone)]
pub struct NewSession {
    /// The session token (base64url, no padding).
    pub token: String,
    /// The session's CSRF token (base64url, no padding).
    pub csrf: String,
    /// When the session ends unless used before (idle or absolute limit).
    pub expires: Timestamp,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("token", &"<secret>")
            .field("csrf", &"<secret>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// A live session, found by its token.
#[derive(Clone)]
pub struct Session {
    /// Who is logged in.
    pub operator: Operator,
    /// The CSRF token forms must carry.
    pub csrf: String,
    /// When it ends unless used again (idle or absolute limit).
    pub expires: Timestamp,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("operator", &self.operator)
            .field("csrf", &"<secret>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// Why an operator could not be added, changed, found or read.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// A name outside what [`check_name`] allows.
    #[error(
        "invalid operator name {0:?}: use 1-{MAX_NAME_CHARS} lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    BadName(String),
    /// A new password under [`MIN_PASSWORD_CHARS`].
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    /// A new password over [`MAX_PASSWORD_BYTES`].
    #[error("the password is too long: use at most {MAX_PASSWORD_BYTES} bytes")]
    LongPassword,
    /// No office given (the party's, for the example).
    #[error("an operator needs at least one office to act for (e.g. {0}/fbi)")]
    NoOffice(Party),
    /// An office of another party.
    #[error(
        "{office} is not an office of this party ({party}); operators act for their own party's offices"
    )]
    OtherParty {
        /// The office given.
        office: Office,
        /// This party.
        party: Party,
    },
    /// No operator of that name.
    #[error("no operator {0:?}; `hotline operator list` shows who there is")]
    NotFound(String),
    /// The name is taken.
    #[error(
        "there is already an operator {0}; choose another name, or change its password with `hotline operator passwd {0}`"
    )]
    Taken(String),
    /// Argon2 could not hash a new password.
    #[error("hashing the password: {0}")]
    Hash(#[source] argon2::password_hash::Error),
    /// A stored operator names an office that is no office name.
    #[error("operator {name} has a bad office: {source}")]
    BadOffice {
        /// The operator.
        name: String,
        /// Why the stored office is no name.
        #[source]
        source: hotline_proto::party::NameError,
    },
    /// The console's database failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The `[console]` section of hotline.toml could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Why a stored password hash cannot be checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// Not a PHC string.
    #[error(transparent)]
    Format(argon2::password_hash::phc::Error),
    /// An algorithm or parameters Argon2 does not take.
    #[error(transparent)]
    Phc(argon2::password_hash::Error),
    /// A version Argon2 does not know.
    #[error(transparent)]
    Version(argon2::Error),
    /// A PHC string without a salt or without the hash.
    #[error("it has no salt or no hash")]
    Incomplete,
    /// A hash longer than the 64 bytes checked into.
    #[error("its hash is longer than 64 bytes")]
    TooLong,
}

/// Why a login was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown name or wrong password: the same error, at the same cost, so
    /// that nobody learns which names exist by trying.
    #[error("wrong name or password")]
    Refused,
    /// The node could not check the login.
    #[error("the login could not be checked: {0}")]
    Failed(#[source] LoginFailure),
}

/// Why the node could not check a login (never the operator's fault).
#[derive(Debug, thiserror::Error)]
pub enum LoginFailure {
    /// The operator's stored hash cannot be checked against.
    #[error("a stored password hash is unreadable: {0}")]
    Unreadable(#[source] HashError),
    /// Argon2 failed while checking the password.
    #[error("checking the password: {0}")]
    Check(#[source] argon2::Error),
    /// The operators could not be read or written.
    #[error(transparent)]
    Operators(OperatorError),
}

/// Equal when both are refusals, or both failures saying the same: the
/// store's errors behind a failure cannot be compared, and a caller only
/// ever asks whether a login was refused.
impl PartialEq for LoginError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (LoginError::Refused, LoginError::Refused) => true,
            (LoginError::Refused, _) | (_, LoginError::Refused) => false,
            (a, b) => a.to_string() == b.to_string(),
        }
    }
}

impl Eq for LoginError {}

impl From<LoginFailure> for LoginError {
    fn from(e: LoginFailure) -> Self {
        LoginError::Failed(e)
    }
}

impl From<HashError> for LoginError {
    fn from(e: HashError) -> Self {
        LoginFailure::Unreadable(e).into()
    }
}

impl From<OperatorError> for LoginError {
    fn from(e: OperatorError) -> Self {
        LoginFailure::Operators(e).into()
    }
}

impl From<StoreError> for LoginError {
    fn from(e: StoreError) -> Self {
        OperatorError::from(e).into()
    }
}

/// Why [`Operators::attempt`] refused a login.
#[derive(Debug)]
pub enum Refusal {
    /// A wrong password for this operator, not yet counted.
    WrongPassword(String),
    /// Any other refusal.
    Other(LoginError),
}

impl From<Refusal> for LoginError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::WrongPassword(_) => LoginError::Refused,
            Refusal::Other(e) => e,
        }
    }
}

impl From<LoginError> for Refusal {
    fn from(e: LoginError) -> Self {
        Refusal::Other(e)
    }
}

impl From<OperatorError> for Refusal {
    fn from(e: OperatorError) -> Self {
        Refusal::Other(e.into())
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Other(e.into())
    }
}

/// What the operators' calls answer.
pub type Result<T, E = OperatorError> = std::result::Result<T, E>;

/// A party's console operators. Cheap to clone.
#[derive(Clone)]
pub struct Operators {
    store: Arc<ConsoleStore>,
    party: Party,
    policy: ConsoleConfig,
}

/// Checks an operator's name, saying what is allowed.
pub fn check_name(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= MAX_NAME_CHARS
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(OperatorError::BadName(name.to_owned()))
    }
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(OperatorError::ShortPassword);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(OperatorError::LongPassword);
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    os_rng().fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(OperatorError::Hash)
}

thread_local! {
    /// Argon2's working memory (19 MiB), kept per thread and reused. Freshly
    /// allocated for each check, the allocator hands out 64-byte-aligned
    /// blocks it cannot hand out again, and a node that checks many
    /// passwords grows by about that much per check.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `password` matches the PHC string `hash`: the `argon2` crate's
/// own verification, but in this thread's reused working memory.
fn verify_password(password: &str, hash: &str) -> std::result::Result<bool, LoginError> {
    let parsed = PasswordHash::new(hash).map_err(HashError::Format)?;
    let algorithm =
        argon2::Algorithm::try_from(parsed.algorithm.as_str()).map_err(HashError::Phc)?;
    let version = match parsed.version {
        Some(v) => argon2::Version::try_from(v).map_err(HashError::Version)?,
        None => argon2::Version::default(),
    };
    let params = argon2::Params::try_from(&parsed).map_err(HashError::Phc)?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(HashError::Incomplete.into());
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut buf = [0u8; 64];
    let out = buf.get_mut(..expected.len()).ok_or(HashError::TooLong)?;
    BLOCKS
        .with_borrow_mut(|mem| {
            if mem.len() < blocks {
                mem.resize(blocks, argon2::Block::new());
            }
            argon.hash_password_into_with_memory(
                password.as_bytes(),
                salt.as_ref(),
                out,
                &mut mem[..blocks],
            )
        })
        .map_err(LoginFailure::Check)?;
    let same = out
        .iter()
        .zip(expected.as_bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    Ok(same)
}

/// 32 random bytes, base64url without padding.
fn random_token() -> String {
    let mut b = [0u8; 32];
    os_rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

fn token_hash(token: &str) -> [u8; 32] {
    sha2::Sha256::digest(token.as_bytes()).into()
}

fn secs(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn timestamp(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(if s < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

impl Operators {
    /// The operators kept in `store`, of `party`'s node, under the console
    /// `policy`.
    pub fn new(store: Arc<ConsoleStore>, party: Party, policy: ConsoleConfig) -> Self {
        Self {
            store,
            party,
            policy,
        }
    }

    /// The operators of the node in `dir`, from its console database
    /// (created, or carried over from an older `hotline.db`, at the first
    /// open). Works whether or not `hotline serve` runs.
    pub fn open(dir: &NodeDir, party: Party, policy: ConsoleConfig) -> Result<Self> {
        Ok(Self::new(Arc::new(ConsoleStore::open(dir)?), party, policy))
    }

    /// The operators of `node`, under the `[console]` section of its
    /// hotline.toml.
    pub fn of(node: &Node) -> Result<Self> {
        let policy = ConsoleConfig::read(node.dir())?;
        Self::open(node.dir(), node.party().clone(), policy)
    }

    /// The highest mirror index `operator` has seen on `channel`.
    pub fn seen_mark(&self, operator: &str, channel: &str) -> Result<Option<u64>> {
        Ok(self.store.seen_mark(operator, channel)?)
    }

    /// Moves `operator`'s read mark on `channel` forward to `index` (never
    /// back).
    pub fn set_seen_mark(&self, operator: &str, channel: &str, index: u64) -> Result<()> {
        Ok(self.store.set_seen_mark(operator, channel, index)?)
    }

    fn operator_of(&self, row: OperatorRow) -> Result<Operator> {
        let offices = row
            .offices
            .iter()
            .map(|o| {
                Office::new(o).map_err(|source| OperatorError::BadOffice {
                    name: row.name.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Operator {
            name: row.name,
            offices,
            admin: row.admin,
            failures: row.failures,
            created: timestamp(row.created),
        })
    }

    fn not_found(name: &str) -> OperatorError {
        OperatorError::NotFound(name.to_owned())
    }

    /// Checks the offices an operator is to act for: at least one, all of
    /// this party. Returns them without repeats, in order.
    pub fn check_offices(&self, offices: &[Office]) -> Result<Vec<Office>> {
        if offices.is_empty() {
            return Err(OperatorError::NoOffice(self.party.clone()));
        }
        let mut list: Vec<Office> = Vec::with_capacity(offices.len());
        for o in offices {
            if o.party() != self.party {
                return Err(OperatorError::OtherParty {
                    office: o.clone(),
                    party: self.party.clone(),
                });
            }
            if !list.contains(o) {
                list.push(o.clone());
            }
        }
        Ok(list)
    }

    /// Adds an operator who may act for `offices` (at least one, all of this
    /// party). Hashing the password takes a moment: call from a blocking thread.
    pub fn add(
        &self,
        name: &str,
        offices: &[Office],
        admin: bool,
        password: &str,
    ) -> Result<Operator> {
        check_name(name)?;
        let list = self.check_offices(offices)?;
        check_password(password)?;
        let conflict = || OperatorError::Taken(name.to_owned());
        // Checked first so that a taken name fails without the hashing wait.
        if self.store.operator(name)?.is_some() {
            return Err(conflict());
        }
        let row = OperatorRow {
            name: name.to_owned(),
            offices: list.iter().map(ToString::to_string).collect(),
            admin,
            password_hash: hash_password(password)?,
            failures: 0,
            locked_until: None,
            created: hotline_node::clock::now().as_second(),
        };
        if !self.store.add_operator(&row)? {
            return Err(conflict());
        }
        self.operator_of(row)
    }

    /// Every operator, by name.
    pub fn list(&self) -> Result<Vec<Operator>> {
        self.store
            .operators()?
            .into_iter()
            .map(|r| self.operator_of(r))
            .collect()
    }

    /// One operator, if there is one of that name.
    pub fn get(&self, name: &str) -> Result<Option<Operator>> {
        self.store
            .operator(name)?
            .map(|r| self.operator_of(r))
            .transpose()
    }

    /// Changes an operator's password and ends its sessions.
    pub fn set_password(&self, name: &str, password: &str) -> Result<()> {
        check_password(password)?;
        if self.store.operator(name)?.is_none() {
            return Err(Self::not_found(name));
        }
        let hash = hash_password(password)?;
        if self.store.set_operator_password(name, &hash)? {
            Ok(())
        } else {
            Err(Self::not_found(name))
        }
    }

    /// Removes an operator and ends its sessions.
    pub fn remove(&self, name: &str) -> Result<()> {
        if self.store.remove_operator(name)? {
            Ok(())
        } else {
            Err(Self::not_found(name))
        }
    }

    /// Clears the count of failed logins (and a lock an older version set).
    pub fn unlock(&self, name: &str) -> Result<()> {
        if self.store.unlock_operator(name)? {
            Ok(())
        } else {
            Err(Self::not_found(name))
        }
    }

    /// Checks a name and password at `now` and opens a session. Blocking
    /// (Argon2 takes tens of milliseconds): call from a blocking thread.
    pub fn login(
        &self,
        name: &str,
        password: &str,
        now: Timestamp,
    ) -> std::result::Result<NewSession, LoginError> {
        let r = self.attempt(name, password, now);
        if let Err(Refusal::WrongPassword(n)) = &r {
            self.count_failure(n)?;
        }
        r.map_err(LoginError::from)
    }

    /// [`Operators::login`] without counting a wrong password: the caller
    /// counts it with [`Operators::count_failure`] after answering, so that
    /// the answer to a wrong password for a real name takes no longer than
    /// the answer to a name that does not exist.
    pub fn attempt(
        &self,
        name: &str,
        password: &str,
        now: Timestamp,
    ) -> std::result::Result<NewSession, Refusal> {
        let t = now.as_second();
        let row = self.check_password(name, password)?;
        let idle = secs(self.policy.session_idle_secs);
        let max = secs(self.policy.session_max_secs);
        let token = random_token();
        let session = SessionRow {
            token_hash: token_hash(&token),
            operator: row.name.clone(),
            csrf: random_token(),
            created: t,
            last_seen: t,
        };
        let stored = self.store.operator_login_succeeded(
            &row.password_hash,
            &session,
            t.saturating_sub(idle),
            t.saturating_sub(max),
        )?;
        if !stored {
            // Given a new password or removed while the password was being
            // checked.
            return Err(Refusal::Other(LoginError::Refused));
        }
        Ok(NewSession {
            token,
            csrf: session.csrf,
            expires: timestamp(t.saturating_add(idle.min(max))),
        })
    }

    /// Counts a failed login under `name`, for admins to see.
    pub fn count_failure(&self, name: &str) -> Result<()> {
        self.store.operator_login_failed(name)?;
        Ok(())
    }

    /// The live session with this token at `now`, its idle expiry moved on;
    /// `None` if there is none, it ran out (idle or absolute), or its
    /// operator is gone. Failed logins under the operator's name, however
    /// many, do not end it.
    pub fn session(&self, token: &str, now: Timestamp) -> Result<Option<Session>> {
        let t = now.as_second();
        let h = token_hash(token);
        let Some((s, op)) = self.store.operator_session(&h)? else {
            return Ok(None);
        };
        let idle = secs(self.policy.session_idle_secs);
        let end = s.created.saturating_add(secs(self.policy.session_max_secs));
        if t >= s.last_seen.saturating_add(idle).min(end) {
            self.store.end_operator_session(&h)?;
            return Ok(None);
        }
        let operator = self.operator_of(op)?;
        self.store.touch_operator_session(&h, t)?;
        Ok(Some(Session {
            operator,
            csrf: s.csrf,
            expires: timestamp(t.max(s.last_seen).saturating_add(idle).min(end)),
        }))
    }

    /// Checks a name and password without opening a session: TAXII's HTTP
    /// Basic sign-in. Costs one Argon2 verification whether or not the name
    /// exists, like [`Operators::attempt`]; a wrong password for a real name
    /// comes back as [`Refusal::WrongPassword`] for the caller to count with
    /// [`Operators::count_failure`] (a count, never a lock). Blocking.
    pub fn verify(&self, name: &str, password: &str) -> std::result::Result<Operator, Refusal> {
        let row = self.check_password(name, password)?;
        Ok(self.operator_of(row)?)
    }

    /// The operator `name` if `password` is theirs. One Argon2 verification
    /// whether or not the name exists: unknown names are checked against a
    /// hash nobody knows the password of. Shared by the console's sign-in
    /// and TAXII's Basic sign-in, so both keep the same timing.
    fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> std::result::Result<OperatorRow, Refusal> {
        let row = if check_name(name).is_ok() {
            self.store.operator(name)?
        } else {
            None
        };
        let hash = row
            .as_ref()
            .map_or(DUMMY_HASH, |r| r.password_hash.as_str());
        let too_long = password.len() > MAX_PASSWORD_BYTES;
        let matches = verify_password(if too_long { "" } else { password }, hash)? && !too_long;
        let Some(row) = row else {
            return Err(Refusal::Other(LoginError::Refused));
        };
        if !matches {
            return Err(Refusal::WrongPassword(row.name));
        }
        Ok(row)
    }

    /// Makes a TAXII token for operator `name` (32 random bytes, base64url)
    /// and keeps only its SHA-256. The token is returned once, here.
    pub fn new_taxii_token(&self, name: &str) -> Result<String> {
        let token = random_token();
        let now = hotline_node::clock::now().as_second();
        if self.store.add_taxii_token(&token_hash(&token), name, now)? {
            Ok(token)
        } else {
            Err(Self::not_found(name))
        }
    }

    /// The operator whose TAXII token this is, if any.
    pub fn taxii_token(&self, token: &str) -> Result<Option<Operator>> {
        self.store
            .taxii_token_operator(&token_hash(token))?
            .map(|r| self.operator_of(r))
            .transpose()
    }

    /// The console's database, for TAXII's status resources.
    pub(crate) fn store(&self) -> &ConsoleStore {
        &self.store
    }

    /// Ends the session with this token (an unknown token is no error).
    pub fn logout(&self, token: &str) -> Result<()> {
        Ok(self.store.end_operator_session(&token_hash(token))?)
    }
}

#[cfg(test)]
mod tests {

    use jiff::SignedDuration;

    use super::*;

    const PW: &str = "correct horse battery";

    struct Fixture {
        _tmp: tempfile::TempDir,
        ops: Operators,
    }

    fn fixture(policy: ConsoleConfig) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let dir = NodeDir::new(tmp.path());
        Fixture {
            ops: Operators::open(&dir, Party::new("us").unwrap(), policy).unwrap(),
            _tmp: tmp,
        }
    }

    fn ops() -> Fixture {
        fixture(ConsoleConfig::default())
    }

    fn office(s: &str) -> Office {
        Office::new(s).unwrap()
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn bad_input(r: Result<impl fmt::Debug>) -> String {
        match r {
            Err(
                e @ (OperatorError::BadName(_)
                | OperatorError::ShortPassword
                | OperatorError::LongPassword
                | OperatorError::NoOffice(_)
                | OperatorError::OtherParty { .. }),
            ) => e.to_string(),
            other => panic!("expected bad input, got {other:?}"),
        }
    }

    #[test]
    fn dummy_hash_has_default_parameters() {
        let h = PasswordHash::new(DUMMY_HASH).unwrap();
        let real = hash_password(PW).unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(h.algorithm, real.algorithm);
        assert_eq!(h.version, real.version);
        assert_eq!(h.params.to_string(), real.params.to_string());
        assert_eq!(
            h.hash.map(|o| o.len()),
            real.hash.map(|o| o.len()),
            "same output length"
        );
        assert!(real.to_string().starts_with("$argon2id$"));
    }

    #[test]
    fn verification_in_reused_memory_agrees_with_the_crate() {
        use argon2::PasswordVerifier as _;
        let a = hash_password(PW).unwrap();
        let b = hash_password("another password here").unwrap();
        // The same thread's memory, reused across hashes and outcomes.
        for (pw, hash) in [
            (PW, &a),
            ("wrong", &a),
            ("another password here", &b),
            (PW, &b),
        ] {
            let crate_says = Argon2::default()
                .verify_password(pw.as_bytes(), &PasswordHash::new(hash).unwrap())
                .is_ok();
            assert_eq!(verify_password(pw, hash).unwrap(), crate_says, "{pw}");
        }
        assert!(verify_password(PW, &a).unwrap());
        assert!(!verify_password(PW, DUMMY_HASH).unwrap());
        assert!(matches!(
            verify_password(PW, "not a hash"),
            Err(LoginError::Failed(LoginFailure::Unreadable(
                HashError::Format(_)
            )))
        ));
    }

    #[test]
    fn add_get_list() {
        let f = ops();
        let a = f
            .ops
            .add(
                "alice",
                &[office("us/fbi"), office("us/state"), office("us/fbi")],
                true,
                PW,
            )
            .unwrap();
        assert_eq!(a.name, "alice");
        assert_eq!(a.offices, vec![office("us/fbi"), office("us/state")]);
        assert!(a.admin);
        assert_eq!(a.failures, 0);
        f.ops.add("bob.2", &[office("us/nsc")], false, PW).unwrap();
        assert_eq!(f.ops.get("alice").unwrap(), Some(a.clone()));
        assert_eq!(f.ops.get("carol").unwrap(), None);
        let names: Vec<_> = f.ops.list().unwrap().into_iter().map(|o| o.name).collect();
        assert_eq!(names, ["alice", "bob.2"]);
        // Duplicate name.
        assert!(matches!(
            f.ops.add("alice", &[office("us/fbi")], false, PW),
            Err(OperatorError::Taken(_))
        ));
        // The stored hash is Argon2id, not the password.
        let row = f.ops.store.operator("alice").unwrap().unwrap();
        assert!(row.password_hash.starts_with("$argon2id$v=19$"));
        assert!(!row.password_hash.contains(PW));
    }

    #[test]
    fn bad_names_refused() {
        let f = ops();
        let too_long = "a".repeat(65);
        for name in [
            "",
            "Alice",
            "-x",
            ".x",
            "_x",
            "a b",
            "a/b",
            "é",
            too_long.as_str(),
        ] {
            let m = bad_input(f.ops.add(name, &[office("us/fbi")], false, PW));
            assert!(m.contains("lower-case letters, digits"), "{m}");
        }
        for name in ["a", "0", "a.b_c-d", "a".repeat(64).as_str()] {
            f.ops.add(name, &[office("us/fbi")], false, PW).unwrap();
        }
    }

    #[test]
    fn foreign_office_and_no_office_refused() {
        let f = ops();
        let m = bad_input(
            f.ops
                .add("alice", &[office("us/fbi"), office("ru/fsb")], false, PW),
        );
        assert!(
            m.contains("ru/fsb") && m.contains("not an office of this party"),
            "{m}"
        );
        let m = bad_input(f.ops.add("alice", &[], false, PW));
        assert!(m.contains("at least one office"), "{m}");
        assert!(f.ops.list().unwrap().is_empty(), "nothing written");
    }

    #[test]
    fn password_length_checked() {
        let f = ops();
        let m = bad_input(
            f.ops
                .add("alice", &[office("us/fbi")], false, "elevenchars"),
        );
        assert!(m.contains("at least 12 characters"), "{m}");
        let m = bad_input(
            f.ops
                .add("alice", &[office("us/fbi")], false, &"x".repeat(1025)),
        );
        assert!(m.contains("1024 bytes"), "{m}");
        // Twelve characters, counted as characters rather than bytes.
        f.ops
            .add("alice", &[office("us/fbi")], false, "ääääääääääää")
            .unwrap();
        f.ops.login("alice", "ääääääääääää", at(0)).unwrap();
        let m = bad_input(f.ops.set_password("alice", "short"));
        assert!(m.contains("at least 12"), "{m}");
    }

    #[test]
    fn login_opens_a_session() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        let s = f.ops.login("alice", PW, at(0)).unwrap();
        assert_eq!(s.token.len(), 43, "32 bytes, base64url without padding");
        assert_eq!(s.csrf.len(), 43);
        assert_ne!(s.token, s.csrf);
        assert!(!s.token.contains(['+', '/', '=']));
        assert_eq!(s.expires, at(12 * 3600));
        let live = f.ops.session(&s.token, at(10)).unwrap().expect("session");
        assert_eq!(live.operator.name, "alice");
        assert_eq!(live.operator.offices, vec![office("us/fbi")]);
        assert_eq!(live.csrf, s.csrf);
        assert_eq!(live.expires, at(10 + 12 * 3600));
        // Only the token's hash is stored.
        let stored = f
            .ops
            .store
            .operator_session(&token_hash(&s.token))
            .unwrap()
            .unwrap();
        assert_eq!(stored.0.token_hash, token_hash(&s.token));
        assert!(f.ops.session("not-a-token", at(10)).unwrap().is_none());
        // Two logins, two sessions.
        let s2 = f.ops.login("alice", PW, at(20)).unwrap();
        assert_ne!(s.token, s2.token);
        assert!(f.ops.session(&s.token, at(30)).unwrap().is_some());
    }

    #[test]
    fn wrong_password_and_unknown_name_look_the_same() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        let wrong = f.ops.login("alice", "not the password", at(0)).unwrap_err();
        let unknown = f.ops.login("mallory", PW, at(0)).unwrap_err();
        let bad_name = f.ops.login("Not A Name", PW, at(0)).unwrap_err();
        let too_long = f.ops.login("alice", &"x".repeat(5000), at(0)).unwrap_err();
        assert_eq!(wrong, LoginError::Refused);
        assert_eq!(unknown, LoginError::Refused);
        assert_eq!(bad_name, LoginError::Refused);
        assert_eq!(too_long, LoginError::Refused);
        assert_eq!(wrong.to_string(), "wrong name or password");
    }

    #[test]
    fn failures_are_counted_and_never_lock() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        let s = f.ops.login("alice", PW, at(0)).unwrap();
        // Anyone may type wrong passwords under alice's name, many times.
        for _ in 0..50 {
            assert_eq!(
                f.ops.login("alice", "nope nope nope", at(5)).unwrap_err(),
                LoginError::Refused
            );
        }
        assert_eq!(f.ops.get("alice").unwrap().unwrap().failures, 50);
        // Her session goes on, and the right password works at once.
        assert!(f.ops.session(&s.token, at(6)).unwrap().is_some());
        f.ops.login("alice", PW, at(7)).unwrap();
        assert_eq!(f.ops.get("alice").unwrap().unwrap().failures, 0);
        // An admin can clear the count.
        for _ in 0..3 {
            f.ops.login("alice", "nope nope nope", at(8)).unwrap_err();
        }
        f.ops.unlock("alice").unwrap();
        assert_eq!(f.ops.get("alice").unwrap().unwrap().failures, 0);
        assert!(matches!(
            f.ops.unlock("nobody"),
            Err(OperatorError::NotFound(_))
        ));
    }

    #[test]
    fn a_lock_an_older_version_set_is_not_obeyed() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        let s = f.ops.login("alice", PW, at(0)).unwrap();
        let mut row = f.ops.store.operator("alice").unwrap().unwrap();
        f.ops.store.remove_operator("alice").unwrap();
        row.locked_until = Some(at(10_000).as_second());
        row.failures = 5;
        assert!(f.ops.store.add_operator(&row).unwrap());
        assert!(f.ops.session(&s.token, at(1)).unwrap().is_none(), "removed");
        let s = f.ops.login("alice", PW, at(2)).unwrap();
        assert!(f.ops.session(&s.token, at(3)).unwrap().is_some());
        let row = f.ops.store.operator("alice").unwrap().unwrap();
        assert_eq!((row.failures, row.locked_until), (0, None));
    }

    #[test]
    fn sessions_expire_idle_and_absolute() {
        let f = fixture(ConsoleConfig {
            session_idle_secs: 100,
            session_max_secs: 250,
            ..ConsoleConfig::default()
        });
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        // Idle: unused for 100 s, it is gone.
        let s = f.ops.login("alice", PW, at(0)).unwrap();
        assert_eq!(s.expires, at(100));
        assert!(f.ops.session(&s.token, at(99)).unwrap().is_some());
        assert!(f.ops.session(&s.token, at(199)).unwrap().is_none());
        // Gone for good, even asked about at an earlier time.
        assert!(f.ops.session(&s.token, at(150)).unwrap().is_none());
        // Absolute: used often, it still ends 250 s after login.
        let s = f.ops.login("alice", PW, at(1000)).unwrap();
        let live = f.ops.session(&s.token, at(1090)).unwrap().expect("alive");
        assert_eq!(live.expires, at(1190), "the idle limit slides");
        let live = f.ops.session(&s.token, at(1160)).unwrap().expect("alive");
        assert_eq!(live.expires, at(1250), "capped by the absolute limit");
        assert!(f.ops.session(&s.token, at(1249)).unwrap().is_some());
        assert!(f.ops.session(&s.token, at(1250)).unwrap().is_none());
        // Expired sessions are deleted at the next login.
        let old = f.ops.login("alice", PW, at(2000)).unwrap();
        f.ops.login("alice", PW, at(3000)).unwrap();
        assert!(
            f.ops
                .store
                .operator_session(&token_hash(&old.token))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn logout_ends_the_session() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        let a = f.ops.login("alice", PW, at(0)).unwrap();
        let b = f.ops.login("alice", PW, at(0)).unwrap();
        f.ops.logout(&a.token).unwrap();
        assert!(f.ops.session(&a.token, at(1)).unwrap().is_none());
        assert!(
            f.ops.session(&b.token, at(1)).unwrap().is_some(),
            "only that one"
        );
        f.ops.logout(&a.token).unwrap();
        f.ops.logout("never issued").unwrap();
    }

    #[test]
    fn set_password_ends_sessions() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        f.ops.add("bob", &[office("us/fbi")], false, PW).unwrap();
        let a = f.ops.login("alice", PW, at(0)).unwrap();
        let b = f.ops.login("bob", PW, at(0)).unwrap();
        let new = "a whole new password";
        f.ops.set_password("alice", new).unwrap();
        assert!(f.ops.session(&a.token, at(1)).unwrap().is_none());
        assert!(
            f.ops.session(&b.token, at(1)).unwrap().is_some(),
            "others keep theirs"
        );
        assert_eq!(
            f.ops.login("alice", PW, at(2)).unwrap_err(),
            LoginError::Refused
        );
        f.ops.login("alice", new, at(3)).unwrap();
        assert!(matches!(
            f.ops.set_password("nobody", new),
            Err(OperatorError::NotFound(_))
        ));
    }

    #[test]
    fn remove_ends_sessions() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        let a = f.ops.login("alice", PW, at(0)).unwrap();
        f.ops.remove("alice").unwrap();
        assert!(f.ops.get("alice").unwrap().is_none());
        assert!(f.ops.session(&a.token, at(1)).unwrap().is_none());
        assert!(
            f.ops
                .store
                .operator_session(&token_hash(&a.token))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            f.ops.login("alice", PW, at(2)).unwrap_err(),
            LoginError::Refused
        );
        assert!(matches!(
            f.ops.remove("alice"),
            Err(OperatorError::NotFound(_))
        ));
        // The name is free again, with no old session coming back.
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        assert!(f.ops.session(&a.token, at(3)).unwrap().is_none());
    }

    #[test]
    fn concurrent_failures_are_each_counted() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        let threads = 8;
        let each = 3;
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for _ in 0..each {
                        assert_eq!(
                            f.ops
                                .login("alice", "wrong wrong wrong", at(0))
                                .unwrap_err(),
                            LoginError::Refused
                        );
                    }
                });
            }
        });
        assert_eq!(
            f.ops.get("alice").unwrap().unwrap().failures,
            threads * each
        );
    }

    #[test]
    fn concurrent_failures_do_not_lock() {
        let f = ops();
        f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| f.ops.login("alice", "wrong wrong wrong", at(0)));
            }
        });
        assert_eq!(f.ops.get("alice").unwrap().unwrap().failures, 4);
        f.ops.login("alice", PW, at(1)).unwrap();
    }

    #[test]
    fn timestamps_round_trip() {
        let f = ops();
        let before = hotline_node::clock::now()
            .checked_sub(SignedDuration::from_secs(1))
            .unwrap();
        let a = f.ops.add("alice", &[office("us/fbi")], false, PW).unwrap();
        assert!(a.created >= before && a.created <= hotline_node::clock::now());
    }
}
